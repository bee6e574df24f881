//! `Session`: one project on the server. Chat turns, uploads, state, export,
//! the claim link, and the durable handle that survives a page reload.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::core::api::{endpoints, parse_state, SessionInfo};
use crate::core::error::{human_bytes, Error, Result};
use crate::core::format::decimal;
use crate::core::intent::{self, Intent};
use crate::core::timeline::Timeline;

use super::client::{credits_to_js, linked_signal, NemoClient};
use super::convert::{error_to_js, get, get_string, Obj};
use super::export::{self, ExportJob};
use super::glue::{self, AbortSignal};
use super::http::{await_js, spawn_promise};
use super::timeline::JsTimeline;
use super::{turn, upload};

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

    fn update_handle(&self, f: impl FnOnce(&mut SessionHandle)) {
        let snapshot = {
            let mut h = self.inner.handle.borrow_mut();
            let before = h.clone();
            f(&mut h);
            (*h != before).then(|| h.clone())
        };
        if let Some(h) = snapshot {
            if let Some(cb) = self
                .inner
                .client
                .inner
                .on_handle
                .dyn_ref::<js_sys::Function>()
            {
                let _ = cb.call1(&JsValue::UNDEFINED, &h.to_js());
            }
        }
    }

    pub(crate) fn turn_started(&self, text: &str, last_event_id: &str) {
        self.update_handle(|h| {
            h.turn_text = Some(text.to_string());
            h.last_event_id = Some(last_event_id.to_string()).filter(|s| !s.is_empty());
        });
    }

    pub(crate) fn set_last_event_id(&self, id: &str) {
        // Saved only when it changes turn position meaningfully: the first id,
        // then every id (cheap: the callback decides how often to persist).
        let changed = self.inner.handle.borrow().last_event_id.as_deref() != Some(id);
        if changed {
            self.update_handle(|h| h.last_event_id = Some(id.to_string()));
        }
    }

    pub(crate) fn turn_finished(&self) {
        self.update_handle(|h| {
            h.turn_text = None;
            h.last_event_id = None;
        });
    }

    pub(crate) fn set_render_id(&self, id: Option<&str>) {
        self.update_handle(|h| h.render_id = id.map(str::to_string));
    }

    /// Fetches the state and remembers it as the session's latest timeline.
    pub async fn fetch_timeline(&self, signal: &AbortSignal) -> Result<Timeline> {
        let data = self
            .inner
            .client
            .request(&endpoints::state(self.id()), signal)
            .await?;
        let state = parse_state(data)?;
        let t = Timeline::from_state(&state);
        *self.inner.timeline.borrow_mut() = Some(t.clone());
        Ok(t)
    }

    pub(crate) fn previous_timeline(&self) -> Option<Timeline> {
        self.inner.timeline.borrow().clone()
    }
}

fn ok_or_reject(r: Result<JsValue>) -> Result<JsValue, JsValue> {
    r.map_err(|e| error_to_js(&e))
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

    /// Sends one message to the agent. The returned `Turn` is iterable with
    /// `for await`, has `result` (a Promise of the outcome) and `abort()`.
    #[wasm_bindgen(js_name = send, unchecked_return_type = "Turn")]
    pub fn js_send(
        &self,
        // Taken as a JsValue and checked: a non-string passed where wasm-bindgen
        // expects a `String` corrupts wasm memory instead of throwing.
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SendOptions")] options: JsValue,
    ) -> JsValue {
        let Some(text) = text.as_string() else {
            return failed_turn(Error::invalid_input("The message must be a string."));
        };
        if text.trim().is_empty() {
            return failed_turn(Error::invalid_input("The message is empty."));
        }
        turn::start(self.clone(), text, None, &options)
    }

    /// Resumes the turn that was in flight when the handle was saved (after
    /// a reload), replaying what was missed; `null` when none was. The
    /// message is not sent again and nothing is charged twice.
    #[wasm_bindgen(js_name = resumeTurn, unchecked_return_type = "Turn | null")]
    pub fn js_resume_turn(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "SendOptions")] options: JsValue,
    ) -> JsValue {
        let h = self.handle_snapshot();
        match (h.turn_text, h.last_event_id) {
            (Some(text), Some(id)) => turn::start(self.clone(), text, Some(id), &options),
            _ => JsValue::NULL,
        }
    }

    /// Uploads files (`File`, `Blob`, `Uint8Array`) or URLs, one or several.
    #[wasm_bindgen(js_name = upload, unchecked_return_type = "Promise<UploadedFile[]>")]
    pub fn js_upload(
        &self,
        #[wasm_bindgen(unchecked_param_type = "UploadInput | UploadInput[]")] input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "UploadOptions")] options: JsValue,
    ) -> Promise {
        let this = self.clone();
        spawn_promise(async move {
            let signal = linked_signal(&options);
            ok_or_reject(upload::upload(&this, &input, &options, &signal).await)
        })
    }

    /// The current timeline (and its diff against the previous fetch).
    #[wasm_bindgen(js_name = state, unchecked_return_type = "Promise<Timeline>")]
    pub fn js_state(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        let this = self.clone();
        spawn_promise(async move {
            let signal = linked_signal(&options);
            let previous = this.previous_timeline();
            let t = this
                .fetch_timeline(&signal)
                .await
                .map_err(|e| error_to_js(&e))?;
            Ok(JsTimeline::with_previous(t, previous).into())
        })
    }

    /// The credit balance.
    #[wasm_bindgen(js_name = credits, unchecked_return_type = "Promise<Credits>")]
    pub fn js_credits(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        let client = self.inner.client.clone();
        spawn_promise(async move {
            let signal = linked_signal(&options);
            let c = client
                .credits_with(&signal)
                .await
                .map_err(|e| error_to_js(&e))?;
            Ok(credits_to_js(&c).into())
        })
    }

    /// Starts an export: `await session.export({ onProgress })` resolves to
    /// `{ id, url, sizeBytes }`; the job also has `cancel()` and `download()`.
    #[wasm_bindgen(js_name = export)]
    pub fn js_export(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ExportOptions")] options: JsValue,
    ) -> ExportJob {
        export::start(self.clone(), None, &options)
    }

    /// Picks up the render that was in flight when the handle was saved;
    /// `null` when none was.
    #[wasm_bindgen(js_name = resumeExport)]
    pub fn js_resume_export(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ExportOptions")] options: JsValue,
    ) -> Option<ExportJob> {
        let id = self.handle_snapshot().render_id?;
        Some(export::start(self.clone(), Some(id), &options))
    }

    /// A link that opens this project in the web app. It carries a one-time
    /// claim token, never the API token.
    #[wasm_bindgen(js_name = claimLink, unchecked_return_type = "Promise<string>")]
    pub fn js_claim_link(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: JsValue,
    ) -> Promise {
        let this = self.clone();
        spawn_promise(async move {
            let signal = linked_signal(&options);
            this.inner
                .client
                .claim_link_with(&this.inner.info, &signal)
                .await
                .map(JsValue::from)
                .map_err(|e| error_to_js(&e))
        })
    }

    /// Does what the user's words ask, by the routing table: export,
    /// credits, state and upload go to their endpoints, everything else to
    /// the agent. Resolves to `{ kind, reply, … }` where `reply` is
    /// plain-language text for a chat box.
    #[wasm_bindgen(js_name = handle, unchecked_return_type = "Promise<HandleResult>")]
    pub fn js_handle(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "HandleOptions")] options: JsValue,
    ) -> Promise {
        let Some(text) = text.as_string() else {
            return Promise::reject(&error_to_js(&Error::invalid_input(
                "The message must be a string.",
            )));
        };
        let this = self.clone();
        spawn_promise(async move { ok_or_reject(this.handle_text(text, options).await) })
    }

    /// The durable handle: `{ v, baseUrl, sessionId, taskId, renderId?,
    /// lastEventId?, turnText? }`. Safe to store: it holds no token.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "SessionHandle")]
    pub fn js_to_json(&self) -> JsValue {
        self.handle_snapshot().to_js()
    }
}

impl Session {
    async fn handle_text(&self, text: String, options: JsValue) -> Result<JsValue> {
        let files = get(&options, "files");
        let has_files = match files.dyn_ref::<js_sys::Array>() {
            Some(a) => a.length() > 0,
            None => !files.is_undefined() && !files.is_null(),
        };
        let signal = linked_signal(&options);
        let route = intent::route(&text, has_files);
        // The result's `kind` is the route's name (`Intent::ACTION_NAMES`).
        let kind = route.action_name();
        match route {
            Intent::Export => {
                let job = export::start(self.clone(), None, &options);
                let r = await_js(job.result_promise()).await?;
                let url = get_string(&r, "url").unwrap_or_default();
                let size = get(&r, "sizeBytes").as_f64();
                let reply = match size {
                    Some(n) => format!("Your video is ready ({}): {url}", human_bytes(n as u64)),
                    None => format!("Your video is ready: {url}"),
                };
                Ok(Obj::new()
                    .str("kind", kind)
                    .str("reply", &reply)
                    .set("export", r)
                    .set("job", job)
                    .into_js())
            }
            Intent::Credits => {
                let c = self.inner.client.credits_with(&signal).await?;
                let reply = format!(
                    "You have {} credits available ({} reserved by running jobs).",
                    decimal(c.available, 2),
                    decimal(c.frozen, 2)
                );
                Ok(Obj::new()
                    .str("kind", kind)
                    .str("reply", &reply)
                    .set("credits", credits_to_js(&c))
                    .into_js())
            }
            Intent::State => {
                let previous = self.previous_timeline();
                let t = self.fetch_timeline(&signal).await?;
                let reply = t.summary();
                Ok(Obj::new()
                    .str("kind", kind)
                    .str("reply", &reply)
                    .set("timeline", JsTimeline::with_previous(t, previous))
                    .into_js())
            }
            Intent::Upload => {
                if !has_files {
                    return Ok(Obj::new()
                        .str("kind", kind)
                        .str(
                            "reply",
                            &format!(
                                "Attach a file to upload. Accepted: {}; up to 200 MB each.",
                                crate::core::text::join(
                                    crate::core::media::ACCEPTED_EXTENSIONS,
                                    ", "
                                )
                            ),
                        )
                        .set("files", js_sys::Array::new())
                        .into_js());
                }
                let uploaded = upload::upload(self, &files, &options, &signal).await?;
                let n = js_sys::Array::from(&uploaded).length();
                Ok(Obj::new()
                    .str("kind", kind)
                    .str(
                        "reply",
                        &format!("Uploaded {n} file{}.", if n == 1 { "" } else { "s" }),
                    )
                    .set("files", uploaded)
                    .into_js())
            }
            Intent::Empty => Ok(Obj::new()
                .str("kind", kind)
                .str(
                    "reply",
                    "Type a message, or attach a photo or video to start.",
                )
                .into_js()),
            Intent::Chat(_) => {
                if has_files {
                    upload::upload(self, &files, &options, &signal).await?;
                }
                let t = turn::start(self.clone(), text, None, &options);
                let result = await_js(get(&t, "result").unchecked_into()).await?;
                let reply = get_string(&result, "text")
                    .filter(|s| !s.is_empty())
                    .or_else(|| get_string(&result, "summary"))
                    .unwrap_or_default();
                Ok(Obj::new()
                    .str("kind", kind)
                    .str("reply", &reply)
                    .set("result", result)
                    .into_js())
            }
        }
    }
}

/// A `Turn`-shaped object that fails at once (for invalid input).
fn failed_turn(e: Error) -> JsValue {
    let controller = glue::AbortController::new();
    let q = glue::event_queue(&controller);
    let err = error_to_js(&e);
    q.fail(&err);
    let q: JsValue = q.into();
    let _ = js_sys::Reflect::set(&q, &"result".into(), &glue::quiet(&Promise::reject(&err)));
    q
}
