//! The native ceiling for the SSE decode benchmark (`make bench`, see
//! bench/README.md): the core SSE decoder plus the agent-event decoder, the
//! same code the wasm client runs, compiled natively.
//!
//! ```text
//! cargo run --release --example bench_sse -- FILE [REPS] [CHUNK...]
//! ```
//!
//! Prints one JSON object: for each chunk size, the seconds of each run of
//! the full decode (framing + agent events) and of framing alone, plus the
//! counts used to check that every contender saw the same events.

use std::time::Instant;

use nemo_video::core::event_batch::{kind, BatchDecoder};
use nemo_video::core::sse::{SseConfig, SseDecoder, SseItemRef};

#[derive(Default)]
struct Counts {
    events: u64,
    texts: u64,
    text_units: u64,
}

fn decode(bytes: &[u8], chunk: usize, agent: bool) -> Counts {
    let mut c = Counts::default();
    if agent {
        // Exactly what the wasm `AgentDecoder` runs, minus the JS objects.
        let mut d = BatchDecoder::new(SseConfig::default());
        for piece in bytes.chunks(chunk) {
            d.push(piece);
            for row in d.table().chunks_exact(2) {
                c.events += 1;
                if row[0] & 7 <= kind::THOUGHT {
                    c.texts += 1;
                    c.text_units += u64::from(row[1]);
                }
            }
        }
        return c;
    }
    let mut sse = SseDecoder::new(SseConfig::default());
    for piece in bytes.chunks(chunk) {
        let r = sse.push_with(piece, |item| {
            if let SseItemRef::Event(_) = item {
                c.events += 1;
            }
        });
        r.expect("the benchmark stream is valid");
    }
    c
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .expect("usage: bench_sse FILE [REPS] [CHUNK...]");
    let reps: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let mut chunks: Vec<usize> = args.iter().skip(2).filter_map(|s| s.parse().ok()).collect();
    if chunks.is_empty() {
        chunks = vec![1024, 16 * 1024, 64 * 1024];
    }
    let bytes = std::fs::read(path).expect("read the stream file");
    let mut rows = Vec::new();
    for &chunk in &chunks {
        for (mode, agent) in [("agent", true), ("framing", false)] {
            let mut secs = Vec::new();
            let mut counts = Counts::default();
            for _ in 0..reps {
                let t = Instant::now();
                counts = decode(&bytes, chunk, agent);
                secs.push(t.elapsed().as_secs_f64());
            }
            let secs: Vec<String> = secs.iter().map(|s| format!("{s:.6}")).collect();
            rows.push(format!(
                "{{\"chunk\":{chunk},\"mode\":\"{mode}\",\"secs\":[{}],\"events\":{},\"texts\":{},\"textUnits\":{}}}",
                secs.join(","),
                counts.events,
                counts.texts,
                counts.text_units
            ));
        }
    }
    println!(
        "{{\"bytes\":{},\"runs\":[{}]}}",
        bytes.len(),
        rows.join(",")
    );
}
