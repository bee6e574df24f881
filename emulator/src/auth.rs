//! Anonymous tokens, bearer authentication, attribution headers and claim tokens.
//!
//! Tokens are never logged: log lines name the user id instead.

use std::{
    net::SocketAddr,
    time::{Duration, SystemTime},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts, State},
    http::{header, request::Parts, HeaderMap, StatusCode},
    response::Response,
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    envelope::{self, ApiError, JsonBody},
    state::{AppState, Token},
    util,
};

/// The caller behind a valid bearer token.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user_id: String,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, &parts.headers)
    }
}

/// Checks `Authorization: Bearer <token>`. Missing, unknown and expired tokens: 1001.
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<AuthUser, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::token_invalid)?;
    let store = state.store();
    let t = store
        .tokens
        .get(token)
        .ok_or_else(ApiError::token_invalid)?;
    if SystemTime::now() >= t.expires {
        return Err(ApiError::token_invalid());
    }
    Ok(AuthUser {
        user_id: t.user_id.clone(),
    })
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let t = rest.trim();
    (!t.is_empty()).then_some(t)
}

/// The three attribution headers; `None` names the first one missing.
pub fn attribution_missing(headers: &HeaderMap) -> Option<&'static str> {
    ["x-skill-source", "x-skill-version", "x-skill-platform"]
        .into_iter()
        .find(|h| {
            headers
                .get(*h)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().is_empty())
                .unwrap_or(true)
        })
}

/// Counts calls that lack attribution (only export refuses them, with HTTP 402).
pub fn note_attribution(state: &AppState, headers: &HeaderMap) {
    if attribution_missing(headers).is_some() {
        state.store().global.missing_attribution += 1;
    }
}

/// `POST /api/auth/anonymous-token`.
pub async fn anonymous_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    note_attribution(&state, &headers);
    let client_id = headers
        .get("x-client-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    if client_id.is_empty() {
        return Err(ApiError::bad_request("X-Client-Id header is required"));
    }
    if client_id.chars().count() > 64 {
        return Err(ApiError::bad_request(
            "X-Client-Id must be at most 64 characters",
        ));
    }
    let rt = state.rt();
    let now = SystemTime::now();
    let ttl = Duration::from_secs(rt.token_ttl_s);
    let mut store = state.store();

    // One token per client id while it is valid: repeat calls return it. An
    // expired (or revoked) one is replaced for the same user: the client id
    // is the identity, so its sessions and credits stay.
    let mut same_user = None;
    if let Some(existing) = store.by_client.get(client_id).cloned() {
        if let Some(t) = store.tokens.get(&existing) {
            if now < t.expires {
                let user_id = t.user_id.clone();
                let expires = t.expires;
                let credits = store.account(&user_id).available;
                return Ok(token_response(&existing, &user_id, expires, credits));
            }
            same_user = Some(t.user_id.clone());
            store.tokens.remove(&existing);
        }
    }

    // At most N new tokens per IP per token lifetime.
    let ip = peer.ip();
    let issued = store.ip_issued.entry(ip).or_default();
    issued.retain(|t| now.duration_since(*t).map(|d| d < ttl).unwrap_or(true));
    if issued.len() >= rt.tokens_per_ip as usize {
        return Err(ApiError::rate_limited());
    }
    issued.push(now);

    let token = format!("nmv_usr_{}", util::random_hex());
    let renewed = same_user.is_some();
    let user_id = same_user.unwrap_or_else(|| util::random_id("anon_", 16));
    let expires = now + ttl;
    store.tokens.insert(
        token.clone(),
        Token {
            user_id: user_id.clone(),
            client_id: client_id.to_string(),
            ip,
            issued: now,
            expires,
        },
    );
    store.by_client.insert(client_id.to_string(), token.clone());
    let acct = store.account(&user_id);
    if !renewed {
        acct.available = rt.credits;
    }
    let credits = acct.available;
    store.global.tokens_issued += 1;
    store.evict_tokens(&state.config.limits());
    drop(store);
    tracing::info!(user_id = %user_id, "anonymous token issued");
    Ok(token_response(&token, &user_id, expires, credits))
}

fn token_response(token: &str, user_id: &str, expires: SystemTime, credits: i64) -> Response {
    envelope::ok(json!({
        "token": token,
        "user_id": user_id,
        "expires_at": util::iso8601(expires),
        "credits": credits,
    }))
}

#[derive(Deserialize)]
pub struct ClaimBody {
    #[serde(default)]
    task_id: String,
    #[serde(default)]
    session_id: String,
}

/// `POST /api/auth/claim-token {task_id, session_id}` → `{claim_token, expires_in}`.
pub async fn claim_token(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ClaimBody>,
) -> Result<Response, ApiError> {
    note_attribution(&state, &headers);
    if body.session_id.is_empty() || body.task_id.is_empty() {
        return Err(ApiError::bad_request("task_id and session_id are required"));
    }
    let idle = state.rt().session_idle_s;
    let mut store = state.store();
    let session = store.session_mut(&body.session_id, &user.user_id, idle)?;
    if session.task_id != body.task_id {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            400,
            "task_id does not belong to this session",
        ));
    }
    let claim = format!("ct_{}", util::random_hex());
    let expires_in = 600u64;
    store.prune_claims();
    store.claims.insert(
        claim.clone(),
        (
            body.task_id,
            body.session_id,
            SystemTime::now() + Duration::from_secs(expires_in),
        ),
    );
    Ok(envelope::ok(
        json!({"claim_token": claim, "expires_in": expires_in}),
    ))
}
