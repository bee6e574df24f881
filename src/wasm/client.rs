//! `NemoClient`: configuration, the token, and every request's recovery
//! policy (one shared re-authentication on 1001, one retry after a 429).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;

use crate::core::api::{
    self, endpoints, normalize_base_url, parse_credits, parse_session, parse_token, read_envelope,
    read_envelope_doc, ApiRequest, Attribution, Credits, ErrorContext, Method, SessionInfo,
    DEFAULT_BASE_URL, DEFAULT_WEB_URL,
};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::json::Value;
use crate::core::policy::{RetryBudget, RetryDecision, Timing};

use super::convert::{error_to_js, get, get_f64, get_string, Obj};
use super::glue::{self, AbortController, AbortSignal};
use super::http::{self, await_js, spawn_promise};
use super::session::{Session, SessionHandle};

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
        }
    }
}

#[derive(Default)]
struct Auth {
    token: Option<String>,
    user_id: Option<String>,
    client_id: Option<String>,
    /// True when the token came from the anonymous call, so a 1001 may be
    /// answered by asking for a new one. An integrator's token is theirs to
    /// renew: we report its expiry instead of swapping identities.
    anonymous: bool,
    /// The one token request in flight, shared by every caller waiting on it.
    pending: Option<PendingToken>,
    /// The number of the next shared token request.
    next_token_request: u32,
}

/// The shared token request in flight.
struct PendingToken {
    promise: Promise,
    /// Stops the request once every caller waiting on it has given up, so
    /// an abandoned request keeps no connection or timer.
    stop: AbortController,
    /// How many callers are waiting on it.
    waiters: u32,
    /// Which request this is (a finished or abandoned one must not clear
    /// the next one's slot).
    number: u32,
}

pub(crate) struct Inner {
    pub(crate) cfg: ClientConfig,
    auth: RefCell<Auth>,
    /// The `fetch` init of the last body-less GET and the token it carries:
    /// reused while the token stays the same (the headers never change).
    get_init: RefCell<Option<(Option<String>, JsValue)>>,
    /// The credits URL as a JS string, made once: the fast path of
    /// `credits()` hands it to `fetch` without re-encoding it per call.
    credits_url: JsValue,
    storage: JsValue,
    pub(crate) on_handle: JsValue,
}

/// The NemoVideo client. Cheap to clone: clones share the token.
#[wasm_bindgen]
#[derive(Clone)]
pub struct NemoClient {
    pub(crate) inner: Rc<Inner>,
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
            anonymous: cfg.token.is_none(),
            token: cfg.token.clone(),
            client_id: cfg.client_id.clone(),
            ..Auth::default()
        };
        let credits_url = format!("{}{}", cfg.base_url, endpoints::credits().path).into();
        Ok(NemoClient {
            inner: Rc::new(Inner {
                cfg,
                auth: RefCell::new(auth),
                get_init: RefCell::new(None),
                credits_url,
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
                let id = glue::random_uuid();
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
    pub async fn ensure_token(&self, signal: &AbortSignal) -> Result<String> {
        if let Some(t) = self.inner.auth.borrow().token.clone() {
            return Ok(t);
        }
        if self.inner.cfg.persist_token {
            if let Ok(v) = await_js(glue::storage_get(&self.inner.storage, TOKEN_KEY)).await {
                if let Some(t) = v.as_string().filter(|t| !t.is_empty()) {
                    let mut auth = self.inner.auth.borrow_mut();
                    auth.token = Some(t.clone());
                    auth.anonymous = true;
                    return Ok(t);
                }
            }
        }
        self.refresh_token(None, signal).await
    }

    /// Replaces `stale` (the token a request failed with) by a new anonymous
    /// token. If another request already replaced it, that token is used:
    /// one re-authentication serves everyone waiting.
    async fn refresh_token(&self, stale: Option<&str>, signal: &AbortSignal) -> Result<String> {
        let (pending, number) = {
            let mut auth = self.inner.auth.borrow_mut();
            if let (Some(cur), Some(old)) = (auth.token.as_deref(), stale) {
                if cur != old {
                    return Ok(cur.to_string());
                }
            }
            if stale.is_some() && !auth.anonymous {
                return Err(Error::token_expired());
            }
            if auth.pending.is_none() {
                auth.token = None;
                let number = auth.next_token_request;
                auth.next_token_request = number.wrapping_add(1);
                let stop = AbortController::new();
                let this = self.clone();
                let stop_signal = stop.signal();
                // The shared request is not tied to one caller's signal:
                // aborting one waiter must not fail the others. It stops
                // only when every waiter has gone (see below).
                let promise = glue::quiet(&spawn_promise(async move {
                    let r = this.fetch_token(&stop_signal).await;
                    let mut auth = this.inner.auth.borrow_mut();
                    if auth.pending.as_ref().is_some_and(|p| p.number == number) {
                        auth.pending = None;
                    }
                    r.map(JsValue::from).map_err(|e| error_to_js(&e))
                }));
                auth.pending = Some(PendingToken {
                    promise,
                    stop,
                    waiters: 0,
                    number,
                });
            }
            match auth.pending.as_mut() {
                Some(p) => {
                    p.waiters += 1;
                    (p.promise.clone(), p.number)
                }
                None => return Err(Error::protocol("the token request vanished")),
            }
        };
        let waited = abortable(pending, signal).await;
        // The last waiter to give up stops the request (outside the borrow:
        // aborting runs the signal's listeners).
        let abandoned = {
            let mut auth = self.inner.auth.borrow_mut();
            match auth.pending.as_mut().filter(|p| p.number == number) {
                Some(p) => {
                    p.waiters = p.waiters.saturating_sub(1);
                    if waited.is_err() && p.waiters == 0 {
                        auth.pending.take().map(|p| p.stop)
                    } else {
                        None
                    }
                }
                None => None,
            }
        };
        if let Some(stop) = abandoned {
            stop.abort();
        }
        let waited = waited?;
        waited
            .as_string()
            .ok_or_else(|| Error::protocol("the token request returned nothing"))
    }

    /// The anonymous token call; `signal` fires once nobody waits for it.
    async fn fetch_token(&self, signal: &AbortSignal) -> Result<String> {
        let client_id = self.ensure_client_id().await?;
        let req = endpoints::anonymous_token(&client_id);
        let data = self.exchange(&req, None, signal).await;
        let data = match data {
            // 429 on the token call: wait, then one retry, like any request.
            Err(e) if e.kind() == ErrorKind::RateLimited => {
                self.wait(self.inner.cfg.timing.rate_limit_wait_ms, signal)
                    .await?;
                self.exchange(&req, None, signal).await?
            }
            other => other?,
        };
        let grant = parse_token(&data)?;
        {
            let mut auth = self.inner.auth.borrow_mut();
            auth.token = Some(grant.token.clone());
            auth.user_id = Some(grant.user_id.clone()).filter(|u| !u.is_empty());
            auth.anonymous = true;
        }
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

    /// After a 1001 with `stale`: one shared re-authentication.
    pub async fn reauthenticate(&self, stale: &str, signal: &AbortSignal) -> Result<String> {
        self.refresh_token(Some(stale), signal).await
    }

    /// One HTTP exchange and its envelope's `data`, without recovery.
    async fn exchange(
        &self,
        req: &ApiRequest,
        token: Option<&str>,
        signal: &AbortSignal,
    ) -> Result<Value<'static>> {
        self.exchange_doc(req, token, signal)
            .await
            .map(api::take_data)
    }

    /// One HTTP exchange and its whole envelope document, without recovery.
    async fn exchange_doc(
        &self,
        req: &ApiRequest,
        token: Option<&str>,
        signal: &AbortSignal,
    ) -> Result<Value<'static>> {
        let url = format!("{}{}", self.inner.cfg.base_url, req.path);
        let init = self.init_for(req, token);
        let limit = self.inner.cfg.timing.request_timeout_ms;
        let (status, body) = http::exchange(&url, &init, signal, limit).await?;
        let user_id = self.user_id();
        let ctx = ErrorContext {
            web_url: &self.inner.cfg.web_url,
            user_id: user_id.as_deref(),
        };
        read_envelope_doc(status, &body, ctx).map(Value::into_owned)
    }

    /// The `fetch` init for `req`; a body-less GET's is built once per token.
    fn init_for(&self, req: &ApiRequest, token: Option<&str>) -> JsValue {
        let attribution = &self.inner.cfg.attribution;
        if req.method != Method::Get || req.body.is_some() || !req.headers.is_empty() {
            return http::init_object(req, token, attribution).into();
        }
        let token = token.filter(|_| req.authenticated);
        if let Some(init) = self.cached_get_init(token) {
            return init;
        }
        let init: JsValue = http::init_object(req, token, attribution).into();
        *self.inner.get_init.borrow_mut() = Some((token.map(str::to_owned), init.clone()));
        init
    }

    /// The cached init of an authenticated body-less GET, if made for `token`.
    fn cached_get_init(&self, token: Option<&str>) -> Option<JsValue> {
        match self.inner.get_init.borrow().as_ref() {
            Some((t, init)) if t.as_deref() == token => Some(init.clone()),
            _ => None,
        }
    }

    /// Sends `req` with the protocol's recovery ([`RetryBudget`]): a 1001
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
        self.request_doc_from(req, None, signal).await
    }

    /// [`request_doc`](Self::request_doc); with `failed`, continued from a
    /// first reply that was that error (the request was sent with that
    /// token): the recovery starts there, nothing is sent twice.
    async fn request_doc_from(
        &self,
        req: &ApiRequest,
        mut failed: Option<(Error, Option<String>)>,
        signal: &AbortSignal,
    ) -> Result<Value<'static>> {
        let mut budget = RetryBudget::for_request(&self.inner.cfg.timing, req.is_idempotent());
        loop {
            let (err, token) = match failed.take() {
                Some(f) => f,
                None => {
                    let token = if req.authenticated {
                        Some(self.ensure_token(signal).await?)
                    } else {
                        None
                    };
                    match self.exchange_doc(req, token.as_deref(), signal).await {
                        Err(e) => (e, token),
                        ok => return ok,
                    }
                }
            };
            // The caller's own signal ran out (an `AbortSignal.timeout`):
            // that timeout is theirs, not one to answer with a re-send.
            if err.kind() == ErrorKind::Timeout && signal.aborted() {
                return Err(err);
            }
            let now = glue::date_now() as u64;
            match budget.on_error(now, err.kind()) {
                RetryDecision::Reauthenticate if req.authenticated => {
                    self.refresh_token(token.as_deref(), signal).await?;
                }
                RetryDecision::RetryAt { at_ms } => {
                    if at_ms > now {
                        self.wait(at_ms - now, signal).await?;
                    }
                }
                _ => return Err(err),
            }
        }
    }

    /// Like [`request`](Self::request), returning the raw response for
    /// streaming bodies (SSE, downloads). Envelope errors are read from the
    /// body only when the status is not 2xx.
    pub async fn request_stream(
        &self,
        req: &ApiRequest,
        signal: &AbortSignal,
    ) -> Result<glue::Response> {
        let mut reauthed = false;
        let mut rate_limited = false;
        loop {
            let token = self.ensure_token(signal).await?;
            let res = http::send(
                &self.inner.cfg.base_url,
                req,
                Some(&token),
                &self.inner.cfg.attribution,
                signal,
            )
            .await?;
            let status = res.status();
            let is_json = res
                .headers()
                .get("content-type")
                .is_some_and(|ct| crate::core::text::contains(&ct, "json"));
            if (200..300).contains(&status) && !is_json {
                return Ok(res);
            }
            // An error (or a JSON envelope where a stream was expected).
            let body = http::text(&res).await?;
            let user_id = self.user_id();
            let ctx = ErrorContext {
                web_url: &self.inner.cfg.web_url,
                user_id: user_id.as_deref(),
            };
            let err = match read_envelope(status, &body, ctx) {
                Err(e) => e,
                Ok(_) => Error::protocol(format!(
                    "expected a stream, got a JSON reply (HTTP {})",
                    crate::core::format::Int::from(status)
                )),
            };
            match err.kind() {
                ErrorKind::TokenExpired if !reauthed => {
                    reauthed = true;
                    self.refresh_token(Some(&token), signal).await?;
                }
                ErrorKind::RateLimited if !rate_limited => {
                    rate_limited = true;
                    self.wait(self.inner.cfg.timing.rate_limit_wait_ms, signal)
                        .await?;
                }
                _ => return Err(err),
            }
        }
    }

    /// Waits `ms`, or fails with `Aborted` when `signal` fires.
    pub async fn wait(&self, ms: u64, signal: &AbortSignal) -> Result<()> {
        await_js(glue::sleep(ms as f64, Some(signal)))
            .await
            .map(|_| ())
    }

    /// Creates a session.
    pub async fn create_session_with(
        &self,
        task_name: &str,
        language: Option<&str>,
        signal: &AbortSignal,
    ) -> Result<Session> {
        let lang = language.unwrap_or(&self.inner.cfg.language);
        let data = self
            .request(&endpoints::create_session(task_name, lang), signal)
            .await?;
        let info = parse_session(&data)?;
        Ok(Session::new(self.clone(), info, lang.to_string()))
    }

    /// A session object for an existing id (no request is made).
    pub fn session_for(&self, info: SessionInfo) -> Session {
        Session::new(self.clone(), info, self.inner.cfg.language.clone())
    }

    /// The credit balance.
    pub async fn credits_with(&self, signal: &AbortSignal) -> Result<Credits> {
        self.credits_after(None, signal).await
    }

    /// The credit balance; with `failed`, the rest of a request whose first
    /// reply (sent with that token) was that error.
    async fn credits_after(
        &self,
        failed: Option<(Error, Option<String>)>,
        signal: &AbortSignal,
    ) -> Result<Credits> {
        let doc = self
            .request_doc_from(&endpoints::credits(), failed, signal)
            .await?;
        parse_credits(&api::take_data(doc))
    }

    /// `credits_after` as a promise of the JS object.
    fn credits_promise(
        &self,
        failed: Option<(Error, Option<String>)>,
        signal: AbortSignal,
    ) -> Promise {
        let this = self.clone();
        http::spawn_promise(async move {
            this.credits_after(failed, &signal)
                .await
                .map(|c| credits_to_js(&c).into())
                .map_err(|e| error_to_js(&e))
        })
    }

    /// The claim link for a session: `<web>/workspace/claim?ct=…`.
    pub async fn claim_link_with(
        &self,
        info: &SessionInfo,
        signal: &AbortSignal,
    ) -> Result<String> {
        let data = self
            .request(
                &endpoints::claim_token(&info.task_id, &info.session_id),
                signal,
            )
            .await?;
        let claim = api::parse_claim(&data)?;
        Ok(api::claim_url(&self.inner.cfg.web_url, &claim.claim_token))
    }
}

/// Awaits `p` but gives up with `Aborted` as soon as `signal` fires.
pub(crate) async fn abortable(p: Promise, signal: &AbortSignal) -> Result<JsValue> {
    await_js(glue::race_abort(&p, signal)).await
}

fn valid_client_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Reads the per-call `{ signal }` option; returns an internal controller
/// linked to it, so every call can be aborted and can also abort itself.
pub(crate) fn linked_signal(options: &JsValue) -> AbortSignal {
    given_signal(options).unwrap_or_else(never_signal)
}

/// The per-call `{ signal }` option, if one was given.
fn given_signal(options: &JsValue) -> Option<AbortSignal> {
    if options.is_undefined() {
        return None;
    }
    let given = get(options, "signal");
    given.is_object().then(|| given.unchecked_into())
}

thread_local! {
    static NEVER: AbortSignal = AbortController::new().signal();
}

/// A signal that never fires, shared by every call made without one: no
/// controller per request, and [`http::send`] leaves it off the fetch.
pub(crate) fn never_signal() -> AbortSignal {
    // `try_with`, not `with`: the thread-local is never destroyed in wasm,
    // and `with` would link in its panic message. A fresh signal that
    // never fires would do just as well.
    NEVER
        .try_with(Clone::clone)
        .unwrap_or_else(|_| AbortController::new().signal())
}

/// Whether `signal` is the shared never-firing one.
pub(crate) fn is_never(signal: &AbortSignal) -> bool {
    NEVER
        .try_with(|n| js_sys::Object::is(n, signal))
        .unwrap_or(false)
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

    /// Rebuilds a session (and any export or turn in flight) from a handle
    /// saved with `session.toJSON()`.
    #[wasm_bindgen(js_name = resume)]
    pub fn js_resume(
        #[wasm_bindgen(unchecked_param_type = "SessionHandle")] handle: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "NemoClientOptions")] options: JsValue,
    ) -> Result<Session, JsValue> {
        let h = SessionHandle::from_js(&handle).map_err(|e| error_to_js(&e))?;
        let mut cfg = config_from_js(&options).map_err(|e| error_to_js(&e))?;
        if get_string(&options, "baseUrl").is_none() {
            if let Some(b) = &h.base_url {
                cfg.base_url = b.clone();
            }
        }
        let client =
            NemoClient::with_config(cfg, get(&options, "storage"), get(&options, "onHandle"))
                .map_err(|e| error_to_js(&e))?;
        Ok(Session::from_handle(client, h))
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

    /// Creates a session: `{ taskName?, language?, signal? }`.
    #[wasm_bindgen(js_name = createSession, unchecked_return_type = "Promise<Session>")]
    pub fn js_create_session(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CreateSessionOptions")] options: JsValue,
    ) -> Promise {
        let this = self.clone();
        let signal = linked_signal(&options);
        let name = get_string(&options, "taskName").unwrap_or_else(|| "project".into());
        let lang = get_string(&options, "language");
        spawn_promise(async move {
            this.create_session_with(&name, lang.as_deref(), &signal)
                .await
                .map(JsValue::from)
                .map_err(|e| error_to_js(&e))
        })
    }

    /// A session object for an existing session id (no request is made;
    /// the first call on it tells whether it still exists).
    #[wasm_bindgen(js_name = session)]
    pub fn js_session(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] session_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] task_id: JsValue,
    ) -> Result<Session, JsValue> {
        // Checked here: a non-string where wasm-bindgen expects a `String`
        // corrupts wasm memory instead of throwing.
        let session_id = session_id
            .as_string()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                error_to_js(&Error::invalid_input(
                    "sessionId must be a non-empty string",
                ))
            })?;
        let task_id = match task_id.as_string() {
            Some(t) => t,
            None if task_id.is_undefined() || task_id.is_null() => String::new(),
            None => {
                return Err(error_to_js(&Error::invalid_input(
                    "taskId must be a string",
                )))
            }
        };
        Ok(self.session_for(SessionInfo {
            session_id,
            task_id,
        }))
    }

    /// `{ available, frozen, total }`.
    #[wasm_bindgen(js_name = credits, unchecked_return_type = "Promise<Credits>")]
    pub fn js_credits(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        let signal = given_signal(&options);
        match self.credits_fast(signal.as_ref()) {
            Some(p) => p,
            None => self.credits_promise(None, signal.unwrap_or_else(never_signal)),
        }
    }
}

// ---- credits(): the fast path --------------------------------------------
//
// With a token at hand, `credits()` needs no Rust future: the JS glue sends
// the request (`getThen`) and hands status and body to `READ_CREDITS`, which
// reads the envelope here, in wasm. Only a reply that calls for a recovery
// (1001, 429) continues as a future, from that reply: nothing is sent twice.
// The reader function is made once; a call's state (client, token, signal)
// waits in `CALLS` under the number the glue passes back.

/// A `credits()` call in flight on the fast path.
struct Call {
    client: NemoClient,
    token: String,
    /// The caller's signal, if any (the recovery path needs one).
    signal: Option<AbortSignal>,
}

type Reader = Closure<dyn Fn(u32, u16, JsValue) -> std::result::Result<JsValue, JsValue>>;

thread_local! {
    static CALLS: RefCell<Vec<Option<Call>>> = const { RefCell::new(Vec::new()) };
    static READ_CREDITS: Reader = Closure::new(read_credits);
}

fn park_call(call: Call) -> u32 {
    CALLS.with(|c| {
        let mut calls = c.borrow_mut();
        match calls.iter().position(Option::is_none) {
            Some(i) => {
                calls[i] = Some(call);
                i as u32
            }
            None => {
                calls.push(Some(call));
                (calls.len() - 1) as u32
            }
        }
    })
}

fn take_call(id: u32) -> Option<Call> {
    CALLS.with(|c| c.borrow_mut().get_mut(id as usize).and_then(Option::take))
}

impl NemoClient {
    /// `credits()` without a future, when a token is at hand. Per call this
    /// crosses into JS only for the signal (when given) and the fetch.
    fn credits_fast(&self, signal: Option<&AbortSignal>) -> Option<Promise> {
        let token = self.inner.auth.borrow().token.clone()?;
        if signal.is_some_and(AbortSignal::aborted) {
            return Some(Promise::reject(&error_to_js(&Error::aborted())));
        }
        let init = self
            .cached_get_init(Some(&token))
            .unwrap_or_else(|| self.init_for(&endpoints::credits(), Some(&token)));
        let id = park_call(Call {
            client: self.clone(),
            token,
            signal: signal.cloned(),
        });
        let url = &self.inner.credits_url;
        let limit = self.inner.cfg.timing.request_timeout_ms as f64;
        Some(READ_CREDITS.with(|read| glue::get_then(url, &init, signal, limit, id, read.as_ref())))
    }
}

/// Reads a `credits()` reply (`status`, body text): the balance, the error,
/// or (when the reply calls for a recovery) a promise of the rest of the
/// request. Status 0: the fetch or the body read failed with `body` (a
/// timeout continues with the recovery too: the GET is sent once more).
fn read_credits(id: u32, status: u16, body: JsValue) -> std::result::Result<JsValue, JsValue> {
    let call = take_call(id).ok_or_else(|| error_to_js(&Error::protocol("lost the call")))?;
    if status == 0 {
        let err = super::convert::error_from_js(&body);
        if err.kind() != ErrorKind::Timeout {
            return Err(error_to_js(&err));
        }
        return Ok(call
            .client
            .credits_promise(
                Some((err, Some(call.token))),
                call.signal.unwrap_or_else(never_signal),
            )
            .into());
    }
    let text = body.as_string().unwrap_or_default();
    let read = {
        let auth = call.client.inner.auth.borrow();
        let ctx = ErrorContext {
            web_url: &call.client.inner.cfg.web_url,
            user_id: auth.user_id.as_deref(),
        };
        read_envelope(status, &text, ctx)
    };
    let err = match read {
        Ok(data) => {
            return parse_credits(&data)
                .map(|c| credits_to_js(&c).into())
                .map_err(|e| error_to_js(&e))
        }
        Err(e) if matches!(e.kind(), ErrorKind::TokenExpired | ErrorKind::RateLimited) => e,
        Err(e) => return Err(error_to_js(&e)),
    };
    Ok(call
        .client
        .credits_promise(
            Some((err, Some(call.token))),
            call.signal.unwrap_or_else(never_signal),
        )
        .into())
}

/// Credits as a JS object.
pub(crate) fn credits_to_js(c: &Credits) -> Object {
    glue::credits_object(c.available, c.frozen, c.total)
}
