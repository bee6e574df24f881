//! `/__emulator/*`: fault scheduling, statistics, reset and runtime configuration.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    config::EventMode,
    envelope::{ApiError, JsonBody},
    faults::FaultSpec,
    state::AppState,
};

/// `GET /__emulator/faults`: pending faults.
pub async fn list_faults(State(state): State<AppState>) -> Response {
    Json(json!({"faults": state.faults.list()})).into_response()
}

/// `POST /__emulator/faults`: one spec or an array of specs.
pub async fn add_faults(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let specs: Vec<Value> = match body {
        Value::Array(a) => a,
        other => vec![other],
    };
    let mut parsed = Vec::new();
    for s in specs {
        let spec: FaultSpec = serde_json::from_value(s)
            .map_err(|e| ApiError::bad_request(format!("invalid fault: {e}")))?;
        parsed.push(spec);
    }
    let mut added = Vec::new();
    for spec in parsed {
        added.push(state.faults.add(spec).map_err(ApiError::bad_request)?);
    }
    Ok(Json(json!({"added": added, "faults": state.faults.list()})).into_response())
}

/// `DELETE /__emulator/faults`: drops every pending fault.
pub async fn clear_faults(State(state): State<AppState>) -> Response {
    state.faults.clear();
    Json(json!({"faults": []})).into_response()
}

/// `GET /__emulator/stats`.
pub async fn stats(State(state): State<AppState>) -> Response {
    let store = state.store();
    let accounts: serde_json::Map<String, Value> = store
        .accounts
        .iter()
        .map(|(k, a)| {
            (
                k.clone(),
                json!({"available": a.available, "frozen": a.frozen, "spent": a.spent}),
            )
        })
        .collect();
    let renders: Vec<Value> = store
        .renders
        .values()
        .map(|j| json!({"id": j.id, "session_id": j.session_id, "status": j.status, "progress": j.progress}))
        .collect();
    Json(json!({
        "global": store.global,
        "sessions": store.session_stats,
        "accounts": accounts,
        "renders": renders,
        "live": {
            "tokens": store.tokens.len(),
            "sessions": store.sessions.len(),
            "files": store.files.len(),
            "turns": store.turns.len(),
            "accounts": store.accounts.len(),
            "session_stats": store.session_stats.len(),
            "replay_turns": store.retired.len(),
            "replay_bytes": store.retired.bytes(),
        },
    }))
    .into_response()
}

/// `POST /__emulator/reset`.
pub async fn reset(State(state): State<AppState>) -> Response {
    state.reset();
    tracing::info!("emulator reset");
    Json(json!({"ok": true})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigPatch {
    speed: Option<f64>,
    token_ttl_s: Option<u64>,
    heartbeat_ms: Option<u64>,
    session_idle_s: Option<u64>,
    events: Option<EventMode>,
    tokens_per_ip: Option<u32>,
    credits: Option<i64>,
    generation_cost: Option<i64>,
    edit_cost: Option<i64>,
}

/// `GET /__emulator/config`.
pub async fn get_config(State(state): State<AppState>) -> Response {
    Json(json!({"runtime": state.rt(), "seed": state.config.seed})).into_response()
}

/// `POST /__emulator/config`: changes run-time settings (applies to new work at once;
/// token lifetimes apply to tokens issued afterwards).
pub async fn set_config(
    State(state): State<AppState>,
    JsonBody(p): JsonBody<ConfigPatch>,
) -> Result<Response, ApiError> {
    let mut rt = state.rt();
    if let Some(s) = p.speed {
        if !(s.is_finite() && s > 0.0) {
            return Err(ApiError::bad_request("speed must be > 0"));
        }
        rt.speed = s;
    }
    if let Some(v) = p.token_ttl_s {
        rt.token_ttl_s = v;
    }
    if let Some(v) = p.heartbeat_ms {
        rt.heartbeat_ms = v.max(1);
    }
    if let Some(v) = p.session_idle_s {
        rt.session_idle_s = v;
    }
    if let Some(v) = p.events {
        rt.events = v;
    }
    if let Some(v) = p.tokens_per_ip {
        rt.tokens_per_ip = v;
    }
    if let Some(v) = p.credits {
        rt.credits = v;
    }
    if let Some(v) = p.generation_cost {
        rt.generation_cost = v;
    }
    if let Some(v) = p.edit_cost {
        rt.edit_cost = v;
    }
    state.set_rt(rt.clone());
    Ok(Json(json!({"runtime": rt})).into_response())
}

/// `GET /__emulator/health`.
pub async fn health() -> Response {
    Json(json!({"ok": true, "name": "nemo-emulator", "version": env!("CARGO_PKG_VERSION")}))
        .into_response()
}
