//! Fuzzes the packed batch decoder (what the wasm `AgentDecoder` runs)
//! against the reference path: `SseDecoder::push_with` (which decodes UTF-8
//! first) then `events::decode` on each event's data.
//!
//! The first input byte picks the chunk size; the rest is the stream, any
//! bytes at all (invalid UTF-8 included: the batch path skips that check
//! and replaces bad bytes only inside the strings it reads). Checked: no
//! panic, and the same rows in the same order: kind, partial flag and
//! string; for an invalid event the kind only (its message names a byte
//! position, which may differ where U+FFFD replaced bad bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nemo_video::core::event_batch::{kind, reference_rows, BatchDecoder};
use nemo_video::core::sse::{SseConfig, SseDecoder, SseItemRef};

type Row = (u32, bool, String);

fn reference(stream: &[u8], cfg: SseConfig) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut sse = SseDecoder::new(cfg);
    let overflow = sse
        .push_with(stream, |item| {
            if let SseItemRef::Event(ev) = item {
                rows.extend(reference_rows(ev.data));
            }
        })
        .is_err();
    if overflow {
        rows.push((kind::INVALID, false, String::new()));
    }
    rows
}

fuzz_target!(|input: &[u8]| {
    let Some((&seed, stream)) = input.split_first() else {
        return;
    };
    // Small limits now and then, so the overflow path is fuzzed too. An
    // overflow is reported at the end of the push that hit it, so with the
    // small limit the batch also gets the stream in one push, as the
    // reference does.
    let cfg = SseConfig {
        max_event_bytes: if seed & 0x80 != 0 { 64 } else { 16 << 20 },
    };
    let chunk = usize::from(seed & 0x7f).max(1);
    let want = reference(stream, cfg);

    let mut batch = BatchDecoder::new(cfg);
    let mut got: Vec<Row> = Vec::new();
    for piece in stream.chunks(if seed & 0x80 != 0 {
        stream.len().max(1)
    } else {
        chunk
    }) {
        batch.push(piece);
        // Panics unless the table cuts both buffers exactly.
        got.extend(batch.unpacked_rows().into_iter().map(|(k, partial, s)| {
            (k, partial, if k == kind::INVALID { String::new() } else { s })
        }));
    }
    assert_eq!(got, want, "batch and reference disagree");
});
