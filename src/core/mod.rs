//! The sans-IO protocol core: plain Rust, no wasm-bindgen, web-sys or js-sys.
//!
//! Every module is a pure function of its inputs (bytes, JSON text, an injected
//! clock), so each edge case of the protocol is a unit test that runs in
//! milliseconds with `cargo test`.

pub mod api;
pub mod error;
pub mod estimate;
pub mod event_batch;
pub mod events;
pub mod exchange;
pub mod export;
pub mod format;
pub mod gui;
pub mod intent;
pub mod json;
pub mod media;
pub mod number;
pub mod policy;
pub mod settle;
// The hot decode path lives in its own crate (`decode/`) so it can be built
// for speed while the rest is built for size; re-exported here so the core
// reads as one.
#[cfg(feature = "spec-oracle")]
pub use nemo_decode::sse_reference;
pub use nemo_decode::{sse, swar};
pub mod text;
pub mod timeline;
pub mod turn;
