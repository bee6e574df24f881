//! Fuzzes the small JSON reader/writer (`core::json`) and the redaction of
//! error messages (`core::error::redact`).
//!
//! Checked for every input: no panic (deep nesting is an error, not a stack
//! overflow); a parsed value written with `to_json` parses back to an equal
//! value and writes the same text again; the writer's output contains no raw
//! control characters, U+2028 or U+2029; `redact` never lets `nmv_` through
//! and is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nemo_video::core::error::redact;
use nemo_video::core::json;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        // Invalid UTF-8 only reaches the parser after lossy decoding.
        let lossy = String::from_utf8_lossy(input);
        let _ = json::parse(&lossy);
        return;
    };
    if let Ok(v) = json::parse(text) {
        let out = v.to_json();
        let back = json::parse(&out).expect("to_json wrote invalid JSON");
        assert_eq!(back, v, "round trip changed the value");
        assert_eq!(back.to_json(), out, "to_json is not stable");
        assert!(
            !out.chars()
                .any(|c| c < '\u{20}' || c == '\u{2028}' || c == '\u{2029}'),
            "unescaped control character in output"
        );
        let owned = v.clone().into_owned();
        assert_eq!(owned, v);
    }
    let r = redact(text);
    assert!(!r.contains("nmv_"), "redact let a token through: {r:?}");
    assert_eq!(redact(&r), r, "redact is not idempotent");
});
