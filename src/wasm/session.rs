//! `Session`: one project on the server. Chat turns, uploads, state, export,
//! the claim link, and the durable handle that survives a page reload.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::core::api::{
    claim_url, endpoints, parse_claim, parse_session, parse_state, SessionInfo,
};
use crate::core::error::{Error, Result};
use crate::core::json::Value;
use crate::core::timeline::Timeline;

use super::client::{config_from_js, credits_data_to_js, NemoClient};
use super::convert::{error_to_js, get, get_string, Obj};
use super::glue::AbortSignal;
use super::signal::linked_signal;
use super::timeline::JsTimeline;

/// What survives a reload: enough to find the session, a render in flight
/// and a turn in flight again. Holds no secret.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionHandle {
    /// The API base URL the session lives on.
    pub base_url: Option<String>,
    /// `session_id`.
    pub session_id: String,
    /// `task_id`.
    pub task_id: String,
    /// The render in flight, if any.
    pub render_id: Option<String>,
    /// The last SSE event id of the turn in flight (for `Last-Event-ID`).
    pub last_event_id: Option<String>,
    /// The message of the turn in flight: a resume POSTs the same body.
    pub turn_text: Option<String>,
}

impl SessionHandle {
    /// Reads a handle saved by `toJSON()` (an object or its JSON text).
    pub fn from_js(v: &JsValue) -> Result<Self> {
        let obj = match v.as_string() {
            Some(text) => js_sys::JSON::parse(&text)
                .map_err(|_| Error::invalid_input("the session handle is not valid JSON"))?,
            None => v.clone(),
        };
        let session_id = get_string(&obj, "sessionId")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::invalid_input("the session handle has no sessionId"))?;
        Ok(SessionHandle {
            base_url: get_string(&obj, "baseUrl"),
            session_id,
            task_id: get_string(&obj, "taskId").unwrap_or_default(),
            render_id: get_string(&obj, "renderId").filter(|s| !s.is_empty()),
            last_event_id: get_string(&obj, "lastEventId").filter(|s| !s.is_empty()),
            turn_text: get_string(&obj, "turnText").filter(|s| !s.is_empty()),
        })
    }

    /// The handle as a plain JS object (what `toJSON()` returns).
    pub fn to_js(&self) -> JsValue {
        Obj::new()
            .num("v", 1.0)
            .opt_str("baseUrl", self.base_url.as_deref())
            .str("sessionId", &self.session_id)
            .str("taskId", &self.task_id)
            .opt_str("renderId", self.render_id.as_deref())
            .opt_str("lastEventId", self.last_event_id.as_deref())
            .opt_str("turnText", self.turn_text.as_deref())
            .into_js()
    }
}

/// The fields of a [`SessionHandle`] that change while a session works.
enum Field {
    TurnText,
    LastEventId,
    RenderId,
}

pub(crate) struct SessionInner {
    client: NemoClient,
    info: SessionInfo,
    language: String,
    handle: RefCell<SessionHandle>,
    timeline: RefCell<Option<Timeline>>,
}

/// A session: `send`, `handle`, `upload`, `state`, `export`, `toJSON`.
#[wasm_bindgen]
#[derive(Clone)]
pub struct Session {
    inner: Rc<SessionInner>,
}

impl Session {
    pub(crate) fn new(client: NemoClient, info: SessionInfo, language: String) -> Self {
        let handle = SessionHandle {
            base_url: Some(client.config().base_url.clone()),
            session_id: info.session_id.clone(),
            task_id: info.task_id.clone(),
            ..SessionHandle::default()
        };
        Session {
            inner: Rc::new(SessionInner {
                client,
                info,
                language,
                handle: RefCell::new(handle),
                timeline: RefCell::new(None),
            }),
        }
    }

    pub(crate) fn from_handle(client: NemoClient, h: SessionHandle) -> Self {
        let info = SessionInfo {
            session_id: h.session_id.clone(),
            task_id: h.task_id.clone(),
        };
        let lang = client.config().language.clone();
        let s = Session::new(client, info, lang);
        {
            let mut handle = s.inner.handle.borrow_mut();
            handle.render_id = h.render_id;
            handle.last_event_id = h.last_event_id;
            handle.turn_text = h.turn_text;
        }
        s
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.inner.info.session_id
    }

    /// The session's ids.
    pub fn info(&self) -> &SessionInfo {
        &self.inner.info
    }

    /// The client the session belongs to.
    pub fn client(&self) -> &NemoClient {
        &self.inner.client
    }

    /// The session's language.
    pub fn language(&self) -> &str {
        &self.inner.language
    }

    /// The current durable handle.
    pub fn handle_snapshot(&self) -> SessionHandle {
        self.inner.handle.borrow().clone()
    }

    /// Sets the handle's in-flight fields (`None`: cleared), and hands the
    /// new handle to `onHandle` once when that changed it.
    #[inline(never)]
    fn update_handle(&self, changes: &[(Field, Option<&str>)]) {
        let snapshot = {
            let mut h = self.inner.handle.borrow_mut();
            let mut changed = false;
            for (field, value) in changes {
                let slot = match field {
                    Field::TurnText => &mut h.turn_text,
                    Field::LastEventId => &mut h.last_event_id,
                    Field::RenderId => &mut h.render_id,
                };
                if slot.as_deref() != *value {
                    *slot = value.map(str::to_owned);
                    changed = true;
                }
            }
            changed.then(|| h.to_js())
        };
        if let Some(h) = snapshot {
            if let Some(cb) = self
                .inner
                .client
                .inner
                .on_handle
                .dyn_ref::<js_sys::Function>()
            {
                let _ = cb.call1(&JsValue::UNDEFINED, &h);
            }
        }
    }

    pub(crate) fn turn_started(&self, text: &str, last_event_id: &str) {
        self.update_handle(&[
            (Field::TurnText, Some(text)),
            (
                Field::LastEventId,
                Some(last_event_id).filter(|s| !s.is_empty()),
            ),
        ]);
    }

    pub(crate) fn set_last_event_id(&self, id: &str) {
        // Every new id is saved (cheap: the callback decides how often to
        // persist).
        self.update_handle(&[(Field::LastEventId, Some(id))]);
    }

    pub(crate) fn turn_finished(&self) {
        self.update_handle(&[(Field::TurnText, None), (Field::LastEventId, None)]);
    }

    pub(crate) fn set_render_id(&self, id: Option<&str>) {
        self.update_handle(&[(Field::RenderId, id)]);
    }

    /// Fetches the state and remembers it as the session's latest timeline.
    pub async fn fetch_timeline(&self, signal: &AbortSignal) -> Result<Timeline> {
        let data = self
            .inner
            .client
            .request(&endpoints::state(self.id()), signal)
            .await?;
        self.remember_state(data)
    }

    /// A state reply's data as the session's latest timeline.
    fn remember_state(&self, data: Value<'static>) -> Result<Timeline> {
        let state = parse_state(data)?;
        let t = Timeline::from_state(&state);
        *self.inner.timeline.borrow_mut() = Some(t.clone());
        Ok(t)
    }

    pub(crate) fn previous_timeline(&self) -> Option<Timeline> {
        self.inner.timeline.borrow().clone()
    }
}

#[wasm_bindgen]
impl Session {
    /// `session_id`.
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn js_session_id(&self) -> String {
        self.inner.info.session_id.clone()
    }

    /// `task_id`.
    #[wasm_bindgen(getter, js_name = taskId)]
    pub fn js_task_id(&self) -> String {
        self.inner.info.task_id.clone()
    }

    /// The current timeline (and its diff against the previous fetch).
    #[wasm_bindgen(js_name = state, unchecked_return_type = "Promise<Timeline>")]
    pub fn js_state(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        let this = self.clone();
        let previous = self.previous_timeline();
        self.inner.client.request_then(
            endpoints::state(self.id()),
            linked_signal(&options),
            Box::new(move |data| {
                let t = this.remember_state(data)?;
                Ok(JsTimeline::with_previous(t, previous).into())
            }),
        )
    }

    /// The credit balance.
    #[wasm_bindgen(js_name = credits, unchecked_return_type = "Promise<Credits>")]
    pub fn js_credits(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        self.inner.client.request_then(
            endpoints::credits(),
            linked_signal(&options),
            Box::new(credits_data_to_js),
        )
    }

    /// A link that opens this project in the web app. It carries a one-time
    /// claim token, never the API token.
    #[wasm_bindgen(js_name = claimLink, unchecked_return_type = "Promise<string>")]
    pub fn js_claim_link(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        let web = self.inner.client.config().web_url.clone();
        let info = &self.inner.info;
        self.inner.client.request_then(
            endpoints::claim_token(&info.task_id, &info.session_id),
            linked_signal(&options),
            Box::new(move |data| {
                let claim = parse_claim(&data)?;
                Ok(claim_url(&web, &claim.claim_token).into())
            }),
        )
    }

    /// The durable handle: `{ v, baseUrl, sessionId, taskId, renderId?,
    /// lastEventId?, turnText? }`. Safe to store: it holds no token.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "SessionHandle")]
    pub fn js_to_json(&self) -> JsValue {
        self.handle_snapshot().to_js()
    }
}

/// Making sessions is the client's, but a session is this module's: the
/// client's methods that return one live here, so `client` never needs
/// `session`.
impl NemoClient {
    /// A session object for an existing id (no request is made).
    pub fn session_for(&self, info: SessionInfo) -> Session {
        Session::new(self.clone(), info, self.inner.cfg.language.clone())
    }
}

#[wasm_bindgen]
impl NemoClient {
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
        let lang = lang.unwrap_or_else(|| self.inner.cfg.language.clone());
        self.request_then(
            endpoints::create_session(&name, &lang),
            signal,
            Box::new(move |data| {
                let info = parse_session(&data)?;
                Ok(Session::new(this, info, lang).into())
            }),
        )
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
}
