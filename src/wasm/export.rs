//! Export: submit the render with a fresh `render_<ts>` id, poll it by the
//! policy, retry once with a new id on failure, and download the MP4.
//!
//! Aborting the caller's signal stops *waiting* (the render keeps going and
//! the session handle keeps its id, so it can be resumed); `cancel()` stops
//! the render on the server.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::core::api::{self, endpoints, parse_render_status};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::policy::{RenderPoller, RenderStep};

use super::client::{abortable, linked_signal};
use super::convert::{error_to_js, get, get_string, Obj};
use super::glue::{self, AbortController, AbortSignal};
use super::http::{await_js, headers_object, spawn_promise};
use super::session::{draft_of, Session};
use super::turn::link_user_signal;

struct ExportInner {
    session: Session,
    render_id: RefCell<Option<String>>,
    controller: AbortController,
    result: RefCell<Option<Promise>>,
    cancelled: std::cell::Cell<bool>,
}

/// A running export. `await job` (or `job.result`) gives
/// `{ id, url, sizeBytes }`; `cancel()` stops it; `download()` fetches it.
#[wasm_bindgen]
#[derive(Clone)]
pub struct ExportJob {
    inner: Rc<ExportInner>,
}

/// Starts (or, with `existing`, resumes) an export.
pub(crate) fn start(session: Session, existing: Option<String>, options: &JsValue) -> ExportJob {
    let controller = AbortController::new();
    link_user_signal(options, &controller);
    let job = ExportJob {
        inner: Rc::new(ExportInner {
            session,
            render_id: RefCell::new(existing.clone()),
            controller,
            result: RefCell::new(None),
            cancelled: std::cell::Cell::new(false),
        }),
    };
    let on_progress = get(options, "onProgress");
    let this = job.clone();
    let p = spawn_promise(async move {
        let r = this.run(existing, &on_progress).await;
        r.map_err(|e| {
            let e = if this.inner.cancelled.get() && e.kind() == ErrorKind::Aborted {
                Error::aborted().with_recovery(crate::core::error::Recovery::None)
            } else {
                e
            };
            error_to_js(&e)
        })
    });
    *job.inner.result.borrow_mut() = Some(glue::quiet(&p));
    job
}

impl ExportJob {
    /// The result promise.
    pub fn result_promise(&self) -> Promise {
        self.inner
            .result
            .borrow()
            .clone()
            .unwrap_or_else(|| Promise::reject(&error_to_js(&Error::aborted())))
    }

    fn progress(&self, cb: &JsValue, percent: f64, status: &str) {
        if let Some(f) = cb.dyn_ref::<Function>() {
            let ev = Obj::new()
                .num("progress", percent)
                .str("status", status)
                .opt_str("id", self.inner.render_id.borrow().as_deref())
                .into_js();
            let _ = f.call1(&JsValue::UNDEFINED, &ev);
        }
    }

    async fn submit(&self, signal: &AbortSignal) -> Result<String> {
        let session = &self.inner.session;
        let timeline = session.fetch_timeline(signal).await?;
        if !timeline.ready_for_export() {
            return Err(Error::invalid_input(
                "Nothing to export yet: the timeline has no clips. Generate a video first.",
            ));
        }
        // A strictly newer id than any before: a retry never reuses one.
        let prev: u64 = self
            .inner
            .render_id
            .borrow()
            .as_deref()
            .and_then(|id| id.strip_prefix("render_"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let id = api::render_id((glue::date_now() as u64).max(prev + 1));
        let req = endpoints::render_submit(&id, session.id(), &draft_of(&timeline));
        session.client().request_doc(&req, signal).await?;
        *self.inner.render_id.borrow_mut() = Some(id.clone());
        session.set_render_id(Some(&id));
        Ok(id)
    }

    async fn run(&self, existing: Option<String>, on_progress: &JsValue) -> Result<JsValue> {
        let signal = self.inner.controller.signal();
        let session = self.inner.session.clone();
        let client = session.client().clone();
        let timing = client.config().timing;
        let mut id = match existing {
            Some(id) => id,
            None => self.submit(&signal).await?,
        };
        self.progress(on_progress, 0.0, "pending");
        let now = || glue::date_now() as u64;
        let mut poller = RenderPoller::new(&timing, now());
        loop {
            match poller.step() {
                RenderStep::PollAt { at_ms, .. } => {
                    client.wait(at_ms.saturating_sub(now()), &signal).await?;
                    let doc = client
                        .request_doc(&endpoints::render_status(&id), &signal)
                        .await;
                    let status = match doc.and_then(|d| parse_render_status(&d)) {
                        Ok(s) => s,
                        Err(e)
                            if matches!(
                                e.kind(),
                                ErrorKind::Network | ErrorKind::Protocol | ErrorKind::Timeout
                            ) =>
                        {
                            // A failed status check still counts as a poll.
                            poller.on_poll_error(now());
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    self.progress(on_progress, status.progress, status.state.as_str());
                    if let RenderStep::Download = poller.on_status(now(), status.state) {
                        let url = status
                            .url
                            .ok_or_else(|| Error::protocol("the completed render has no URL"))?;
                        let url = api::resolve_http_url(&client.config().base_url, &url)?;
                        let limit = timing.request_timeout_ms as f64;
                        let size = await_js(glue::content_length(&url, &signal, limit)).await?;
                        session.set_render_id(None);
                        return Ok(Obj::new()
                            .str("id", &id)
                            .str("url", &url)
                            .set("sizeBytes", size)
                            .into_js());
                    }
                }
                RenderStep::Resubmit { cancel_previous } => {
                    if cancel_previous {
                        // One active export per session: stop the old job first.
                        let _ = client
                            .request_doc(&endpoints::render_cancel(&id), &signal)
                            .await;
                    }
                    self.progress(on_progress, 0.0, "retrying");
                    id = self.submit(&signal).await?;
                    poller.on_resubmitted(now());
                }
                // Only reached through on_status above, which returns early.
                RenderStep::Download => {
                    return Err(Error::protocol("the render finished without a URL"))
                }
                step @ RenderStep::Fail(_) => {
                    session.set_render_id(None);
                    return Err(step
                        .error(&timing)
                        .unwrap_or_else(|| Error::render_failed("the render failed")));
                }
            }
        }
    }
}

#[wasm_bindgen]
impl ExportJob {
    /// The render id (changes once if the first render fails).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> Option<String> {
        self.inner.render_id.borrow().clone()
    }

    /// Resolves to `{ id, url, sizeBytes }`.
    #[wasm_bindgen(getter, unchecked_return_type = "Promise<ExportResult>")]
    pub fn result(&self) -> Promise {
        self.result_promise()
    }

    /// Makes the job awaitable: `const { url } = await session.export()`.
    #[wasm_bindgen(unchecked_return_type = "Promise<unknown>")]
    pub fn then(
        &self,
        #[wasm_bindgen(
            unchecked_optional_param_type = "((value: ExportResult) => unknown) | null"
        )]
        on_ok: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "((reason: unknown) => unknown) | null")]
        on_err: JsValue,
    ) -> Result<JsValue, JsValue> {
        let p = self.result_promise();
        let then: Function = js_sys::Reflect::get(&p, &"then".into())?.unchecked_into();
        then.call2(&p, &on_ok, &on_err)
    }

    /// Cancels the render on the server and stops waiting.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn cancel(&self) -> Promise {
        let this = self.clone();
        spawn_promise(async move {
            this.inner.cancelled.set(true);
            this.inner.controller.abort();
            let id = this.inner.render_id.borrow().clone();
            if let Some(id) = id {
                let session = &this.inner.session;
                let signal = super::client::never_signal();
                session
                    .client()
                    .request_doc(&endpoints::render_cancel(&id), &signal)
                    .await
                    .map_err(|e| error_to_js(&e))?;
                session.set_render_id(None);
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Downloads the MP4 as a Blob (`{ onProgress(received, total), signal }`),
    /// falling back to the documented download endpoint when the URL fails.
    #[wasm_bindgen(unchecked_return_type = "Promise<Blob>")]
    pub fn download(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "DownloadOptions")] options: JsValue,
    ) -> Promise {
        let this = self.clone();
        spawn_promise(async move {
            let signal = linked_signal(&options);
            let on_progress = get(&options, "onProgress");
            let result = abortable(this.result_promise(), &signal)
                .await
                .map_err(|e| error_to_js(&e))?;
            let url = get(&result, "url").as_string().unwrap_or_default();
            let id = get(&result, "id").as_string().unwrap_or_default();
            this.fetch_blob(&url, &id, &signal, &on_progress)
                .await
                .map_err(|e| error_to_js(&e))
        })
    }
}

impl ExportJob {
    async fn fetch_blob(
        &self,
        url: &str,
        id: &str,
        signal: &AbortSignal,
        on_progress: &JsValue,
    ) -> Result<JsValue> {
        let client = self.inner.session.client();
        let direct = await_js(glue::download_blob(
            url,
            &js_sys::Object::new(),
            signal,
            on_progress,
        ))
        .await;
        match direct {
            Ok(r) if get(&r, "blob").is_object() => return Ok(get(&r, "blob")),
            Err(e) if e.kind() == ErrorKind::Aborted => return Err(e),
            _ => {}
        }
        // The documented fallback needs the bearer token and attribution.
        let token = client.ensure_token(signal).await?;
        let req = endpoints::render_download(id);
        let headers = api::common_headers(&req, Some(&token), &client.config().attribution);
        let url = format!("{}{}", client.config().base_url, req.path);
        let r = await_js(glue::download_blob(
            &url,
            &headers_object(&headers),
            signal,
            on_progress,
        ))
        .await?;
        let blob = get(&r, "blob");
        if blob.is_object() {
            return Ok(blob);
        }
        let status = get(&r, "status").as_f64().unwrap_or(0.0) as u16;
        // A JSON or HTML answer says why (1001, 2001, a proxy page…).
        if let Some(text) = get_string(&r, "text") {
            let user_id = client.user_id();
            let ctx = api::ErrorContext {
                web_url: &client.config().web_url,
                user_id: user_id.as_deref(),
            };
            api::read_envelope(status, &text, ctx)?;
            return Err(Error::protocol(format!(
                "the download answered with a JSON reply instead of the video (HTTP {})",
                crate::core::format::Int::from(status)
            ))
            .with_status(status));
        }
        Err(Error::protocol(format!(
            "the download failed with HTTP {}",
            crate::core::format::Int::from(status)
        ))
        .with_status(status))
    }
}
