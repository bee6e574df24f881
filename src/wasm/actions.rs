//! What a session does: send a message (a turn, [`super::turn`]), export
//! ([`super::export`]), upload ([`super::upload`]), and
//! `handle`, which routes what a user typed to one of them. It sits above
//! those modules, so none of them needs another.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::core::error::{human_bytes, Error, Result};
use crate::core::format::decimal;
use crate::core::intent::{self, Intent};

use super::client::credits_to_js;
use super::convert::{await_js, error_to_js, get, get_string, ok_or_reject, Obj};
use super::export::{self, ExportJob};
use super::glue;
use super::http::spawn_promise;
use super::session::Session;
use super::signal::linked_signal;
use super::timeline::JsTimeline;
use super::{turn, upload};

#[wasm_bindgen]
impl Session {
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
                let c = self.client().credits_with(&signal).await?;
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
    let controller = glue::new_abort_controller();
    let q = glue::event_queue(&controller);
    let err = error_to_js(&e);
    q.fail(&err);
    let q: JsValue = q.into();
    let _ = js_sys::Reflect::set(&q, &"result".into(), &glue::quiet(&Promise::reject(&err)));
    q
}
