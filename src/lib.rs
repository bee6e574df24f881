//! # nemo-video
//!
//! The client for the NemoVideo agent API: send text prompts and images to an
//! editing agent that generates cinematic clips, refine them by chatting, and
//! export an H.264 MP4.
//!
//! The crate has two layers:
//!
//! - [`core`]: the sans-IO protocol core. It owns no sockets, timers or JS
//!   objects: the SSE decoder, agent events, API envelopes and errors, intent
//!   routing, GUI translation, the timeline model, media checks and the
//!   retry/poll/timeout policies. It builds and is tested natively.
//! - `wasm` (only on `wasm32`): a thin shell over `fetch`, `ReadableStream`,
//!   timers and `AbortSignal` that exposes the core to JavaScript.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
