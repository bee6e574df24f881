//! Response envelopes and the typed error every handler returns.
//!
//! NemoVideo endpoints answer `{"code":0,"data":{…}}`; errors carry a non-zero `code` and
//! the message in both `msg` and `message`. Code errors (1001, 1002, 2001, 4001, 4002, …)
//! are sent with HTTP 200, like the service; transport errors (400, 402, 404, 409, 429,
//! 431, 5xx) use the HTTP status and a JSON body. Render endpoints use
//! `{"success":…,"data":…}`.

use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, Request},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::state::AppState;

pub const TOKEN_INVALID: i64 = 1001;
pub const SESSION_NOT_FOUND: i64 = 1002;
pub const OUT_OF_CREDITS: i64 = 2001;
pub const UNSUPPORTED_TYPE: i64 = 4001;
pub const FILE_TOO_LARGE: i64 = 4002;
pub const FETCH_FAILED: i64 = 4003;
pub const EXPORT_BUSY: i64 = 4009;

/// Which body shape an error uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `{"code", "msg", "message", "data"}`.
    Code,
    /// `{"success": false, "code", "error", "msg", "message"}`.
    Render,
}

/// A failed request: an HTTP status, an application code and a message.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: i64,
    pub msg: String,
    pub data: Value,
    pub shape: Shape,
    pub extra_headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: i64, msg: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            msg: msg.into(),
            data: Value::Null,
            shape: Shape::Code,
            extra_headers: Vec::new(),
        }
    }
    /// An application error sent with HTTP 200.
    pub fn code(code: i64, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::OK, code, msg)
    }
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 400, msg)
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, 404, msg)
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, 500, msg)
    }
    pub fn token_invalid() -> Self {
        Self::code(TOKEN_INVALID, "Token expired or invalid")
    }
    pub fn session_not_found(sid: &str) -> Self {
        let mut e = Self::code(SESSION_NOT_FOUND, format!("Session not found: {sid}"));
        e.data = json!({"session_id": sid});
        e
    }
    pub fn rate_limited() -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            429,
            "Too many requests, retry later",
        );
        e.extra_headers
            .push((header::RETRY_AFTER, HeaderValue::from_static("30")));
        e
    }
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
    pub fn render_shape(mut self) -> Self {
        self.shape = Shape::Render;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.shape {
            Shape::Code => json!({
                "code": self.code,
                "msg": self.msg,
                "message": self.msg,
                "data": self.data,
            }),
            Shape::Render => json!({
                "success": false,
                "code": self.code,
                "error": self.msg,
                "msg": self.msg,
                "message": self.msg,
                "data": self.data,
            }),
        };
        let mut resp = (self.status, Json(body)).into_response();
        for (k, v) in self.extra_headers {
            resp.headers_mut().insert(k, v);
        }
        resp
    }
}

/// `{"code":0,"msg":"success","data":…}`.
pub fn ok(data: Value) -> Response {
    Json(json!({"code": 0, "msg": "success", "data": data})).into_response()
}

/// `{"success":true,"data":…}` plus any extra top-level fields.
pub fn render_ok(data: Value, extra: Value) -> Response {
    let mut body = json!({"success": true});
    if let (Some(obj), Value::Object(more)) = (body.as_object_mut(), extra) {
        for (k, v) in more {
            obj.insert(k, v);
        }
    }
    if let Some(obj) = body.as_object_mut() {
        obj.insert("data".into(), data);
    }
    Json(body).into_response()
}

/// An HTML error page, like a proxy in front of the service would send.
pub fn html(status: StatusCode, body: &'static str) -> Response {
    let mut resp = (status, Body::from(body)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

/// A JSON request body with a nesting-depth check before deserialisation. The size limit
/// comes from the router's `DefaultBodyLimit`. Errors become HTTP 400 envelopes.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(status, 413, "request body too large")
            } else {
                ApiError::bad_request(format!("could not read body: {e}"))
            }
        })?;
        parse_json(&bytes, state.config.max_json_depth).map(JsonBody)
    }
}

/// Parses JSON after checking its depth.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], max_depth: usize) -> Result<T, ApiError> {
    if crate::util::json_depth(bytes) > max_depth {
        return Err(ApiError::bad_request(format!(
            "JSON nested deeper than {max_depth} levels"
        )));
    }
    let bytes = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        &b"{}"[..]
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))
}
