//! `GET /api/state/nemo_agent/me/<sid>/latest`.

use axum::{
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
};
use serde_json::json;

use crate::{
    auth::{note_attribution, AuthUser},
    envelope::{self, ApiError},
    state::AppState,
};

pub async fn latest(
    State(state): State<AppState>,
    user: AuthUser,
    Path((_agent, _user, sid)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    note_attribution(&state, &headers);
    let idle = state.rt().session_idle_s;
    let mut store = state.store();
    let s = store.session_mut(&sid, &user.user_id, idle)?;
    Ok(envelope::ok(json!({
        "session_id": s.id,
        "task_id": s.task_id,
        "task_name": s.task_name,
        "state": s.state_json(),
    })))
}
