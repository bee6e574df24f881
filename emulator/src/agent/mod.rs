//! `POST /run_sse`: the scripted agent.
//!
//! A message starts a turn (a background task writing an event log); the connection streams
//! that log. A POST carrying `Last-Event-ID: <turn id>:<seq>` of a known turn of the same
//! session resumes it: the missed events are replayed (then live ones, if it still runs)
//! without running or charging again.

pub mod draft;
pub mod packed;
pub mod script;
pub mod sse;
pub mod turn;

use std::collections::HashMap;

use axum::{
    extract::{Query, State},
    http::HeaderMap,
    response::Response,
};
use serde::Deserialize;
use serde_json::Value;

use crate::{
    auth::{note_attribution, AuthUser},
    config::EventMode,
    credits,
    envelope::{ApiError, JsonBody},
    faults::FaultKind,
    state::{AppState, FileKind, MessageRecord, Session},
    util,
};
use turn::{Plan, PlanKind, Source, Turn};

#[derive(Deserialize)]
pub struct RunBody {
    #[serde(default)]
    pub app_name: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub session_id: String,
    #[serde(default)]
    pub new_message: Option<NewMessage>,
    /// ADK's own request field: stream partial text deltas before each
    /// complete text. Off unless asked, like ADK.
    #[serde(default)]
    pub streaming: bool,
}

#[derive(Deserialize)]
pub struct NewMessage {
    #[serde(default)]
    pub parts: Vec<Value>,
}

fn event_mode(state: &AppState, headers: &HeaderMap, q: &HashMap<String, String>) -> EventMode {
    let pick = headers
        .get("x-emulator-events")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| q.get("events").cloned());
    match pick.as_deref().map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("typed") => EventMode::Typed,
        Some(s) if s.eq_ignore_ascii_case("adk") => EventMode::Adk,
        _ => state.rt().events,
    }
}

pub async fn run_sse(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    JsonBody(body): JsonBody<RunBody>,
) -> Result<Response, ApiError> {
    note_attribution(&state, &headers);
    if let Some(app) = &body.app_name {
        if app != "nemo_agent" {
            return Err(ApiError::not_found(format!("App not found: {app}")));
        }
    }
    let _ = &body.user_id;
    let sid = body.session_id.clone();
    if sid.is_empty() {
        return Err(ApiError::bad_request("session_id is required"));
    }
    let mode = event_mode(&state, &headers, &q);
    let rt = state.rt();

    // Resume?
    let raw_last_id = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("?").trim().to_string())
        .filter(|s| !s.is_empty());
    // An id not of our `<turn>:<seq>` form names no turn of ours either.
    let last_id = raw_last_id.as_deref().map(|s| {
        sse::parse_event_id(s)
            .map(|(t, n)| (t.to_string(), n))
            .unwrap_or_else(|| (s.to_string(), 0))
    });
    if let Some((turn_id, seq)) = last_id {
        let found = {
            let mut store = state.store();
            store.session_mut(&sid, &user.user_id, rt.session_idle_s)?;
            let t = store
                .turns
                .get(&turn_id)
                .filter(|t| t.session_id == sid && t.user_id == user.user_id)
                .cloned();
            if t.is_some() {
                store.global.turns_resumed += 1;
                store.stats_for(&sid).turns_resumed += 1;
            }
            t
        };
        if let Some(t) = found {
            let from = (seq as usize).min(t.len().max(seq as usize));
            tracing::info!(user_id = %user.user_id, session_id = %sid, turn = %t.id, from, "turn resumed");
            let fault = take_stream_fault(&state);
            return Ok(sse::response(state, t, from, mode, fault));
        }
        // A resume of a turn this server does not know (it restarted, or
        // forgot the turn): running the message now would run and charge it
        // a second time. Refuse, and say where its outcome is.
        tracing::info!(user_id = %user.user_id, session_id = %sid, turn = %turn_id, "resume of an unknown turn refused");
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            409,
            format!(
                "Cannot resume turn {turn_id}: this server does not know it (it may have restarted). The message was not run again; its result, if any, is in the session state."
            ),
        ));
    }

    let text: String = body
        .new_message
        .as_ref()
        .map(|m| {
            m.parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("new_message has no text part"));
    }

    let turn = {
        let mut store = state.store();
        let plan = {
            let session = store.session_mut(&sid, &user.user_id, rt.session_idle_s)?;
            let mut plan = make_plan(session, &text, &rt, state.config.seed);
            plan.streaming = body.streaming;
            plan
        };
        credits::reserve(&mut store, &state.config.web_url, &user.user_id, plan.cost)?;
        if let Some(s) = store.sessions.get_mut(&sid) {
            s.turn_count += 1;
        }
        let turn_id = format!("e-{}", uuid::Uuid::new_v4());
        let turn = Turn::new(turn_id.clone(), sid.clone(), user.user_id.clone());
        store.evict_turns(&state.config.limits());
        store.turns.insert(turn_id.clone(), turn.clone());
        store.global.turns_run += 1;
        let st = store.stats_for(&sid);
        st.turns_run += 1;
        st.push_message(MessageRecord {
            turn_id,
            hash: util::fnv64(text.as_bytes()),
            kind: plan_kind_name(&plan.kind),
            charged: false,
            credits: 0,
        });
        tokio::spawn(turn::run(state.clone(), turn.clone(), plan));
        turn
    };
    tracing::info!(user_id = %user.user_id, session_id = %sid, turn = %turn.id, "turn started");
    let fault = take_stream_fault(&state);
    Ok(sse::response(state, turn, 0, mode, fault))
}

fn take_stream_fault(state: &AppState) -> Option<crate::faults::Fault> {
    state.faults.take("run_sse", |k| {
        matches!(
            k,
            FaultKind::DropStream | FaultKind::Stall | FaultKind::MalformedJson
        )
    })
}

fn plan_kind_name(k: &PlanKind) -> &'static str {
    match k {
        PlanKind::Echo(_) => "echo",
        PlanKind::Fail(_) => "fail",
        PlanKind::Generate { .. } => "generate",
        PlanKind::Edit { .. } => "edit",
        PlanKind::Reply(_) => "reply",
    }
}

fn source_from(info: &Value) -> Option<Source> {
    let url = info["cdn_url"].as_str()?.to_string();
    let kind = match info["file_type"].as_str() {
        Some("image") => FileKind::Image,
        Some("audio") => FileKind::Audio,
        _ => FileKind::Video,
    };
    let filename = info["filename"].as_str().unwrap_or("clip");
    let name = filename
        .rsplit_once('.')
        .map(|(a, _)| a)
        .unwrap_or(filename)
        .replace(['_', '-'], " ");
    let size = info["width"]
        .as_u64()
        .zip(info["height"].as_u64())
        .filter(|_| kind != FileKind::Audio);
    Some(Source {
        url,
        name,
        kind,
        duration: info["duration"].as_f64(),
        size,
    })
}

/// Decides what the turn does and what it costs, from the message and the session.
fn make_plan(session: &Session, text: &str, rt: &crate::config::Runtime, seed: u64) -> Plan {
    let intent = script::parse(text);
    let zh = session.is_zh() || util::has_cjk(text);
    let turn_seed = util::mix(&[seed, session.turn_count, util::fnv64(text.as_bytes())]);
    let silent = util::mix(&[seed, session.turn_count, 0x5117]) % 100 < 30;

    // The upload a message is about: "photo N", else the latest visual upload.
    let visual: Vec<&Value> = session
        .video_infos
        .iter()
        .filter(|v| v["file_type"].as_str() != Some("audio"))
        .collect();
    let target = intent
        .target
        .and_then(|n| session.video_infos.get(n.wrapping_sub(1)))
        .or_else(|| visual.last().copied())
        .and_then(source_from);
    let has_video = draft::has_video(&session.draft);

    let (kind, cost) = if let Some(t) = &intent.echo {
        (PlanKind::Echo(t.clone()), 0)
    } else if let Some(t) = &intent.fail {
        (PlanKind::Fail(t.clone()), rt.edit_cost)
    } else if intent.generate
        || ((intent.camera.is_some() || intent.camera_generic) && !has_video)
        || (intent.target.is_some() && (intent.camera.is_some() || intent.camera_generic))
    {
        (PlanKind::Generate { source: target }, rt.generation_cost)
    } else if intent.has_edit() {
        if has_video || target.is_some() {
            (PlanKind::Edit { place: target }, rt.edit_cost)
        } else {
            (PlanKind::Reply(script::texts::nothing_to_edit(zh)), 0)
        }
    } else {
        (PlanKind::Reply(script::texts::help(zh)), 0)
    };
    Plan {
        kind,
        intent,
        message: text.to_string(),
        cost,
        zh,
        seed: turn_seed,
        silent,
        // Set from the request by the caller.
        streaming: false,
    }
}
