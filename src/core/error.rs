//! One error type for every failure the client can meet.
//!
//! Each [`Error`] carries a [`ErrorKind`], the API `code` and HTTP `status`
//! when the server gave them, a plain-language message meant for the person
//! using the app, and the [`Recovery`] the client or the user should take.
//!
//! Secrets never leak through an error: every message that may contain
//! backend text is passed through [`redact`], and `Debug` prints the same
//! redacted fields as `Display`.

use core::fmt;

/// What went wrong, as a closed set of kinds an app can `match` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// API code 1001: the token expired or is invalid.
    TokenExpired,
    /// API code 1002: the session is gone; its state cannot be recovered.
    SessionNotFound,
    /// API code 2001: the account has no credits left.
    OutOfCredits,
    /// API code 4001: the file type is not accepted.
    UnsupportedFile,
    /// API code 4002: the file is over the size limit.
    FileTooLarge,
    /// HTTP 402: the plan (or missing attribution headers) blocks export.
    ExportBlocked,
    /// HTTP 429: too many requests.
    RateLimited,
    /// The network failed (connection refused, reset, DNS, offline).
    Network,
    /// An operation ran past its time limit.
    Timeout,
    /// The agent stream carried only heartbeats for too long.
    StreamStalled,
    /// The caller aborted the operation (an `AbortSignal` fired).
    Aborted,
    /// The server answered something the client cannot act on: an HTML
    /// error page, malformed JSON, an unknown error code, a 5xx, or a
    /// refusal the protocol does not describe (a 403 about the origin, a
    /// 404 or 405 for an endpoint that should exist). The
    /// [`Recovery`] says whether a retry can help.
    Protocol,
    /// The caller passed an invalid argument; nothing was sent.
    InvalidInput,
    /// The export render failed on the server, also after the retry.
    RenderFailed,
}

impl ErrorKind {
    /// Every kind, for tables and for mapping names back to kinds.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::TokenExpired,
        ErrorKind::SessionNotFound,
        ErrorKind::OutOfCredits,
        ErrorKind::UnsupportedFile,
        ErrorKind::FileTooLarge,
        ErrorKind::ExportBlocked,
        ErrorKind::RateLimited,
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::StreamStalled,
        ErrorKind::Aborted,
        ErrorKind::Protocol,
        ErrorKind::InvalidInput,
        ErrorKind::RenderFailed,
    ];

    /// The kind named by [`as_str`](Self::as_str), if any.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// A stable, machine-readable name (`"token_expired"`, …) used by the JS
    /// error classes and the CLI's `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::TokenExpired => "token_expired",
            ErrorKind::SessionNotFound => "session_not_found",
            ErrorKind::OutOfCredits => "out_of_credits",
            ErrorKind::UnsupportedFile => "unsupported_file",
            ErrorKind::FileTooLarge => "file_too_large",
            ErrorKind::ExportBlocked => "export_blocked",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::StreamStalled => "stream_stalled",
            ErrorKind::Aborted => "aborted",
            ErrorKind::Protocol => "protocol",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::RenderFailed => "render_failed",
        }
    }
}

/// What to do about an error. The client performs the automatic ones
/// (re-authenticate, retry after a delay, new session) itself, exactly as the
/// protocol says, and surfaces the rest to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// Fetch a new anonymous token for the same client id and retry once.
    Reauthenticate,
    /// Create a new session; the old session's state is gone.
    NewSession,
    /// Anonymous user out of credits: register through this link to get more.
    Register {
        /// `<web>/register?bind=<user_id>`.
        url: String,
    },
    /// Registered user out of credits: top up in the web app.
    TopUp,
    /// Pick a file of one of these types.
    ChooseSupportedFile {
        /// The accepted extensions, lower case, without dots.
        accepted: &'static [&'static str],
    },
    /// Compress or trim the file under the limit.
    CompressOrTrim {
        /// The limit in bytes.
        limit_bytes: u64,
    },
    /// Export needs a paid plan (or the attribution headers were stripped).
    UpgradePlan,
    /// Wait this long, then retry once.
    RetryAfter {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// Check the connection and try again.
    CheckConnection,
    /// Try the same operation again.
    Retry,
    /// Fix the input: what the user gave was refused.
    FixInput,
    /// The request itself was wrong (a client bug, or a server that
    /// disagrees with this client about the API): sending it again
    /// unchanged cannot succeed, so report it.
    ReportBug,
    /// The server refused access to this app (its origin, its address, the
    /// account); signing in again cannot help.
    CheckAccess,
    /// Nothing to do (for example the user aborted on purpose).
    None,
}

impl Recovery {
    /// Every [`as_str`](Self::as_str): the closed union of the JS
    /// `Recovery.action` (the `.d.ts` is checked against this list).
    pub const ACTIONS: [&'static str; 14] = [
        "reauthenticate",
        "new_session",
        "register",
        "top_up",
        "choose_supported_file",
        "compress_or_trim",
        "upgrade_plan",
        "retry_after",
        "check_connection",
        "retry",
        "fix_input",
        "report_bug",
        "check_access",
        "none",
    ];

    /// The recovery named `action`, for the actions that carry no data
    /// (the others need their URL, wait or limit).
    pub fn without_data(action: &str) -> Option<Recovery> {
        Some(match action {
            "reauthenticate" => Recovery::Reauthenticate,
            "new_session" => Recovery::NewSession,
            "top_up" => Recovery::TopUp,
            "upgrade_plan" => Recovery::UpgradePlan,
            "check_connection" => Recovery::CheckConnection,
            "retry" => Recovery::Retry,
            "fix_input" => Recovery::FixInput,
            "report_bug" => Recovery::ReportBug,
            "check_access" => Recovery::CheckAccess,
            "none" => Recovery::None,
            _ => return None,
        })
    }

    /// A stable, machine-readable name for the action.
    pub fn as_str(&self) -> &'static str {
        match self {
            Recovery::Reauthenticate => "reauthenticate",
            Recovery::NewSession => "new_session",
            Recovery::Register { .. } => "register",
            Recovery::TopUp => "top_up",
            Recovery::ChooseSupportedFile { .. } => "choose_supported_file",
            Recovery::CompressOrTrim { .. } => "compress_or_trim",
            Recovery::UpgradePlan => "upgrade_plan",
            Recovery::RetryAfter { .. } => "retry_after",
            Recovery::CheckConnection => "check_connection",
            Recovery::Retry => "retry",
            Recovery::FixInput => "fix_input",
            Recovery::ReportBug => "report_bug",
            Recovery::CheckAccess => "check_access",
            Recovery::None => "none",
        }
    }

    /// The action in plain language, for a person.
    pub fn describe(&self) -> String {
        match self {
            Recovery::Reauthenticate => "Signing in again.".into(),
            Recovery::NewSession => "Start a new session; the old one's edits are gone.".into(),
            Recovery::Register { url } => format!("Register to get more credits: {url}"),
            Recovery::TopUp => "Top up your credits in the web app.".into(),
            Recovery::ChooseSupportedFile { accepted } => {
                format!(
                    "Choose a file of one of these types: {}.",
                    crate::core::text::join(accepted, ", ")
                )
            }
            Recovery::CompressOrTrim { limit_bytes } => format!(
                "Compress or trim the file to under {}.",
                human_bytes(*limit_bytes)
            ),
            Recovery::UpgradePlan => {
                "Exporting needs a plan that allows it; this is not a credit problem.".into()
            }
            Recovery::RetryAfter { ms } => format!(
                "Retry in {} s.",
                crate::core::format::Int::from(ms.div_ceil(1000))
            ),
            Recovery::CheckConnection => "Check your connection and try again.".into(),
            Recovery::Retry => "Try again.".into(),
            Recovery::FixInput => "Fix the input and try again.".into(),
            Recovery::ReportBug => {
                "Sending the same request again will not help. Please report this message to the app's developer.".into()
            }
            Recovery::CheckAccess => {
                "The server refused access and signing in again will not help. Check that this app may use the server (its address and origin), or ask the server's operator.".into()
            }
            Recovery::None => String::new(),
        }
    }
}

/// A failure, with everything a program or a person needs to act on it.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    code: Option<i64>,
    status: Option<u16>,
    message: String,
    recovery: Recovery,
}

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a plain-language `message`. The message is
    /// redacted, so backend text may be passed in as it came.
    pub fn new(kind: ErrorKind, message: impl AsRef<str>) -> Self {
        Error {
            kind,
            code: None,
            status: None,
            message: redact(message.as_ref()),
            recovery: default_recovery(kind),
        }
    }

    /// Sets the API code (`1001`, `2001`, …).
    pub fn with_code(mut self, code: i64) -> Self {
        self.code = Some(code);
        self
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Replaces the recovery action.
    pub fn with_recovery(mut self, recovery: Recovery) -> Self {
        self.recovery = recovery;
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The API code, when the server sent one.
    pub fn code(&self) -> Option<i64> {
        self.code
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The plain-language message (never contains a token).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What to do about it.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    // ---- Constructors for the common kinds -------------------------------

    /// API code 1001.
    pub fn token_expired() -> Self {
        Error::new(
            ErrorKind::TokenExpired,
            "Your sign-in expired. Getting a new token and trying again.",
        )
        .with_code(1001)
    }

    /// API code 1002.
    pub fn session_not_found() -> Self {
        Error::new(
            ErrorKind::SessionNotFound,
            "This session no longer exists on the server, so its edits are gone. A new session is needed.",
        )
        .with_code(1002)
    }

    /// API code 2001, with the registration link for anonymous users
    /// (`user_id` starting with `anon_`) or a top-up hint otherwise.
    pub fn out_of_credits(web_url: &str, user_id: Option<&str>) -> Self {
        let recovery = match user_id {
            Some(id)
                if id.starts_with("anon_")
                    || !id.is_empty() && !crate::core::text::has_char(id, '@') =>
            {
                Recovery::Register {
                    url: format!(
                        "{}/register?bind={}",
                        web_url.trim_end_matches('/'),
                        percent_encode(id)
                    ),
                }
            }
            _ => Recovery::TopUp,
        };
        let message = match &recovery {
            Recovery::Register { url } => {
                format!("You are out of credits. Register for free to get more: {url}")
            }
            _ => "You are out of credits. Top up in the web app to continue.".to_string(),
        };
        Error::new(ErrorKind::OutOfCredits, message)
            .with_code(2001)
            .with_recovery(recovery)
    }

    /// API code 4001 or a local check: `what` names the file and the problem.
    pub fn unsupported_file(what: impl AsRef<str>) -> Self {
        Error::new(
            ErrorKind::UnsupportedFile,
            format!(
                "{} Accepted formats: {}.",
                what.as_ref(),
                crate::core::text::join(crate::core::media::ACCEPTED_EXTENSIONS, ", ")
            ),
        )
        .with_code(4001)
    }

    /// API code 4002 or a local check.
    pub fn file_too_large(name: &str, size_bytes: u64, limit_bytes: u64) -> Self {
        let (size, limit) = (human_bytes(size_bytes), human_bytes(limit_bytes));
        // Just over the limit both round alike ("200 MB, over the 200 MB
        // limit"): say it in bytes then.
        let (size, limit) = if size == limit && size_bytes != limit_bytes {
            (
                format!(
                    "{size} ({} bytes)",
                    crate::core::format::Int::from(size_bytes)
                ),
                format!(
                    "{limit} ({} bytes)",
                    crate::core::format::Int::from(limit_bytes)
                ),
            )
        } else {
            (size, limit)
        };
        Error::new(
            ErrorKind::FileTooLarge,
            format!("\"{name}\" is {size}, over the {limit} limit. Compress or trim it first."),
        )
        .with_code(4002)
        .with_recovery(Recovery::CompressOrTrim { limit_bytes })
    }

    /// HTTP 402 on export.
    pub fn export_blocked() -> Self {
        Error::new(
            ErrorKind::ExportBlocked,
            "Export is blocked: the free plan does not allow it here, or the attribution headers were stripped. This is not a credit problem.",
        )
        .with_status(402)
    }

    /// HTTP 429, to be retried after `retry_after_ms`.
    pub fn rate_limited(retry_after_ms: u64) -> Self {
        Error::new(
            ErrorKind::RateLimited,
            format!(
                "Too many requests. Waiting {} s before trying again.",
                crate::core::format::Int::from(retry_after_ms.div_ceil(1000))
            ),
        )
        .with_status(429)
        .with_recovery(Recovery::RetryAfter { ms: retry_after_ms })
    }

    /// The network failed.
    pub fn network(detail: impl AsRef<str>) -> Self {
        Error::new(
            ErrorKind::Network,
            format!("Could not reach the server: {}", detail.as_ref()),
        )
    }

    /// A time limit ran out.
    pub fn timeout(what: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::Timeout, what)
    }

    /// No complete answer to one request within `limit_ms`
    /// ([`Timing::request_timeout_ms`](crate::core::policy::Timing::request_timeout_ms)):
    /// the exchange was stopped.
    pub fn request_timeout(limit_ms: u64) -> Self {
        Error::new(
            ErrorKind::Timeout,
            format!("The server did not answer within {} (the request time limit), so the request was stopped. Try again in a moment.", LimitText(limit_ms)),
        )
    }

    /// A file upload took no bytes for `limit_ms`
    /// ([`Timing::upload_stall_ms`](crate::core::policy::Timing::upload_stall_ms))
    /// while sending: the network went dead under it, so it was stopped.
    pub fn upload_stalled(limit_ms: u64) -> Self {
        Error::new(
            ErrorKind::Timeout,
            format!("The upload made no progress for {} (the upload stall limit), so it was stopped. Check your connection and try again.", LimitText(limit_ms)),
        )
        .with_recovery(Recovery::CheckConnection)
    }

    /// A file upload was sent whole, but its reply did not come within
    /// `limit_ms`
    /// ([`Timing::request_timeout_ms`](crate::core::policy::Timing::request_timeout_ms)).
    /// It is not re-sent: the server may have stored the file.
    pub fn upload_no_reply(limit_ms: u64) -> Self {
        Error::new(
            ErrorKind::Timeout,
            format!("The file was sent, but the server did not answer the upload within {} (the request time limit), so the request was stopped. Try the upload again in a moment.", LimitText(limit_ms)),
        )
    }

    /// The agent stream made no progress for `idle_ms`, which reached the
    /// stall limit `limit_ms`
    /// ([`Timing::stall_ms`](crate::core::policy::Timing::stall_ms));
    /// `keepalives` says whether keep-alives arrived meanwhile (the server
    /// was there, the agent stuck) or nothing did (the connection may be
    /// dead).
    pub fn stream_stalled(idle_ms: u64, limit_ms: u64, keepalives: bool) -> Self {
        let how_long = over_limit(idle_ms, limit_ms, "the stall limit");
        if keepalives {
            Error::new(
                ErrorKind::StreamStalled,
                format!("The agent sent only keep-alives and no progress for {how_long}, so the turn was stopped. The server is still there but the agent seems stuck. Your project is safe; try again."),
            )
        } else {
            Error::new(
                ErrorKind::StreamStalled,
                format!("Nothing came from the agent for {how_long}, not even a keep-alive, so the turn was stopped. The connection may have dropped; check it and try again."),
            )
            .with_recovery(Recovery::CheckConnection)
        }
    }

    /// The turn ran `elapsed_ms` and reached its hard cap `limit_ms`
    /// ([`Timing::turn_cap_ms`](crate::core::policy::Timing::turn_cap_ms)).
    pub fn turn_capped(elapsed_ms: u64, limit_ms: u64) -> Self {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "The agent did not finish within {}, so the turn was stopped. Your project is safe; check its state or try again.",
                over_limit(elapsed_ms, limit_ms, "the turn time limit")
            ),
        )
    }

    /// The server did not answer a chat message before the turn's hard cap
    /// `limit_ms` ran out.
    pub fn turn_capped_unanswered(limit_ms: u64) -> Self {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "The server did not answer before the turn reached its time limit ({}), so the turn was stopped. Try again in a moment.",
                LimitText(limit_ms)
            ),
        )
    }

    /// The caller aborted.
    pub fn aborted() -> Self {
        Error::new(ErrorKind::Aborted, "The operation was cancelled.")
    }

    /// The server broke the protocol.
    pub fn protocol(detail: impl AsRef<str>) -> Self {
        Error::new(
            ErrorKind::Protocol,
            format!("The server sent an unexpected reply: {}", detail.as_ref()),
        )
    }

    /// The caller passed something invalid; nothing was sent.
    pub fn invalid_input(detail: impl AsRef<str>) -> Self {
        Error::new(ErrorKind::InvalidInput, detail)
    }

    /// A file the caller chose could not be read while it was being sent:
    /// it changed or was removed after it was chosen.
    pub fn file_unreadable(detail: impl AsRef<str>) -> Self {
        Error::new(
            ErrorKind::InvalidInput,
            format!(
                "The file could not be read ({}). It changed or was removed after it was chosen; choose it again.",
                detail.as_ref()
            ),
        )
    }

    /// The render failed twice (the first try and its retry).
    pub fn render_failed(detail: impl AsRef<str>) -> Self {
        Error::new(
            ErrorKind::RenderFailed,
            format!("The export render failed: {}", detail.as_ref()),
        )
    }
}

/// A duration in milliseconds for a message, the way people say it:
/// "250 ms" below a second (a test's sub-second limit stays exact), seconds
/// below two minutes ("1 s", "1.5 s", "90 s"), then minutes and seconds
/// ("2 min", "2 min 30 s", "10 min"). Rounded to a tenth of a second.
pub struct LimitText(pub u64);

impl fmt::Display for LimitText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::core::format::Int;
        if self.0 < 1_000 {
            return write!(f, "{} ms", Int::from(self.0));
        }
        let tenths = self.0.saturating_add(50) / 100;
        let (minutes, tenths) = if tenths < 1_200 {
            (0, tenths)
        } else {
            (tenths / 600, tenths % 600)
        };
        if minutes > 0 {
            write!(f, "{} min", Int::from(minutes))?;
            if tenths == 0 {
                return Ok(());
            }
            f.write_str(" ")?;
        }
        write!(f, "{}", Int::from(tenths / 10))?;
        if tenths % 10 != 0 {
            write!(f, ".{}", Int::from(tenths % 10))?;
        }
        f.write_str(" s")
    }
}

/// "10 min (the stall limit)" when `took_ms` reads as the limit, else
/// "30 min (the stall limit is 10 min)": a late check (a laptop waking up)
/// finds more time gone than the limit, and the message says both.
fn over_limit(took_ms: u64, limit_ms: u64, what: &str) -> String {
    let (took, limit) = (LimitText(took_ms).to_string(), LimitText(limit_ms));
    if took == limit.to_string() {
        format!("{took} ({what})")
    } else {
        format!("{took} ({what} is {limit})")
    }
}

fn default_recovery(kind: ErrorKind) -> Recovery {
    match kind {
        ErrorKind::TokenExpired => Recovery::Reauthenticate,
        ErrorKind::SessionNotFound => Recovery::NewSession,
        ErrorKind::OutOfCredits => Recovery::TopUp,
        ErrorKind::UnsupportedFile => Recovery::ChooseSupportedFile {
            accepted: crate::core::media::ACCEPTED_EXTENSIONS,
        },
        ErrorKind::FileTooLarge => Recovery::CompressOrTrim {
            limit_bytes: crate::core::media::MAX_UPLOAD_BYTES,
        },
        ErrorKind::ExportBlocked => Recovery::UpgradePlan,
        ErrorKind::RateLimited => Recovery::RetryAfter { ms: 30_000 },
        ErrorKind::Network => Recovery::CheckConnection,
        ErrorKind::Timeout | ErrorKind::StreamStalled | ErrorKind::RenderFailed => Recovery::Retry,
        ErrorKind::Protocol => Recovery::Retry,
        ErrorKind::Aborted => Recovery::None,
        ErrorKind::InvalidInput => Recovery::FixInput,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    // Written by hand so that no field can ever print a secret: the message
    // is redacted at construction and the other fields hold no free text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("code", &self.code)
            .field("status", &self.status)
            .field("message", &self.message)
            .field("recovery", &self.recovery.as_str())
            .finish()
    }
}

impl std::error::Error for Error {}

/// Masks anything that looks like a credential: `nmv_…` tokens, the value
/// after `Bearer `, and `token=` / `"token":"…"` pairs.
///
/// Applied to every message that may carry backend or caller text, so a
/// token echoed by a proxy page never reaches a log line or the UI.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        // Where a secret would start: a token itself, or what follows a
        // keyword (which is copied as is).
        let secret = if rest.starts_with("nmv_") {
            Some(rest)
        } else if let Some(after) =
            strip_prefix_ci(rest, "bearer ").or_else(|| key_value_prefix(rest))
        {
            out.push_str(rest.strip_suffix(after).unwrap_or(""));
            Some(after)
        } else {
            None
        };
        let mut chars = match secret {
            Some(secret) => {
                let len = secret
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                    .count();
                if len > 0 {
                    out.push_str("[redacted]");
                    // `len` ASCII bytes: a char boundary.
                    rest = secret.get(len..).unwrap_or("");
                    continue;
                }
                // Nothing secret follows the keyword: copy one char on
                // (or stop: the text may end right after "Bearer ").
                secret.chars()
            }
            None => rest.chars(),
        };
        let Some(c) = chars.next() else {
            break;
        };
        out.push(c);
        rest = chars.as_str();
    }
    out
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    s.get(prefix.len()..)
}

/// Matches `token=`, `token: `, `"token":"` and returns what follows.
fn key_value_prefix(s: &str) -> Option<&str> {
    let after_quote = s.strip_prefix('"').unwrap_or(s);
    let after_key = strip_prefix_ci(after_quote, "token")?;
    let after_key = after_key
        .strip_prefix('"')
        .filter(|_| s.starts_with('"'))
        .unwrap_or(after_key);
    let after_sep = after_key
        .strip_prefix('=')
        .or_else(|| after_key.strip_prefix(':'))?;
    let trimmed = after_sep.trim_start_matches([' ', '"']);
    Some(trimmed)
}

/// `1.5 MB`, `200 MB`, `512 bytes`, in binary units (1 MB = 1024 × 1024
/// bytes), the same units the 200 MB upload limit is stated in.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{} bytes", crate::core::format::Int::from(n));
    }
    let mut value = n as f64;
    let mut unit = "bytes";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if value.fract() < 0.05 || value >= 100.0 {
        format!("{} {unit}", crate::core::format::decimal(value, 0))
    } else {
        format!("{} {unit}", crate::core::format::decimal(value, 1))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, for query
/// values built from server-provided ids.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            // By hand: `{:02X}` would allocate and link in `UpperHex`.
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

impl From<nemo_decode::DecodeError> for Error {
    /// A stream that cannot be decoded is the server breaking the protocol.
    fn from(e: nemo_decode::DecodeError) -> Self {
        Error::protocol(e.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeout_names_the_limit() {
        let e = Error::request_timeout(60_000);
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(e.message().contains("within 60 s"), "{}", e.message());
        assert_eq!(e.recovery(), &Recovery::Retry);
        assert!(Error::request_timeout(250)
            .message()
            .contains("within 250 ms"));
        assert!(Error::request_timeout(1_500)
            .message()
            .contains("within 1.5 s"));
    }

    #[test]
    fn durations_read_naturally() {
        for (ms, want) in [
            (0, "0 ms"),
            (250, "250 ms"),
            (999, "999 ms"),
            (1_000, "1 s"),
            (1_500, "1.5 s"),
            (1_049, "1 s"),
            (60_000, "60 s"),
            (90_000, "90 s"),
            (119_900, "119.9 s"),
            (119_950, "2 min"),
            (120_000, "2 min"),
            (150_000, "2 min 30 s"),
            (150_500, "2 min 30.5 s"),
            (10 * 60_000, "10 min"),
            (10 * 60_000 + 3, "10 min"),
            (15 * 60_000, "15 min"),
            (u64::MAX, "307445734561825 min 51.6 s"),
        ] {
            assert_eq!(LimitText(ms).to_string(), want, "{ms} ms");
        }
    }

    #[test]
    fn stall_messages_say_the_limit_and_whether_keep_alives_came() {
        let e = Error::stream_stalled(600_000, 600_000, true);
        assert_eq!(e.kind(), ErrorKind::StreamStalled);
        assert_eq!(
            e.message(),
            "The agent sent only keep-alives and no progress for 10 min (the stall limit), so the turn was stopped. The server is still there but the agent seems stuck. Your project is safe; try again."
        );
        assert_eq!(e.recovery(), &Recovery::Retry);
        let e = Error::stream_stalled(1_000, 1_000, false);
        assert_eq!(
            e.message(),
            "Nothing came from the agent for 1 s (the stall limit), not even a keep-alive, so the turn was stopped. The connection may have dropped; check it and try again."
        );
        assert_eq!(e.recovery(), &Recovery::CheckConnection);
        assert!(!e.message().contains("minutes"));
        let e = Error::stream_stalled(90_000, 60_000, false);
        assert!(
            e.message().contains("for 90 s (the stall limit is 60 s)"),
            "{e}"
        );
        let e = Error::turn_capped(15 * 60_000, 15 * 60_000);
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(
            e.message(),
            "The agent did not finish within 15 min (the turn time limit), so the turn was stopped. Your project is safe; check its state or try again."
        );
        assert!(Error::turn_capped(20 * 60_000, 15 * 60_000)
            .message()
            .contains("within 20 min (the turn time limit is 15 min)"));
        let e = Error::turn_capped_unanswered(15 * 60_000);
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(
            e.message(),
            "The server did not answer before the turn reached its time limit (15 min), so the turn was stopped. Try again in a moment."
        );
    }

    #[test]
    fn refusals_say_what_to_do_without_a_retry() {
        for r in [Recovery::ReportBug, Recovery::CheckAccess] {
            let d = r.describe();
            assert!(d.ends_with('.'), "{d}");
            assert!(d.contains("will not help"), "{d}");
            assert!(Recovery::ACTIONS.contains(&r.as_str()));
        }
    }

    #[test]
    fn upload_timeouts_name_the_limit_and_the_way_out() {
        let e = Error::upload_stalled(60_000);
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(
            e.message().contains("no progress for 60 s"),
            "{}",
            e.message()
        );
        assert!(e.message().contains("Check your connection"));
        assert_eq!(e.recovery(), &Recovery::CheckConnection);
        assert!(Error::upload_stalled(300)
            .message()
            .contains("no progress for 300 ms"));
        let e = Error::upload_no_reply(2_500);
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(
            e.message()
                .contains("did not answer the upload within 2.5 s"),
            "{}",
            e.message()
        );
        assert_eq!(e.recovery(), &Recovery::Retry);
    }

    #[test]
    fn percent_encodes_every_byte_but_unreserved() {
        assert_eq!(percent_encode("a-Z_0.~"), "a-Z_0.~");
        assert_eq!(percent_encode("é /\0\u{7F}"), "%C3%A9%20%2F%00%7F");
        for b in 0u8..=0x7F {
            let s = char::from(b).to_string();
            let unreserved = b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
            let want = if unreserved {
                s.clone()
            } else {
                format!("%{b:02X}")
            };
            assert_eq!(percent_encode(&s), want);
        }
    }

    #[test]
    fn redacts_tokens_everywhere() {
        let cases = [
            (
                "token nmv_usr_abc123XYZ expired",
                "token [redacted] expired",
            ),
            (
                "Authorization: Bearer abc.def-ghi",
                "Authorization: Bearer [redacted]",
            ),
            ("url?token=sekret&x=1", "url?token=[redacted]&x=1"),
            (r#"{"token":"nmv_usr_zz"}"#, r#"{"token":"[redacted]"}"#),
            ("no secrets here", "no secrets here"),
            ("Bearer", "Bearer"),
            ("中文 nmv_x 文本", "中文 [redacted] 文本"),
            // A keyword at the very end (found by the `json` fuzz target:
            // this used to slice past the end and panic).
            ("Authorization: Bearer ", "Authorization: Bearer "),
            ("BEARER ", "BEARER "),
            ("token=", "token="),
            ("x token: \"", "x token: \""),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input: {input}");
        }
    }

    #[test]
    fn just_over_the_limit_is_said_in_bytes() {
        let m = Error::file_too_large("a.mp4", 200 * 1024 * 1024 + 1, 200 * 1024 * 1024);
        assert!(
            m.message()
                .contains("is 200 MB (209715201 bytes), over the 200 MB (209715200 bytes) limit"),
            "{m}"
        );
        let m = Error::file_too_large("a.mp4", 300 * 1024 * 1024, 200 * 1024 * 1024);
        assert!(m.message().contains("300 MB, over the 200 MB limit"), "{m}");
    }

    #[test]
    fn display_and_debug_never_show_the_token() {
        let e = Error::protocol("proxy said: Bearer nmv_usr_secret123 is bad");
        assert!(!format!("{e}").contains("secret123"));
        assert!(!format!("{e:?}").contains("secret123"));
        let e = Error::new(ErrorKind::Network, "nmv_usr_secret123");
        assert!(!format!("{e:?}").contains("nmv_usr"));
    }

    #[test]
    fn out_of_credits_carries_the_bind_link_for_anonymous_users() {
        let e = Error::out_of_credits("https://nemovideo.com/", Some("anon_42"));
        assert_eq!(e.kind(), ErrorKind::OutOfCredits);
        assert_eq!(e.code(), Some(2001));
        assert_eq!(
            e.recovery(),
            &Recovery::Register {
                url: "https://nemovideo.com/register?bind=anon_42".into()
            }
        );
        assert!(e.message().contains("register?bind=anon_42"));
        let registered = Error::out_of_credits("https://nemovideo.com", None);
        assert_eq!(registered.recovery(), &Recovery::TopUp);
    }

    #[test]
    fn every_kind_has_a_distinct_name_and_recovery() {
        let kinds = ErrorKind::ALL;
        let mut names: Vec<_> = kinds.iter().map(|k| k.as_str()).collect();
        assert!(kinds
            .iter()
            .all(|k| ErrorKind::from_name(k.as_str()) == Some(*k)));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), kinds.len());
        assert_eq!(
            Error::rate_limited(30_000).recovery(),
            &Recovery::RetryAfter { ms: 30_000 }
        );
        assert_eq!(Error::export_blocked().status(), Some(402));
        assert!(
            Error::file_too_large("a.mp4", 200_000_001, 200 * 1024 * 1024)
                .message()
                .contains("a.mp4")
        );
    }

    #[test]
    fn human_bytes_reads_naturally() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MB");
        assert_eq!(human_bytes(200 * 1024 * 1024), "200 MB");
    }
}
