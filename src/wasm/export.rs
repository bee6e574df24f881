//! Export: the shell around [`ExportMachine`], which decides everything
//! (the `render_<ts>` ids, the poll schedule, the retry with a new id, the
//! URL); this file performs its effects (fetch, timers, `onProgress`, the
//! session handle) and feeds the answers back. [`ExportDownload`] picks the
//! URLs `download()` tries.
//!
//! Aborting the caller's signal stops *waiting* (the render keeps going and
//! the session handle keeps its id, so it can be resumed); `cancel()` stops
//! the render on the server.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::core::api::{self, ErrorContext};
use crate::core::error::{Error, Result};
use crate::core::export::{
    CancelOutcome, DownloadStep, ExportDownload, ExportEffect, ExportMachine, ExportProgress,
    Fetched,
};

use super::convert::{await_js, error_to_js, get, get_string, Obj};
use super::glue::{self, AbortController, AbortSignal};
use super::http::{headers_object, spawn_promise};
use super::session::Session;
use super::signal::{abortable, link_user_signal, linked_signal};

struct ExportInner {
    session: Session,
    machine: RefCell<ExportMachine>,
    controller: AbortController,
    result: RefCell<Option<Promise>>,
}

/// A running export. `await job` (or `job.result`) gives
/// `{ id, url, sizeBytes }`; `cancel()` stops it; `download()` fetches it.
#[wasm_bindgen]
#[derive(Clone)]
pub struct ExportJob {
    inner: Rc<ExportInner>,
}

/// The shell's clock, the one the machine's times are on.
fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Starts (or, with `existing`, resumes) an export.
pub(crate) fn start(session: Session, existing: Option<String>, options: &JsValue) -> ExportJob {
    let controller = glue::new_abort_controller();
    link_user_signal(options, &controller);
    let client = session.client();
    let mut machine = ExportMachine::new(
        &client.config().timing,
        &client.config().base_url,
        session.id(),
    );
    match existing.as_deref() {
        Some(id) => machine.resume(now_ms(), id),
        None => machine.submit(now_ms()),
    }
    let job = ExportJob {
        inner: Rc::new(ExportInner {
            session,
            machine: RefCell::new(machine),
            controller,
            result: RefCell::new(None),
        }),
    };
    let on_progress = get(options, "onProgress");
    let this = job.clone();
    let p = spawn_promise(async move { this.run(&on_progress).await.map_err(|e| error_to_js(&e)) });
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

    fn progress(cb: &JsValue, p: &ExportProgress) {
        if let Some(f) = cb.dyn_ref::<Function>() {
            let ev = Obj::new()
                .num("progress", p.progress)
                .str("status", p.status)
                .opt_str("id", p.id.as_deref())
                .into_js();
            let _ = f.call1(&JsValue::UNDEFINED, &ev);
        }
    }

    /// Feeds an answer to the machine, or the abort when the job's signal
    /// fired meanwhile (whatever the answer was).
    fn feed(&self, signal: &AbortSignal, input: impl FnOnce(&mut ExportMachine, u64)) {
        let now = now_ms();
        let mut machine = self.inner.machine.borrow_mut();
        if signal.aborted() {
            machine.abort(now);
        } else {
            input(&mut machine, now);
        }
    }

    /// Performs the machine's effects until it finishes or fails.
    async fn run(&self, on_progress: &JsValue) -> Result<JsValue> {
        let signal = self.inner.controller.signal();
        let session = &self.inner.session;
        let client = session.client();
        loop {
            // The borrow ends here: nothing below holds it across an await.
            let effect = self.inner.machine.borrow_mut().poll_effect();
            let Some(effect) = effect else {
                return Err(Error::protocol("the export stopped without a result"));
            };
            match effect {
                ExportEffect::FetchState => {
                    let r = session.fetch_timeline(&signal).await;
                    self.feed(&signal, |m, now| m.on_state(now, r));
                }
                ExportEffect::Send(req) => {
                    let r = client.request_doc(&req, &signal).await;
                    self.feed(&signal, |m, now| m.on_reply(now, r));
                }
                ExportEffect::ArmTimer { at_ms } => {
                    let r = client.wait(at_ms.saturating_sub(now_ms()), &signal).await;
                    // A timer fails only when aborted.
                    self.feed(&signal, |m, now| match r {
                        Ok(()) => m.on_timer(now),
                        Err(_) => m.abort(now),
                    });
                }
                ExportEffect::ProbeSize { url, limit_ms } => {
                    let r = await_js(glue::content_length(&url, &signal, limit_ms as f64))
                        .await
                        .map(|n| n.as_f64().map(|n| n as u64));
                    self.feed(&signal, |m, now| m.on_size(now, r));
                }
                ExportEffect::Progress(p) => Self::progress(on_progress, &p),
                ExportEffect::RememberId(id) => session.set_render_id(Some(&id)),
                ExportEffect::ForgetId => session.set_render_id(None),
                ExportEffect::Finish(r) => {
                    let size = match r.size_bytes {
                        Some(n) => JsValue::from_f64(n as f64),
                        None => JsValue::NULL,
                    };
                    return Ok(Obj::new()
                        .str("id", &r.id)
                        .str("url", &r.url)
                        .set("sizeBytes", size)
                        .into_js());
                }
                ExportEffect::Fail(e) => return Err(e),
            }
        }
    }
}

#[wasm_bindgen]
impl ExportJob {
    /// The render id (changes once if the first render fails).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> Option<String> {
        self.inner.machine.borrow().render_id().map(str::to_string)
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
            let req = this.inner.machine.borrow_mut().cancel(now_ms());
            this.inner.controller.abort();
            if let Some(req) = req {
                let session = &this.inner.session;
                let signal = super::signal::never_signal();
                let r = session.client().request_doc(&req, &signal).await;
                let outcome = this
                    .inner
                    .machine
                    .borrow_mut()
                    .on_cancel_reply(now_ms(), r.map(|_| ()));
                match outcome {
                    CancelOutcome::ForgetId => session.set_render_id(None),
                    CancelOutcome::Fail(e) => return Err(error_to_js(&e)),
                }
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
    /// Downloads the finished render `id` from `url`, trying the URLs
    /// [`ExportDownload`] picks.
    async fn fetch_blob(
        &self,
        url: &str,
        id: &str,
        signal: &AbortSignal,
        on_progress: &JsValue,
    ) -> Result<JsValue> {
        let client = self.inner.session.client();
        let mut plan = ExportDownload::new(&client.config().base_url, id, url);
        let mut step = plan.start();
        let mut blob = JsValue::UNDEFINED;
        loop {
            let (url, req) = match step {
                DownloadStep::Fetch { url, api } => (url, api),
                DownloadStep::Done => return Ok(blob),
                DownloadStep::Fail(e) => return Err(e),
            };
            let headers = match &req {
                None => Ok(js_sys::Object::new()),
                // The documented endpoint needs the bearer token and
                // attribution.
                Some(req) => client.ensure_token(signal).await.map(|token| {
                    let h = api::common_headers(req, Some(&token), &client.config().attribution);
                    headers_object(&h)
                }),
            };
            let reply = match headers {
                Ok(h) => await_js(glue::download_blob(&url, &h, signal, on_progress)).await,
                Err(e) => Err(e),
            };
            let text;
            let fetched = match reply {
                Ok(r) if get(&r, "blob").is_object() => {
                    blob = get(&r, "blob");
                    Fetched::Blob
                }
                Ok(r) => {
                    text = get_string(&r, "text");
                    Fetched::NotVideo {
                        status: get(&r, "status").as_f64().unwrap_or(0.0) as u16,
                        text: text.as_deref(),
                    }
                }
                Err(e) => Fetched::Failed(e),
            };
            let user_id = client.user_id();
            let ctx = ErrorContext {
                web_url: &client.config().web_url,
                user_id: user_id.as_deref(),
            };
            step = plan.on_fetched(fetched, ctx);
        }
    }
}
