//! Bindings to the platform (`Response`, streams, signals, `Blob`) and the
//! small JS glue in `glue.js` (fetch, error classes, abortable sleep, async
//! iteration, storage and upload progress).
//!
//! Raw bindings: the items mirror the Web platform names and are not
//! documented one by one.
//!
//! Everything is reached through the global scope, never through `window`,
//! so the same build runs in pages, workers, service workers and Node.

#![allow(missing_docs)]

use js_sys::{Array, Function, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `Date.now()`.
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    pub fn date_now() -> f64;

    /// A fetch `Response`.
    #[derive(Clone)]
    pub type Response;
    #[wasm_bindgen(method, getter)]
    pub fn status(this: &Response) -> u16;
    #[wasm_bindgen(method)]
    pub fn text(this: &Response) -> Promise;
    #[wasm_bindgen(method, js_name = arrayBuffer)]
    pub fn array_buffer(this: &Response) -> Promise;
    #[wasm_bindgen(method, getter)]
    pub fn body(this: &Response) -> Option<ReadableStream>;
    #[wasm_bindgen(method, getter)]
    pub fn headers(this: &Response) -> Headers;

    /// Response headers.
    pub type Headers;
    #[wasm_bindgen(method)]
    pub fn get(this: &Headers, name: &str) -> Option<String>;

    /// A `ReadableStream` of bytes.
    pub type ReadableStream;
    #[wasm_bindgen(method, js_name = getReader)]
    pub fn get_reader(this: &ReadableStream) -> StreamReader;

    /// A `ReadableStreamDefaultReader`.
    #[derive(Clone)]
    pub type StreamReader;
    #[wasm_bindgen(method)]
    pub fn read(this: &StreamReader) -> Promise;
    #[wasm_bindgen(method)]
    pub fn cancel(this: &StreamReader) -> Promise;
    #[wasm_bindgen(method, js_name = releaseLock, catch)]
    pub fn release_lock(this: &StreamReader) -> Result<(), JsValue>;

    /// An `AbortSignal`.
    #[derive(Clone)]
    pub type AbortSignal;
    #[wasm_bindgen(method, getter)]
    pub fn aborted(this: &AbortSignal) -> bool;
    #[wasm_bindgen(method, js_name = addEventListener)]
    pub fn add_event_listener(this: &AbortSignal, kind: &str, f: &Function, opts: &Object);
    #[wasm_bindgen(method, js_name = removeEventListener)]
    pub fn remove_event_listener(this: &AbortSignal, kind: &str, f: &Function);

    /// An `AbortController`.
    #[derive(Clone)]
    pub type AbortController;
    #[wasm_bindgen(constructor)]
    pub fn new() -> AbortController;
    #[wasm_bindgen(method, getter)]
    pub fn signal(this: &AbortController) -> AbortSignal;
    #[wasm_bindgen(method)]
    pub fn abort(this: &AbortController);

    /// A `Blob` (or `File`).
    #[derive(Clone)]
    pub type Blob;
    #[wasm_bindgen(method, getter)]
    pub fn size(this: &Blob) -> f64;
    #[wasm_bindgen(method, getter, js_name = type)]
    pub fn mime_type(this: &Blob) -> String;
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
    /// Whether a thrown value is an abort.
    #[wasm_bindgen(js_name = isAbort)]
    pub fn is_abort(e: &JsValue) -> bool;
    /// Resolves after `ms`; rejects when `signal` aborts.
    pub fn sleep(ms: f64, signal: Option<&AbortSignal>) -> Promise;
    /// `fetch(url, init)`, with `signal` added when given.
    #[wasm_bindgen(js_name = fetchWith)]
    pub fn global_fetch(url: &str, init: &Object, signal: Option<&AbortSignal>) -> Promise;
    /// `fetch(url, init)` (with `signal` when given) and the body as text,
    /// within `ms` (0: no limit; then the fetch is aborted and the promise
    /// rejects with a `TimeoutError` carrying `requestTimeoutMs`): resolves
    /// to a [`TextReply`].
    #[wasm_bindgen(js_name = fetchText)]
    pub fn fetch_text(url: &str, init: &JsValue, signal: Option<&AbortSignal>, ms: f64) -> Promise;
    /// `fetch(url, init)` (with `signal` when given), then
    /// `read(id, status, bodyText)`, or `read(id, 0, error)` when the fetch
    /// or the body read failed or took longer than `ms` (0: no limit).
    /// Resolves to what `read` returns.
    #[wasm_bindgen(js_name = getThen)]
    pub fn get_then(
        url: &JsValue,
        init: &JsValue,
        signal: Option<&AbortSignal>,
        ms: f64,
        id: u32,
        read: &JsValue,
    ) -> Promise;
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
    /// A v4 UUID.
    #[wasm_bindgen(js_name = randomUuid)]
    pub fn random_uuid() -> String;
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
    /// The first `n` bytes of a Blob.
    #[wasm_bindgen(js_name = blobHead)]
    pub fn blob_head(blob: &Blob, n: u32) -> Promise;
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
