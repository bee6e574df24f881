//! `POST /api/tasks/me/with-session/nemo_agent`: a task and its editing session.

use std::time::Instant;

use axum::{
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    auth::{note_attribution, AuthUser},
    envelope::{self, ApiError, JsonBody},
    state::{AppState, Session},
    util,
};

#[derive(Deserialize, Default)]
pub struct NewSession {
    #[serde(default)]
    task_name: Option<String>,
    #[serde(default)]
    language: Option<String>,
}

/// Default canvas: vertical 9:16, 1080x1920.
pub fn default_canvas() -> serde_json::Value {
    json!({"width": 1080, "height": 1920, "aspect_ratio": "9:16", "fps": 30})
}

pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    Path(agent): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewSession>,
) -> Result<Response, ApiError> {
    note_attribution(&state, &headers);
    if agent != "nemo_agent" {
        return Err(ApiError::not_found(format!("unknown agent {agent:?}")));
    }
    let task_name: String = body
        .task_name
        .unwrap_or_else(|| "project".into())
        .chars()
        .take(200)
        .collect();
    let language: String = body
        .language
        .unwrap_or_else(|| "en".into())
        .chars()
        .take(16)
        .collect();
    let sid = util::random_hex();
    let task_id = util::random_id("task_", 24);
    let canvas = default_canvas();
    let session = Session {
        id: sid.clone(),
        task_id: task_id.clone(),
        task_name: task_name.clone(),
        language,
        user_id: user.user_id.clone(),
        last_active: Instant::now(),
        draft: json!({"t": [], "d": 0, "m": {"title": task_name, "width": canvas["width"], "height": canvas["height"]}}),
        video_infos: Vec::new(),
        canvas,
        video_analyses: Vec::new(),
        generated_media: Vec::new(),
        turn_count: 0,
        active_render: None,
    };
    {
        let mut store = state.store();
        store.sessions.insert(sid.clone(), Box::new(session));
        let st = store.stats_for(&sid);
        st.task_id = task_id.clone();
        st.user_id = user.user_id.clone();
        store.global.sessions_created += 1;
        store.evict_sessions(&state.config.limits());
    }
    tracing::info!(user_id = %user.user_id, session_id = %sid, "session created");
    Ok(envelope::ok(json!({"task_id": task_id, "session_id": sid})))
}
