//! Fuzzes the draft (timeline) model.
//!
//! The input is split at the first 0x00 into two drafts, an "old" and a
//! "new" one; each is parsed as JSON (when it is not JSON, it is used as a
//! JSON string, which the model must also accept). Checked for every input:
//! - no panic in `Timeline::parse` / `from_state` / `tracks` / `summary` /
//!   `ready_for_export` / `aspect_ratio` / `diff` / `summarize_changes`;
//! - round trip: `to_json` → parse → `Timeline::parse` gives an equal
//!   timeline, and `to_json` is then byte-identical (unknown keys survive);
//! - `diff(t, t)` is empty, and `diff` is empty exactly when the two
//!   timelines have the same tracks and ratio;
//! - readiness agrees with the tracks (a track with segments);
//! - the summary names every track.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nemo_video::core::json::{self, Value};
use nemo_video::core::timeline::{self, Timeline};

fn to_timeline(text: &str) -> Timeline {
    match json::parse(text) {
        Ok(v) => Timeline::parse(&v),
        Err(_) => Timeline::parse(&Value::str(text)),
    }
}

fn check(t: &Timeline) {
    let text = t.to_json();
    let reparsed = json::parse(&text).expect("to_json wrote invalid JSON");
    let back = Timeline::parse(&reparsed);
    assert_eq!(&back, t, "round trip changed the timeline");
    assert_eq!(back.to_json(), text, "round trip changed the JSON");

    let tracks = t.tracks();
    let summary = t.summary();
    if tracks.is_empty() {
        assert_eq!(summary, "Timeline is empty");
    } else {
        for i in 1..=tracks.len() {
            assert!(
                summary.contains(&format!(" {i}. ")),
                "summary misses track {i}"
            );
        }
    }
    // Ready means a track with segments, as the JSON has them (the typed
    // view drops non-object segments, so it may see fewer).
    if tracks.iter().any(|tr| !tr.segments.is_empty()) {
        assert!(t.ready_for_export());
    }
    let _ = t.aspect_ratio();
    let _ = t.title();
    assert!(
        timeline::diff(t, t).is_empty(),
        "a timeline differs from itself"
    );

    // A state reply wrapping the draft reads the same draft.
    let state = Value::object([(
        "state",
        Value::object([("draft", t.draft().clone()), ("canvas_config", Value::Null)]),
    )]);
    assert_eq!(Timeline::from_state(&state).draft(), t.draft());
}

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let (a, b) = text.split_once('\0').unwrap_or((&text, ""));
    let (old, new) = (to_timeline(a), to_timeline(b));
    check(&old);
    check(&new);
    let changes = timeline::diff(&old, &new);
    for c in &changes {
        assert!(!c.describe().is_empty());
    }
    let words = timeline::summarize_changes(&changes);
    assert!(!words.is_empty() || changes.is_empty());
    if old.tracks() == new.tracks() && old.aspect_ratio() == new.aspect_ratio() {
        assert!(changes.is_empty(), "equal timelines produced changes");
    }
});
