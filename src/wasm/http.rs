//! One HTTP exchange over the global `fetch`: build the request from a core
//! [`ApiRequest`], send it with an `AbortSignal`, and map every platform
//! failure to a typed core error. No retries here: the client's one driver
//! runs every request through the core's
//! [`Exchange`](crate::core::exchange::Exchange).

use std::future::Future;
use std::pin::Pin;

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::core::api::{common_headers, ApiRequest, Attribution};

use super::convert::Obj;
use super::glue::{self, AbortSignal};

/// A future on the heap, with its type erased.
type BoxedPromiseFuture = Pin<Box<dyn Future<Output = std::result::Result<JsValue, JsValue>>>>;

/// `future_to_promise` for every async method of the shell.
///
/// Why not call `future_to_promise` directly: it is generic over the future,
/// and each instantiation brings its own copy of the task setup, the
/// polling wrapper and their drop glue (about 300 B of wasm per exported
/// async method). Boxed, the future has one type and there is one
/// instantiation; the cost is one allocation per call, next to a `fetch`.
pub(crate) fn spawn_promise<F>(f: F) -> Promise
where
    F: Future<Output = std::result::Result<JsValue, JsValue>> + 'static,
{
    spawn_boxed(Box::pin(f))
}

#[inline(never)]
fn spawn_boxed(f: BoxedPromiseFuture) -> Promise {
    future_to_promise(f)
}

/// The request headers as a plain JS object.
pub fn headers_object(headers: &[(&'static str, String)]) -> Object {
    headers
        .iter()
        .fold(Obj::new(), |o, (k, v)| o.str(k, v))
        .build()
}

/// The `fetch` init for `req`: method, headers and body (no signal).
pub fn init_object(req: &ApiRequest, token: Option<&str>, attribution: &Attribution) -> Object {
    let headers = common_headers(req, token, attribution);
    let init = Obj::new()
        .str("method", req.method.as_str())
        .set("headers", headers_object(&headers));
    match &req.body {
        Some(body) => init.str("body", body),
        None => init,
    }
    .build()
}

/// The signal to hand to fetch: none for the shared never-firing one (it
/// would only cost fetch a listener).
pub(crate) fn fetch_signal(signal: &AbortSignal) -> Option<&AbortSignal> {
    (!super::signal::is_never(signal)).then_some(signal)
}

/// Starts one whole exchange for a small reply: sends `init` (from
/// [`init_object`], reusable) to `url` and reads the body as text, in one
/// promise, which resolves to a [`glue::TextReply`] (see [`text_reply`]).
/// `timeout_ms` (0: none) bounds the whole exchange, headers and body: past
/// it the fetch is aborted and the promise rejects with a `TimeoutError`
/// ([`Error::request_timeout`](crate::core::error::Error::request_timeout)
/// once mapped). An already aborted `signal` rejects at once, sending
/// nothing.
pub fn fetch_text(url: &str, init: &JsValue, signal: &AbortSignal, timeout_ms: u64) -> Promise {
    glue::fetch_text(url, init, fetch_signal(signal), timeout_ms as f64)
}

/// The status and the body of what [`fetch_text`] resolved to.
pub fn text_reply(reply: JsValue) -> (u16, String) {
    let reply: glue::TextReply = reply.unchecked_into();
    (reply.status(), reply.text())
}
