//! The NemoVideo HTTP API as data: request descriptions for every endpoint,
//! envelope decoding, and the typed replies.
//!
//! Nothing here performs I/O. A shell (the wasm `fetch` wrapper, a native
//! client, a test) turns an [`ApiRequest`] into a real request and hands the
//! status and body text back to [`read_envelope`] and the `parse_*`
//! functions, which map every documented failure to a typed [`Error`].

use crate::core::error::{percent_encode, Error, ErrorKind, Recovery, Result};
use crate::core::json::{self, Object, Value};

/// The production API. Tests never use it; they run against the emulator.
pub const DEFAULT_BASE_URL: &str = "https://mega-api-prod.nemovideo.ai";
/// The web app, for claim and registration links.
pub const DEFAULT_WEB_URL: &str = "https://nemovideo.com";
/// The agent the client talks to.
pub const APP_NAME: &str = "nemo_agent";
/// Default `X-Skill-Source`.
pub const DEFAULT_SKILL_SOURCE: &str = "higgsfield-ai";
/// How long a 429 asks us to wait before the single retry.
pub const RATE_LIMIT_WAIT_MS: u64 = 30_000;

/// The attribution triple sent on every request. Export fails with HTTP 402
/// without it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribution {
    /// `X-Skill-Source`.
    pub source: String,
    /// `X-Skill-Version`: this package's version.
    pub version: String,
    /// `X-Skill-Platform`: `clawhub`, `cursor` or `unknown`.
    pub platform: String,
}

impl Default for Attribution {
    fn default() -> Self {
        Attribution {
            source: DEFAULT_SKILL_SOURCE.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            platform: "unknown".into(),
        }
    }
}

/// `X-Skill-Platform` from the environment: `SKILL_SOURCE` wins when set;
/// otherwise the install path tells (`.clawhub/` → clawhub, `.cursor/` →
/// cursor); else `unknown`.
pub fn detect_platform(skill_source_env: Option<&str>, install_path: &str) -> String {
    if let Some(s) = skill_source_env.map(str::trim).filter(|s| !s.is_empty()) {
        return s.to_string();
    }
    let path = install_path.replace('\\', "/");
    if crate::core::text::contains(&path, "/.clawhub/") || path.starts_with(".clawhub/") {
        "clawhub".into()
    } else if crate::core::text::contains(&path, "/.cursor/") || path.starts_with(".cursor/") {
        "cursor".into()
    } else {
        "unknown".into()
    }
}

/// HTTP method of an [`ApiRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
}

impl Method {
    /// `"GET"` / `"POST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One request, described: the shell adds the base URL, the auth and
/// attribution headers ([`common_headers`]) and sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiRequest {
    /// GET or POST.
    pub method: Method,
    /// Path and query, starting with `/`. Never carries a secret.
    pub path: String,
    /// Extra headers for this endpoint.
    pub headers: Vec<(&'static str, String)>,
    /// A JSON body, if any.
    pub body: Option<String>,
    /// Whether the bearer token goes on this request.
    pub authenticated: bool,
}

impl ApiRequest {
    /// Whether sending this request twice has the effect of sending it
    /// once, so it may be re-sent after a timeout: GETs (state, credits,
    /// render status) only read. Every POST here creates or changes
    /// something (a token, a session, a claim token, a render, imported
    /// files), and one that timed out may have been processed.
    pub fn is_idempotent(&self) -> bool {
        self.method == Method::Get
    }

    fn get(path: String) -> Self {
        ApiRequest {
            method: Method::Get,
            path,
            headers: Vec::new(),
            body: None,
            authenticated: true,
        }
    }

    fn post_json(path: String, body: Value<'_>) -> Self {
        ApiRequest {
            method: Method::Post,
            path,
            headers: vec![("Content-Type", "application/json".into())],
            body: Some(body.to_json()),
            authenticated: true,
        }
    }
}

/// The headers every request carries: `Authorization` (when a token is
/// given and the request is authenticated) and the attribution triple.
pub fn common_headers(
    req: &ApiRequest,
    token: Option<&str>,
    attribution: &Attribution,
) -> Vec<(&'static str, String)> {
    let mut h = Vec::with_capacity(req.headers.len() + 4);
    if req.authenticated {
        if let Some(t) = token {
            h.push(("Authorization", format!("Bearer {t}")));
        }
    }
    h.push(("X-Skill-Source", attribution.source.clone()));
    h.push(("X-Skill-Version", attribution.version.clone()));
    h.push(("X-Skill-Platform", attribution.platform.clone()));
    h.extend(req.headers.iter().cloned());
    h
}

/// Builders for every endpoint in the protocol.
pub mod endpoints {
    use super::*;

    /// `POST /api/auth/anonymous-token` with `X-Client-Id`.
    pub fn anonymous_token(client_id: &str) -> ApiRequest {
        ApiRequest {
            method: Method::Post,
            path: "/api/auth/anonymous-token".into(),
            headers: vec![("X-Client-Id", client_id.into())],
            body: None,
            authenticated: false,
        }
    }

    /// `POST /api/tasks/me/with-session/nemo_agent`.
    pub fn create_session(task_name: &str, language: &str) -> ApiRequest {
        ApiRequest::post_json(
            format!("/api/tasks/me/with-session/{APP_NAME}"),
            Value::object([
                ("task_name", Value::str(task_name)),
                ("language", Value::str(language)),
            ]),
        )
    }

    /// `POST /api/auth/claim-token`.
    pub fn claim_token(task_id: &str, session_id: &str) -> ApiRequest {
        ApiRequest::post_json(
            "/api/auth/claim-token".into(),
            Value::object([
                ("task_id", Value::str(task_id)),
                ("session_id", Value::str(session_id)),
            ]),
        )
    }

    /// `POST /run_sse`: one chat turn. `last_event_id` turns the same body
    /// into a resume of the turn that id belongs to (never a re-send).
    pub fn run_sse(session_id: &str, text: &str, last_event_id: Option<&str>) -> ApiRequest {
        let body = Value::object([
            ("app_name", Value::str(APP_NAME)),
            ("user_id", Value::str("me")),
            ("session_id", Value::str(session_id)),
            (
                "new_message",
                Value::object([(
                    "parts",
                    Value::Array(vec![Value::object([("text", Value::str(text))])]),
                )]),
            ),
        ]);
        let mut req = ApiRequest::post_json("/run_sse".into(), body);
        req.headers.push(("Accept", "text/event-stream".into()));
        if let Some(id) = last_event_id.filter(|id| !id.is_empty()) {
            req.headers.push(("Last-Event-ID", id.into()));
        }
        req
    }

    /// `POST /api/upload-video/nemo_agent/me/<sid>` path, for multipart
    /// bodies the shell builds (files never pass through the core).
    pub fn upload_path(session_id: &str) -> String {
        format!(
            "/api/upload-video/{APP_NAME}/me/{}",
            percent_encode(session_id)
        )
    }

    /// The multipart upload request; the shell attaches the `files` fields.
    pub fn upload_files(session_id: &str) -> ApiRequest {
        ApiRequest {
            method: Method::Post,
            path: upload_path(session_id),
            headers: Vec::new(),
            body: None,
            authenticated: true,
        }
    }

    /// The same endpoint with `{"urls": [...], "source_type": "url"}`.
    pub fn upload_urls(session_id: &str, urls: &[&str]) -> ApiRequest {
        ApiRequest::post_json(
            upload_path(session_id),
            Value::object([
                (
                    "urls",
                    Value::Array(urls.iter().map(|u| Value::str(*u)).collect()),
                ),
                ("source_type", Value::str("url")),
            ]),
        )
    }

    /// `GET /api/credits/balance/simple`.
    pub fn credits() -> ApiRequest {
        ApiRequest::get("/api/credits/balance/simple".into())
    }

    /// `GET /api/state/nemo_agent/me/<sid>/latest`.
    pub fn state(session_id: &str) -> ApiRequest {
        ApiRequest::get(format!(
            "/api/state/{APP_NAME}/me/{}/latest",
            percent_encode(session_id)
        ))
    }

    /// `POST /api/render/proxy/lambda`. `draft_json` is the draft exactly as
    /// read from state (unknown keys included).
    pub fn render_submit(render_id: &str, session_id: &str, draft: &Value<'_>) -> ApiRequest {
        ApiRequest::post_json(
            "/api/render/proxy/lambda".into(),
            Value::object([
                ("id", Value::str(render_id)),
                // camelCase here is the protocol's one exception.
                ("sessionId", Value::str(session_id)),
                ("draft", draft.clone()),
                (
                    "output",
                    Value::object([
                        ("format", Value::str("mp4")),
                        ("quality", Value::str("high")),
                    ]),
                ),
            ]),
        )
    }

    /// `GET /api/render/proxy/lambda/<id>`.
    pub fn render_status(render_id: &str) -> ApiRequest {
        ApiRequest::get(format!(
            "/api/render/proxy/lambda/{}",
            percent_encode(render_id)
        ))
    }

    /// `POST /api/render/proxy/lambda/<id>/cancel`.
    pub fn render_cancel(render_id: &str) -> ApiRequest {
        let mut req = ApiRequest::get(format!(
            "/api/render/proxy/lambda/{}/cancel",
            percent_encode(render_id)
        ));
        req.method = Method::Post;
        req
    }

    /// `GET /api/render/proxy/<id>/download`: the fallback download.
    pub fn render_download(render_id: &str) -> ApiRequest {
        ApiRequest::get(format!(
            "/api/render/proxy/{}/download",
            percent_encode(render_id)
        ))
    }
}

/// A fresh render id, `render_<ts>`. Callers pass a strictly increasing
/// clock value so that the retry after a failure never reuses an id.
pub fn render_id(now_ms: u64) -> String {
    format!("render_{}", crate::core::format::Int::from(now_ms))
}

/// What the error mapping needs to know beyond the reply itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrorContext<'a> {
    /// The web app URL, for the registration link.
    pub web_url: &'a str,
    /// The user id from the token call, for the registration link.
    pub user_id: Option<&'a str>,
}

/// Decodes any reply: `{code, data, msg|message}`, `{success, data}`, a bare
/// transport status, an HTML proxy page or an empty body. Returns `data`
/// (or the whole document when it has no `data`) on success.
pub fn read_envelope<'a>(status: u16, body: &'a str, ctx: ErrorContext<'_>) -> Result<Value<'a>> {
    read_envelope_doc(status, body, ctx).map(take_data)
}

/// Like [`read_envelope`], but returns the whole document on success. The
/// render status needs it: its fields may sit at the top level or in `data`.
pub fn read_envelope_doc<'a>(
    status: u16,
    body: &'a str,
    ctx: ErrorContext<'_>,
) -> Result<Value<'a>> {
    let parsed = json::parse(body);

    // Transport statuses first: they mean the same with or without a body.
    match status {
        429 => return Err(Error::rate_limited(RATE_LIMIT_WAIT_MS)),
        402 => return Err(Error::export_blocked()),
        _ => {}
    }

    let doc = match parsed {
        Ok(doc) => doc,
        Err(e) => return Err(non_json_error(status, body, &e)),
    };

    // An API code wins over the HTTP status: the same 1001 may arrive as
    // 200 or 401 depending on the deployment.
    if let Some(code) = doc.get("code").and_then(Value::as_i64) {
        if code == 0 && (200..300).contains(&status) {
            return Ok(doc);
        }
        if code != 0 {
            return Err(error_for_code(code, status, message_of(&doc), ctx));
        }
    }
    if let Some(false) = doc.get("success").and_then(Value::as_bool) {
        let msg = message_of(&doc).unwrap_or("the request failed");
        return Err(Error::protocol(msg).with_status(status));
    }
    match status {
        200..=299 => Ok(doc),
        400 => Err(Error::invalid_input(format!(
            "The server rejected the request: {}",
            message_of(&doc).unwrap_or("bad request")
        ))
        .with_status(400)),
        401 | 403 => Err(Error::token_expired().with_status(status)),
        404 if message_of(&doc)
            .is_some_and(|m| crate::core::text::contains(&m.to_ascii_lowercase(), "session")) =>
        {
            Err(Error::session_not_found().with_status(404))
        }
        _ => Err(Error::protocol(format!(
            "HTTP {}: {}",
            crate::core::format::Int::from(status),
            message_of(&doc).unwrap_or("no message")
        ))
        .with_status(status)),
    }
}

/// The `data` of a success document (the document itself when it has none).
pub fn take_data(doc: Value<'_>) -> Value<'_> {
    match doc {
        Value::Object(mut o) => match o.remove("data") {
            Some(data) => data,
            None => Value::Object(o),
        },
        other => other,
    }
}

/// The human message of an error document: `msg`, `message`, `detail` or a
/// string `error`, in that order (the public guides disagree).
fn message_of<'v>(doc: &'v Value<'_>) -> Option<&'v str> {
    ["msg", "message", "detail", "error"]
        .iter()
        .find_map(|k| doc.get(k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

fn error_for_code(code: i64, status: u16, msg: Option<&str>, ctx: ErrorContext<'_>) -> Error {
    let e = match code {
        1001 => Error::token_expired(),
        1002 => Error::session_not_found(),
        2001 => Error::out_of_credits(
            if ctx.web_url.is_empty() {
                DEFAULT_WEB_URL
            } else {
                ctx.web_url
            },
            ctx.user_id,
        ),
        4001 => Error::unsupported_file(msg.unwrap_or("The file type is not supported.")),
        4002 => Error::new(
            ErrorKind::FileTooLarge,
            format!(
                "{} Compress or trim it to under 200 MB.",
                msg.unwrap_or("The file is too large.")
            ),
        )
        .with_recovery(Recovery::CompressOrTrim {
            limit_bytes: crate::core::media::MAX_UPLOAD_BYTES,
        }),
        _ => Error::protocol(format!(
            "error code {}: {}",
            crate::core::format::Int::from(code),
            msg.unwrap_or("no message")
        )),
    };
    e.with_code(code).with_status(status)
}

fn non_json_error(status: u16, body: &str, e: &json::JsonError) -> Error {
    let trimmed = body.trim_start();
    let what = if trimmed.is_empty() {
        "an empty reply".to_string()
    } else if trimmed.starts_with('<') {
        // A proxy or load balancer page; its <title> is the useful part.
        match html_title(trimmed) {
            Some(t) => format!("an HTML page (\"{t}\")"),
            None => "an HTML page".to_string(),
        }
    } else {
        format!("malformed JSON ({e})")
    };
    Error::protocol(format!(
        "HTTP {} with {what}",
        crate::core::format::Int::from(status)
    ))
    .with_status(status)
}

fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = crate::core::text::find(&lower, "<title>")? + "<title>".len();
    let end = start + crate::core::text::find(lower.get(start..)?, "</title>")?;
    let title: String = html.get(start..end)?.trim().chars().take(80).collect();
    (!title.is_empty()).then_some(title)
}

// ---- Typed replies ----------------------------------------------------------

fn req_str(v: &Value<'_>, key: &str, what: &str) -> Result<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Error::protocol(format!("{what} reply has no \"{key}\"")))
}

fn opt_str(v: &Value<'_>, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn num(v: &Value<'_>, key: &str) -> Option<f64> {
    let x = v.get(key)?;
    // Some deployments send numbers as strings.
    x.as_f64()
        .or_else(|| {
            x.as_str()
                .and_then(|s| crate::core::number::parse_f64(s.trim()))
        })
        // "NaN", "inf" or 1e999 are not amounts: treat them as missing.
        .filter(|v: &f64| v.is_finite())
}

/// The anonymous token call's reply.
#[derive(Clone, PartialEq)]
pub struct TokenGrant {
    /// `nmv_usr_…`: a secret, never printed.
    pub token: String,
    /// `anon_…`.
    pub user_id: String,
    /// ISO-8601 expiry.
    pub expires_at: Option<String>,
    /// Starting credits.
    pub credits: Option<f64>,
}

impl core::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("token", &"[redacted]")
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .field("credits", &self.credits)
            .finish()
    }
}

/// Reads a [`TokenGrant`] from `data`.
pub fn parse_token(data: &Value<'_>) -> Result<TokenGrant> {
    Ok(TokenGrant {
        token: req_str(data, "token", "the token")?,
        user_id: opt_str(data, "user_id").unwrap_or_default(),
        expires_at: opt_str(data, "expires_at"),
        credits: num(data, "credits"),
    })
}

/// A session: the task it belongs to and its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// `task_id`.
    pub task_id: String,
    /// `session_id`.
    pub session_id: String,
}

/// Reads a [`SessionInfo`] from `data`.
pub fn parse_session(data: &Value<'_>) -> Result<SessionInfo> {
    Ok(SessionInfo {
        task_id: req_str(data, "task_id", "the session")?,
        session_id: req_str(data, "session_id", "the session")?,
    })
}

/// A claim token for opening the project in the web app.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimToken {
    /// The one-time claim token (not the API token).
    pub claim_token: String,
    /// Seconds until it expires.
    pub expires_in: Option<f64>,
}

/// Reads a [`ClaimToken`] from `data`.
pub fn parse_claim(data: &Value<'_>) -> Result<ClaimToken> {
    Ok(ClaimToken {
        claim_token: req_str(data, "claim_token", "the claim")?,
        expires_in: num(data, "expires_in"),
    })
}

/// `<web>/workspace/claim?ct=<claim token>`.
pub fn claim_url(web_url: &str, claim_token: &str) -> String {
    format!(
        "{}/workspace/claim?ct={}",
        web_url.trim_end_matches('/'),
        percent_encode(claim_token)
    )
}

/// One uploaded file's record.
#[derive(Clone, Debug, PartialEq)]
pub struct UploadedFile {
    /// The stored file name.
    pub filename: String,
    /// `image`, `video`, `audio` or an extension, as the server says.
    pub file_type: String,
    /// Where the server serves it.
    pub cdn_url: String,
    /// Seconds, for video and audio.
    pub duration: Option<f64>,
    /// Pixels.
    pub width: Option<f64>,
    /// Pixels.
    pub height: Option<f64>,
    /// Frames per second, for video.
    pub fps: Option<f64>,
    /// Content hash.
    pub hash: Option<String>,
}

/// Reads the upload reply's `files`.
pub fn parse_upload(data: &Value<'_>) -> Result<Vec<UploadedFile>> {
    let files = data
        .get("files")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::protocol("the upload reply has no \"files\" list"))?;
    files
        .iter()
        .map(|f| {
            Ok(UploadedFile {
                filename: opt_str(f, "filename").unwrap_or_default(),
                file_type: opt_str(f, "file_type").unwrap_or_default(),
                cdn_url: opt_str(f, "cdn_url").unwrap_or_default(),
                duration: num(f, "duration"),
                width: num(f, "width"),
                height: num(f, "height"),
                fps: num(f, "fps"),
                hash: opt_str(f, "hash"),
            })
        })
        .collect()
}

/// The credit balance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Credits {
    /// Spendable now.
    pub available: f64,
    /// Reserved by running jobs.
    pub frozen: f64,
    /// `available + frozen`, as the server counts it.
    pub total: f64,
}

/// Reads [`Credits`] from `data`.
pub fn parse_credits(data: &Value<'_>) -> Result<Credits> {
    let available = num(data, "available")
        .ok_or_else(|| Error::protocol("the balance has no \"available\""))?;
    let frozen = num(data, "frozen").unwrap_or(0.0);
    Ok(Credits {
        available,
        frozen,
        total: num(data, "total").unwrap_or(available + frozen),
    })
}

/// Where a render job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderState {
    /// Queued.
    Pending,
    /// Rendering.
    Processing,
    /// Done: the URL is ready.
    Completed,
    /// Failed on the server.
    Failed,
    /// Cancelled by the caller.
    Cancelled,
}

impl RenderState {
    /// The protocol's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            RenderState::Pending => "pending",
            RenderState::Processing => "processing",
            RenderState::Completed => "completed",
            RenderState::Failed => "failed",
            RenderState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "pending" | "queued" => RenderState::Pending,
            "processing" | "rendering" | "running" => RenderState::Processing,
            "completed" | "complete" | "done" | "succeeded" | "success" => RenderState::Completed,
            "failed" | "error" => RenderState::Failed,
            "cancelled" | "canceled" => RenderState::Cancelled,
            _ => return None,
        })
    }
}

/// A render job's status, read from either documented shape.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderStatus {
    /// The render id.
    pub id: Option<String>,
    /// Where it is.
    pub state: RenderState,
    /// 0–100.
    pub progress: f64,
    /// The MP4 URL once completed.
    pub url: Option<String>,
    /// The server's reason when failed.
    pub error: Option<String>,
}

/// Reads a render status from the whole reply document (not just `data`):
/// the guides disagree, so top-level `status` / `output.url` **and**
/// `data.status` / `data.outputUrl` / `data.progress` are all read.
pub fn parse_render_status(doc: &Value<'_>) -> Result<RenderStatus> {
    let data = doc.get("data");
    let pick_str = |keys: &[&[&str]]| -> Option<String> {
        keys.iter()
            .find_map(|path| doc.pointer(path).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let status_text = pick_str(&[&["data", "status"], &["status"]])
        .ok_or_else(|| Error::protocol("the render status has no \"status\""))?;
    let state = RenderState::parse(&status_text)
        .ok_or_else(|| Error::protocol(format!("unknown render status \"{status_text}\"")))?;
    let progress = data
        .and_then(|d| num(d, "progress"))
        .or_else(|| num(doc, "progress"))
        .unwrap_or(match state {
            RenderState::Completed => 100.0,
            _ => 0.0,
        })
        .clamp(0.0, 100.0);
    Ok(RenderStatus {
        id: pick_str(&[&["data", "id"], &["id"]]),
        state,
        progress,
        url: pick_str(&[
            &["data", "outputUrl"],
            &["output", "url"],
            &["data", "output", "url"],
            &["data", "url"],
        ]),
        error: pick_str(&[&["data", "error"], &["error"], &["data", "message"]]),
    })
}

/// Resolves a URL the server gave (possibly relative) against `base_url`,
/// and refuses anything that is not http(s): a download never follows a
/// `javascript:`, `file:` or `data:` URL.
pub fn resolve_http_url(base_url: &str, url: &str) -> Result<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(url.to_string());
    }
    if url.starts_with("//") {
        let scheme = if base_url.to_ascii_lowercase().starts_with("https:") {
            "https:"
        } else {
            "http:"
        };
        return Ok(format!("{scheme}{url}"));
    }
    if url.starts_with('/') {
        let origin = origin_of(base_url)
            .ok_or_else(|| Error::invalid_input(format!("\"{base_url}\" is not an http(s) URL")))?;
        return Ok(format!("{origin}{url}"));
    }
    Err(Error::protocol(format!(
        "refusing a download URL that is not http(s): \"{}\"",
        url.chars().take(60).collect::<String>()
    )))
}

/// `scheme://host[:port]` of an http(s) URL.
pub fn origin_of(url: &str) -> Option<&str> {
    let lower = url.get(..8)?.to_ascii_lowercase();
    let after = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        return None;
    };
    let end = url
        .get(after..)?
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after + i);
    if end <= after {
        return None;
    }
    url.get(..end)
}

/// Normalises a base URL: http(s) only, no trailing slash, no query.
pub fn normalize_base_url(url: &str) -> Result<String> {
    let url = url.trim();
    // Found by the `envelope` fuzz target: control characters (even NUL)
    // inside the URL were accepted, and trailing ones made the result change
    // when normalised again.
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        let mut msg = String::from("baseUrl must not contain spaces or control characters, got \"");
        let shown: String = url.chars().take(60).collect();
        crate::core::text::push_escaped(&shown, &mut msg);
        msg.push('"');
        return Err(Error::invalid_input(msg));
    }
    let origin = origin_of(url).ok_or_else(|| {
        Error::invalid_input(format!(
            "baseUrl must be an absolute http(s) URL, got \"{}\"",
            url.chars().take(60).collect::<String>()
        ))
    })?;
    let rest = url.get(origin.len()..).unwrap_or("");
    let path = rest.split(['?', '#']).next().unwrap_or("");
    Ok(format!("{origin}{}", path.trim_end_matches('/')))
}

/// Reads the state endpoint's `data` into owned JSON (for the timeline).
pub fn parse_state(data: Value<'_>) -> Result<Value<'static>> {
    if data.get("state").is_none() {
        return Err(Error::protocol("the state reply has no \"state\""));
    }
    Ok(data.into_owned())
}

/// An object helper for shells that build JSON bodies.
pub fn object<'a>(pairs: impl IntoIterator<Item = (&'a str, Value<'a>)>) -> Object<'a> {
    pairs.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_are_idempotent() {
        let draft = Value::Null;
        for (req, want) in [
            (endpoints::credits(), true),
            (endpoints::state("s1"), true),
            (endpoints::render_status("render_1"), true),
            (endpoints::anonymous_token("c1"), false),
            (endpoints::create_session("project", "en"), false),
            (endpoints::claim_token("t1", "s1"), false),
            (endpoints::render_submit("render_1", "s1", &draft), false),
            (endpoints::render_cancel("render_1"), false),
            (
                endpoints::upload_urls("s1", &["https://example.com/a.mp4"]),
                false,
            ),
            (endpoints::upload_files("s1"), false),
            (endpoints::run_sse("s1", "hi", None), false),
        ] {
            assert_eq!(req.is_idempotent(), want, "{}", req.path);
        }
    }

    fn ctx() -> ErrorContext<'static> {
        ErrorContext {
            web_url: "https://nemovideo.com",
            user_id: Some("anon_7"),
        }
    }

    fn err(status: u16, body: &str) -> Error {
        read_envelope(status, body, ctx()).unwrap_err()
    }

    #[test]
    fn base_urls_with_control_characters_are_refused() {
        for bad in [
            "http://\u{c}host",
            "http://ho st",
            "https://a.b/\0",
            "http://a.b/x\u{b}/",
        ] {
            let e = normalize_base_url(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
        assert_eq!(
            normalize_base_url("  http://127.0.0.1:8787/api/  ").unwrap(),
            "http://127.0.0.1:8787/api"
        );
    }

    #[test]
    fn non_finite_amounts_are_not_numbers() {
        for body in [
            r#"{"available":"NaN"}"#,
            r#"{"available":"inf"}"#,
            r#"{"available":1e999}"#,
        ] {
            let v = json::parse(body).unwrap();
            assert_eq!(
                parse_credits(&v).unwrap_err().kind(),
                ErrorKind::Protocol,
                "{body}"
            );
        }
        let v = json::parse(r#"{"available":"12","frozen":"-inf"}"#).unwrap();
        assert_eq!(parse_credits(&v).unwrap().frozen, 0.0);
    }

    #[test]
    fn both_success_envelopes_yield_data() {
        let v = read_envelope(200, r#"{"code":0,"data":{"a":1}}"#, ctx()).unwrap();
        assert_eq!(v.get("a").and_then(Value::as_i64), Some(1));
        let v = read_envelope(200, r#"{"success":true,"data":{"id":"r"}}"#, ctx()).unwrap();
        assert_eq!(v.get("id").and_then(Value::as_str), Some("r"));
    }

    #[test]
    fn every_documented_code_maps_to_its_kind() {
        let table = [
            (
                200,
                r#"{"code":1001,"msg":"token expired"}"#,
                ErrorKind::TokenExpired,
            ),
            (
                401,
                r#"{"code":1001,"message":"expired"}"#,
                ErrorKind::TokenExpired,
            ),
            (
                200,
                r#"{"code":1002,"msg":"no session"}"#,
                ErrorKind::SessionNotFound,
            ),
            (
                200,
                r#"{"code":2001,"msg":"no credits"}"#,
                ErrorKind::OutOfCredits,
            ),
            (
                200,
                r#"{"code":4001,"msg":"bad type"}"#,
                ErrorKind::UnsupportedFile,
            ),
            (
                413,
                r#"{"code":4002,"msg":"too big"}"#,
                ErrorKind::FileTooLarge,
            ),
            (402, "", ErrorKind::ExportBlocked),
            (402, r#"{"code":402,"msg":"x"}"#, ErrorKind::ExportBlocked),
            (429, "<html>slow down</html>", ErrorKind::RateLimited),
            (
                400,
                r#"{"msg":"missing X-Client-Id"}"#,
                ErrorKind::InvalidInput,
            ),
            (
                404,
                r#"{"detail":"Session not found: x"}"#,
                ErrorKind::SessionNotFound,
            ),
            (500, r#"{"code":9999,"msg":"boom"}"#, ErrorKind::Protocol),
            (
                200,
                r#"{"success":false,"message":"render failed"}"#,
                ErrorKind::Protocol,
            ),
        ];
        for (status, body, kind) in table {
            let e = err(status, body);
            assert_eq!(e.kind(), kind, "{status} {body}");
        }
        let e = err(200, r#"{"code":2001,"msg":"no credits"}"#);
        assert_eq!(
            e.recovery(),
            &Recovery::Register {
                url: "https://nemovideo.com/register?bind=anon_7".into()
            }
        );
        assert_eq!(e.code(), Some(2001));
    }

    #[test]
    fn non_json_bodies_are_typed_protocol_errors() {
        let e = err(
            502,
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        );
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert_eq!(e.status(), Some(502));
        assert!(e.message().contains("502 Bad Gateway"), "{}", e.message());
        assert!(err(200, "").message().contains("empty reply"));
        assert!(err(200, r#"{"code":0,"data":{"#)
            .message()
            .contains("malformed JSON"));
        assert_eq!(
            err(500, "Internal Server Error").kind(),
            ErrorKind::Protocol
        );
    }

    #[test]
    fn requests_never_put_the_token_in_the_url() {
        let attribution = Attribution::default();
        let req = endpoints::state("s 1/..");
        assert_eq!(req.path, "/api/state/nemo_agent/me/s%201%2F../latest");
        let h = common_headers(&req, Some("nmv_usr_secret"), &attribution);
        assert!(h.contains(&("Authorization", "Bearer nmv_usr_secret".into())));
        assert!(!req.path.contains("nmv_"));
        assert!(h
            .iter()
            .any(|(k, v)| *k == "X-Skill-Source" && v == "higgsfield-ai"));
        let token = endpoints::anonymous_token("cid");
        let h = common_headers(&token, Some("nmv_usr_secret"), &attribution);
        assert!(!h.iter().any(|(k, _)| *k == "Authorization"));
        assert!(h.contains(&("X-Client-Id", "cid".into())));
    }

    #[test]
    fn run_sse_body_matches_the_protocol() {
        let req = endpoints::run_sse("sid", "hi \"there\"", Some("t1:4"));
        assert_eq!(
            req.body.as_deref(),
            Some(
                r#"{"app_name":"nemo_agent","user_id":"me","session_id":"sid","new_message":{"parts":[{"text":"hi \"there\""}]}}"#
            )
        );
        assert!(req.headers.contains(&("Last-Event-ID", "t1:4".into())));
        assert!(req
            .headers
            .contains(&("Accept", "text/event-stream".into())));
    }

    #[test]
    fn render_submit_passes_the_draft_back_untouched() {
        let draft = json::parse(r#"{"t":[],"zz":{"keep":12345678901234567890}}"#).unwrap();
        let req = endpoints::render_submit("render_1", "sid", &draft);
        let body = req.body.unwrap();
        assert!(body.contains(r#""sessionId":"sid""#));
        assert!(body.contains(r#""draft":{"t":[],"zz":{"keep":12345678901234567890}}"#));
        assert!(body.contains(r#""output":{"format":"mp4","quality":"high"}"#));
    }

    #[test]
    fn render_status_reads_both_shapes() {
        let top = json::parse(
            r#"{"success":true,"status":"completed","output":{"url":"http://h/r.mp4"}}"#,
        )
        .unwrap();
        let s = parse_render_status(&top).unwrap();
        assert_eq!(s.state, RenderState::Completed);
        assert_eq!(s.url.as_deref(), Some("http://h/r.mp4"));
        assert_eq!(s.progress, 100.0);
        let nested = json::parse(
            r#"{"success":true,"data":{"id":"render_1","status":"processing","progress":"42"}}"#,
        )
        .unwrap();
        let s = parse_render_status(&nested).unwrap();
        assert_eq!(s.state, RenderState::Processing);
        assert_eq!(s.progress, 42.0);
        assert_eq!(s.id.as_deref(), Some("render_1"));
        assert!(parse_render_status(&json::parse(r#"{"data":{}}"#).unwrap()).is_err());
        assert!(parse_render_status(&json::parse(r#"{"status":"weird"}"#).unwrap()).is_err());
    }

    #[test]
    fn typed_replies_parse_and_hide_the_token() {
        let data = json::parse(
            r#"{"token":"nmv_usr_abc","user_id":"anon_1","expires_at":"2026-12-01T00:00:00Z","credits":100}"#,
        )
        .unwrap();
        let t = parse_token(&data).unwrap();
        assert_eq!(t.user_id, "anon_1");
        assert!(!format!("{t:?}").contains("nmv_usr_abc"));
        let c = parse_credits(&json::parse(r#"{"available":50,"frozen":50,"total":100}"#).unwrap())
            .unwrap();
        assert_eq!((c.available, c.frozen, c.total), (50.0, 50.0, 100.0));
        assert!(parse_session(&json::parse(r#"{"task_id":"t"}"#).unwrap()).is_err());
        let files = parse_upload(
            &json::parse(r#"{"files":[{"filename":"a.png","file_type":"image","cdn_url":"http://x/a.png","width":640,"height":480,"duration":null,"fps":null,"hash":"h"}],"session_state_applied":true}"#)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(files[0].width, Some(640.0));
        assert_eq!(files[0].duration, None);
        assert_eq!(
            claim_url("https://nemovideo.com/", "ct 1"),
            "https://nemovideo.com/workspace/claim?ct=ct%201"
        );
    }

    #[test]
    fn urls_are_checked_and_resolved() {
        assert_eq!(
            resolve_http_url("http://127.0.0.1:8787/x", "/renders/r.mp4").unwrap(),
            "http://127.0.0.1:8787/renders/r.mp4"
        );
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:video/mp4;base64,AA",
            "renders/r.mp4",
            "",
        ] {
            assert!(resolve_http_url("http://h", bad).is_err(), "{bad}");
        }
        assert_eq!(
            normalize_base_url(" http://127.0.0.1:8787/ ").unwrap(),
            "http://127.0.0.1:8787"
        );
        assert!(normalize_base_url("ftp://x").is_err());
        assert!(normalize_base_url("/relative").is_err());
        assert_eq!(detect_platform(None, "/home/u/.cursor/ext/x"), "cursor");
        assert_eq!(
            detect_platform(None, "/home/u/.clawhub/skills/x"),
            "clawhub"
        );
        assert_eq!(
            detect_platform(Some("custom"), "/home/u/.cursor/x"),
            "custom"
        );
        assert_eq!(detect_platform(None, "/usr/lib/node_modules"), "unknown");
        assert_eq!(render_id(1700000000000), "render_1700000000000");
    }
}
