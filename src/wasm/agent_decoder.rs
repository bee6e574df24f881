//! `AgentDecoder` for JavaScript: SSE framing and agent-event decoding in one
//! pass inside wasm, handing JS only the few fields a chat client reads.
//!
//! ```js
//! const decoder = new AgentDecoder();
//! for await (const chunk of response.body) {
//!   for (const ev of decoder.push(chunk)) {
//!     if (ev.kind === "text") show(ev.text, ev.partial);
//!   }
//! }
//! ```
//!
//! # Why this exists next to `SseDecoder`
//!
//! `SseDecoder` returns each event's `data` as a string, so a caller still
//! runs `JSON.parse` on every event, and that is most of the cost of reading
//! an agent stream (an ADK event is mostly bookkeeping nobody reads). Here
//! the same path the client itself uses runs inside wasm: the core SSE
//! decoder ([`crate::core::sse`]) feeds [`crate::core::events::scan`], which
//! skips the unread fields without building them, into a
//! [`BatchDecoder`]: the ASCII strings packed as bytes, the other strings as
//! UTF-16, and a table of two numbers per event (see `core::event_batch`
//! for the layout and why). JS builds every object of the chunk in one call
//! (one decode per buffer), so the boundary is crossed once per chunk, not
//! once per field.
//!
//! Each object has the same five keys (one hidden class for the JIT):
//! `{ kind, text, partial, name, error }`, where `kind` is `"text"`,
//! `"thought"`, `"tool_call"`, `"tool_result"`, `"state_delta"`,
//! `"heartbeat"`, `"error"` (the agent reported a failure) or `"invalid"`
//! (the event's data was not a valid agent event; `error` says why). Comment
//! lines are keep-alives and yield nothing.

// See sse_decoder.rs: the `#[wasm_bindgen]` expansions need a newer compiler
// than the manifest's `rust-version`.
#![allow(clippy::incompatible_msrv)]

use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::core::event_batch::BatchDecoder;
use crate::core::sse::SseConfig;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** One agent event, reduced to what a chat client reads. */
export interface AgentEventLite {
  kind: "text" | "thought" | "tool_call" | "tool_result" | "state_delta" | "heartbeat" | "error" | "invalid";
  /** The text of a "text" or "thought" event (a delta when `partial`). */
  text: string | undefined;
  /** Whether a "text" or "thought" event is a streaming delta. */
  partial: boolean;
  /** The tool name of a "tool_call" or "tool_result" event. */
  name: string | undefined;
  /** The message of an "error" or "invalid" event. */
  error: string | undefined;
}
"#;

// `buildAgentEvents` in glue.js reads the rows of `core::event_batch`: kind
// in bits 0–2 (TEXT = 0 … INVALID = 7), bit 3 PARTIAL, bit 4 WIDE (the
// string is in `wide`, as UTF-16LE bytes; else in `ascii`, which JS makes a
// string of at memory speed).
#[wasm_bindgen(module = "/src/wasm/glue.js")]
extern "C" {
    /// Hands glue.js the wasm memory, where the builders read the packed
    /// buffers (see `buildAgentEvents`).
    #[wasm_bindgen(js_name = decoderMemory)]
    fn nemo_decoder_memory(memory: JsValue);
    /// Turns the packed texts and table of one `push` into `AgentEventLite[]`:
    /// each buffer as its address and length in wasm memory (numbers, not
    /// slices: a slice argument costs a typed-array view per call).
    #[wasm_bindgen(js_name = buildAgentEvents)]
    fn nemo_agent_build(
        ascii: *const u8,
        ascii_len: usize,
        wide: *const u8,
        wide_len: usize,
        table: *const u32,
        table_len: usize,
    ) -> Array;
}

/// The JavaScript `AgentDecoder` class: feed it the chunks of an agent's
/// `text/event-stream` body; it returns the agent events each chunk
/// completes. Chunk boundaries never matter.
#[wasm_bindgen]
pub struct AgentDecoder {
    inner: BatchDecoder,
}

impl Default for AgentDecoder {
    fn default() -> Self {
        AgentDecoder::new()
    }
}

#[wasm_bindgen]
impl AgentDecoder {
    /// `new AgentDecoder()`: default limits (16 MiB per line or event).
    #[wasm_bindgen(constructor)]
    pub fn new() -> AgentDecoder {
        nemo_decoder_memory(wasm_bindgen::memory());
        AgentDecoder {
            inner: BatchDecoder::new(SseConfig::default()),
        }
    }

    /// Decodes one chunk of the body and returns the agent events it
    /// completed. An oversized SSE line or event is dropped and reported as
    /// one `"invalid"` event; decoding goes on.
    ///
    /// The chunk arrives as a slice: wasm-bindgen copies it straight into
    /// wasm memory, with no call back into JS for its length or its bytes.
    #[wasm_bindgen(unchecked_return_type = "AgentEventLite[]")]
    pub fn push(&mut self, chunk: &[u8]) -> Array {
        self.inner.push(chunk);
        let (ascii, wide, table) = (self.inner.ascii(), self.inner.wide(), self.inner.table());
        let events = if table.is_empty() {
            Array::new()
        } else {
            nemo_agent_build(
                ascii.as_ptr(),
                ascii.len(),
                wide.as_ptr(),
                wide.len(),
                table.as_ptr(),
                table.len(),
            )
        };
        // Once JS has read the buffers: do not pin the memory of one
        // unusually large chunk forever.
        self.inner.shrink(1 << 20);
        events
    }

    /// Ends the stream (an unterminated last event is discarded, per the
    /// SSE spec); the decoder is then ready for a new stream.
    pub fn finish(&mut self) {
        self.inner.finish();
    }
}
