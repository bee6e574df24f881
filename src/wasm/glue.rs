//! Bindings to the platform (web-sys's `Response`, streams, signals, `Blob`)
//! and the small JS glue in `glue.js` (fetch, error classes, abortable sleep, async
//! iteration, storage and upload progress).
//!
//! Raw bindings: the items mirror the Web platform names and are not
//! documented one by one.
//!
//! Everything is reached through the global scope, never through `window`,
//! so the same build runs in pages, workers, service workers and Node.

#![allow(missing_docs)]

use js_sys::{Array, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;

pub use web_sys::{
    AbortController, AbortSignal, Blob, Headers, ReadableStream, ReadableStreamDefaultReader,
    Response,
};

/// `new AbortController()`. The constructor never throws; web-sys declares
/// it `catch`, and its `Err` arm (never taken) is mapped without a panic.
pub fn new_abort_controller() -> AbortController {
    AbortController::new().unwrap_or_else(|e| e.unchecked_into())
}

#[wasm_bindgen(module = "/src/wasm/glue.js")]
extern "C" {
    /// Builds the `NemoError` subclass for `kind`.
    #[wasm_bindgen(js_name = makeError)]
    pub fn make_error(
        kind: &str,
        message: &str,
        code: JsValue,
        status: JsValue,
        recovery: &Object,
    ) -> JsValue;
    /// The error classes, keyed by class name.
    #[wasm_bindgen(js_name = errorClasses, thread_local_v2)]
    pub static ERROR_CLASSES: Object;
    /// Aborting `signal` aborts `controller` (at once when it already is).
    #[wasm_bindgen(js_name = linkAbort)]
    pub fn link_abort(signal: &AbortSignal, controller: &AbortController);
    /// Whether a thrown value is an abort.
    #[wasm_bindgen(js_name = isAbort)]
    pub fn is_abort(e: &JsValue) -> bool;
    /// Resolves after `ms`; rejects when `signal` aborts.
    pub fn sleep(ms: f64, signal: Option<&AbortSignal>) -> Promise;
    /// `fetch(url, init)` (with `signal` when given) for a stream: resolves
    /// to `{ stream }` (the `Response`, unread) for a 2xx reply that is not
    /// JSON, else to `{ status, text }` (an error, or an envelope where a
    /// stream was expected).
    #[wasm_bindgen(js_name = fetchStream)]
    pub fn fetch_stream(url: &str, init: &Object, signal: Option<&AbortSignal>) -> Promise;
    /// `fetch(url, init)` (with `signal` when given) and the body as text,
    /// within `ms` (0: no limit; then the fetch is aborted and the promise
    /// rejects with a `TimeoutError` carrying `requestTimeoutMs`): resolves
    /// to a [`TextReply`].
    #[wasm_bindgen(js_name = fetchText)]
    pub fn fetch_text(url: &str, init: &JsValue, signal: Option<&AbortSignal>, ms: f64) -> Promise;
    /// `{ status, text }` from [`fetch_text`].
    pub type TextReply;
    #[wasm_bindgen(method, getter)]
    pub fn status(this: &TextReply) -> u16;
    #[wasm_bindgen(method, getter)]
    pub fn text(this: &TextReply) -> String;
    /// `{ available, frozen, total }`.
    #[wasm_bindgen(js_name = creditsObject)]
    pub fn credits_object(available: f64, frozen: f64, total: f64) -> Object;
    /// Settles like `p`, or rejects as soon as `signal` aborts.
    #[wasm_bindgen(js_name = raceAbort)]
    pub fn race_abort(p: &Promise, signal: &AbortSignal) -> Promise;
    /// Settles like `p`, or resolves to `{timeout: true}` after `ms`.
    #[wasm_bindgen(js_name = raceTimeout)]
    pub fn race_timeout(p: &Promise, ms: f64, signal: &AbortSignal) -> Promise;
    /// Marks a promise's rejection as handled; returns it.
    pub fn quiet(p: &Promise) -> Promise;
    /// A `for await` queue whose `return()` aborts `controller`.
    #[wasm_bindgen(js_name = eventQueue)]
    pub fn event_queue(controller: &AbortController) -> EventQueue;
    /// The producer side of [`event_queue`].
    #[derive(Clone)]
    pub type EventQueue;
    #[wasm_bindgen(method)]
    pub fn push(this: &EventQueue, value: &JsValue);
    #[wasm_bindgen(method)]
    pub fn fail(this: &EventQueue, error: &JsValue);
    #[wasm_bindgen(method)]
    pub fn end(this: &EventQueue);
    /// Adds `Symbol.asyncIterator` to `obj`.
    #[wasm_bindgen(js_name = asyncIterable)]
    pub fn async_iterable(obj: &JsValue) -> JsValue;
    /// Whether `crypto.getRandomValues` exists (Node 18 has it only with
    /// `--experimental-global-webcrypto`).
    #[wasm_bindgen(js_name = hasWebCrypto)]
    pub fn has_web_crypto() -> bool;
    /// The default storage for this platform.
    #[wasm_bindgen(js_name = defaultStorage)]
    pub fn default_storage() -> JsValue;
    /// `storage.get(key)`, normalised to `string | null`.
    #[wasm_bindgen(js_name = storageGet)]
    pub fn storage_get(storage: &JsValue, key: &str) -> Promise;
    /// `storage.set(key, value)`.
    #[wasm_bindgen(js_name = storageSet)]
    pub fn storage_set(storage: &JsValue, key: &str, value: &str) -> Promise;
    /// A Blob from a Blob or Uint8Array, never copying through wasm memory.
    #[wasm_bindgen(js_name = toBlob)]
    pub fn to_blob(data: &JsValue, mime: &str) -> Blob;
    /// The first `n` bytes of each upload input (see glue.js).
    #[wasm_bindgen(js_name = blobHeads)]
    pub fn blob_heads(inputs: &Array, n: u32) -> Promise;
    /// `Content-Length` by HEAD, or null (also when no answer came within
    /// `ms`, 0: no limit).
    #[wasm_bindgen(js_name = contentLength)]
    pub fn content_length(url: &str, signal: &AbortSignal, ms: f64) -> Promise;
    /// Downloads into a Blob with progress; resolves to `{status, blob}`.
    #[wasm_bindgen(js_name = downloadBlob)]
    pub fn download_blob(
        url: &str,
        headers: &Object,
        signal: &AbortSignal,
        on_progress: &JsValue,
    ) -> Promise;
    /// POSTs `[[blob, filename], …]` as a multipart form with progress;
    /// resolves to `{status, text}`. Stopped when no bytes were taken for
    /// `stall_ms` while sending, or no reply came `reply_ms` after the last
    /// byte (0: no limit); it then rejects with a `TimeoutError` carrying
    /// `uploadStallMs` or `uploadReplyMs`.
    #[wasm_bindgen(js_name = postForm)]
    #[allow(clippy::too_many_arguments)]
    pub fn post_form(
        url: &str,
        headers: &Object,
        files: &Array,
        total: f64,
        signal: &AbortSignal,
        on_progress: &JsValue,
        stall_ms: f64,
        reply_ms: f64,
    ) -> Promise;
}

/// Copies a JS `Uint8Array` chunk into a Rust buffer (stream chunks only:
/// they are small and the decoder needs them in linear memory).
pub fn copy_bytes(chunk: &Uint8Array, buf: &mut Vec<u8>) {
    let len = chunk.length() as usize;
    buf.clear();
    buf.resize(len, 0);
    chunk.copy_to(buf);
}
