//! The hot decode path of `nemo-video`: bytes of an agent's event stream in,
//! the events a client reads out. Plain Rust, no I/O, no clock.
//!
//! - [`sse`]: the WHATWG Server-Sent Events decoder, incremental over bytes.
//! - [`scan`]: the validating agent-event scan that hands what it finds to
//!   an [`scan::EventSink`].
//! - [`batch`]: the agent events of a chunk packed for JavaScript (the wasm
//!   `AgentDecoder`).
//! - [`sse_batch`]: the SSE events of a chunk packed for JavaScript (the
//!   wasm `SseDecoder`).
//! - [`packed`]: the strings a batch hands to JavaScript, packed in two
//!   buffers (ASCII bytes, UTF-16).
//! - [`swar`]: the eight-bytes-at-a-time searches they lean on.
//!
//! # Why this is a crate of its own
//!
//! Only so that it can be optimised for speed while everything else in the
//! wasm is optimised for size: Cargo sets `opt-level` per package (see the
//! root `Cargo.toml`), and this is the one place where the client spends
//! CPU per byte. The rest of the sans-IO core (`src/core/`) re-exports it,
//! so callers see one `core::sse` and one `core::events`.
//!
//! Generic code is compiled in the crate that instantiates it, at that
//! crate's opt-level. So the hot paths are instantiated here (the batches
//! are whole decoders, not sinks the client plugs in), and the entry points
//! the client calls with its own closures go through trait objects.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
pub mod error;
pub mod packed;
pub mod scan;
pub mod sse;
pub mod sse_batch;
#[cfg(any(test, feature = "spec-oracle"))]
pub mod sse_reference;
pub mod swar;

pub use error::DecodeError;
