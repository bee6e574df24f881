//! Credits: balance, reservation while a turn runs, commit and refund.

use axum::{extract::State, http::HeaderMap, response::Response};
use serde_json::json;

use crate::{
    auth::{note_attribution, AuthUser},
    envelope::{self, ApiError, OUT_OF_CREDITS},
    state::{AppState, Store},
};

/// `GET /api/credits/balance/simple` → `{available, frozen, total}`.
pub async fn balance(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    note_attribution(&state, &headers);
    let mut store = state.store();
    let a = store.account(&user.user_id).clone();
    Ok(envelope::ok(json!({
        "available": a.available,
        "frozen": a.frozen,
        "total": a.available + a.frozen,
    })))
}

/// The 2001 answer, with the registration link for an anonymous user.
pub fn out_of_credits(web_url: &str, user_id: &str, available: i64, required: i64) -> ApiError {
    let bind_url = format!("{}/register?bind={user_id}", web_url.trim_end_matches('/'));
    ApiError::code(
        OUT_OF_CREDITS,
        format!("Insufficient credits ({available} available, {required} required). Register to get more: {bind_url}"),
    )
    .with_data(json!({"bind_url": bind_url, "available": available, "required": required}))
}

/// Moves `cost` from available to frozen, or answers 2001.
pub fn reserve(store: &mut Store, web_url: &str, user_id: &str, cost: i64) -> Result<(), ApiError> {
    if cost <= 0 {
        return Ok(());
    }
    let a = store.account(user_id);
    if a.available < cost {
        let available = a.available;
        return Err(out_of_credits(web_url, user_id, available, cost));
    }
    a.available -= cost;
    a.frozen += cost;
    Ok(())
}

/// Spends a reservation.
pub fn commit(store: &mut Store, user_id: &str, cost: i64) {
    if cost <= 0 {
        return;
    }
    // An account forgotten meanwhile (`--max-tokens`) stays forgotten.
    let Some(a) = store.accounts.get_mut(user_id) else {
        return;
    };
    let c = cost.min(a.frozen);
    a.frozen -= c;
    a.spent += c;
}

/// Returns a reservation.
pub fn refund(store: &mut Store, user_id: &str, cost: i64) {
    if cost <= 0 {
        return;
    }
    let Some(a) = store.accounts.get_mut(user_id) else {
        return;
    };
    let c = cost.min(a.frozen);
    a.frozen -= c;
    a.available += c;
}
