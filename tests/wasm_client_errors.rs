//! Every error code of the protocol, as the JS API surfaces it (or recovers
//! from it), against a running emulator. See `wasm_client_flows.rs` for how
//! to run.
#![cfg(target_arch = "wasm32")]

mod common_wasm;

use common_wasm::*;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

/// `global.requests` now (this stats call included).
async fn requests() -> f64 {
    global_stat(&stats().await, "requests")
}

#[wasm_bindgen_test]
async fn code_1001_is_recovered_transparently() {
    setup(100).await;
    let (client, session) = fresh_session().await;
    let user = js_sys::Reflect::get(&client, &"userId".into()).unwrap();
    let before = stats().await;
    fault(r#"{"endpoint":"credits","kind":"expire_token"}"#).await;
    let c = ok(call(&client, "credits", &[JsValue::UNDEFINED]), "credits").await;
    assert_eq!(n(&c, "available"), 100.0, "the caller never saw the 1001");
    fault(r#"{"endpoint":"run_sse","kind":"expire_token"}"#).await;
    let (_, r) = send_ok(&session, "echo: still here").await;
    assert_eq!(s(&r, "text"), "still here");
    let after = stats().await;
    assert_eq!(
        fired(&after, "expire_token") - fired(&before, "expire_token"),
        2.0
    );
    // The emulator really expired the token each time: one new token per
    // expiry (shared by whatever waited on it), for the same identity.
    assert_eq!(
        global_stat(&after, "tokens_issued") - global_stat(&before, "tokens_issued"),
        2.0,
        "one re-authentication per expiry"
    );
    assert_eq!(
        js_sys::Reflect::get(&client, &"userId".into()).unwrap(),
        user,
        "the same client id kept its identity"
    );
    assert_eq!(pending_faults().await, 0);
    assert_no_double_charge(&after);
}

#[wasm_bindgen_test]
async fn code_1001_with_an_integrators_token_is_reported() {
    setup(100).await;
    let client = new_client_with(&client_options(
        &random_id(),
        &[("token", js("nmv_usr_not_a_real_token"))],
    ));
    let issued = global_stat(&stats().await, "tokens_issued");
    let e = err(call(&client, "credits", &[JsValue::UNDEFINED]), "credits").await;
    assert_kind(&e, "token_expired");
    assert_eq!(n(&e, "code"), 1001.0);
    assert_eq!(
        global_stat(&stats().await, "tokens_issued"),
        issued,
        "a given token is not swapped for an anonymous one"
    );
}

#[wasm_bindgen_test]
async fn code_1002_is_session_not_found() {
    setup(100).await;
    let (client, _) = new_client();
    let gone = call(
        &client,
        "session",
        &[js("sess_does_not_exist"), js("task_x")],
    );
    let e = err(
        call(&gone, "state", &[JsValue::UNDEFINED]),
        "state of a missing session",
    )
    .await;
    assert_kind(&e, "session_not_found");
    assert_eq!(n(&e, "code"), 1002.0);
    assert_eq!(s(&get(&e, "recovery"), "action"), "new_session");
    let (_, e) = send_err(&gone, "add title Nowhere").await;
    assert_kind(&e, "session_not_found");
    // `instanceof SessionNotFoundError` and `instanceof NemoError` hold.
    let classes = nemo_video::wasm::error_classes();
    for name in ["SessionNotFoundError", "NemoError"] {
        let proto: js_sys::Object = get(&get(&classes, name), "prototype").unchecked_into();
        assert!(proto.is_prototype_of(&e), "the error is a {name}");
    }
}

#[wasm_bindgen_test]
async fn code_2001_out_of_credits_links_to_registration() {
    setup(100).await;
    let (client, session) = fresh_session().await;
    generate_text_clip(&session).await;
    let user_id = s(&client, "userId");
    let (_, e) = send_err(&session, "generate a video of a desert road with an orbit").await;
    assert_kind(&e, "out_of_credits");
    assert_eq!(n(&e, "code"), 2001.0);
    let rec = get(&e, "recovery");
    assert_eq!(s(&rec, "action"), "register");
    let url = s(&rec, "url");
    assert!(
        url.contains(&format!("register?bind={user_id}")),
        "the link binds this anonymous user: {url}"
    );
    let st = stats().await;
    let ss = session_stats(&st, &sid(&session));
    assert_eq!(n(&ss, "turns_run"), 1.0, "the refused turn never ran");
    assert_no_double_charge(&st);
}

#[wasm_bindgen_test]
async fn code_4001_is_rejected_locally_without_a_request() {
    setup(100).await;
    let (_client, session) = fresh_session().await;
    let before = requests().await;
    let text = Uint8Array::from(&b"just some notes, not a video"[..]);
    let e = err(
        call(
            &session,
            "upload",
            &[text.into(), obj(&[("filename", js("notes.txt"))])],
        ),
        "upload of a .txt",
    )
    .await;
    assert_kind(&e, "unsupported_file");
    let accepted = strings(&get(&get(&e, "recovery"), "accepted"));
    for ext in ["mp4", "png", "jpg", "mp3"] {
        assert!(accepted.contains(&ext.to_string()), "{ext} in {accepted:?}");
    }
    // A .png name does not make text a PNG: the magic bytes are checked too.
    let fake = Uint8Array::from(&b"GIF? no: plain text pretending"[..]);
    let e = err(
        call(
            &session,
            "upload",
            &[fake.into(), obj(&[("filename", js("photo.png"))])],
        ),
        "upload of a fake .png",
    )
    .await;
    assert_kind(&e, "unsupported_file");
    // One good file and one bad one: nothing is sent at all.
    let both = Array::of2(&png_js(1), &Uint8Array::from(&b"nope"[..]));
    let e = err(
        call(
            &session,
            "upload",
            &[
                both.into(),
                obj(&[("filenames", Array::of2(&js("a.png"), &js("b.exe")).into())]),
            ],
        ),
        "upload of a mixed batch",
    )
    .await;
    assert_kind(&e, "unsupported_file");
    assert_eq!(
        requests().await,
        before + 1.0,
        "no request reached the server between the two stats calls"
    );
}

#[wasm_bindgen_test]
async fn code_4001_from_the_server() {
    setup(100).await;
    let (_client, session) = fresh_session().await;
    // A URL passes the local checks; the server fetches it and finds JSON.
    let url = format!("{}/__emulator/health", emu());
    let e = err(
        call(&session, "upload", &[js(&url), JsValue::UNDEFINED]),
        "URL upload",
    )
    .await;
    assert_kind(&e, "unsupported_file");
    assert_eq!(n(&e, "code"), 4001.0);
    assert_eq!(s(&get(&e, "recovery"), "action"), "choose_supported_file");
}

#[wasm_bindgen_test]
async fn code_4002_is_checked_locally_without_reading_the_file() {
    setup(100).await;
    let (_client, session) = fresh_session().await;
    // 201 MiB as a Blob of 201 references to one 1 MiB Blob: nothing of it
    // is allocated in wasm memory (and the JS engine shares the part).
    let mib = Uint8Array::new_with_length(1 << 20);
    mib.subarray(0, 8).copy_from(b"\x89PNG\r\n\x1a\n");
    let part = web_sys::Blob::new_with_u8_array_sequence(&Array::of1(&mib)).unwrap();
    let parts: Array = (0..201).map(|_| JsValue::from(part.clone())).collect();
    let big = web_sys::Blob::new_with_blob_sequence(&parts).unwrap();
    assert_eq!(big.size(), 201.0 * 1024.0 * 1024.0);
    let before = requests().await;
    let e = err(
        call(
            &session,
            "upload",
            &[big.into(), obj(&[("filename", js("huge.png"))])],
        ),
        "upload of 201 MiB",
    )
    .await;
    assert_kind(&e, "file_too_large");
    let rec = get(&e, "recovery");
    assert_eq!(s(&rec, "action"), "compress_or_trim");
    assert!(n(&rec, "limitBytes") >= 200.0 * 1000.0 * 1000.0);
    assert!(n(&rec, "limitBytes") < 201.0 * 1024.0 * 1024.0);
    assert_eq!(requests().await, before + 1.0, "nothing was sent");
}

#[wasm_bindgen_test]
async fn http_402_export_blocked_without_attribution() {
    setup(100).await;
    let client = new_client_with(&client_options(
        &random_id(),
        &[("attribution", obj(&[("source", js(""))]))],
    ));
    let session = create_session(&client, JsValue::UNDEFINED).await;
    generate_text_clip(&session).await;
    let missing = global_stat(&stats().await, "missing_attribution");
    let job = call(&session, "export", &[JsValue::UNDEFINED]);
    let e = err(get(&job, "result"), "export without attribution").await;
    assert_kind(&e, "export_blocked");
    assert_eq!(n(&e, "status"), 402.0);
    let msg = s(&e, "message");
    assert!(msg.contains("not a credit problem"), "{msg}");
    let st = stats().await;
    assert!(global_stat(&st, "missing_attribution") > missing);
    assert_eq!(n(&session_stats(&st, &sid(&session)), "renders"), 0.0);
}

#[wasm_bindgen_test]
async fn http_429_is_retried_once_after_the_scaled_wait() {
    setup(100).await;
    let (client, _session) = fresh_session().await;
    fault(r#"{"endpoint":"credits","kind":"rate_limit"}"#).await;
    let t0 = now();
    let c = ok(
        call(&client, "credits", &[JsValue::UNDEFINED]),
        "credits after one 429",
    )
    .await;
    let waited = now() - t0;
    assert_eq!(n(&c, "available"), 100.0);
    assert!(waited >= 29.0, "waited the scaled 30 s (30 ms): {waited}");
    assert_eq!(pending_faults().await, 0, "the 429 was consumed");

    fault(r#"{"endpoint":"credits","kind":"rate_limit","count":2}"#).await;
    let e = err(
        call(&client, "credits", &[JsValue::UNDEFINED]),
        "credits after two 429s",
    )
    .await;
    assert_kind(&e, "rate_limited");
    assert_eq!(n(&e, "status"), 429.0);
    let rec = get(&e, "recovery");
    assert_eq!(s(&rec, "action"), "retry_after");
    assert!(n(&rec, "waitMs") > 0.0);
    assert_eq!(pending_faults().await, 0, "exactly two attempts were made");
}

#[wasm_bindgen_test]
async fn invalid_input_never_reaches_the_server() {
    setup(100).await;
    let (_client, session) = fresh_session().await;
    let before = requests().await;
    let (_, e) = send_err(&session, "   ").await;
    assert_kind(&e, "invalid_input");
    let e = err(
        call(
            &session,
            "upload",
            &[js("ftp://example.com/a.mp4"), JsValue::UNDEFINED],
        ),
        "ftp",
    )
    .await;
    assert_kind(&e, "invalid_input");
    let bad = match nemo_video::wasm::NemoClient::js_new(client_options("bad id with spaces", &[]))
    {
        Ok(_) => panic!("a client id with spaces is refused"),
        Err(e) => e,
    };
    assert_kind(&bad, "invalid_input");
    assert_eq!(requests().await, before + 1.0);
}

#[wasm_bindgen_test]
async fn a_failed_turn_ends_the_same_way_for_for_await_and_on_event() {
    // One behaviour everywhere: the failure is not an event. `for await`
    // throws it, `result` rejects with it, and `onEvent` sees exactly the
    // events the iterator yielded (no `error`, no `done`).
    setup(1000).await;
    let (_, session) = fresh_session().await;
    let seen = Array::new();
    let sink = seen.clone();
    let on_event = Closure::<dyn Fn(JsValue)>::new(move |ev: JsValue| {
        sink.push(&ev);
    });
    let opts = obj(&[("onEvent", on_event.as_ref().clone())]);
    let turn = call(
        &session,
        "send",
        &[js("fail: the render farm is down"), opts],
    );
    let d = drain(&turn).await;
    let thrown = d.error.clone().expect("for await throws the failure");
    let rejected = wait(get(&turn, "result"))
        .await
        .expect_err("result rejects");
    assert_eq!(s(&thrown, "kind"), s(&rejected, "kind"));
    assert_eq!(s(&thrown, "message"), s(&rejected, "message"));
    assert!(
        s(&thrown, "message").contains("the render farm is down"),
        "{}",
        show(&thrown)
    );
    let from_callback: Vec<String> = seen.iter().map(|e| s(&e, "type")).collect();
    assert_eq!(
        from_callback,
        d.types(),
        "onEvent saw what the iterator yielded"
    );
    assert!(!from_callback.iter().any(|t| t == "error" || t == "done"));
    drop(on_event);
}
