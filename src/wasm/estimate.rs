//! `session.estimate(text, { files })`: the cost preview, from
//! [`crate::core::estimate`]. The decision is the core's; this shell only
//! reads the balance (one credits GET, skipped when the caller passes the
//! balance it already knows).

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::core::error::Error;
use crate::core::estimate;

use super::convert::{error_to_js, get, get_f64, Obj};
use super::http::spawn_promise;
use super::session::Session;
use super::signal::linked_signal;

#[wasm_bindgen(typescript_custom_section)]
const TS_ESTIMATE: &'static str = r#"
export interface EstimateOptions extends CallOptions {
  /** Files that would go with the message (as for `handle`). */
  files?: UploadInput | UploadInput[];
  /** A balance you already know: skips the credits request. */
  available?: number;
}

/**
 * What a message would do and about what it would cost, before anything is
 * sent. The figures are estimates (`estimate: true`): the documented prices
 * (a generation about 100 credits, an edit about 50; export, credits, status
 * and uploads free); the server decides the real price, freezes it while
 * the turn runs and refunds it when the turn fails.
 */
export interface Estimate {
  /** Where the message goes, as `routeIntent` and `handle` route it. */
  action: "export" | "credits" | "state" | "upload" | "chat" | "empty";
  /** For chat, the finer intent ("generate", "camera_move", "add_music", …). */
  intent?: string;
  /** The estimated price in credits (0 when no agent turn runs). */
  credits: number;
  /** The balance the estimate was made against. */
  available: number;
  /** `available >= credits`. */
  enough: boolean;
  /** The turn would use all of the balance or more (ask before sending). */
  confirm: boolean;
  /**
   * The message refers to a photo or clip ("this photo", "这张") while no
   * file is attached and the session's timeline (as last fetched) has no
   * clip: sent as it is, it would be charged for a text-only result.
   */
  needsAttachment: boolean;
  /** Always `true`: these are estimates, not the server's prices. */
  estimate: true;
}
"#;

#[wasm_bindgen]
impl Session {
    /// What `text` (with `files`) would do and about what it would cost:
    /// `{ action, intent?, credits, available, enough, confirm,
    /// needsAttachment, estimate: true }`. Sends nothing but one credits
    /// request (none when `available` is given).
    #[wasm_bindgen(js_name = estimate, unchecked_return_type = "Promise<Estimate>")]
    pub fn js_estimate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "EstimateOptions")] options: JsValue,
    ) -> Promise {
        let Some(text) = text.as_string() else {
            return Promise::reject(&error_to_js(&Error::invalid_input(
                "The message must be a string.",
            )));
        };
        let files = get(&options, "files");
        let has_files = match files.dyn_ref::<js_sys::Array>() {
            Some(a) => a.length() > 0,
            None => !files.is_undefined() && !files.is_null(),
        };
        let has_media = has_files
            || self
                .previous_timeline()
                .is_some_and(|t| t.ready_for_export());
        let e = estimate::estimate(&text, has_files, has_media);
        let known = get_f64(&options, "available").filter(|n| n.is_finite());
        let client = self.client().clone();
        spawn_promise(async move {
            let available = match known {
                Some(n) => n,
                None => {
                    let signal = linked_signal(&options);
                    client
                        .credits_with(&signal)
                        .await
                        .map_err(|e| error_to_js(&e))?
                        .available
                }
            };
            Ok(Obj::new()
                .str("action", e.action)
                .opt_str("intent", e.intent)
                .num("credits", f64::from(e.credits))
                .num("available", available)
                .bool("enough", estimate::enough(available, e.credits))
                .bool("confirm", estimate::should_confirm(available, e.credits))
                .bool("needsAttachment", e.needs_attachment)
                .bool("estimate", true)
                .into_js())
        })
    }
}
