//! `SseDecoder` for JavaScript: the core's incremental Server-Sent Events
//! decoder behind a small class.
//!
//! ```js
//! const decoder = new SseDecoder({ maxEventBytes: 1 << 20, onComment: () => alive() });
//! for await (const chunk of response.body) {
//!   for (const event of decoder.push(chunk)) handle(event.type, event.data);
//! }
//! decoder.finish();
//! ```
//!
//! # Why the events are built in JavaScript
//!
//! Creating one JS object field by field from Rust costs a boundary crossing
//! per object, per property and per string. Instead, `push` packs every
//! string of every event of the chunk into two buffers (the ASCII ones as
//! bytes, the others as UTF-16) plus a table of six numbers per event
//! (`nemo_decode::sse_batch`, built at opt-level 3 like the rest of the
//! decoder), hands them to a JS helper in a single call (each buffer becomes
//! one string with one copy), and the helper slices them into plain
//! `{ type, data, id?, retry? }` objects. A chunk with no complete
//! event costs one call that returns an empty array.

// The `#[wasm_bindgen]` expansions use const features stabilised in Rust
// 1.77, above the crate's declared `rust-version` (1.75); wasm-bindgen 0.2.130
// itself needs a newer compiler, so this is about the manifest, not this code.
#![allow(clippy::incompatible_msrv)]

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::error::Error;
use crate::core::sse::SseConfig;
use nemo_decode::sse_batch::{SseBatch, MAX_SAFE_INTEGER};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** One dispatched Server-Sent Event. */
export interface SseEvent {
  /** The `event:` field, or "message" when the server sent none. */
  type: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last event ID in effect (it persists across events); omitted when empty. */
  id?: string;
  /** The reconnection time in milliseconds in effect; omitted when the server sent none. */
  retry?: number;
}

/** Options for `new SseDecoder(options)`. */
export interface SseDecoderOptions {
  /**
   * The largest line and the largest event data, in bytes (default 16 MiB).
   * A larger one is dropped and `push` throws an error of kind "protocol"
   * that carries the chunk's other events as `error.events`.
   */
  maxEventBytes?: number;
  /**
   * Called synchronously during `push` with the text of each comment line
   * (`: ping` → "ping"); servers send comments as keep-alives.
   */
  onComment?: (comment: string) => void;
}
"#;

// `buildSseEvents` in glue.js reads these rows.
#[wasm_bindgen(module = "/src/wasm/glue.js")]
extern "C" {
    /// Hands glue.js the wasm memory, where the builders read the packed
    /// buffers.
    #[wasm_bindgen(js_name = decoderMemory)]
    fn nemo_decoder_memory(memory: JsValue);
    /// Turns the packed buffers and table of one `push` into `SseEvent[]`;
    /// each buffer as its address and length in wasm memory (see
    /// `agent_decoder.rs`).
    #[wasm_bindgen(js_name = buildSseEvents)]
    fn nemo_sse_build(
        ascii: *const u8,
        ascii_len: usize,
        wide: *const u8,
        wide_len: usize,
        table: *const u32,
        table_len: usize,
    ) -> Array;
}

#[wasm_bindgen]
extern "C" {
    /// The `SseDecoderOptions` object of the constructor (declared in the
    /// TypeScript section above); an extern type so the generated `.d.ts`
    /// reads `options?: SseDecoderOptions | null`.
    #[wasm_bindgen(typescript_type = "SseDecoderOptions")]
    pub type SseDecoderOptions;
}

/// The JavaScript `SseDecoder` class. Feed it the chunks of a
/// `text/event-stream` body as they arrive; it returns the events each chunk
/// completes. Chunk boundaries never matter.
#[wasm_bindgen]
pub struct SseDecoder {
    /// The decoder and the packed events of one push (see the module docs).
    inner: SseBatch,
    on_comment: Option<Function>,
}

#[wasm_bindgen]
impl SseDecoder {
    /// `new SseDecoder(options?)`. Throws an error of kind "invalid_input"
    /// when an option has the wrong type.
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<SseDecoderOptions>) -> Result<SseDecoder, JsValue> {
        let mut cfg = SseConfig::default();
        let mut on_comment = None;
        if let Some(options) = options {
            let max = Reflect::get(&options, &JsValue::from_str("maxEventBytes"))?;
            if !max.is_undefined() {
                cfg.max_event_bytes = max
                    .as_f64()
                    .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= usize::MAX as f64)
                    .map(|n| n as usize)
                    .ok_or_else(|| {
                        invalid("maxEventBytes must be a whole number of bytes, 0 or more")
                    })?;
            }
            let callback = Reflect::get(&options, &JsValue::from_str("onComment"))?;
            if !callback.is_undefined() {
                on_comment = Some(
                    callback
                        .dyn_into::<Function>()
                        .map_err(|_| invalid("onComment must be a function"))?,
                );
            }
        }
        nemo_decoder_memory(wasm_bindgen::memory());
        Ok(SseDecoder {
            inner: SseBatch::new(cfg, on_comment.is_some()),
            on_comment,
        })
    }

    /// Decodes one chunk of the body and returns the events it completed.
    ///
    /// Throws an `Error` whose `kind` is "protocol" when a line or an event
    /// exceeded `maxEventBytes`; the oversized event is dropped, the rest of
    /// the chunk is still decoded (its events are on `error.events`), and
    /// the decoder can go on. An exception thrown by `onComment` is rethrown
    /// after the whole chunk was decoded, also with `error.events`.
    ///
    /// The chunk arrives as a slice: wasm-bindgen copies it straight into
    /// wasm memory, with no call back into JS for its length or its bytes.
    #[wasm_bindgen(unchecked_return_type = "SseEvent[]")]
    pub fn push(&mut self, chunk: &[u8]) -> Result<Array, JsValue> {
        let result = self.inner.push(chunk);

        // The comments, in order, synchronously (the events follow them).
        let mut callback_error = None;
        if let Some(f) = &self.on_comment {
            for comment in self.inner.comments() {
                if let Err(e) = f.call1(&JsValue::UNDEFINED, &JsValue::from_str(comment)) {
                    callback_error.get_or_insert(e);
                }
            }
        }

        let (ascii, wide, table) = (self.inner.ascii(), self.inner.wide(), self.inner.table());
        let events = if table.is_empty() {
            Array::new()
        } else {
            nemo_sse_build(
                ascii.as_ptr(),
                ascii.len(),
                wide.as_ptr(),
                wide.len(),
                table.as_ptr(),
                table.len(),
            )
        };
        // Once JS has read the buffers: do not pin the memory of one
        // unusually large chunk forever.
        self.inner.shrink(1 << 20);
        if let Err(e) = result {
            let error = to_js_error(&e.into());
            set(&error, "events", &events);
            return Err(error);
        }
        if let Some(e) = callback_error {
            if e.is_object() {
                set(&e, "events", &events);
            }
            return Err(e);
        }
        Ok(events)
    }

    /// Ends the stream. Per the SSE spec an event without its closing blank
    /// line is discarded, so this always returns an empty array; the decoder
    /// is then ready for a new stream (a reconnection), keeping
    /// `lastEventId` and `retry`.
    #[wasm_bindgen(unchecked_return_type = "SseEvent[]")]
    pub fn finish(&mut self) -> Array {
        // `finish` cannot fail and yields nothing; see the core docs.
        self.inner.finish();
        Array::new()
    }

    /// The last event ID: what to send as `Last-Event-ID` when reconnecting
    /// ("" when the server never set one).
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> String {
        self.inner.decoder().last_event_id().to_owned()
    }

    /// The reconnection time in milliseconds the server asked for, if any.
    #[wasm_bindgen(getter)]
    pub fn retry(&self) -> Option<f64> {
        self.inner
            .decoder()
            .retry()
            .map(|ms| ms.min(MAX_SAFE_INTEGER) as f64)
    }
}

/// A JS `Error` carrying the error's `kind` and `recovery` (and `code` /
/// `status` when known), so scripts can branch without parsing messages.
fn to_js_error(e: &Error) -> JsValue {
    let error: JsValue = js_sys::Error::new(e.message()).into();
    set(&error, "kind", &JsValue::from_str(e.kind().as_str()));
    set(
        &error,
        "recovery",
        &JsValue::from_str(e.recovery().as_str()),
    );
    if let Some(code) = e.code() {
        set(&error, "code", &JsValue::from_f64(code as f64));
    }
    if let Some(status) = e.status() {
        set(&error, "status", &JsValue::from(status));
    }
    error
}

/// An "invalid_input" error for a bad constructor option.
fn invalid(detail: &str) -> JsValue {
    to_js_error(&Error::invalid_input(detail))
}

/// Sets a property; failure is impossible on the plain objects used here
/// (and would only lose an informational field), so it is ignored.
fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}
