//! Fuzzes the SSE decoder: arbitrary bytes, arbitrary chunkings, arbitrary
//! limits. Checks that it never panics, that chunking never changes what it
//! decodes (compared with a one-shot decode and a byte-at-a-time decode),
//! that output stays bounded by the input and the limit, and that with no
//! limit in play it agrees with a literal, whole-stream reading of the spec.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nemo_video::core::sse::{SseConfig, SseDecoder, SseItem};
use nemo_video::core::sse_reference;

/// Everything observable about one decode.
#[derive(Debug, PartialEq)]
struct Outcome {
    items: Vec<SseItem>,
    any_error: bool,
    last_event_id: String,
    retry: Option<u64>,
}

fn run<'a>(cfg: SseConfig, chunks: impl Iterator<Item = &'a [u8]>) -> Outcome {
    let mut d = SseDecoder::new(cfg);
    let mut items = Vec::new();
    let mut any_error = false;
    for c in chunks {
        any_error |= d.push(c, &mut items).is_err();
    }
    any_error |= d.finish(&mut items).is_err();
    Outcome {
        items,
        any_error,
        last_event_id: d.last_event_id().to_owned(),
        retry: d.retry(),
    }
}

/// Chunk lengths from a tiny xorshift PRNG, including empty chunks.
fn chunks(bytes: &[u8], seed: u32) -> Vec<&[u8]> {
    let mut state = seed | 1;
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state % 9) as usize; // 0..=8
        let n = n.min(rest.len());
        let (a, b) = rest.split_at(n);
        out.push(a);
        rest = b;
    }
    out
}

/// The literal whole-stream transcription of WHATWG HTML §9.2.6.
fn reference(bytes: &[u8]) -> Outcome {
    let (items, last_event_id, retry) = sse_reference::reference(bytes);
    Outcome {
        items,
        any_error: false,
        last_event_id,
        retry,
    }
}

fuzz_target!(|input: &[u8]| {
    let [limit, s0, s1, bytes @ ..] = input else {
        return;
    };
    // Limit byte 255 means the default (16 MiB, never hit here); anything
    // else is a tiny limit so that overflows are exercised constantly.
    let cfg = if *limit == 255 {
        SseConfig::default()
    } else {
        SseConfig {
            max_event_bytes: usize::from(*limit % 64),
        }
    };
    let seed = u32::from(*s0) << 8 | u32::from(*s1);

    let whole = run(cfg, std::iter::once(bytes));
    let chunked = run(cfg, chunks(bytes, seed).into_iter());
    let singles = run(cfg, bytes.chunks(1));
    assert_eq!(whole, chunked, "chunking changed the outcome");
    assert_eq!(whole, singles, "byte-at-a-time changed the outcome");

    // Bounded output: at most one item per line end, and no item larger
    // than the input (×3: one bad byte may become a 3-byte U+FFFD).
    let line_ends = bytes.iter().filter(|&&b| b == b'\r' || b == b'\n').count();
    assert!(whole.items.len() <= line_ends);
    for item in &whole.items {
        match item {
            SseItem::Event(e) => {
                assert!(e.data.len() <= 3 * cfg.max_event_bytes.min(bytes.len()));
                assert!(e.event_type.len() <= 3 * bytes.len().max(3));
            }
            SseItem::Comment(c) => assert!(c.len() <= 3 * bytes.len()),
        }
    }

    if *limit == 255 {
        assert_eq!(whole, reference(bytes), "disagrees with the spec reading");
    }
});
