//! The JavaScript-facing `AgentDecoder`: SSE bytes in, plain
//! `{kind, text, partial, name, error}` objects out, in Node and a browser
//! (see wasm_sse_decoder.rs for how each runner is picked).
#![cfg(target_arch = "wasm32")]

mod common_wasm;

use common_wasm::*;
use js_sys::{Array, Function, Object, Uint8Array};
use nemo_video::wasm::agent_decoder::AgentDecoder;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

const STREAMING: &[u8] = include_bytes!("fixtures/adk/run_sse_streaming.sse");
const ERROR_MIDSTREAM: &[u8] = include_bytes!("fixtures/adk/run_sse_error_midstream.sse");

/// One event as `kind|text|partial|name|error`, `-` for `undefined`.
fn row(ev: &JsValue) -> String {
    let keys: Vec<String> = Object::keys(&Object::from(ev.clone()))
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    assert_eq!(
        keys,
        ["kind", "text", "partial", "name", "error"],
        "one shape for every event"
    );
    let opt = |k: &str| get(ev, k).as_string().unwrap_or_else(|| "-".into());
    format!(
        "{}|{}|{}|{}|{}",
        s(ev, "kind"),
        opt("text"),
        b(ev, "partial"),
        opt("name"),
        opt("error")
    )
}

fn decode(bytes: &[u8], chunk: usize) -> Vec<String> {
    let mut d = AgentDecoder::new();
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk) {
        let events: Array = d.push(piece);
        out.extend(events.iter().map(|e| row(&e)));
    }
    d.finish();
    out
}

#[wasm_bindgen_test]
fn kinds_texts_and_flags() {
    let input = "data: {\"content\":{\"parts\":[{\"text\":\"Hi \u{2600}\u{fe0f} \u{1d11e} 你好\"}]},\"partial\":true}\n\n\
        data: {\"content\":{\"parts\":[{\"text\":\"plan\",\"thought\":true},{\"functionCall\":{\"name\":\"generate_video\",\"args\":{}}}]}}\n\n\
        data: {\"content\":{\"parts\":[{\"functionResponse\":{\"name\":\"generate_video\",\"response\":{}}}]},\"actions\":{\"stateDelta\":{\"k\":1}}}\n\n\
        : keep-alive\n\n\
        data: \n\n\
        data: {\"error\":\"quota \\\"exceeded\\\"\"}\n\n\
        data: not json\n\n\
        data: {\"content\":{\"parts\":[{\"text\":\"caf\\u00e9\"},{\"text\":\"ok\\n\"}]}}\n\n\
        data: {\"content\":{\"parts\":[{\"text\":\"after\"}]}}\n\n";
    let rows = decode(input.as_bytes(), 4096);
    assert_eq!(rows.len(), 11, "{rows:?}");
    assert_eq!(rows[0], "text|Hi \u{2600}\u{fe0f} \u{1d11e} 你好|true|-|-");
    assert_eq!(rows[1], "thought|plan|false|-|-");
    assert_eq!(rows[2], "tool_call|-|false|generate_video|-");
    assert_eq!(rows[3], "tool_result|-|false|generate_video|-");
    assert_eq!(rows[4], "state_delta|-|false|-|-");
    assert_eq!(rows[5], "heartbeat|-|false|-|-");
    assert_eq!(rows[6], "error|-|false|-|quota \"exceeded\"");
    assert!(rows[7].starts_with("invalid|-|false|-|"), "{}", rows[7]);
    assert!(rows[7].contains("not valid JSON"), "{}", rows[7]);
    // ASCII and non-ASCII strings travel in two buffers; each row still
    // gets its own, in order.
    assert_eq!(rows[8], "text|caf\u{e9}|false|-|-");
    assert_eq!(rows[9], "text|ok\n|false|-|-");
    assert_eq!(rows[10], "text|after|false|-|-");
}

#[wasm_bindgen_test]
fn a_text_that_begins_with_a_bom_keeps_it() {
    // The first string of the UTF-16 buffer: a decoder that drops a leading
    // U+FEFF would lose it and shift the next one.
    let input =
        "data: {\"content\":{\"parts\":[{\"text\":\"\u{feff}x\"},{\"text\":\"中文\"}]}}\n\n";
    let rows = decode(input.as_bytes(), 4096);
    assert_eq!(rows, ["text|\u{feff}x|false|-|-", "text|中文|false|-|-"]);
}

#[wasm_bindgen_test]
fn from_js_a_view_into_a_larger_buffer_is_read_from_its_offset() {
    let decoder = JsValue::from(AgentDecoder::new());
    let buffer = Uint8Array::from(
        "xxdata: {\"content\":{\"parts\":[{\"text\":\"中文\"},{\"text\":\"ok\"}]}}\n\nyy"
            .as_bytes(),
    );
    let chunk = buffer.subarray(2, buffer.length() - 2);
    let push: Function = get(&decoder, "push").dyn_into().expect("a method");
    let events: Array = push
        .call1(&decoder, &chunk)
        .expect("push succeeds")
        .dyn_into()
        .expect("an array");
    let rows: Vec<String> = events.iter().map(|e| row(&e)).collect();
    assert_eq!(rows, ["text|中文|false|-|-", "text|ok|false|-|-"]);
}

#[wasm_bindgen_test]
fn a_chunk_of_more_than_a_megabyte_keeps_every_string() {
    // The buffers are released after a push this large; not before JS has
    // read them.
    let mut input = String::new();
    for i in 0..20_000 {
        input.push_str(&format!(
            "data: {{\"content\":{{\"parts\":[{{\"text\":\"text {i} 你好, and more\"}}]}}}}\n\n"
        ));
    }
    assert!(input.len() > 1 << 20);
    let rows = decode(input.as_bytes(), input.len());
    assert_eq!(rows.len(), 20_000);
    assert_eq!(rows[19_999], "text|text 19999 你好, and more|false|-|-");
}

#[wasm_bindgen_test]
fn chunk_boundaries_never_matter() {
    for fixture in [STREAMING, ERROR_MIDSTREAM] {
        let whole = decode(fixture, fixture.len());
        assert!(!whole.is_empty());
        for size in [1, 3, 64, 1000] {
            assert_eq!(decode(fixture, size), whole, "chunks of {size}");
        }
    }
}

#[wasm_bindgen_test]
fn an_unterminated_last_event_is_discarded() {
    let rows = decode(b"data: {\"content\":{\"parts\":[{\"text\":\"cut\"}]}}\n", 7);
    assert!(rows.is_empty(), "{rows:?}");
}
