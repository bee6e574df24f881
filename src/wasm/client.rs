//! `NemoClient`: configuration, the token, and the one driver that runs every
//! request through the core's auth-and-retry machine ([`Exchange`]: one
//! shared re-authentication on 1001, the waits after a 429, one re-send of a
//! GET that timed out). The rules live in the core; here are only the
//! fetches, the timers and the shared token request's promise.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;

use crate::core::api::{
    self, endpoints, normalize_base_url, parse_credits, parse_token, read_envelope_doc, ApiRequest,
    Attribution, Credits, ErrorContext, Method, DEFAULT_BASE_URL, DEFAULT_WEB_URL,
};
use crate::core::error::{Error, Result};
use crate::core::exchange::{Exchange, Input, Step, Ticket, TokenGate};
use crate::core::json::Value;
use crate::core::policy::Timing;

use super::convert::{await_js, error_to_js, get, get_f64, get_string, Obj};
use super::glue::{self, AbortController, AbortSignal};
use super::http::{self, spawn_promise};
use super::signal::{abortable, linked_signal};

/// The storage key of the persisted client id (a UUID, never a secret).
pub const CLIENT_ID_KEY: &str = "nemovideo.client_id";
/// The storage key of the token, used only when the integrator opts in.
pub const TOKEN_KEY: &str = "nemovideo.token";

/// Everything the client was configured with.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// API base URL, normalised (no trailing slash).
    pub base_url: String,
    /// Web app URL, for claim and registration links.
    pub web_url: String,
    /// A token given by the integrator (then the anonymous call is skipped).
    pub token: Option<String>,
    /// A client id given by the integrator (else read from storage or made).
    pub client_id: Option<String>,
    /// ISO language code for new sessions (`en`, `zh-CN`, …).
    pub language: String,
    /// The attribution triple.
    pub attribution: Attribution,
    /// Every protocol duration (tests shorten them).
    pub timing: Timing,
    /// Whether the anonymous token may be kept in storage (off by default).
    pub persist_token: bool,
    /// Whether turns ask for token streaming (`"streaming": true`) unless
    /// `send` says otherwise. On by default: text appears as it is written.
    pub streaming: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: DEFAULT_BASE_URL.into(),
            web_url: DEFAULT_WEB_URL.into(),
            token: None,
            client_id: None,
            language: "en".into(),
            attribution: Attribution::default(),
            timing: Timing::default(),
            persist_token: false,
            streaming: true,
        }
    }
}

struct Auth {
    /// The token and the rules of the one shared token request (who starts
    /// it, who joins it, when an abandoned one stops): see [`TokenGate`].
    gate: TokenGate,
    user_id: Option<String>,
    client_id: Option<String>,
    /// The JS side of the gate's token request in flight.
    pending: Option<PendingToken>,
}

/// The shared token request in flight: its promise, shared by every caller
/// waiting on it, and what stops it once they all gave up (so an abandoned
/// request keeps no connection or timer).
struct PendingToken {
    /// The gate's number of the request.
    number: u32,
    promise: Promise,
    stop: AbortController,
}

pub(crate) struct Inner {
    pub(crate) cfg: ClientConfig,
    auth: RefCell<Auth>,
    /// The `fetch` init of the last body-less GET and the token it carries:
    /// reused while the token stays the same (the headers never change), by
    /// every such GET (state, credits, render status).
    get_init: RefCell<Option<(Option<String>, JsValue)>>,
    storage: JsValue,
    pub(crate) on_handle: JsValue,
}

/// The NemoVideo client. Cheap to clone: clones share the token.
#[wasm_bindgen]
#[derive(Clone)]
pub struct NemoClient {
    pub(crate) inner: Rc<Inner>,
}

/// How [`NemoClient::drive`] sends a request and reads its reply.
#[derive(Clone, Copy)]
enum Read<'a> {
    /// A small JSON envelope, read whole within the request time limit.
    Doc,
    /// A stream: a 2xx reply that is not JSON is the success, unread.
    Stream,
    /// Files as a multipart form (with progress and the upload limits);
    /// the reply is a small JSON envelope.
    Form(&'a Form),
}

/// The files of an upload: `[[blob, filename], …]`, their total size and
/// the caller's `onProgress(sent, total)`.
pub struct Form {
    /// `[[blob, filename], …]`.
    pub parts: js_sys::Array,
    /// The sum of the Blobs' sizes.
    pub total: f64,
    /// `onProgress`, or undefined.
    pub on_progress: JsValue,
}

/// A successful reply.
enum Got {
    Doc(Value<'static>),
    Stream(glue::Response),
}

impl Got {
    fn doc(self) -> Result<Value<'static>> {
        match self {
            Got::Doc(v) => Ok(v),
            Got::Stream(_) => Err(mismatch()),
        }
    }

    fn stream(self) -> Result<glue::Response> {
        match self {
            Got::Stream(r) => Ok(r),
            Got::Doc(_) => Err(mismatch()),
        }
    }
}

#[inline(never)]
fn mismatch() -> Error {
    Error::protocol("the reply was not of the kind asked for")
}

/// The clock of the retry machine (only differences matter).
fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

impl NemoClient {
    /// A client for `cfg`, with `storage` (a `{get, set}` object) for the
    /// client id; `JsValue::UNDEFINED` picks the platform default.
    pub fn with_config(cfg: ClientConfig, storage: JsValue, on_handle: JsValue) -> Result<Self> {
        let mut cfg = cfg;
        cfg.base_url = normalize_base_url(&cfg.base_url)?;
        cfg.web_url = normalize_base_url(&cfg.web_url)?;
        let storage = if storage.is_object() {
            storage
        } else {
            glue::default_storage()
        };
        let auth = Auth {
            gate: TokenGate::new(cfg.token.clone()),
            user_id: None,
            client_id: cfg.client_id.clone(),
            pending: None,
        };
        Ok(NemoClient {
            inner: Rc::new(Inner {
                cfg,
                auth: RefCell::new(auth),
                get_init: RefCell::new(None),
                storage,
                on_handle,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    /// The user id, once known (from the anonymous token call).
    pub fn user_id(&self) -> Option<String> {
        self.inner.auth.borrow().user_id.clone()
    }

    /// The client id: given, persisted, or newly made and persisted.
    pub async fn ensure_client_id(&self) -> Result<String> {
        if let Some(id) = self.inner.auth.borrow().client_id.clone() {
            return Ok(id);
        }
        let stored = await_js(glue::storage_get(&self.inner.storage, CLIENT_ID_KEY))
            .await
            .ok()
            .and_then(|v| v.as_string())
            .filter(|s| valid_client_id(s));
        let id = match stored {
            Some(id) => id,
            None => {
                let id = new_client_id();
                // A storage that cannot write only costs a new id next run.
                let _ = await_js(glue::storage_set(&self.inner.storage, CLIENT_ID_KEY, &id)).await;
                id
            }
        };
        self.inner.auth.borrow_mut().client_id = Some(id.clone());
        Ok(id)
    }

    /// The token: given, cached, or fetched once (concurrent callers share
    /// the one request).
    pub fn ensure_token<'a>(
        &'a self,
        signal: &'a AbortSignal,
    ) -> impl Future<Output = Result<String>> + 'a {
        self.token_for(None, signal)
    }

    /// A token: any (`stale: None`: the current one, the stored one, or a
    /// new one) or one that replaces `stale`, which the server refused.
    /// Who starts the one shared token request, who joins it and when it
    /// stops is [`TokenGate`]'s to say; here are the storage and the
    /// request's promise. The shared request is not tied to one caller's
    /// signal: aborting one waiter must not fail the others.
    async fn token_for(&self, stale: Option<&str>, signal: &AbortSignal) -> Result<String> {
        let inner = &self.inner;
        if stale.is_none() && inner.cfg.persist_token && inner.auth.borrow().gate.token().is_none()
        {
            if let Ok(v) = await_js(glue::storage_get(&inner.storage, TOKEN_KEY)).await {
                if let Some(t) = v.as_string().filter(|t| !t.is_empty()) {
                    inner.auth.borrow_mut().gate.restore(t);
                }
            }
        }
        let (number, promise) = {
            let mut auth = inner.auth.borrow_mut();
            let number = match auth.gate.request(stale) {
                Ticket::Ready(t) => return Ok(t),
                Ticket::Refused => return Err(Error::token_expired()),
                Ticket::Join(number) => number,
                Ticket::Start(number) => {
                    let stop = glue::new_abort_controller();
                    let (this, stop_signal) = (self.clone(), stop.signal());
                    let promise = glue::quiet(&spawn_promise(async move {
                        this.fetch_token(number, &stop_signal)
                            .await
                            .map(JsValue::from)
                            .map_err(|e| error_to_js(&e))
                    }));
                    auth.pending = Some(PendingToken {
                        number,
                        promise,
                        stop,
                    });
                    number
                }
            };
            match auth.pending.as_ref().filter(|p| p.number == number) {
                Some(p) => (number, p.promise.clone()),
                None => return Err(Error::protocol("the token request vanished")),
            }
        };
        let waited = abortable(promise, signal).await;
        // The last waiter to give up stops the request (outside the borrow:
        // aborting runs the signal's listeners).
        let stop = {
            let mut auth = inner.auth.borrow_mut();
            if auth.gate.leave(number, waited.is_err()) {
                auth.pending.take_if(|p| p.number == number).map(|p| p.stop)
            } else {
                None
            }
        };
        if let Some(stop) = stop {
            stop.abort();
        }
        waited?
            .as_string()
            .ok_or_else(|| Error::protocol("the token request returned nothing"))
    }

    /// The gate's token request `number`: the anonymous token call, through
    /// the same machine as any request (unauthenticated; a 429 is waited
    /// out); `signal` fires once nobody waits for it.
    async fn fetch_token(&self, number: u32, signal: &AbortSignal) -> Result<String> {
        let got = match self.ensure_client_id().await {
            Ok(id) => self
                .drive(&endpoints::anonymous_token(&id), Read::Doc, signal)
                .await
                .and_then(Got::doc)
                .and_then(|doc| parse_token(&api::take_data(doc))),
            Err(e) => Err(e),
        };
        let grant = {
            let mut auth = self.inner.auth.borrow_mut();
            let token = got.as_ref().ok().map(|g| g.token.clone());
            if auth.gate.finish(number, token) {
                auth.pending = None;
            }
            let grant = got?;
            auth.user_id = Some(grant.user_id.clone()).filter(|u| !u.is_empty());
            grant
        };
        if self.inner.cfg.persist_token {
            let _ = await_js(glue::storage_set(
                &self.inner.storage,
                TOKEN_KEY,
                &grant.token,
            ))
            .await;
        }
        Ok(grant.token)
    }

    /// Runs `req` through the core's [`Exchange`]: gets a token when it
    /// needs one, sends, and does what the machine says after each reply
    /// (re-authenticate, wait, send again, give up). The one place a
    /// request is retried.
    async fn drive(&self, req: &ApiRequest, read: Read<'_>, signal: &AbortSignal) -> Result<Got> {
        let credential = self.inner.auth.borrow().gate.credential(req.authenticated);
        let mut exchange = Exchange::new(&self.inner.cfg.timing, req.is_idempotent(), credential);
        let mut input = if signal.aborted() {
            Input::Aborted
        } else {
            Input::Start
        };
        let mut got = None;
        loop {
            input = match exchange.handle(input) {
                Step::Authenticate { stale } => {
                    match self.token_for(stale.as_deref(), signal).await {
                        Ok(t) => Input::Token(t),
                        Err(e) => Input::Failed(e),
                    }
                }
                Step::Send { token } => {
                    let result = self
                        .send(req, token.as_deref(), read, signal)
                        .await
                        .map(|g| got = Some(g));
                    Input::Reply {
                        now_ms: now_ms(),
                        result,
                        aborted: signal.aborted(),
                    }
                }
                Step::WaitUntil { at_ms } => {
                    match self.wait(at_ms.saturating_sub(now_ms()), signal).await {
                        Ok(()) => Input::Waited,
                        Err(e) => Input::Failed(e),
                    }
                }
                Step::Done => return got.ok_or_else(mismatch),
                Step::Fail(e) => return Err(e),
            }
        }
    }

    /// Sends `req` once with `token` and reads the reply: the success, or
    /// the error it is (for the machine to judge). A small reply is read
    /// whole within `timing.requestTimeoutMs`; a stream's error body is
    /// read only when it is not the stream.
    async fn send(
        &self,
        req: &ApiRequest,
        token: Option<&str>,
        read: Read<'_>,
        signal: &AbortSignal,
    ) -> Result<Got> {
        let cfg = &self.inner.cfg;
        let mut url = cfg.base_url.clone();
        url.push_str(&req.path);
        let t = &cfg.timing;
        // One promise per send, whatever the kind: it resolves to
        // `{ status, text }`, or for a stream to `{ stream }` (a 2xx reply
        // that is not JSON, unread).
        let reply = await_js(match read {
            Read::Doc => http::fetch_text(
                &url,
                &self.init_for(req, token),
                signal,
                t.request_timeout_ms,
            ),
            Read::Form(form) => glue::post_form(
                &url,
                &http::headers_object(&api::common_headers(req, token, &cfg.attribution)),
                &form.parts,
                form.total,
                signal,
                &form.on_progress,
                t.upload_stall_ms as f64,
                t.request_timeout_ms as f64,
            ),
            Read::Stream => glue::fetch_stream(
                &url,
                &http::init_object(req, token, &cfg.attribution),
                http::fetch_signal(signal),
            ),
        })
        .await?;
        let stream = get(&reply, "stream");
        if stream.is_object() {
            return Ok(Got::Stream(stream.unchecked_into()));
        }
        let (status, body) = http::text_reply(reply);
        let auth = self.inner.auth.borrow();
        let ctx = ErrorContext {
            web_url: &cfg.web_url,
            user_id: auth.user_id.as_deref(),
        };
        match read_envelope_doc(status, &body, ctx) {
            Ok(doc) if !matches!(read, Read::Stream) => Ok(Got::Doc(doc.into_owned())),
            Ok(_) => {
                let mut msg = String::from("expected a stream, got a JSON reply (HTTP ");
                crate::core::format::push_digits(status.into(), 1, &mut msg);
                msg.push(')');
                Err(Error::protocol(msg))
            }
            Err(e) => Err(e),
        }
    }

    /// The `fetch` init for `req`; a body-less GET's is built once per token.
    fn init_for(&self, req: &ApiRequest, token: Option<&str>) -> JsValue {
        let attribution = &self.inner.cfg.attribution;
        if req.method != Method::Get || req.body.is_some() || !req.headers.is_empty() {
            return http::init_object(req, token, attribution).into();
        }
        let token = token.filter(|_| req.authenticated);
        if let Some((t, init)) = self.inner.get_init.borrow().as_ref() {
            if t.as_deref() == token {
                return init.clone();
            }
        }
        let init: JsValue = http::init_object(req, token, attribution).into();
        *self.inner.get_init.borrow_mut() = Some((token.map(str::to_owned), init.clone()));
        init
    }

    /// Sends `req` with the protocol's recovery (see [`Exchange`]): a 1001
    /// gets one shared re-authentication and one retry; a 429 one retry
    /// after the wait; a timeout one immediate retry if `req` is idempotent
    /// (a GET), none otherwise.
    pub async fn request(&self, req: &ApiRequest, signal: &AbortSignal) -> Result<Value<'static>> {
        self.request_doc(req, signal).await.map(api::take_data)
    }

    /// Like [`request`](Self::request), returning the whole reply document.
    pub async fn request_doc(
        &self,
        req: &ApiRequest,
        signal: &AbortSignal,
    ) -> Result<Value<'static>> {
        self.drive(req, Read::Doc, signal).await?.doc()
    }

    /// Uploads `form` with `req` (the same recovery as
    /// [`request`](Self::request); a POST is never re-sent after a time-out)
    /// and returns the reply's data.
    pub async fn request_form(
        &self,
        req: &ApiRequest,
        form: &Form,
        signal: &AbortSignal,
    ) -> Result<Value<'static>> {
        self.drive(req, Read::Form(form), signal)
            .await?
            .doc()
            .map(api::take_data)
    }

    /// Like [`request`](Self::request) (the same recovery), returning the
    /// raw response for a streaming body (the agent's SSE). The envelope is
    /// read from the body only when the reply is not 2xx or is JSON.
    pub async fn request_stream(
        &self,
        req: &ApiRequest,
        signal: &AbortSignal,
    ) -> Result<glue::Response> {
        self.drive(req, Read::Stream, signal).await?.stream()
    }

    /// Waits `ms`, or fails with `Aborted` when `signal` fires.
    pub async fn wait(&self, ms: u64, signal: &AbortSignal) -> Result<()> {
        await_js(glue::sleep(ms as f64, Some(signal)))
            .await
            .map(|_| ())
    }

    /// The credit balance.
    pub async fn credits_with(&self, signal: &AbortSignal) -> Result<Credits> {
        parse_credits(&self.request(&endpoints::credits(), signal).await?)
    }

    /// Sends `req` and hands the reply's data to `then`, in one promise:
    /// the one future of every method that makes a single request.
    pub(crate) fn request_then(
        &self,
        req: ApiRequest,
        signal: AbortSignal,
        then: Box<dyn FnOnce(Value<'static>) -> Result<JsValue>>,
    ) -> Promise {
        let this = self.clone();
        spawn_promise(async move {
            let r = match this.request(&req, &signal).await {
                Ok(v) => then(v),
                Err(e) => Err(e),
            };
            r.map_err(|e| error_to_js(&e))
        })
    }
}

/// A new client id: a v4 UUID (`uuid`, random bytes from Web Crypto).
/// Where there is no `crypto.getRandomValues` (Node 18 without
/// `--experimental-global-webcrypto`), uuid would panic; there the bytes
/// come from `Math.random` (an id, never a secret).
fn new_client_id() -> String {
    let id = if glue::has_web_crypto() {
        uuid::Uuid::new_v4()
    } else {
        let bytes = core::array::from_fn(|_| (js_sys::Math::random() * 256.0) as u8);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    };
    id.hyphenated()
        .encode_lower(&mut uuid::Uuid::encode_buffer())
        .to_owned()
}

fn valid_client_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Parses `NemoClientOptions`.
pub(crate) fn config_from_js(options: &JsValue) -> Result<ClientConfig> {
    let mut cfg = ClientConfig::default();
    if options.is_undefined() || options.is_null() {
        return Ok(cfg);
    }
    if !options.is_object() {
        return Err(Error::invalid_input("options must be an object"));
    }
    if let Some(u) = string_option(options, "baseUrl")? {
        cfg.base_url = u;
    }
    if let Some(u) = string_option(options, "webUrl")? {
        cfg.web_url = u;
    }
    cfg.token = string_option(options, "token")?.filter(|t| !t.trim().is_empty());
    cfg.client_id = string_option(options, "clientId")?.filter(|c| !c.is_empty());
    if let Some(id) = &cfg.client_id {
        if !valid_client_id(id) {
            return Err(Error::invalid_input(
                "clientId must be 1–64 characters of letters, digits, '-' or '_'",
            ));
        }
    }
    if let Some(l) = get_string(options, "language").filter(|l| !l.is_empty()) {
        cfg.language = l;
    }
    let attribution = get(options, "attribution");
    if let Some(s) = get_string(&attribution, "source") {
        cfg.attribution.source = s;
    }
    if let Some(s) = get_string(&attribution, "version") {
        cfg.attribution.version = s;
    }
    if let Some(s) = get_string(&attribution, "platform") {
        cfg.attribution.platform = s;
    }
    cfg.persist_token = get(options, "persistToken").as_bool().unwrap_or(false);
    cfg.streaming = get(options, "streaming").as_bool().unwrap_or(true);
    let timing = get(options, "timing");
    if timing.is_object() {
        cfg.timing = timing_from_js(&timing, cfg.timing);
    }
    Ok(cfg)
}

/// `options[key]` as a string: absent (undefined/null) is `None`; a `URL`
/// object counts as its `href`; any other type is an error, so that a
/// mistyped `baseUrl` never silently falls back to the production API.
fn string_option(options: &JsValue, key: &str) -> Result<Option<String>> {
    let v = get(options, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if let Some(s) = v.as_string() {
        return Ok(Some(s));
    }
    if let Some(href) = get_string(&v, "href").filter(|_| v.is_object()) {
        return Ok(Some(href));
    }
    Err(Error::invalid_input(format!("{key} must be a string")))
}

fn timing_from_js(t: &JsValue, mut timing: Timing) -> Timing {
    let ms = |key: &str| {
        get_f64(t, key)
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| v as u64)
    };
    if let Some(scale) = get_f64(t, "scale").filter(|s| s.is_finite() && *s > 0.0) {
        timing = timing.scaled(scale);
    }
    macro_rules! field {
        ($($name:ident = $key:literal),* $(,)?) => {
            $(if let Some(v) = ms($key) { timing.$name = v; })*
        };
    }
    field!(
        rate_limit_wait_ms = "rateLimitWaitMs",
        resume_delay_ms = "resumeDelayMs",
        state_poll_ms = "statePollMs",
        notify_after_ms = "notifyAfterMs",
        stage_two_wait_ms = "stageTwoWaitMs",
        still_working_ms = "stillWorkingMs",
        stall_ms = "stallMs",
        turn_cap_ms = "turnCapMs",
        render_poll_ms = "renderPollMs",
    );
    if let Some(v) = ms("resumeTries") {
        timing.resume_tries = v as u32;
    }
    if let Some(v) = ms("renderMaxPolls") {
        timing.render_max_polls = v as u32;
    }
    // 0 or Infinity: no limit. Read after `scale`, which leaves them alone.
    let limit = |key| {
        get_f64(t, key)
            .filter(|v| *v >= 0.0)
            .map(|v| if v.is_finite() { v.ceil() as u64 } else { 0 })
    };
    if let Some(v) = limit("requestTimeoutMs") {
        timing.request_timeout_ms = v;
    }
    if let Some(v) = limit("uploadStallMs") {
        timing.upload_stall_ms = v;
    }
    timing
}

// ---- JavaScript surface ------------------------------------------------------

#[wasm_bindgen]
impl NemoClient {
    /// `new NemoClient(options?)`.
    #[wasm_bindgen(constructor)]
    pub fn js_new(
        #[wasm_bindgen(unchecked_optional_param_type = "NemoClientOptions")] options: JsValue,
    ) -> Result<NemoClient, JsValue> {
        let cfg = config_from_js(&options).map_err(|e| error_to_js(&e))?;
        NemoClient::with_config(cfg, get(&options, "storage"), get(&options, "onHandle"))
            .map_err(|e| error_to_js(&e))
    }

    /// The API base URL in use.
    #[wasm_bindgen(getter, js_name = baseUrl)]
    pub fn js_base_url(&self) -> String {
        self.inner.cfg.base_url.clone()
    }

    /// The user id, once connected.
    #[wasm_bindgen(getter, js_name = userId)]
    pub fn js_user_id(&self) -> Option<String> {
        self.user_id()
    }

    /// Gets the token (skipped if one was given) and returns
    /// `{ userId, clientId, credits }`.
    #[wasm_bindgen(js_name = connect, unchecked_return_type = "Promise<ConnectInfo>")]
    pub fn js_connect(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        let this = self.clone();
        let signal = linked_signal(&options);
        spawn_promise(async move {
            let client_id = this.ensure_client_id().await.map_err(|e| error_to_js(&e))?;
            this.ensure_token(&signal)
                .await
                .map_err(|e| error_to_js(&e))?;
            let credits = this
                .credits_with(&signal)
                .await
                .map_err(|e| error_to_js(&e))?;
            Ok(Obj::new()
                .opt_str("userId", this.user_id().as_deref())
                .str("clientId", &client_id)
                .set("credits", credits_to_js(&credits))
                .into_js())
        })
    }

    /// `{ available, frozen, total }`.
    #[wasm_bindgen(js_name = credits, unchecked_return_type = "Promise<Credits>")]
    pub fn js_credits(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.request_then(
            endpoints::credits(),
            linked_signal(&options),
            Box::new(credits_data_to_js),
        )
    }
}

/// A credits reply's data as the JS `Credits` object.
pub(crate) fn credits_data_to_js(data: Value<'static>) -> Result<JsValue> {
    parse_credits(&data).map(|c| credits_to_js(&c).into())
}

/// Credits as a JS object.
pub(crate) fn credits_to_js(c: &Credits) -> Object {
    glue::credits_object(c.available, c.frozen, c.total)
}
