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
//! decoder ([`crate::core::sse`]) feeds [`crate::core::events::decode_into`],
//! which skips the unread fields without building them. What survives is
//! written into one packed string plus a table of two numbers per event, and
//! JS builds every object of the chunk in one call (one UTF-8 decode), so
//! the boundary is crossed once per chunk, not once per field.
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

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::core::events::{self, AgentEvent};
use crate::core::sse::{SseConfig, SseDecoder as CoreDecoder, SseItemRef};

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

// Row flags: the kind in the low 3 bits, then `partial`.
const TEXT: u32 = 0;
const THOUGHT: u32 = 1;
const TOOL_CALL: u32 = 2;
const TOOL_RESULT: u32 = 3;
const STATE_DELTA: u32 = 4;
const HEARTBEAT: u32 = 5;
const ERROR: u32 = 6;
const INVALID: u32 = 7;
const PARTIAL: u32 = 8;

#[wasm_bindgen(inline_js = r#"
const KINDS = ["text", "thought", "tool_call", "tool_result", "state_delta", "heartbeat", "error", "invalid"];
export function nemo_agent_build(text, table) {
  const n = table.length >> 1;
  const out = new Array(n);
  let at = 0;
  for (let i = 0, row = 0; i < n; i++, row += 2) {
    const flags = table[row];
    const len = table[row + 1];
    const k = flags & 7;
    let s;
    if (len !== 0) {
      s = text.slice(at, at + len);
      at += len;
    }
    out[i] = {
      kind: KINDS[k],
      text: k < 2 ? (s === undefined ? "" : s) : undefined,
      partial: (flags & 8) !== 0,
      name: k === 2 || k === 3 ? (s === undefined ? "" : s) : undefined,
      error: k >= 6 ? (s === undefined ? "" : s) : undefined,
    };
  }
  return out;
}
"#)]
extern "C" {
    /// Turns the packed text and table of one `push` into `AgentEventLite[]`.
    fn nemo_agent_build(text: &str, table: &[u32]) -> Array;
}

/// The JavaScript `AgentDecoder` class: feed it the chunks of an agent's
/// `text/event-stream` body; it returns the agent events each chunk
/// completes. Chunk boundaries never matter.
#[wasm_bindgen]
pub struct AgentDecoder {
    sse: CoreDecoder,
    /// The chunk copied into wasm memory; kept to reuse its allocation.
    bytes: Vec<u8>,
    /// The decoded events of one SSE event; reused.
    events: Vec<AgentEvent>,
    /// Packed strings of the events of one push.
    text: String,
    /// Two numbers per event: flags (kind, partial) and the UTF-16 length
    /// of its one string.
    table: Vec<u32>,
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
        AgentDecoder {
            sse: CoreDecoder::new(SseConfig::default()),
            bytes: Vec::new(),
            events: Vec::new(),
            text: String::new(),
            table: Vec::new(),
        }
    }

    /// Decodes one chunk of the body and returns the agent events it
    /// completed. An oversized SSE line or event is dropped and reported as
    /// one `"invalid"` event; decoding goes on.
    #[wasm_bindgen(unchecked_return_type = "AgentEventLite[]")]
    pub fn push(&mut self, chunk: &Uint8Array) -> Array {
        // Resizing to the chunk's length (not clearing first) zero-fills only
        // when the buffer grows; with steady chunk sizes that is never.
        self.bytes.resize(chunk.length() as usize, 0);
        chunk.copy_to(&mut self.bytes);

        self.text.clear();
        self.table.clear();
        let (text, table, events) = (&mut self.text, &mut self.table, &mut self.events);
        let result = self.sse.push_with(&self.bytes, |item| {
            if let SseItemRef::Event(ev) = item {
                events.clear();
                match events::decode_into(ev.data, events) {
                    Ok(()) => events.iter().for_each(|e| pack(text, table, e)),
                    Err(e) => row(text, table, INVALID, e.message()),
                }
            }
        });
        if let Err(e) = result {
            row(text, table, INVALID, e.message());
        }
        if self.bytes.capacity() > 1 << 20 {
            self.bytes = Vec::new();
        }
        if self.table.is_empty() {
            Array::new()
        } else {
            nemo_agent_build(&self.text, &self.table)
        }
    }

    /// Ends the stream (an unterminated last event is discarded, per the
    /// SSE spec); the decoder is then ready for a new stream.
    pub fn finish(&mut self) {
        let mut discarded = Vec::new();
        let _ = self.sse.finish(&mut discarded);
    }
}

/// Appends one agent event.
fn pack(text: &mut String, table: &mut Vec<u32>, e: &AgentEvent) {
    match e {
        AgentEvent::Text {
            text: t, partial, ..
        } => row(text, table, TEXT | partial_flag(*partial), t),
        AgentEvent::Thought { text: t, partial } => {
            row(text, table, THOUGHT | partial_flag(*partial), t)
        }
        AgentEvent::ToolCall { name, .. } => row(text, table, TOOL_CALL, name),
        AgentEvent::ToolResult { name, .. } => row(text, table, TOOL_RESULT, name),
        AgentEvent::StateDelta { .. } => row(text, table, STATE_DELTA, ""),
        AgentEvent::Heartbeat => row(text, table, HEARTBEAT, ""),
        AgentEvent::StreamError { message, .. } => row(text, table, ERROR, message),
    }
}

fn partial_flag(partial: bool) -> u32 {
    if partial {
        PARTIAL
    } else {
        0
    }
}

/// One table row and its string.
fn row(text: &mut String, table: &mut Vec<u32>, flags: u32, s: &str) {
    text.push_str(s);
    table.push(flags);
    table.push(utf16_len(s));
}

/// The length of `s` in UTF-16 code units: one per character, two for those
/// outside the Basic Multilingual Plane. Counted eight bytes at a time
/// (wasm has no SIMD here): every byte counts one, minus each continuation
/// byte (`10xxxxxx`), plus each 4-byte lead (`11110xxx`).
fn utf16_len(s: &str) -> u32 {
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let b = s.as_bytes();
    let mut units = b.len();
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let Ok(w) = <[u8; 8]>::try_from(w) else {
            break;
        };
        let w = u64::from_le_bytes(w);
        if w & HIGHS == 0 {
            continue; // all ASCII
        }
        // Bit 7 of each byte: set for a continuation byte, for a 4-byte lead.
        let cont = w & !(w << 1) & HIGHS;
        let four = w & (w << 1) & (w << 2) & (w << 3) & !(w << 4) & HIGHS;
        units -= cont.count_ones() as usize;
        units += four.count_ones() as usize;
    }
    for &c in words.remainder() {
        units -= usize::from(c & 0xC0 == 0x80);
        units += usize::from(c >= 0xF0);
    }
    units as u32
}
