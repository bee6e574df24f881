//! The WebAssembly shell: thin wrappers over `fetch`, `ReadableStream`,
//! timers and `AbortSignal` around the sans-IO [`crate::core`].
//!
//! It calls the global `fetch` (never `window.fetch`) so that the same build
//! runs in pages, dedicated workers, extension service workers and Node 18+.

pub mod sse_decoder;
