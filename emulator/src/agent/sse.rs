//! Writing a turn's events to one SSE connection: ADK or typed shape, `id: <turn>:<seq>` on
//! every event, heartbeats while idle, and the stream-level faults.

use std::{io, sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    http::{header, HeaderValue, StatusCode},
    response::Response,
};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use super::turn::{AgentEvent, LoggedEvent, Turn};
use crate::{
    config::EventMode,
    faults::{Fault, FaultKind},
    state::AppState,
};

type Chunk = Result<Bytes, io::Error>;

/// ADK JSON for one event (`None` never: every event has an ADK form).
pub fn adk_json(turn: &Turn, e: &LoggedEvent) -> String {
    if let AgentEvent::Error {
        error_type,
        message,
    } = &e.ev
    {
        return json!({
            "error": format!("{error_type}: {message}"),
            "error_details": {
                "error_type": error_type,
                "error_message": message,
                "timestamp": e.timestamp,
            }
        })
        .to_string();
    }
    let mut m = Map::new();
    let mut delta = json!({});
    let (part, role) = match &e.ev {
        AgentEvent::Thought(t) => (Some(json!({"text": t, "thought": true})), "model"),
        AgentEvent::Text { text, .. } => (Some(json!({"text": text})), "model"),
        AgentEvent::ToolCall {
            call_id,
            name,
            args,
        } => (
            Some(json!({"functionCall": {"id": call_id, "args": args, "name": name}})),
            "model",
        ),
        AgentEvent::ToolResult {
            call_id,
            name,
            response,
        } => (
            Some(json!({"functionResponse": {"id": call_id, "name": name, "response": response}})),
            "user",
        ),
        AgentEvent::StateDelta(d) => {
            delta = d.clone();
            (None, "model")
        }
        AgentEvent::Error { .. } => (None, "model"),
    };
    let streamed_final = matches!(e.ev, AgentEvent::Text { streamed: true, .. });
    if streamed_final {
        m.insert("modelVersion".into(), json!("nemo-emulator-scripted"));
    }
    if let Some(p) = part {
        m.insert("content".into(), json!({"parts": [p], "role": role}));
    }
    if let AgentEvent::Text { partial, text, .. } = &e.ev {
        if *partial {
            m.insert("partial".into(), json!(true));
        } else if streamed_final {
            let words = text.split_whitespace().count().max(1);
            m.insert("partial".into(), json!(false));
            m.insert("finishReason".into(), json!("STOP"));
            m.insert(
                "usageMetadata".into(),
                json!({"candidatesTokenCount": words, "promptTokenCount": 12, "totalTokenCount": words + 12}),
            );
        }
    }
    m.insert("invocationId".into(), json!(turn.id));
    m.insert("author".into(), json!("nemo_agent"));
    m.insert(
        "actions".into(),
        json!({"stateDelta": delta, "artifactDelta": {}, "requestedAuthConfigs": {}, "requestedToolConfirmations": {}}),
    );
    m.insert("nodeInfo".into(), json!({"path": ""}));
    m.insert("id".into(), json!(e.event_id));
    m.insert("timestamp".into(), json!(e.timestamp));
    Value::Object(m).to_string()
}

/// Typed JSON for one event; `None` for events the typed shape has no form for (thoughts,
/// partial chunks, bare state deltas).
pub fn typed_json(e: &LoggedEvent) -> Option<String> {
    let v = match &e.ev {
        AgentEvent::Thought(_) | AgentEvent::StateDelta(_) => return None,
        AgentEvent::Text { partial: true, .. } => return None,
        AgentEvent::Text { text, .. } => json!({"type": "text", "content": text}),
        AgentEvent::ToolCall {
            call_id,
            name,
            args,
        } => json!({"type": "tool_call", "id": call_id, "name": name, "args": args}),
        AgentEvent::ToolResult {
            call_id,
            name,
            response,
        } => json!({"type": "tool_result", "id": call_id, "name": name, "result": response}),
        AgentEvent::Error {
            error_type,
            message,
        } => json!({
            "type": "error",
            "error": format!("{error_type}: {message}"),
            "error_details": {"error_type": error_type, "error_message": message, "timestamp": e.timestamp},
        }),
    };
    Some(v.to_string())
}

/// Parses `Last-Event-ID` (`<turn id>:<seq>`).
pub fn parse_event_id(s: &str) -> Option<(&str, u64)> {
    let (turn, seq) = s.trim().rsplit_once(':')?;
    Some((turn, seq.parse().ok()?))
}

/// Starts streaming `turn` from index `from` (= the seq of the last event the client has).
pub fn response(
    state: AppState,
    turn: Arc<Turn>,
    from: usize,
    mode: EventMode,
    fault: Option<Fault>,
) -> Response {
    let (tx, rx) = mpsc::channel::<Chunk>(32);
    tokio::spawn(write_loop(state, turn, from, mode, fault, tx));
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

struct OpenGuard(AppState);
impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.store().global.sse_streams_open -= 1;
    }
}

async fn write_loop(
    state: AppState,
    turn: Arc<Turn>,
    mut next: usize,
    mode: EventMode,
    fault: Option<Fault>,
    tx: mpsc::Sender<Chunk>,
) {
    {
        let mut s = state.store();
        s.global.sse_streams_open += 1;
        s.global.sse_streams_total += 1;
    }
    let _guard = OpenGuard(state.clone());
    let mut rx = turn.subscribe();
    let mut sent: u64 = 0;
    let mut beats: u64 = 0;
    let mut fault = fault;
    if tx
        .send(Ok(Bytes::from_static(b"retry: 2000\n\n")))
        .await
        .is_err()
    {
        return;
    }
    loop {
        rx.borrow_and_update();
        let (events, done) = turn.read_from(next);
        for e in events {
            next += 1;
            let data = match mode {
                EventMode::Adk => Some(adk_json(&turn, &e)),
                EventMode::Typed => typed_json(&e),
            };
            let Some(data) = data else { continue };
            // Stream faults fire once `after_events` events have been sent.
            if let Some(f) = fault.as_ref().filter(|f| sent >= f.after_events).cloned() {
                fault = None;
                crate::faults::record_fired(&state, f.kind);
                match f.kind {
                    FaultKind::DropStream => {
                        // Let hyper write what was sent before the connection is cut.
                        while tx.capacity() < tx.max_capacity() && !tx.is_closed() {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        let _ = tx
                            .send(Err(io::Error::new(
                                io::ErrorKind::ConnectionAborted,
                                "injected drop_stream",
                            )))
                            .await;
                        return;
                    }
                    FaultKind::Stall => match f.ms {
                        Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                        None => {
                            tx.closed().await;
                            return;
                        }
                    },
                    FaultKind::MalformedJson => {
                        let broken = Bytes::from_static(
                            b"data: {\"content\":{\"parts\":[{\"text\":\"trunc\n\n",
                        );
                        if tx.send(Ok(broken)).await.is_err() {
                            return;
                        }
                    }
                    _ => {}
                }
            }
            let frame = format!("id: {}:{}\ndata: {}\n\n", turn.id, e.seq, data);
            if tx.send(Ok(Bytes::from(frame))).await.is_err() {
                return;
            }
            sent += 1;
        }
        if done {
            return;
        }
        let hb = Duration::from_millis(state.rt().heartbeat_ms.max(1));
        tokio::select! {
            r = rx.changed() => {
                if r.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(hb) => {
                beats += 1;
                let beat: &'static [u8] = match (mode, beats % 3) {
                    (EventMode::Typed, 0) => b"data: {\"type\":\"heartbeat\"}\n\n",
                    (_, 1) => b": heartbeat\n\n",
                    (_, 2) => b"data:\n\n",
                    _ => b": keep-alive\n\n",
                };
                if tx.send(Ok(Bytes::from_static(beat))).await.is_err() {
                    return;
                }
            }
            _ = tx.closed() => return,
        }
    }
}
