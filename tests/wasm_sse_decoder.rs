//! The JavaScript-facing `SseDecoder`, driven through real JS values
//! (`Uint8Array` in, plain objects out) in Node and in a browser.
//!
//! Node: `wasm-pack test --node`. Browser (the runner picks the mode from
//! this env var, since the file does not pin one):
//! `WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use nemo_video::wasm::sse_decoder::{SseDecoder, SseDecoderOptions};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const STREAMING: &[u8] = include_bytes!("fixtures/adk/run_sse_streaming.sse");

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).expect("readable property")
}

fn has(obj: &JsValue, key: &str) -> bool {
    Reflect::has(obj, &JsValue::from_str(key)).expect("an object")
}

fn string(obj: &JsValue, key: &str) -> String {
    get(obj, key).as_string().expect("a string")
}

fn push(decoder: &mut SseDecoder, bytes: &[u8]) -> Array {
    decoder.push(bytes).expect("push succeeds")
}

fn options(pairs: &[(&str, JsValue)]) -> SseDecoderOptions {
    let obj = Object::new();
    for (k, v) in pairs {
        Reflect::set(&obj, &JsValue::from_str(k), v).expect("set");
    }
    obj.unchecked_into()
}

#[wasm_bindgen_test]
fn events_are_plain_objects_with_spec_fields() {
    let mut d = SseDecoder::new(None).expect("default options");
    let events = push(&mut d, b"data: a\ndata: b\n\nevent: custom\nid: 7\nretry: 1500\ndata: \xC3\xA9\xF0\x9F\x8E\xAC\n\n");
    assert_eq!(events.length(), 2);

    let first = events.get(0);
    assert_eq!(string(&first, "type"), "message");
    assert_eq!(string(&first, "data"), "a\nb");
    assert!(!has(&first, "id"), "id omitted when empty");
    assert!(!has(&first, "retry"), "retry omitted when none");

    let second = events.get(1);
    assert_eq!(string(&second, "type"), "custom");
    assert_eq!(string(&second, "data"), "é🎬");
    assert_eq!(string(&second, "id"), "7");
    assert_eq!(get(&second, "retry").as_f64(), Some(1500.0));

    assert_eq!(d.last_event_id(), "7");
    assert_eq!(d.retry(), Some(1500.0));
    assert_eq!(d.finish().length(), 0);
}

#[wasm_bindgen_test]
fn retry_is_the_specs_integer_beyond_32_bits() {
    // The reconnection time is the field's integer; it crosses to JS exactly
    // up to Number.MAX_SAFE_INTEGER, and saturates there (a wait that long
    // means never).
    let mut d = SseDecoder::new(None).expect("ok");
    let events = push(
        &mut d,
        b"retry: 4294967296\ndata: a\n\nretry: 9007199254740991\ndata: b\n\nretry: 99999999999999999999999\ndata: c\n\n",
    );
    assert_eq!(get(&events.get(0), "retry").as_f64(), Some(4_294_967_296.0));
    assert_eq!(
        get(&events.get(1), "retry").as_f64(),
        Some(9_007_199_254_740_991.0)
    );
    assert_eq!(
        get(&events.get(2), "retry").as_f64(),
        Some(9_007_199_254_740_991.0)
    );
    assert_eq!(d.retry(), Some(9_007_199_254_740_991.0));
}

#[wasm_bindgen_test]
fn slicing_handles_non_bmp_text_between_fields() {
    // Astral characters are two UTF-16 units; a wrong length would shift
    // every later field of the batch.
    let mut d = SseDecoder::new(None).expect("ok");
    let events = push(
        &mut d,
        "event: 𝄞x\nid: 🎬\ndata: 😀😀\n\ndata: plain\n\n".as_bytes(),
    );
    assert_eq!(events.length(), 2);
    assert_eq!(string(&events.get(0), "type"), "𝄞x");
    assert_eq!(string(&events.get(0), "data"), "😀😀");
    assert_eq!(string(&events.get(0), "id"), "🎬");
    assert_eq!(string(&events.get(1), "data"), "plain");
    assert_eq!(string(&events.get(1), "id"), "🎬");
}

#[wasm_bindgen_test]
fn text_keeps_a_leading_bom_and_bad_bytes_become_replacement_characters() {
    // The ASCII strings and the others travel in two buffers; a string that
    // begins with U+FEFF must keep it (a UTF-16 decoder drops a leading one
    // unless told not to, which would shift every later slice).
    let mut d = SseDecoder::new(None).expect("ok");
    let events = push(
        &mut d,
        b"data: \xEF\xBB\xBFbom\n\nevent: \xFF\ndata: a\xFFb\xE4\xB8\n\ndata: \xE4\xB8\xAD\n\ndata: end\n\n",
    );
    assert_eq!(events.length(), 4);
    assert_eq!(string(&events.get(0), "data"), "\u{FEFF}bom");
    assert_eq!(string(&events.get(1), "type"), "\u{FFFD}");
    assert_eq!(string(&events.get(1), "data"), "a\u{FFFD}b\u{FFFD}");
    assert_eq!(string(&events.get(2), "data"), "中");
    assert_eq!(string(&events.get(3), "data"), "end");
}

#[wasm_bindgen_test]
fn from_js_a_view_into_a_larger_buffer_is_read_from_its_offset() {
    // What an app does: `decoder.push(chunk)` from JS with a Uint8Array that
    // is a view into a larger buffer.
    let decoder = JsValue::from(SseDecoder::new(None).expect("ok"));
    let buffer = Uint8Array::from(&b"xxxxdata: \xE4\xB8\xAD!\n\nid: 1\ndata: b\n\nyyyy"[..]);
    let chunk = buffer.subarray(4, buffer.length() - 4);
    let push: Function = get(&decoder, "push").dyn_into().expect("a method");
    let events: Array = push
        .call1(&decoder, &chunk)
        .expect("push succeeds")
        .dyn_into()
        .expect("an array");
    assert_eq!(events.length(), 2);
    assert_eq!(string(&events.get(0), "data"), "中!");
    assert_eq!(string(&events.get(1), "data"), "b");
    assert_eq!(string(&events.get(1), "id"), "1");
    assert_eq!(
        get(&decoder, "lastEventId").as_string().as_deref(),
        Some("1")
    );
}

#[wasm_bindgen_test]
fn a_chunk_of_more_than_a_megabyte_keeps_every_string() {
    // The buffers are released after a push this large; not before JS has
    // read them.
    let mut d = SseDecoder::new(None).expect("ok");
    let mut input = Vec::new();
    for i in 0..40_000 {
        input.extend_from_slice(format!("data: event {i} 你好 and some more text\n\n").as_bytes());
    }
    assert!(input.len() > 1 << 20);
    let events = push(&mut d, &input);
    assert_eq!(events.length(), 40_000);
    assert_eq!(
        string(&events.get(39_999), "data"),
        "event 39999 你好 and some more text"
    );
    assert_eq!(
        string(&push(&mut d, b"data: small\n\n").get(0), "data"),
        "small"
    );
}

#[wasm_bindgen_test]
fn chunking_does_not_matter() {
    let mut whole = SseDecoder::new(None).expect("ok");
    let expected = push(&mut whole, STREAMING);
    assert_eq!(expected.length(), 15);

    let mut bytewise = SseDecoder::new(None).expect("ok");
    let got = Array::new();
    for b in STREAMING.chunks(7) {
        for e in push(&mut bytewise, b).iter() {
            got.push(&e);
        }
    }
    assert_eq!(got.length(), expected.length());
    for i in 0..got.length() {
        assert_eq!(
            string(&got.get(i), "data"),
            string(&expected.get(i), "data")
        );
    }
    // A partial chunk completes nothing and returns an empty array.
    assert_eq!(push(&mut bytewise, b"data: half").length(), 0);
    assert_eq!(bytewise.finish().length(), 0);
}

#[wasm_bindgen_test]
fn oversized_event_throws_a_protocol_error_carrying_the_other_events() {
    let opts = options(&[("maxEventBytes", JsValue::from_f64(8.0))]);
    let mut d = SseDecoder::new(Some(opts)).expect("ok");
    let err = d
        .push(b"data:ok\n\ndata: far too long\n\ndata:ok2\n\n")
        .expect_err("over the limit");
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(string(&err, "kind"), "protocol");
    let events: Array = get(&err, "events").dyn_into().expect("an array");
    assert_eq!(events.length(), 2);
    assert_eq!(string(&events.get(1), "data"), "ok2");
    // The decoder keeps going.
    assert_eq!(push(&mut d, b"data:nxt\n\n").length(), 1);
}

#[wasm_bindgen_test]
fn bad_options_throw_invalid_input() {
    for bad in [
        JsValue::from_f64(-1.0),
        JsValue::from_f64(1.5),
        JsValue::from_str("8"),
    ] {
        let err = SseDecoder::new(Some(options(&[("maxEventBytes", bad)])))
            .err()
            .expect("rejected");
        assert_eq!(string(&err, "kind"), "invalid_input");
    }
    let err = SseDecoder::new(Some(options(&[("onComment", JsValue::from_f64(1.0))])))
        .err()
        .expect("rejected");
    assert_eq!(string(&err, "kind"), "invalid_input");
}

#[wasm_bindgen_test]
fn comments_go_to_on_comment_not_to_the_events() {
    let seen = Array::new();
    let on_comment = Function::new_with_args("c", "this.push(c)").bind0(&seen);
    let mut d = SseDecoder::new(Some(options(&[("onComment", on_comment.into())]))).expect("ok");
    let events = push(&mut d, b": ping\n\ndata: x\n\n:keepalive\n");
    assert_eq!(events.length(), 1);
    assert_eq!(seen.length(), 2);
    assert_eq!(seen.get(0).as_string().as_deref(), Some("ping"));
    assert_eq!(seen.get(1).as_string().as_deref(), Some("keepalive"));
}

#[wasm_bindgen_test]
fn finish_resets_for_a_reconnection_keeping_the_id() {
    let mut d = SseDecoder::new(None).expect("ok");
    push(&mut d, b"id: 41\ndata: a\n\nid: 42\ndata: cut mid-ev");
    assert_eq!(d.finish().length(), 0);
    assert_eq!(d.last_event_id(), "41");
    let events = push(&mut d, b"\xEF\xBB\xBFdata: resumed\n\n");
    assert_eq!(string(&events.get(0), "data"), "resumed");
    assert_eq!(string(&events.get(0), "id"), "41");
}
