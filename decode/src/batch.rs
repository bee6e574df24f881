//! An agent stream decoded chunk by chunk into a compact batch for
//! JavaScript: SSE framing ([`crate::sse`]) and the event scan
//! ([`crate::scan`]) in one pass, keeping only the few fields a chat client
//! reads. The client's `core::event_batch` (the wasm `AgentDecoder`) is this,
//! with the client's wording for the rare error rows.
//!
//! # Why a packed batch
//!
//! Crossing the wasm/JS boundary once per field (or building each object
//! from wasm) costs more than the decoding itself, so a batch is flat
//! buffers instead: the events' ASCII strings back to back as bytes, the
//! other strings back to back as UTF-16 ([`crate::packed`] says why two),
//! and a table of two numbers per event (kind and flags, then the UTF-16
//! length of its string). JS decodes each buffer once and slices it.
//!
//! # Why it lives in this crate
//!
//! Generic code is compiled in the crate that instantiates it. While the
//! sink lived in the client, the SSE decoder's data-only path was
//! instantiated there too, and all of it (framing, the sink, the row
//! packing) was built at the client's `opt-level = "z"`. Here every hot
//! function is built at opt-level 3; the client only supplies the wording.

use crate::error::DecodeError;
use crate::packed::{Packed, PackedTexts};
use crate::scan::{self, ErrorDetails, ErrorText, EventSink, JsonStr, Mark, ToolPart};
use crate::sse::{RawEmit, RawEvent, SseConfig, SseDecoder};

/// Row kinds (the low three bits of a row's first number).
pub mod kind {
    /// Text for the user.
    pub const TEXT: u32 = 0;
    /// The model's reasoning.
    pub const THOUGHT: u32 = 1;
    /// A tool call; the row's string is the tool name.
    pub const TOOL_CALL: u32 = 2;
    /// A tool result; the row's string is the tool name.
    pub const TOOL_RESULT: u32 = 3;
    /// The session state changed; no string.
    pub const STATE_DELTA: u32 = 4;
    /// A keep-alive; no string.
    pub const HEARTBEAT: u32 = 5;
    /// The agent reported a failure; the string is its message.
    pub const ERROR: u32 = 6;
    /// The event was not a valid agent event; the string says why.
    pub const INVALID: u32 = 7;
    /// Flag bit: a text or thought is a streaming delta.
    pub const PARTIAL: u32 = 8;
    /// Flag bit: the row's string is in [`wide`](super::AgentBatch::wide)
    /// (it has a non-ASCII character), not in
    /// [`ascii`](super::AgentBatch::ascii).
    pub const WIDE: u32 = 16;
}

/// How the two rare kinds of row read: an event that could not be decoded
/// ([`kind::INVALID`]) and an agent's failure whose message is not a string
/// ([`kind::ERROR`]). The client supplies its own (its protocol error's
/// message, its compact JSON); [`Wording::PLAIN`] is this crate's.
#[derive(Clone, Copy, Debug)]
pub struct Wording {
    /// The message of an [`kind::INVALID`] row.
    pub invalid: fn(&DecodeError) -> String,
    /// The message of an [`kind::ERROR`] row.
    pub stream_error: fn(ErrorText<'_>) -> String,
}

impl Wording {
    /// The decode error's own message; an error value that is not a string
    /// as the server wrote it.
    pub const PLAIN: Wording = Wording {
        invalid: DecodeError::message,
        stream_error: plain_stream_error,
    };
}

fn plain_stream_error(message: ErrorText<'_>) -> String {
    match (message.text(), message) {
        (Some(text), _) => text.into_owned(),
        (None, ErrorText::Value(span)) => String::from_utf8_lossy(span).into_owned(),
        (None, _) => String::new(),
    }
}

/// Decodes an agent's `text/event-stream` body chunk by chunk into
/// [`ascii`](Self::ascii), [`wide`](Self::wide) and [`table`](Self::table).
/// Chunk boundaries never matter.
#[derive(Debug)]
pub struct AgentBatch {
    sse: SseDecoder,
    batch: Batch,
}

impl AgentBatch {
    /// A decoder at the start of a stream, its rare rows worded by `wording`.
    pub fn new(cfg: SseConfig, wording: Wording) -> Self {
        AgentBatch {
            sse: SseDecoder::data_only(cfg),
            batch: Batch {
                texts: PackedTexts::default(),
                table: Vec::new(),
                wording,
            },
        }
    }

    /// Decodes one chunk, replacing the batch with the events it completed.
    /// An oversized SSE line or event, or data that is not an agent event,
    /// becomes one [`kind::INVALID`] row; decoding goes on.
    pub fn push(&mut self, chunk: &[u8]) {
        self.batch.clear();
        let result = self.sse.push_raw(chunk, &mut Events(&mut self.batch));
        if let Err(e) = result {
            self.batch.invalid(&e);
        }
    }

    /// Ends the stream: an unterminated last event is discarded, per the SSE
    /// spec, and the decoder is ready for a new stream.
    pub fn finish(&mut self) {
        self.sse.end();
        self.batch.clear();
    }

    /// The all-ASCII strings of the last push's events, back to back.
    pub fn ascii(&self) -> &[u8] {
        self.batch.texts.ascii()
    }

    /// The other strings of the last push's events (those with a non-ASCII
    /// character, flagged [`kind::WIDE`]), back to back, as UTF-16LE (two bytes a unit).
    pub fn wide(&self) -> &[u8] {
        self.batch.texts.wide()
    }

    /// Two numbers per event of the last push: kind and flags (see
    /// [`kind`]), then the length of its string in UTF-16 code units (what
    /// JavaScript's `String#slice` counts), in [`wide`](Self::wide) when
    /// flagged [`kind::WIDE`], else in [`ascii`](Self::ascii).
    pub fn table(&self) -> &[u32] {
        &self.batch.table
    }

    /// Releases buffers that one large chunk grew past `limit` bytes.
    pub fn shrink(&mut self, limit: usize) {
        self.batch.texts.shrink(limit);
        if self.batch.table.capacity() * 4 > limit {
            self.batch.table = Vec::new();
        }
    }

    /// The last push's rows unpacked, as `(kind, partial, string)`: what JS
    /// makes of them, for the unit tests and the `event_batch` fuzz target.
    /// Panics if the table does not cut the buffers exactly.
    pub fn unpacked_rows(&self) -> Vec<(u32, bool, String)> {
        let mut cut = crate::packed::Cutter::new(self.ascii(), self.wide());
        let rows = self
            .table()
            .chunks_exact(2)
            .map(|row| {
                let s = cut.next(row[1], row[0] & kind::WIDE != 0);
                (row[0] & 7, row[0] & kind::PARTIAL != 0, s)
            })
            .collect();
        cut.assert_done();
        rows
    }
}

/// What the SSE decoder hands each event's data to: the scan, into the
/// batch. Comments are keep-alives and yield nothing.
struct Events<'b>(&'b mut Batch);

impl RawEmit for Events<'_> {
    fn comment(&mut self, _text: &[u8]) {}

    fn event(&mut self, event: RawEvent<'_>) {
        if let Err(e) = scan::scan(event.data, self.0) {
            self.0.invalid(&e);
        }
    }

    fn whole_event(&mut self, rest: &[u8]) -> Option<usize> {
        scan::scan_line(rest, self.0)
    }
}

/// The sink: the packed rows of one push.
#[derive(Debug)]
struct Batch {
    texts: PackedTexts,
    table: Vec<u32>,
    wording: Wording,
}

impl Batch {
    fn clear(&mut self) {
        self.texts.clear();
        self.table.clear();
    }

    /// Appends a row whose string went where `packed` says.
    #[inline(always)]
    fn close_row(&mut self, flags: u32, packed: Packed) {
        let wide = if packed.wide { kind::WIDE } else { 0 };
        self.table.extend_from_slice(&[flags | wide, packed.units]);
    }

    fn row(&mut self, flags: u32, s: &str) {
        let packed = self.texts.push_str(s);
        self.close_row(flags, packed);
    }

    #[cold]
    fn invalid(&mut self, e: &DecodeError) {
        let message = (self.wording.invalid)(e);
        self.row(kind::INVALID, &message);
    }
}

impl<'a> EventSink<'a> for Batch {
    fn mark(&self) -> Mark {
        let (bytes, wide) = self.texts.lens();
        Mark {
            events: self.table.len() / 2,
            bytes,
            wide,
        }
    }

    fn rollback(&mut self, to: Mark) {
        self.table.truncate(to.events * 2);
        self.texts.truncate((to.bytes, to.wide));
    }

    fn text(&mut self, text: JsonStr<'a>, thought: bool) {
        let packed = self.texts.push_json(text);
        self.close_row(if thought { kind::THOUGHT } else { kind::TEXT }, packed);
    }

    fn tool(&mut self, tool: ToolPart<'a>) {
        let packed = match tool.name {
            Some(name) => self.texts.push_json(name),
            None => Packed {
                units: 0,
                wide: false,
            },
        };
        let k = if tool.result {
            kind::TOOL_RESULT
        } else {
            kind::TOOL_CALL
        };
        self.close_row(k, packed);
    }

    fn state_delta(&mut self, _delta: &'a [u8]) {
        self.close_row(
            kind::STATE_DELTA,
            Packed {
                units: 0,
                wide: false,
            },
        );
    }

    fn stream_error(&mut self, message: ErrorText<'a>, _details: Option<ErrorDetails<'a>>) {
        let message = (self.wording.stream_error)(message);
        self.row(kind::ERROR, &message);
    }

    fn heartbeat(&mut self) {
        self.close_row(
            kind::HEARTBEAT,
            Packed {
                units: 0,
                wide: false,
            },
        );
    }

    fn flags(&mut self, since: Mark, partial: bool, _author: Option<JsonStr<'a>>) {
        if !partial {
            return;
        }
        let rows = self.table.get_mut(since.events * 2..).unwrap_or_default();
        for row in rows.chunks_exact_mut(2) {
            if let Some(flags) = row.first_mut() {
                if *flags & 7 <= kind::THOUGHT {
                    *flags |= kind::PARTIAL;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Row = (u32, bool, String);

    /// The same batch without the fastest path: a plain SSE decoder, and an
    /// emitter that never takes whole events (so each line's end is found
    /// first and the data scanned with `scan`).
    fn general(stream: &[u8], chunk: usize) -> Vec<Row> {
        struct Plain<'b>(&'b mut Batch);
        impl RawEmit for Plain<'_> {
            fn comment(&mut self, _text: &[u8]) {}
            fn event(&mut self, event: RawEvent<'_>) {
                if let Err(e) = scan::scan(event.data, self.0) {
                    self.0.invalid(&e);
                }
            }
        }
        let mut d = AgentBatch::new(SseConfig::default(), Wording::PLAIN);
        d.sse = SseDecoder::new(SseConfig::default());
        let mut rows = Vec::new();
        for piece in stream.chunks(chunk.max(1)) {
            d.batch.clear();
            if let Err(e) = d.sse.push_raw(piece, &mut Plain(&mut d.batch)) {
                d.batch.invalid(&e);
            }
            rows.extend(d.unpacked_rows());
        }
        rows
    }

    fn batched(stream: &[u8], chunk: usize) -> Vec<Row> {
        let mut d = AgentBatch::new(SseConfig::default(), Wording::PLAIN);
        let mut rows = Vec::new();
        for piece in stream.chunks(chunk.max(1)) {
            d.push(piece);
            rows.extend(d.unpacked_rows());
        }
        rows
    }

    #[test]
    fn whole_events_read_from_the_chunk_match_the_general_path() {
        let stream: &[u8] =
            b"data: {\"content\":{\"parts\":[{\"text\":\"a\"}]},\"partial\":true}\n\n\
            data:{\"type\":\"heartbeat\"}\n\n\
            data: {\"content\":\n{\"parts\":[{\"text\":\"cut by a line end\"}]}}\n\n\
            data: {\"content\":{\"parts\":[{\"text\":\"b\"}]}}\r\n\r\n\
            data: {\"content\":{\"parts\":[{\"text\":\"c\"}]}}  \n\n\
            data: {\"content\":{\"parts\":[{\"text\":\"d\"}]}} x\n\n\
            data: {\"content\":{\"parts\":[{\"text\":\"e\"}]}}\nid: 1\n\n\
            data: \n\n\
            data:  \t\n\n\
            data: {\"content\":{\"parts\":[{\"text\":\"f\"}]}}\ndata: {}\n\n";
        let want = general(stream, stream.len());
        assert_eq!(want.len(), 10, "{want:?}");
        for chunk in [1, 2, 5, 16, 64, stream.len()] {
            assert_eq!(batched(stream, chunk), want, "chunks of {chunk}");
        }
    }

    fn fragments() -> impl Strategy<Value = Vec<u8>> {
        let pieces: Vec<&'static [u8]> = vec![
            b"data: ",
            b"data:",
            b"{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"partial\":true}",
            b"{\"type\":\"heartbeat\"}",
            b"{\"type\":\"text\",\"text\":\"t\\n\\u00e9\"}",
            b"\n",
            b"\n\n",
            b"\r",
            b"\r\n",
            b" ",
            b"\t",
            b"{",
            b"}",
            b"\"",
            b"x",
            b": c",
            b"id: 1",
            b"\xe4\xbd\xa0",
            b"\xff",
            b"[1]",
            b",",
            b":",
        ];
        prop::collection::vec(prop::sample::select(pieces), 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_fastest_path_never_changes_the_rows(stream in fragments(), chunk in 1usize..40) {
            let want = general(&stream, stream.len());
            prop_assert_eq!(&batched(&stream, stream.len()), &want);
            prop_assert_eq!(&batched(&stream, chunk), &want);
        }
    }
}
