//! Every fault the emulator can inject, and aborting a turn, as the JS API
//! lives through them. After each, the emulator's statistics must show that
//! no turn was charged twice. See `wasm_client_flows.rs` for how to run.
#![cfg(target_arch = "wasm32")]

mod common_wasm;

use common_wasm::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

/// Waits until the emulator has no open SSE stream (the reader was released
/// and the connection closed), failing after `ms`.
async fn assert_streams_closed(ms: f64) {
    let t0 = now();
    loop {
        let open = global_stat(&stats().await, "sse_streams_open");
        if open == 0.0 {
            return;
        }
        assert!(
            now() - t0 < ms,
            "{open} SSE stream(s) still open after {ms} ms"
        );
        sleep(20.0).await;
    }
}

#[wasm_bindgen_test]
async fn drop_stream_is_resumed_without_a_second_charge() {
    setup(100).await;
    let (_client, session) = fresh_session().await;
    let before = stats().await;
    fault(r#"{"endpoint":"run_sse","kind":"drop_stream","after_events":3}"#).await;
    let (d, r) = send_ok(&session, "generate a video of a lighthouse in a storm").await;
    assert!(
        d.has("reconnecting"),
        "the client reconnected: {:?}",
        d.types()
    );
    assert_eq!(
        strings(&get(&r, "toolCalls")),
        ["generate_video", "auto_enhance"],
        "the whole turn arrived"
    );
    assert!(s(&r, "text").contains("I also added lo-fi background music"));
    let after = stats().await;
    assert_eq!(
        fired(&after, "drop_stream") - fired(&before, "drop_stream"),
        1.0
    );
    let ss = session_stats(&after, &sid(&session));
    assert_eq!(n(&ss, "turns_run"), 1.0, "the message was never re-sent");
    assert!(
        n(&ss, "turns_resumed") >= 1.0,
        "it was resumed with Last-Event-ID"
    );
    assert_eq!(n(&ss, "turns_charged"), 1.0);
    assert_eq!(n(&ss, "credits_charged"), 100.0);
    assert_no_double_charge(&after);
    assert_streams_closed(3_000.0).await;
}

#[wasm_bindgen_test]
async fn stall_ends_the_turn_with_stream_stalled() {
    setup(100).await;
    let client = new_client_with(&client_options(
        &random_id(),
        &[(
            "timing",
            obj(&[("scale", num(0.001)), ("turnCapMs", num(60_000.0))]),
        )],
    ));
    let session = create_session(&client, JsValue::UNDEFINED).await;
    fault(r#"{"endpoint":"run_sse","kind":"stall","after_events":2}"#).await;
    let t0 = now();
    let (d, e) = send_err(&session, "generate a video of a forest with a pan left").await;
    let took = now() - t0;
    assert_kind(&e, "stream_stalled");
    assert!(d.events.len() >= 2, "the events before the stall arrived");
    // Default 10 min, scaled by 0.001: 600 ms (plus the time to the stall).
    assert!(
        (550.0..8_000.0).contains(&took),
        "stalled after the scaled limit: {took} ms"
    );
    assert_streams_closed(3_000.0).await;
    assert_no_double_charge(&stats().await);
}

#[wasm_bindgen_test]
async fn rate_limit_on_the_stream_is_retried_once() {
    setup(100).await;
    let (_client, session) = fresh_session().await;
    fault(r#"{"endpoint":"run_sse","kind":"rate_limit"}"#).await;
    let (_, r) = send_ok(&session, "echo: after the wait").await;
    assert_eq!(s(&r, "text"), "after the wait");
    fault(r#"{"endpoint":"run_sse","kind":"rate_limit","count":2}"#).await;
    let (_, e) = send_err(&session, "echo: never").await;
    assert_kind(&e, "rate_limited");
    assert_eq!(pending_faults().await, 0);
    let st = stats().await;
    assert_eq!(n(&session_stats(&st, &sid(&session)), "turns_run"), 1.0);
    assert_no_double_charge(&st);
}

#[wasm_bindgen_test]
async fn expire_token_mid_session_is_transparent() {
    setup(1000).await;
    let (_client, session) = fresh_session().await;
    fault(r#"[{"endpoint":"state","kind":"expire_token"},{"endpoint":"run_sse","kind":"expire_token"}]"#).await;
    let r = generate_text_clip(&session).await;
    assert!(b(&r, "stateChanged"));
    assert_eq!(
        pending_faults().await,
        0,
        "both 1001s were met and recovered"
    );
    let st = stats().await;
    let ss = session_stats(&st, &sid(&session));
    assert_eq!(n(&ss, "turns_run"), 1.0);
    assert_eq!(n(&ss, "turns_charged"), 1.0);
    assert_no_double_charge(&st);
}

#[wasm_bindgen_test]
async fn lose_session_surfaces_session_not_found() {
    setup(100).await;
    let (_client, session) = fresh_session().await;
    fault(r#"{"endpoint":"run_sse","kind":"lose_session"}"#).await;
    let (_, e) = send_err(&session, "add title Lost").await;
    assert_kind(&e, "session_not_found");
    assert_eq!(n(&e, "code"), 1002.0);
    fault(r#"{"endpoint":"state","kind":"lose_session"}"#).await;
    let e = err(call(&session, "state", &[JsValue::UNDEFINED]), "state").await;
    assert_kind(&e, "session_not_found");
    assert_no_double_charge(&stats().await);
}

#[wasm_bindgen_test]
async fn html_error_pages_become_plain_protocol_errors() {
    setup(100).await;
    let (client, _) = new_client();
    for (kind, status, title) in [
        ("http_502_html", 502.0, "502 Bad Gateway"),
        ("http_500_html", 500.0, "500 Internal Server Error"),
    ] {
        fault(&format!(r#"{{"endpoint":"session","kind":"{kind}"}}"#)).await;
        let e = err(call(&client, "createSession", &[JsValue::UNDEFINED]), kind).await;
        assert_kind(&e, "protocol");
        assert_eq!(n(&e, "status"), status);
        let msg = s(&e, "message");
        assert!(msg.contains(title), "the page title is kept: {msg}");
        assert!(
            !msg.contains('<') && !msg.contains("nginx") && !msg.contains("cloudflare"),
            "no markup in the message: {msg}"
        );
    }
    // The client still works afterwards.
    create_session(&client, JsValue::UNDEFINED).await;
    assert_no_double_charge(&stats().await);
}

#[wasm_bindgen_test]
async fn malformed_json_is_a_protocol_error_or_skipped_in_a_stream() {
    setup(100).await;
    let (client, session) = fresh_session().await;
    fault(r#"{"endpoint":"credits","kind":"malformed_json"}"#).await;
    let e = err(call(&client, "credits", &[JsValue::UNDEFINED]), "credits").await;
    assert_kind(&e, "protocol");
    assert!(
        s(&e, "message").to_lowercase().contains("json"),
        "{}",
        s(&e, "message")
    );
    // In a stream one broken event must not end a paid turn.
    fault(r#"{"endpoint":"run_sse","kind":"malformed_json","after_events":2}"#).await;
    let (_, r) = send_ok(&session, "generate a video of a snowy street").await;
    assert_eq!(
        strings(&get(&r, "toolCalls")),
        ["generate_video", "auto_enhance"]
    );
    let st = stats().await;
    assert_eq!(n(&session_stats(&st, &sid(&session)), "turns_charged"), 1.0);
    assert_no_double_charge(&st);
}

#[wasm_bindgen_test]
async fn slow_replies_still_succeed() {
    setup(100).await;
    let (_client, session) = fresh_session().await;
    fault(r#"{"endpoint":"state","kind":"slow","ms":400}"#).await;
    let t0 = now();
    let (_, summary) = state(&session).await;
    let took = now() - t0;
    assert_eq!(summary, "Timeline is empty");
    assert!(took >= 390.0, "the reply really was slow: {took} ms");
    fault(r#"{"endpoint":"run_sse","kind":"slow","ms":300}"#).await;
    let (_, r) = send_ok(&session, "echo: slowly").await;
    assert_eq!(s(&r, "text"), "slowly");
    assert_no_double_charge(&stats().await);
}

#[wasm_bindgen_test]
async fn render_fail_once_is_retried_with_a_new_id() {
    setup(100).await;
    let (_client, session) = fresh_session().await;
    generate_text_clip(&session).await;
    let before = stats().await;
    fault(r#"{"endpoint":"export","kind":"render_fail_once"}"#).await;
    let (job, progress) = export_with_progress(&session, &[]);
    let result = ok(get(&job, "result"), "export").await;
    let ids: Vec<String> = progress
        .borrow()
        .iter()
        .filter_map(|p| get(p, "id").as_string())
        .collect();
    let statuses: Vec<String> = progress.borrow().iter().map(|p| s(p, "status")).collect();
    assert!(statuses.contains(&"failed".to_string()), "{statuses:?}");
    assert!(statuses.contains(&"retrying".to_string()), "{statuses:?}");
    let first = ids.first().cloned().unwrap();
    let final_id = s(&result, "id");
    assert_ne!(first, final_id, "the retry used a new render id");
    assert_eq!(
        get(&job, "id").as_string().as_deref(),
        Some(final_id.as_str())
    );
    let blob = ok(call(&job, "download", &[JsValue::UNDEFINED]), "download").await;
    assert_mp4(&blob_bytes(&blob).await);
    let after = stats().await;
    assert_eq!(
        fired(&after, "render_fail_once") - fired(&before, "render_fail_once"),
        1.0
    );
    assert_eq!(n(&session_stats(&after, &sid(&session)), "renders"), 2.0);
    assert_no_double_charge(&after);
}

#[wasm_bindgen_test]
async fn out_of_credits_fault_gives_the_registration_link() {
    setup(100).await;
    let (client, session) = fresh_session().await;
    fault(r#"{"endpoint":"run_sse","kind":"out_of_credits"}"#).await;
    let (_, e) = send_err(&session, "generate a video of a waterfall").await;
    assert_kind(&e, "out_of_credits");
    assert_eq!(n(&e, "code"), 2001.0);
    let url = s(&get(&e, "recovery"), "url");
    let user = s(&client, "userId");
    assert!(url.contains(&format!("register?bind={user}")), "{url}");
    let c = ok(call(&client, "credits", &[JsValue::UNDEFINED]), "credits").await;
    assert_eq!(n(&c, "available"), 100.0, "nothing was reserved or spent");
    assert_no_double_charge(&stats().await);
}

#[wasm_bindgen_test]
async fn abort_signal_mid_stream_releases_the_reader() {
    setup(100).await;
    let (_client, session) = fresh_session().await;
    let controller = web_sys::AbortController::new().unwrap();
    let turn = call(
        &session,
        "send",
        &[
            js("generate a video of a night market"),
            obj(&[("signal", controller.signal().into())]),
        ],
    );
    let first = ok(call(&turn, "next", &[]), "first event").await;
    assert_ne!(get(&first, "done").as_bool(), Some(true));
    controller.abort();
    let d = drain(&turn).await;
    let e = d.error.expect("the iteration ends with the abort");
    assert_kind(&e, "aborted");
    let e2 = err(get(&turn, "result"), "result").await;
    assert_kind(&e2, "aborted");
    assert_streams_closed(3_000.0).await;
    assert!(
        !get(&call(&session, "toJSON", &[]), "turnText").is_string(),
        "an aborted turn leaves no turn to resume"
    );
    assert_no_double_charge(&stats().await);
}

#[wasm_bindgen_test]
async fn breaking_out_of_iteration_aborts_the_turn() {
    setup(100).await;
    let (_client, session) = fresh_session().await;
    let turn = call(
        &session,
        "send",
        &[
            js("generate a video of a mountain lake"),
            JsValue::UNDEFINED,
        ],
    );
    let first = ok(call(&turn, "next", &[]), "first event").await;
    assert_ne!(get(&first, "done").as_bool(), Some(true));
    // What `break` in `for await` calls.
    let ret = ok(call(&turn, "return", &[JsValue::UNDEFINED]), "return()").await;
    assert_eq!(get(&ret, "done").as_bool(), Some(true));
    let next = ok(call(&turn, "next", &[]), "next after return").await;
    assert_eq!(
        get(&next, "done").as_bool(),
        Some(true),
        "the iterator stays finished"
    );
    let e = err(get(&turn, "result"), "result").await;
    assert_kind(&e, "aborted");
    assert_streams_closed(3_000.0).await;
    assert_no_double_charge(&stats().await);
}

#[wasm_bindgen_test]
async fn drop_before_any_event_id_waits_for_the_state_to_change() {
    // No `id:` arrived, so there is nothing to resume: the client polls the
    // state. An unchanged state is not an outcome (the generation is still
    // running); the turn ends once the new clip shows up.
    setup(100).await;
    let (_client, session) = fresh_session().await;
    fault(r#"{"endpoint":"run_sse","kind":"drop_stream","after_events":0}"#).await;
    let (d, r) = send_ok(&session, "generate a video of a red kite over hills").await;
    assert!(
        !d.has("reconnecting"),
        "no ids, so no Last-Event-ID reconnect"
    );
    assert!(
        b(&r, "stateChanged"),
        "the outcome comes from state: {}",
        show(&r)
    );
    let summary = s(&r, "summary");
    assert!(
        summary.to_lowercase().contains("video"),
        "the new clip is described: {summary}"
    );
    assert!(b(&get(&r, "timeline"), "readyForExport"));
    // A generation is final only after its second stage (BGM and a title):
    // the state is steady for a while after the raw clip, and that pause
    // must not pass for the outcome.
    let tl = call(&get(&r, "timeline"), "summary", &[])
        .as_string()
        .unwrap_or_default();
    assert!(
        tl.contains("BGM") && tl.contains("Title"),
        "the outcome waits for both stages: {tl}"
    );
    let st = stats().await;
    let ss = session_stats(&st, &sid(&session));
    assert_eq!(n(&ss, "turns_run"), 1.0, "the message was never re-sent");
    assert_eq!(n(&ss, "turns_resumed"), 0.0);
    assert_no_double_charge(&st);
}

#[wasm_bindgen_test]
async fn credits_honours_a_given_signal_on_the_fast_path() {
    setup(100).await;
    let (client, _session) = fresh_session().await;
    // The token is at hand now, so these take the future-less fast path.
    let live = web_sys::AbortController::new().unwrap();
    let opts = obj(&[("signal", live.signal().into())]);
    let c = ok(call(&client, "credits", &[opts]), "credits, live signal").await;
    assert_eq!(n(&c, "available"), 100.0);
    let c = ok(call(&client, "credits", &[obj(&[])]), "credits, no signal").await;
    assert_eq!(n(&c, "available"), 100.0);
    let before = global_stat(&stats().await, "requests");
    let aborted = web_sys::AbortController::new().unwrap();
    aborted.abort();
    let opts = obj(&[("signal", aborted.signal().into())]);
    let e = err(call(&client, "credits", &[opts]), "credits, aborted signal").await;
    assert_kind(&e, "aborted");
    assert_eq!(
        global_stat(&stats().await, "requests"),
        before + 1.0,
        "an aborted call sends nothing (the one request is this stats call)"
    );
}

// ---- The per-request time limit (timing.requestTimeoutMs) ---------------------

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
export function countedSignal() {
  const controller = new AbortController();
  const signal = controller.signal;
  const live = new Map(); // listener -> added with { once: true }
  const counts = { added: 0, live: () => live.size };
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  // Registered first, so it runs first: once-listeners go when abort fires.
  add('abort', () => { for (const [l, once] of live) if (once) live.delete(l); });
  signal.addEventListener = (type, l, opts) => {
    counts.added++;
    live.set(l, !!(opts && opts.once));
    return add(type, l, opts);
  };
  signal.removeEventListener = (type, l, opts) => {
    live.delete(l);
    return remove(type, l, opts);
  };
  return { controller, signal, counts };
}
"#)]
extern "C" {
    /// `{ controller, signal, counts: { added, live() } }`: a long-lived
    /// signal that counts the listeners added to it and those still on it.
    #[wasm_bindgen(js_name = countedSignal)]
    fn counted_signal() -> JsValue;
}

/// A connected client whose small requests get `limit_ms` each.
async fn client_with_limit(limit_ms: f64) -> JsValue {
    let t = timing();
    js_sys::Reflect::set(&t, &js("requestTimeoutMs"), &num(limit_ms)).unwrap();
    let client = new_client_with(&client_options(&random_id(), &[("timing", t)]));
    ok(call(&client, "connect", &[JsValue::UNDEFINED]), "connect").await;
    client
}

/// Every listener the calls added to `counted`'s signal was removed again.
fn assert_no_listener_left(counted: &JsValue, what: &str) {
    let counts = get(counted, "counts");
    assert!(
        n(&counts, "added") > 0.0,
        "{what}: the calls listened to the signal"
    );
    let live = call(&counts, "live", &[]).as_f64().unwrap_or(-1.0);
    assert_eq!(live, 0.0, "{what}: listeners left on a long-lived signal");
}

#[wasm_bindgen_test]
async fn a_read_that_gets_no_answer_times_out_after_one_resend() {
    setup(100).await;
    let client = client_with_limit(300.0).await;
    let counted = counted_signal();
    let opts = obj(&[("signal", get(&counted, "signal"))]);
    let before = fired(&stats().await, "stall");
    // credits() (the fast path): the GET is sent twice, both hang.
    fault(r#"{"endpoint":"credits","kind":"stall","count":2}"#).await;
    let t0 = now();
    let e = err(
        call(&client, "credits", std::slice::from_ref(&opts)),
        "credits",
    )
    .await;
    let took = now() - t0;
    assert_kind(&e, "timeout");
    assert_eq!(s(&e, "name"), "TimeoutError");
    assert!(
        s(&e, "message").contains("within 300 ms"),
        "the message names the limit: {}",
        s(&e, "message")
    );
    assert_eq!(s(&get(&e, "recovery"), "action"), "retry");
    assert!(took < 10_000.0, "gave up promptly: {took} ms");
    assert_eq!(
        fired(&stats().await, "stall") - before,
        2.0,
        "an idempotent GET is sent once more after a timeout, and only once"
    );
    // One hang only: the re-send answers.
    fault(r#"{"endpoint":"credits","kind":"stall"}"#).await;
    let c = ok(
        call(&client, "credits", std::slice::from_ref(&opts)),
        "credits after one hang",
    )
    .await;
    assert_eq!(n(&c, "available"), 100.0);
    // The same through the general path (a Rust future): state().
    let session = create_session(&client, JsValue::UNDEFINED).await;
    fault(r#"{"endpoint":"state","kind":"stall","count":2}"#).await;
    let e = err(
        call(&session, "state", std::slice::from_ref(&opts)),
        "state",
    )
    .await;
    assert_kind(&e, "timeout");
    assert_eq!(pending_faults().await, 0, "both hangs were met");
    // A slow answer inside the limit is not a timeout.
    fault(r#"{"endpoint":"credits","kind":"stall","ms":50}"#).await;
    ok(
        call(&client, "credits", std::slice::from_ref(&opts)),
        "a slow credits",
    )
    .await;
    // Later calls work; nothing was left on the caller's signal.
    let c = ok(
        call(&client, "credits", std::slice::from_ref(&opts)),
        "credits after",
    )
    .await;
    assert_eq!(n(&c, "available"), 100.0);
    ok(call(&session, "state", &[opts]), "state after").await;
    assert_no_listener_left(&counted, "after timeouts");
}

#[wasm_bindgen_test]
async fn a_post_that_gets_no_answer_is_never_sent_again() {
    setup(100).await;
    let client = client_with_limit(300.0).await;
    let before = fired(&stats().await, "stall");
    fault(r#"{"endpoint":"session","kind":"stall","count":2}"#).await;
    let e = err(
        call(&client, "createSession", &[JsValue::UNDEFINED]),
        "createSession",
    )
    .await;
    assert_kind(&e, "timeout");
    assert_eq!(
        fired(&stats().await, "stall") - before,
        1.0,
        "a POST that may have been processed is not re-sent"
    );
    clear_faults().await;
    create_session(&client, JsValue::UNDEFINED).await;
}

#[wasm_bindgen_test]
async fn a_chat_stream_whose_headers_never_come_times_out() {
    setup(100).await;
    let client = client_with_limit(300.0).await;
    let session = create_session(&client, JsValue::UNDEFINED).await;
    // The emulator holds the request 5 s before it answers at all.
    fault(r#"{"endpoint":"run_sse","kind":"slow","ms":5000}"#).await;
    let t0 = now();
    let turn = call(&session, "send", &[js("echo: anyone there?")]);
    let d = drain(&turn).await;
    let took = now() - t0;
    let e = d.error.expect("the turn ends with an error");
    assert_kind(&e, "timeout");
    assert!(
        s(&e, "message").contains("within 300 ms"),
        "the message names the limit: {}",
        s(&e, "message")
    );
    let e2 = err(get(&turn, "result"), "result").await;
    assert_kind(&e2, "timeout");
    assert!(
        took < 4_000.0,
        "gave up before the server answered: {took} ms"
    );
    // The session still works for the next turn.
    let (_, r) = send_ok(&session, "echo: back").await;
    assert_eq!(s(&r, "text"), "back");
}

#[wasm_bindgen_test]
async fn the_callers_abort_still_wins_over_the_time_limit() {
    setup(100).await;
    let client = client_with_limit(20_000.0).await;
    let counted = counted_signal();
    let opts = obj(&[("signal", get(&counted, "signal"))]);
    fault(r#"{"endpoint":"credits","kind":"stall"}"#).await;
    let p = call(&client, "credits", std::slice::from_ref(&opts));
    sleep(100.0).await;
    call(&get(&counted, "controller"), "abort", &[]);
    let e = err(p, "credits").await;
    assert_kind(&e, "aborted");
    assert_no_listener_left(&counted, "after an abort");
    // The aborted request freed its connection: the next call answers.
    clear_faults().await;
    let c = ok(call(&client, "credits", &[JsValue::UNDEFINED]), "credits").await;
    assert_eq!(n(&c, "available"), 100.0);

    // The shared token request: when its only waiter gives up, it is
    // stopped too (no timer or connection kept for nobody), and the next
    // caller starts a new one instead of joining the abandoned one.
    let t = timing();
    js_sys::Reflect::set(&t, &js("requestTimeoutMs"), &num(20_000.0)).unwrap();
    let fresh = new_client_with(&client_options(&random_id(), &[("timing", t)]));
    let counted = counted_signal();
    let opts = obj(&[("signal", get(&counted, "signal"))]);
    fault(r#"{"endpoint":"token","kind":"stall"}"#).await;
    let p = call(&fresh, "connect", &[opts]);
    sleep(100.0).await;
    call(&get(&counted, "controller"), "abort", &[]);
    assert_kind(&err(p, "connect").await, "aborted");
    assert_no_listener_left(&counted, "after an aborted token wait");
    let t0 = now();
    let info = ok(
        call(&fresh, "connect", &[JsValue::UNDEFINED]),
        "connect again",
    )
    .await;
    assert_eq!(n(&get(&info, "credits"), "available"), 100.0);
    assert!(
        now() - t0 < 10_000.0,
        "the second connect did not wait for the abandoned request"
    );
}

#[wasm_bindgen_test]
async fn a_limit_of_zero_or_infinity_means_none() {
    setup(100).await;
    for limit in [0.0, f64::INFINITY] {
        let client = client_with_limit(limit).await;
        fault(r#"{"endpoint":"credits","kind":"stall","ms":400}"#).await;
        let c = ok(call(&client, "credits", &[JsValue::UNDEFINED]), "credits").await;
        assert_eq!(n(&c, "available"), 100.0, "limit {limit}");
    }
}

// ---- The upload limits (timing.uploadStallMs, then requestTimeoutMs) ----------

type Progress = std::rc::Rc<std::cell::RefCell<Vec<(f64, f64)>>>;

/// An `onProgress` callback that records every `(sent, total)` it gets.
fn progress_recorder() -> (Progress, JsValue) {
    let seen = Progress::default();
    let log = seen.clone();
    let f = wasm_bindgen::closure::Closure::<dyn Fn(f64, f64)>::new(move |a, b| {
        log.borrow_mut().push((a, b))
    });
    (seen, f.into_js_value())
}

/// A `mib` MiB video as far as the client can tell (it starts with an MP4
/// `ftyp` box): a Blob of `mib` references to one 1 MiB part, so nothing is
/// allocated per MiB, yet every byte goes over the wire.
fn big_mp4(mib: u32) -> JsValue {
    use js_sys::{Array, Uint8Array};
    let part = Uint8Array::new_with_length(1 << 20);
    part.subarray(0, 24)
        .copy_from(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2");
    let part = web_sys::Blob::new_with_u8_array_sequence(&Array::of1(&part)).unwrap();
    let parts: Array = (0..mib).map(|_| JsValue::from(part.clone())).collect();
    web_sys::Blob::new_with_blob_sequence(&parts)
        .unwrap()
        .into()
}

/// A connected client whose uploads get `stall_ms` without progress while
/// sending and `reply_ms` for the reply.
async fn upload_client(stall_ms: f64, reply_ms: f64) -> JsValue {
    let t = timing();
    js_sys::Reflect::set(&t, &js("uploadStallMs"), &num(stall_ms)).unwrap();
    js_sys::Reflect::set(&t, &js("requestTimeoutMs"), &num(reply_ms)).unwrap();
    let client = new_client_with(&client_options(&random_id(), &[("timing", t)]));
    ok(call(&client, "connect", &[JsValue::UNDEFINED]), "connect").await;
    client
}

/// Well over what the socket buffers between the client and the emulator
/// hold, so a server that stops reading stops the upload midway.
const BIG_MIB: u32 = 64;

#[wasm_bindgen_test]
async fn an_upload_that_stops_moving_is_stopped_after_the_stall_limit() {
    setup(100).await;
    let client = upload_client(300.0, 2_000.0).await;
    let session = create_session(&client, JsValue::UNDEFINED).await;
    let counted = counted_signal();
    let signal = get(&counted, "signal");
    let st = stats().await;
    let (stalls, uploads) = (fired(&st, "stall"), global_stat(&st, "uploads"));
    // The emulator takes the request and reads none of its body for 4 s:
    // the socket buffers fill, then not a byte moves.
    const HOLD_MS: f64 = 4_000.0;
    fault(r#"{"endpoint":"upload","kind":"stall","ms":4000}"#).await;
    let (progress, on_progress) = progress_recorder();
    let total = f64::from(BIG_MIB) * 1024.0 * 1024.0;
    let t0 = now();
    let e = err(
        call(
            &session,
            "upload",
            &[
                big_mp4(BIG_MIB),
                obj(&[
                    ("filename", js("long_take.mp4")),
                    ("onProgress", on_progress),
                    ("signal", signal.clone()),
                ]),
            ],
        ),
        "a stalled upload",
    )
    .await;
    let took = now() - t0;
    assert_kind(&e, "timeout");
    assert_eq!(s(&e, "name"), "TimeoutError");
    let msg = s(&e, "message");
    assert!(
        msg.contains("made no progress for 300 ms"),
        "the message names the limit: {msg}"
    );
    assert!(msg.contains("Check your connection"), "{msg}");
    assert_eq!(s(&get(&e, "recovery"), "action"), "check_connection");
    assert!(
        took < HOLD_MS,
        "stopped by the stall limit, before the server read on: {took} ms"
    );
    let last = *progress.borrow().last().expect("progress was reported");
    assert!(
        last.0 < total && last.1 == total,
        "the progress stopped partway: {last:?} of {total}"
    );
    assert_eq!(
        fired(&stats().await, "stall") - stalls,
        1.0,
        "an upload is never sent again by itself"
    );
    // When the emulator reads on, the body ends early: the request was
    // really stopped (not left sending in the background), nothing stored.
    sleep(HOLD_MS + 500.0 - (now() - t0)).await;
    let st = stats().await;
    assert_eq!(
        global_stat(&st, "uploads"),
        uploads,
        "the stopped upload never completed"
    );

    // The next upload on the same client works, its progress ends at the
    // file size, and nothing was left on the caller's signal.
    let (progress, on_progress) = progress_recorder();
    let files = ok(
        call(
            &session,
            "upload",
            &[
                png_js(77),
                obj(&[
                    ("filename", js("after_the_stall.png")),
                    ("onProgress", on_progress),
                    ("signal", signal),
                ]),
            ],
        ),
        "an upload after the stall",
    )
    .await;
    assert_eq!(js_sys::Array::from(&files).length(), 1);
    let size = png(96, 64, 77).len() as f64;
    assert_eq!(progress.borrow().last().copied(), Some((size, size)));
    assert_no_listener_left(&counted, "after a stalled upload");
}

#[wasm_bindgen_test]
async fn an_upload_sent_whole_whose_reply_never_comes_times_out_once() {
    setup(100).await;
    let client = upload_client(300.0, 800.0).await;
    let session = create_session(&client, JsValue::UNDEFINED).await;
    let stalls = fired(&stats().await, "stall");
    // A small file fits in the socket buffers: all of it is sent, then
    // the emulator holds the request for 4 s before it answers.
    fault(r#"{"endpoint":"upload","kind":"stall","ms":4000}"#).await;
    let (progress, on_progress) = progress_recorder();
    let t0 = now();
    let e = err(
        call(
            &session,
            "upload",
            &[
                png_js(78),
                obj(&[
                    ("filename", js("no_reply.png")),
                    ("onProgress", on_progress),
                ]),
            ],
        ),
        "an upload without a reply",
    )
    .await;
    let took = now() - t0;
    assert_kind(&e, "timeout");
    let msg = s(&e, "message");
    assert!(
        msg.contains("did not answer the upload within 800 ms"),
        "the message names the reply limit: {msg}"
    );
    assert_eq!(s(&get(&e, "recovery"), "action"), "retry");
    assert!(
        took < 4_000.0,
        "gave up before the server answered: {took} ms"
    );
    let size = png(96, 64, 78).len() as f64;
    assert_eq!(
        progress.borrow().last().copied(),
        Some((size, size)),
        "the whole file was sent"
    );
    assert_eq!(
        fired(&stats().await, "stall") - stalls,
        1.0,
        "an upload that may have arrived is never sent again"
    );
    assert_eq!(pending_faults().await, 0);
}

#[wasm_bindgen_test]
async fn the_callers_abort_still_wins_over_the_upload_limits() {
    setup(100).await;
    let client = upload_client(20_000.0, 20_000.0).await;
    let session = create_session(&client, JsValue::UNDEFINED).await;
    let counted = counted_signal();
    fault(r#"{"endpoint":"upload","kind":"stall","ms":2000}"#).await;
    let p = call(
        &session,
        "upload",
        &[
            big_mp4(BIG_MIB),
            obj(&[
                ("filename", js("cancelled.mp4")),
                ("signal", get(&counted, "signal")),
            ]),
        ],
    );
    sleep(300.0).await;
    call(&get(&counted, "controller"), "abort", &[]);
    let e = err(p, "an aborted upload").await;
    assert_kind(&e, "aborted");
    assert_no_listener_left(&counted, "after an aborted upload");
}

#[wasm_bindgen_test]
async fn an_upload_stall_limit_of_zero_or_infinity_means_none() {
    setup(100).await;
    for limit in [0.0, f64::INFINITY] {
        let client = upload_client(limit, 20_000.0).await;
        let session = create_session(&client, JsValue::UNDEFINED).await;
        // Half a second without a byte moving, then the emulator reads on.
        fault(r#"{"endpoint":"upload","kind":"stall","ms":500}"#).await;
        let files = ok(
            call(
                &session,
                "upload",
                &[big_mp4(16), obj(&[("filename", js("patient.mp4"))])],
            ),
            "an upload that waits out a stall",
        )
        .await;
        assert_eq!(js_sys::Array::from(&files).length(), 1, "limit {limit}");
    }
}

#[wasm_bindgen_test]
async fn a_healthy_upload_is_not_cut_off_and_reports_its_progress() {
    setup(100).await;
    let client = upload_client(1_000.0, 10_000.0).await;
    let session = create_session(&client, JsValue::UNDEFINED).await;
    let (progress, on_progress) = progress_recorder();
    let total = 16.0 * 1024.0 * 1024.0;
    let files = ok(
        call(
            &session,
            "upload",
            &[
                big_mp4(16),
                obj(&[("filename", js("healthy.mp4")), ("onProgress", on_progress)]),
            ],
        ),
        "a 16 MiB upload",
    )
    .await;
    assert_eq!(js_sys::Array::from(&files).length(), 1);
    let seen = progress.borrow();
    assert_eq!(seen.first().copied(), Some((0.0, total)), "starts at 0");
    assert_eq!(
        seen.last().copied(),
        Some((total, total)),
        "ends at the size"
    );
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "never goes back: {seen:?}"
    );
    // (How many reports fall in between depends on the platform: a page's
    // XMLHttpRequest reports every 50 ms, and loopback may be quicker.)
}

#[wasm_bindgen_test]
async fn the_message_goes_first_even_when_the_state_endpoint_hangs() {
    // A fresh session has no timeline yet, so the turn reads a snapshot of
    // the state alongside the message. With the state endpoint hanging, the
    // message still leaves at once and the turn completes while the state
    // request is still stuck (no wait for its time-outs before sending).
    setup(100).await;
    let (_, session) = fresh_session().await;
    let before = stats().await;
    fault(r#"{"endpoint":"state","kind":"stall","count":2}"#).await;
    let (_, r) = send_ok(&session, "echo: sent at once").await;
    assert_eq!(s(&r, "text"), "sent at once");
    // The snapshot request reaches the server (alongside the message, or
    // just after it) and hangs there; the turn finished without waiting for
    // it (a stall without a time ends only when its client gives up, and
    // the order of the chat POST and the snapshot is the native test's
    // `the_message_goes_first_and_the_snapshot_rides_alongside`).
    let mut st = stats().await;
    for _ in 0..100 {
        if fired(&st, "stall") >= 1.0 {
            break;
        }
        sleep(50.0).await;
        st = stats().await;
    }
    assert!(
        fired(&st, "stall") >= 1.0,
        "the snapshot was asked for: {}",
        show(&at(&st, &["global"]))
    );
    assert_eq!(
        global_stat(&st, "turns_run") - global_stat(&before, "turns_run"),
        1.0,
        "the message ran once"
    );
    clear_faults().await;
}
