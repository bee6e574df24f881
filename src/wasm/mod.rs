//! The WebAssembly shell: thin wrappers over `fetch`, `ReadableStream`,
//! timers and `AbortSignal` around the sans-IO [`crate::core`].
//!
//! It calls the global `fetch` (never `window.fetch`) so that the same build
//! runs in pages, dedicated workers, extension service workers and Node 18+.
//! Bodies (uploads, downloads) stay in JS objects and never enter wasm
//! memory; stream chunks are copied in only to be decoded.
//!
//! Layers, each using only those before it (no module imports a later one):
//! `glue` (platform bindings and `glue.js`) → `convert` (values, errors and
//! promises across the boundary) → `signal` (every `AbortSignal` link) →
//! `http` (one fetch) → `client` (drives `core::exchange`: token and recovery) →
//! `session` (one project, its handle) → `turn`, `export`, `upload` (each
//! drives its core machine) → `actions` (what a session does, and `handle`)
//! and `estimate` (the cost preview).
//! Beside them: `timeline`, `sse_decoder` and `agent_decoder` (the
//! standalone decoders) and `types` (the TypeScript declarations).

pub mod actions;
pub mod agent_decoder;
pub mod client;
pub mod convert;
pub mod estimate;
pub mod export;
pub mod glue;
pub mod http;
pub mod session;
pub mod signal;
pub mod sse_decoder;
pub mod timeline;
pub mod turn;
pub mod types;
pub mod upload;

use wasm_bindgen::prelude::*;

/// The allocator: talc instead of std's dlmalloc, about 7 KB smaller
/// (3 KB gzipped) and as fast on the decoders' allocation pattern.
#[cfg(not(target_feature = "atomics"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub use client::NemoClient;
pub use export::ExportJob;
pub use session::Session;
pub use timeline::JsTimeline;

/// The error classes (`NemoError` and one subclass per kind), for
/// `instanceof` checks: `const { OutOfCreditsError } = errorClasses()`.
#[wasm_bindgen(js_name = errorClasses, unchecked_return_type = "Record<string, new (...args: never[]) => NemoError>")]
pub fn error_classes() -> JsValue {
    glue::ERROR_CLASSES.with(|c| JsValue::from(c.clone()))
}

/// A byte count for people, in binary units (1 KB = 1024 bytes, 1 MB =
/// 1024 × 1024 bytes), the units of the 200 MB upload limit and of every size
/// the client's own messages give: `512` → `"512 bytes"`, `1572864` →
/// `"1.5 MB"`, `209715200` → `"200 MB"`. A fraction of a byte is dropped.
/// Anything that is not a finite number ≥ 0 (`NaN`, `Infinity`, negative)
/// gives `""`: there is no size to show.
#[wasm_bindgen(js_name = formatBytes)]
pub fn format_bytes(n: f64) -> String {
    if !n.is_finite() || n < 0.0 {
        return String::new();
    }
    // In range by the check above; `as` saturates past u64::MAX.
    crate::core::error::human_bytes(n as u64)
}

/// Routes what a user typed: `"export" | "credits" | "state" | "upload" | "chat"`,
/// and for chat the finer intent (e.g. `"aspect_ratio"`).
#[wasm_bindgen(js_name = routeIntent, unchecked_return_type = "{ action: string; intent?: string }")]
pub fn route_intent(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    has_attachments: bool,
) -> Result<JsValue, JsValue> {
    // Checked: a non-string where wasm-bindgen expects a `&str` corrupts
    // wasm memory instead of throwing.
    let text = text.as_string().ok_or_else(|| {
        convert::error_to_js(&crate::core::error::Error::invalid_input(
            "routeIntent needs a string",
        ))
    })?;
    let route = crate::core::intent::route(&text, has_attachments);
    Ok(convert::Obj::new()
        .str("action", route.action_name())
        .opt_str("intent", route.chat_intent_name())
        .into_js())
}
