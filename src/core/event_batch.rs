//! An agent stream decoded chunk by chunk into a compact batch: SSE framing
//! ([`crate::core::sse`]) and the event scan ([`crate::core::events::scan`])
//! in one pass, keeping only the few fields a chat client reads.
//!
//! # Why a packed batch
//!
//! The wasm `AgentDecoder` hands each chunk's events to JavaScript. Crossing
//! the boundary once per field (or building each object from wasm) costs
//! more than the decoding itself, so a batch is flat buffers instead: the
//! events' ASCII strings back to back as bytes, the other strings back to
//! back as UTF-16, and a table of two numbers per event (kind and
//! flags, then the UTF-16 length of its text). JS decodes each buffer once
//! and slices it; see `src/wasm/agent_decoder.rs`. The native benchmark
//! ceiling runs this very code.
//!
//! The decoder itself is [`nemo_decode::batch`], so that all of it is built
//! at the decode crate's opt-level 3; this module gives it the client's
//! wording for its rare rows (an event that is not valid is the client's
//! protocol error; an agent error that is not a string is compact JSON).
//! The two string buffers and why there are two: [`nemo_decode::packed`].

use crate::core::error::Error;
use crate::core::events::{self, ErrorText};
use crate::core::sse::SseConfig;
use nemo_decode::batch::{AgentBatch, Wording};
use nemo_decode::DecodeError;

pub use nemo_decode::batch::kind;

/// The client's wording of the rare rows.
const WORDING: Wording = Wording {
    invalid: invalid_message,
    stream_error: stream_error_message,
};

fn invalid_message(e: &DecodeError) -> String {
    Error::from(e.clone()).message().to_owned()
}

fn stream_error_message(message: ErrorText<'_>) -> String {
    events::error_message(message)
}

/// Decodes an agent's `text/event-stream` body chunk by chunk into
/// [`ascii`](Self::ascii), [`wide`](Self::wide) and [`table`](Self::table). Chunk boundaries never
/// matter.
#[derive(Debug)]
pub struct BatchDecoder(AgentBatch);

impl Default for BatchDecoder {
    fn default() -> Self {
        BatchDecoder::new(SseConfig::default())
    }
}

impl BatchDecoder {
    /// A decoder at the start of a stream.
    pub fn new(cfg: SseConfig) -> Self {
        BatchDecoder(AgentBatch::new(cfg, WORDING))
    }

    /// Decodes one chunk, replacing the batch with the events it completed.
    /// An oversized SSE line or event, or data that is not an agent event,
    /// becomes one [`kind::INVALID`] row; decoding goes on.
    pub fn push(&mut self, chunk: &[u8]) {
        self.0.push(chunk);
    }

    /// Ends the stream: an unterminated last event is discarded, per the SSE
    /// spec, and the decoder is ready for a new stream.
    pub fn finish(&mut self) {
        self.0.finish();
    }

    /// The all-ASCII strings of the last push's events, back to back.
    pub fn ascii(&self) -> &[u8] {
        self.0.ascii()
    }

    /// The other strings of the last push's events (those with a non-ASCII
    /// character, flagged [`kind::WIDE`]), back to back, as UTF-16LE (two bytes a unit).
    pub fn wide(&self) -> &[u8] {
        self.0.wide()
    }

    /// Two numbers per event of the last push: kind and flags (see
    /// [`kind`]), then the length of its string in UTF-16 code units (what
    /// JavaScript's `String#slice` counts), in [`wide`](Self::wide) when
    /// flagged [`kind::WIDE`], else in [`ascii`](Self::ascii).
    pub fn table(&self) -> &[u32] {
        self.0.table()
    }

    /// Releases buffers that one large chunk grew past `limit` bytes.
    pub fn shrink(&mut self, limit: usize) {
        self.0.shrink(limit);
    }

    /// The last push's rows unpacked, as `(kind, partial, string)`: what JS
    /// makes of them, for the unit tests and the `event_batch` fuzz target.
    /// Panics if the table does not cut the buffers exactly.
    pub fn unpacked_rows(&self) -> Vec<(u32, bool, String)> {
        self.0.unpacked_rows()
    }
}

/// The reference for the batch: what [`events::decode`] makes of one
/// event's data, as `(kind, partial, string)` rows, with an invalid event as
/// one [`kind::INVALID`] row whose message is left out (it names a byte
/// position, which may differ where U+FFFD replaced bad bytes). For the unit
/// tests and the `event_batch` fuzz target.
#[cfg(any(test, feature = "spec-oracle"))]
pub fn reference_rows(data: &str) -> Vec<(u32, bool, String)> {
    use crate::core::events::AgentEvent;
    match events::decode(data) {
        Err(_) => vec![(kind::INVALID, false, String::new())],
        Ok(evs) => evs
            .into_iter()
            // The batch has no row for a saved file (artifact delta).
            .filter_map(|e| {
                Some(match e {
                    AgentEvent::Text { text, partial, .. } => (kind::TEXT, partial, text),
                    AgentEvent::Thought { text, partial } => (kind::THOUGHT, partial, text),
                    AgentEvent::ToolCall { name, .. } => (kind::TOOL_CALL, false, name),
                    AgentEvent::ToolResult { name, .. } => (kind::TOOL_RESULT, false, name),
                    AgentEvent::StateDelta { .. } => (kind::STATE_DELTA, false, String::new()),
                    AgentEvent::Heartbeat => (kind::HEARTBEAT, false, String::new()),
                    AgentEvent::StreamError { message, .. } => (kind::ERROR, false, message),
                    AgentEvent::ArtifactDelta { .. } => return None,
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::sse::{SseDecoder, SseItemRef};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/adk");

    /// The rows of a batch, unpacked: (kind, partial, string).
    fn rows(d: &BatchDecoder) -> Vec<(u32, bool, String)> {
        d.unpacked_rows()
    }

    /// What the full decoder makes of the same data, as rows.
    fn expected(data: &str) -> Vec<(u32, bool, String)> {
        reference_rows(data)
    }

    fn batch_of(data: &str) -> Vec<(u32, bool, String)> {
        let mut d = BatchDecoder::default();
        let mut sse = String::from("data: ");
        sse.push_str(data);
        sse.push_str("\n\n");
        d.push(sse.as_bytes());
        let mut got = rows(&d);
        // An invalid event's message is checked elsewhere; compare kinds.
        for r in &mut got {
            if r.0 == kind::INVALID {
                r.2.clear();
            }
        }
        got
    }

    const CASES: &[&str] = &[
        r#"{"content":{"parts":[{"text":"Hi ☀️ 𝄞"}]},"partial":true,"author":"a"}"#,
        r#"{"content":{"parts":[{"text":"think","thought":true},{"text":"say"}]},"partial":true}"#,
        r#"{"content":{"parts":[{"functionCall":{"name":"generate_video","args":{"a":[1,2]}}},{"functionResponse":{"name":"gen","response":{"ok":true}}}]}}"#,
        r#"{"content":{"parts":[{"text":"a\"b\\n\u00e9\ud83d\ude00\ud800x"}]}}"#,
        r#"{"actions":{"stateDelta":{"k":1}},"error":{"code":5},"error_details":{"x":1}}"#,
        r#"{"actions":{"stateDelta":{}}}"#,
        r#"{"errorCode":"SAFETY"}"#,
        r#"{"errorMessage":"blocked","errorCode":"SAFETY"}"#,
        r#"{"error":"quota \"exceeded\""}"#,
        r#"{"type":"text","content":"typed","partial":true,"author":"x"}"#,
        r#"{"type":"thinking","text":"hmm"}"#,
        r#"{"type":"tool_call","name":"n","args":{}}"#,
        r#"{"type":"tool_result","name":"n"}"#,
        r#"{"type":"error","message":"boom"}"#,
        r#"{"type":"error","error":[1,"x"]}"#,
        r#"{"type":"heartbeat"}"#,
        r#"{"type":"new_kind","content":{"parts":[{"text":"ignored"}]}}"#,
        r#"{"\u0074ype":"text","\u0074ext":"escaped keys"}"#,
        "",
        "   ",
        "[1]",
        r#"{"content":{"parts":[{"text":"x"}]},"partial":tru}"#,
        r#"{"content":{"parts":[{"text":"x"}]}} trailing"#,
        r#"{"content":{"parts":[{"text":"bad \x escape"}]}}"#,
    ];

    #[test]
    fn rows_match_the_full_decoder() {
        for data in CASES {
            assert_eq!(batch_of(data), expected(data), "for {data}");
        }
    }

    #[test]
    fn fixtures_match_the_full_decoder_whatever_the_chunking() {
        for name in [
            "run_sse_basic",
            "run_sse_streaming",
            "run_sse_error_midstream",
        ] {
            let bytes = std::fs::read(format!("{FIXTURES}/{name}.sse")).unwrap();
            let mut want = Vec::new();
            let mut sse = SseDecoder::default();
            sse.push_with(&bytes, |item| {
                if let SseItemRef::Event(ev) = item {
                    want.extend(expected(ev.data));
                }
            })
            .unwrap();
            assert!(!want.is_empty(), "{name} has events");
            for size in [1, 7, 64, 4096] {
                let mut d = BatchDecoder::default();
                let mut got = Vec::new();
                for chunk in bytes.chunks(size) {
                    d.push(chunk);
                    got.extend(rows(&d));
                }
                assert_eq!(got, want, "{name} in chunks of {size}");
            }
        }
    }

    #[test]
    fn oversized_events_become_one_invalid_row_and_decoding_goes_on() {
        let mut d = BatchDecoder::new(SseConfig {
            max_event_bytes: 16,
        });
        d.push(b"data: {\"content\":{\"parts\":[{\"text\":\"far too long\"}]}}\n\ndata: \n\n");
        // The overflow is reported once the chunk is done, after the events
        // the chunk completed.
        let got = rows(&d);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (kind::HEARTBEAT, false, String::new()));
        assert_eq!(got[1].0, kind::INVALID);
        assert!(got[1].2.contains("16 bytes"));
    }

    #[test]
    fn a_rolled_back_event_leaves_no_text_behind() {
        let mut d = BatchDecoder::default();
        d.push(
            b"data: {\"content\":{\"parts\":[{\"text\":\"kept\"}]}}\n\n\
              data: {\"content\":{\"parts\":[{\"text\":\"dropped\"}]},\"x\":}\n\n\
              data: {\"content\":{\"parts\":[{\"text\":\"after\"}]}}\n\n",
        );
        let got = rows(&d);
        assert_eq!(got[0], (kind::TEXT, false, "kept".into()));
        assert_eq!(got[1].0, kind::INVALID);
        assert!(!got[1].2.contains("dropped"));
        assert_eq!(got[2], (kind::TEXT, false, "after".into()));
    }

    #[test]
    fn non_ascii_strings_go_to_the_wide_buffer_as_utf16() {
        let mut d = BatchDecoder::default();
        d.push(
            "data: {\"content\":{\"parts\":[{\"text\":\"plain\"},{\"text\":\"你好 😀\"}]}}\n\n\
             data: {\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"t\\u00e9\"}}]}}\n\n\
             data: {\"content\":{\"parts\":[{\"text\":\"é gone\"}]},\"x\":}\n\n\
             data: {\"content\":{\"parts\":[{\"text\":\"end\"}]}}\n\n"
                .as_bytes(),
        );
        let wide: Vec<bool> = d
            .table()
            .chunks_exact(2)
            .map(|r| r[0] & kind::WIDE != 0)
            .collect();
        assert_eq!(wide, [false, true, true, false, false]);
        // The invalid row's message (ASCII) sits between them.
        assert!(d.ascii().starts_with(b"plainThe server") && d.ascii().ends_with(b"end"));
        assert_eq!(
            String::from_utf16(&nemo_decode::packed::units(d.wide())).unwrap(),
            "你好 😀té"
        );
        // 😀 is two UTF-16 units: the table counts units, not characters.
        assert_eq!(d.table()[3], 5);
        let got = rows(&d);
        assert_eq!(got[1], (kind::TEXT, false, "你好 😀".into()));
        assert_eq!(got[2], (kind::TOOL_CALL, false, "té".into()));
        assert_eq!(got[3].0, kind::INVALID);
    }

    #[test]
    fn invalid_utf8_is_replaced_where_it_is_read_and_ignored_where_skipped() {
        let mut d = BatchDecoder::default();
        d.push(b"data: {\"content\":{\"parts\":[{\"text\":\"a\xffb\\n\xe4\xb8\"}]}}\n\n");
        d.push(b"data: {\"id\":\"\xc3\",\"content\":{\"parts\":[{\"text\":\"ok\"}]}}\n\n");
        let skipped = rows(&d);
        d.push(b"data: {\"content\":\xff}\n\n");
        let broken = rows(&d);
        d.push(b"data: {\"content\":{\"parts\":[{\"text\":\"a\xffb\\n\xe4\xb8\"}]}}\n\n");
        assert_eq!(
            rows(&d),
            vec![(kind::TEXT, false, "a\u{FFFD}b\n\u{FFFD}".into())]
        );
        assert_eq!(skipped, vec![(kind::TEXT, false, "ok".into())]);
        assert_eq!(broken.len(), 1);
        assert_eq!(broken[0].0, kind::INVALID);
    }
}
