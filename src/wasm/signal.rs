//! Every way a call's `AbortSignal` is linked, in one place: the caller's
//! `{ signal }` option, the shared never-firing signal of calls made without
//! one, a controller that the caller's signal aborts, and awaiting a promise
//! until a signal fires.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::core::error::Result;

use super::convert::{await_js, get};
use super::glue::{self, AbortController, AbortSignal};

/// The per-call `{ signal }` option: the caller's signal, or the shared
/// never-firing one when none was given.
pub(crate) fn linked_signal(options: &JsValue) -> AbortSignal {
    if options.is_undefined() {
        return never_signal();
    }
    let given = get(options, "signal");
    if given.is_object() {
        given.unchecked_into()
    } else {
        never_signal()
    }
}

thread_local! {
    static NEVER: AbortSignal = glue::new_abort_controller().signal();
}

/// A signal that never fires, shared by every call made without one: no
/// controller per request, and [`http::send`] leaves it off the fetch.
pub(crate) fn never_signal() -> AbortSignal {
    // `try_with`, not `with`: the thread-local is never destroyed in wasm,
    // and `with` would link in its panic message. A fresh signal that
    // never fires would do just as well.
    NEVER
        .try_with(Clone::clone)
        .unwrap_or_else(|_| glue::new_abort_controller().signal())
}

/// Whether `signal` is the shared never-firing one.
pub(crate) fn is_never(signal: &AbortSignal) -> bool {
    NEVER
        .try_with(|n| js_sys::Object::is(n, signal))
        .unwrap_or(false)
}

/// Aborting the caller's signal aborts the turn's own controller.
pub(crate) fn link_user_signal(options: &JsValue, controller: &AbortController) {
    let given = get(options, "signal");
    if given.is_object() {
        glue::link_abort(given.unchecked_ref(), controller);
    }
}

/// Awaits `p` but gives up with `Aborted` as soon as `signal` fires.
pub(crate) async fn abortable(p: Promise, signal: &AbortSignal) -> Result<JsValue> {
    await_js(glue::race_abort(&p, signal)).await
}
