//! Fault injection: a queue of scheduled faults and the middleware that fires the HTTP-level
//! ones. Stream-level faults (`drop_stream`, `stall`, `malformed_json` on `/run_sse`, and
//! `drop_stream` on downloads) and `render_fail_once` are taken by their handlers.
//!
//! `POST /__emulator/faults` body (one object or an array):
//! `{"endpoint":"run_sse","kind":"drop_stream","count":1,"after_events":3,"ms":500}`.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::Duration,
};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use crate::{
    envelope::{self, ApiError},
    state::AppState,
};

/// Every endpoint name a fault can target (`*` targets all of them).
pub const ENDPOINTS: &[&str] = &[
    "token",
    "claim",
    "session",
    "upload",
    "credits",
    "state",
    "run_sse",
    "export",
    "render_status",
    "cancel",
    "download",
    "files",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    DropStream,
    Stall,
    RateLimit,
    ExpireToken,
    LoseSession,
    #[serde(rename = "http_500_html")]
    Http500Html,
    #[serde(rename = "http_502_html")]
    Http502Html,
    MalformedJson,
    Slow,
    RenderFailOnce,
    OutOfCredits,
}

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::DropStream => "drop_stream",
            FaultKind::Stall => "stall",
            FaultKind::RateLimit => "rate_limit",
            FaultKind::ExpireToken => "expire_token",
            FaultKind::LoseSession => "lose_session",
            FaultKind::Http500Html => "http_500_html",
            FaultKind::Http502Html => "http_502_html",
            FaultKind::MalformedJson => "malformed_json",
            FaultKind::Slow => "slow",
            FaultKind::RenderFailOnce => "render_fail_once",
            FaultKind::OutOfCredits => "out_of_credits",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default = "star")]
    pub endpoint: String,
    pub kind: FaultKind,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub after_events: Option<u64>,
    #[serde(default)]
    pub ms: Option<u64>,
}

fn star() -> String {
    "*".into()
}

#[derive(Clone, Debug, Serialize)]
pub struct Fault {
    pub id: u64,
    pub endpoint: String,
    pub kind: FaultKind,
    /// Firings left.
    pub count: u32,
    pub after_events: u64,
    pub ms: Option<u64>,
}

#[derive(Default)]
pub struct FaultQueue {
    next: AtomicU64,
    faults: Mutex<Vec<Fault>>,
}

impl FaultQueue {
    pub fn add(&self, spec: FaultSpec) -> Result<Fault, String> {
        if spec.endpoint != "*" && !ENDPOINTS.contains(&spec.endpoint.as_str()) {
            return Err(format!(
                "unknown endpoint {:?}; expected one of * {}",
                spec.endpoint,
                ENDPOINTS.join(" ")
            ));
        }
        let count = spec.count.unwrap_or(1);
        if count == 0 {
            return Err("count must be at least 1".into());
        }
        let fault = Fault {
            id: self.next.fetch_add(1, Ordering::Relaxed) + 1,
            endpoint: spec.endpoint,
            kind: spec.kind,
            count,
            after_events: spec.after_events.unwrap_or(0),
            ms: spec.ms,
        };
        self.lock().push(fault.clone());
        Ok(fault)
    }

    pub fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one firing of the first pending fault for `endpoint` whose kind satisfies
    /// `accept` (FIFO). The returned copy has `count` = firings left after this one.
    pub fn take(&self, endpoint: &str, accept: impl Fn(FaultKind) -> bool) -> Option<Fault> {
        let mut faults = self.lock();
        let pos = faults
            .iter()
            .position(|f| (f.endpoint == "*" || f.endpoint == endpoint) && accept(f.kind))?;
        let mut taken = faults[pos].clone();
        taken.count -= 1;
        if taken.count == 0 {
            faults.remove(pos);
        } else {
            faults[pos].count -= 1;
        }
        Some(taken)
    }
}

/// Names the endpoint a request targets, or `None` for emulator-internal paths.
pub fn classify(method: &Method, path: &str) -> Option<&'static str> {
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    let m = method == Method::GET;
    let p = method == Method::POST;
    Some(match seg.as_slice() {
        ["api", "auth", "anonymous-token"] if p => "token",
        ["api", "auth", "claim-token"] if p => "claim",
        ["api", "tasks", "me", "with-session", _] if p => "session",
        ["api", "upload-video", _, _, _] if p => "upload",
        ["api", "credits", "balance", "simple"] if m => "credits",
        ["api", "state", _, _, _, "latest"] if m => "state",
        ["run_sse"] if p => "run_sse",
        ["api", "render", "proxy", "lambda"] if p => "export",
        ["api", "render", "proxy", "lambda", _] if m => "render_status",
        ["api", "render", "proxy", "lambda", _, "cancel"] if p => "cancel",
        ["api", "render", "proxy", _, "download"] if m => "download",
        ["renders", _] if m => "download",
        ["files", _, _] if m => "files",
        _ => return None,
    })
}

/// Kinds the middleware fires for an endpoint (the rest are taken by handlers).
fn middleware_kind(endpoint: &str, kind: FaultKind) -> bool {
    use FaultKind::*;
    match kind {
        RateLimit | ExpireToken | LoseSession | Http500Html | Http502Html | Slow | OutOfCredits => {
            true
        }
        MalformedJson | Stall => endpoint != "run_sse",
        DropStream => false,
        RenderFailOnce => false,
    }
}

/// Counts a stalled request as over when its future is dropped (the client
/// disconnected) or the stall's time ran out.
struct StallEnds(AppState);

impl Drop for StallEnds {
    fn drop(&mut self) {
        let mut s = self.0.store();
        s.global.stalls_open = s.global.stalls_open.saturating_sub(1);
    }
}

/// Ends the bearer token's life now (the `expire_token` fault).
fn revoke_token(state: &AppState, headers: &axum::http::HeaderMap) {
    if let Some(token) = crate::auth::bearer(headers) {
        if let Some(t) = state.store().tokens.get_mut(token) {
            t.expires = std::time::SystemTime::UNIX_EPOCH;
        }
    }
}

/// The session a request is about (the `lose_session` fault loses it): in
/// the path for uploads and state, in the JSON body for chat and export.
async fn session_of(endpoint: &str, req: Request) -> Option<String> {
    let path: Vec<&str> = req.uri().path().trim_matches('/').split('/').collect();
    match (endpoint, path.as_slice()) {
        ("upload", [.., sid]) | ("state", [.., sid, "latest"]) => Some((*sid).to_string()),
        ("run_sse" | "export", _) => {
            let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.ok()?;
            let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
            v.get("session_id")
                .or_else(|| v.get("sessionId"))
                .and_then(|s| s.as_str())
                .map(str::to_string)
        }
        _ => None,
    }
}

pub fn record_fired(state: &AppState, kind: FaultKind) {
    let mut s = state.store();
    *s.global
        .faults_fired
        .entry(kind.name().to_string())
        .or_default() += 1;
}

/// The middleware: fires HTTP-level faults, counts requests.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let endpoint = classify(req.method(), req.uri().path());
    if req.method() != Method::OPTIONS {
        state.store().global.requests += 1;
    }
    let Some(endpoint) = endpoint else {
        return next.run(req).await;
    };
    let Some(fault) = state
        .faults
        .take(endpoint, |k| middleware_kind(endpoint, k))
    else {
        return next.run(req).await;
    };
    record_fired(&state, fault.kind);
    tracing::info!(endpoint, kind = fault.kind.name(), "fault fired");
    let render_shape = matches!(endpoint, "export" | "render_status" | "cancel" | "download");
    let shaped = |e: ApiError| {
        if render_shape {
            e.render_shape().into_response()
        } else {
            e.into_response()
        }
    };
    match fault.kind {
        FaultKind::Slow => {
            tokio::time::sleep(Duration::from_millis(fault.ms.unwrap_or(1000))).await;
            next.run(req).await
        }
        FaultKind::Stall => {
            // Without `ms` the request never gets an answer; it ends when the
            // client gives up (hyper drops this future with the connection).
            let _ended = StallEnds(state.clone());
            state.store().global.stalls_open += 1;
            match fault.ms {
                Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                None => std::future::pending::<()>().await,
            }
            next.run(req).await
        }
        FaultKind::RateLimit => shaped(ApiError::rate_limited()),
        FaultKind::ExpireToken => {
            // Really expired: every later call with it sees 1001 too, until
            // the client gets a new token for its client id.
            revoke_token(&state, req.headers());
            shaped(ApiError::token_invalid())
        }
        FaultKind::LoseSession => {
            // Really lost: later calls for it see 1002 too.
            let sid = session_of(endpoint, req).await;
            if let Some(sid) = &sid {
                state.store().sessions.remove(sid);
            }
            shaped(ApiError::session_not_found(sid.as_deref().unwrap_or("(lost)")))
        }
        FaultKind::OutOfCredits => {
            let user = crate::auth::authenticate(&state, req.headers())
                .map(|u| u.user_id)
                .unwrap_or_else(|_| "anonymous".into());
            let available = state.store().account(&user).available;
            shaped(crate::credits::out_of_credits(
                &state.config.web_url,
                &user,
                available,
                state.rt().generation_cost,
            ))
        }
        FaultKind::Http500Html => envelope::html(
            StatusCode::INTERNAL_SERVER_ERROR,
            "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n<body><center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center></body></html>\n",
        ),
        FaultKind::Http502Html => envelope::html(
            StatusCode::BAD_GATEWAY,
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
        ),
        FaultKind::MalformedJson => {
            let mut resp =
                (StatusCode::OK, Body::from(r#"{"code":0,"data":{"session_id":"#)).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        FaultKind::DropStream | FaultKind::RenderFailOnce => next.run(req).await,
    }
}
