//! The sans-IO protocol core: plain Rust, no wasm-bindgen, web-sys or js-sys.
//!
//! Every module is a pure function of its inputs (bytes, JSON text, an injected
//! clock), so each edge case of the protocol is a unit test that runs in
//! milliseconds with `cargo test`.

pub mod api;
pub mod error;
pub mod events;
pub mod format;
pub mod gui;
pub mod intent;
pub mod json;
pub mod media;
pub mod number;
pub mod policy;
pub mod sse;
#[cfg(any(test, feature = "spec-oracle"))]
pub mod sse_reference;
pub mod text;
pub mod timeline;
