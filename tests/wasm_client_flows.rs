//! The client's documented ways of working, end to end through the JS API
//! against a running emulator: quick, batch, iterative, Chinese routing,
//! a silent edit, and surviving a page reload (export and turn).
//!
//! Node: `NEMO_EMULATOR_URL=… wasm-pack test --node`. Chromium:
//! `NEMO_EMULATOR_URL=… WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

mod common_wasm;

use common_wasm::*;
use js_sys::Array;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn quick_flow_photo_to_downloaded_mp4() {
    setup(100).await;
    let (client, session) = fresh_session().await;
    let info = ok(call(&client, "connect", &[JsValue::UNDEFINED]), "connect").await;
    assert_eq!(n(&get(&info, "credits"), "available"), 100.0);
    assert!(s(&info, "userId").starts_with("anon_"));

    // Upload a real PNG with progress.
    let progress = std::rc::Rc::new(std::cell::RefCell::new(Vec::<(f64, f64)>::new()));
    let p2 = progress.clone();
    let on_progress = wasm_bindgen::closure::Closure::<dyn Fn(f64, f64)>::new(move |a, b| {
        p2.borrow_mut().push((a, b))
    });
    let files = ok(
        call(
            &session,
            "upload",
            &[
                png_js(40),
                obj(&[
                    ("filename", js("city_street.png")),
                    ("onProgress", on_progress.into_js_value()),
                ]),
            ],
        ),
        "upload",
    )
    .await;
    let files = Array::from(&files);
    assert_eq!(files.length(), 1);
    let f = files.get(0);
    assert_eq!(s(&f, "fileType"), "image");
    assert_eq!(n(&f, "width"), 96.0, "the server decoded our PNG");
    assert_eq!(n(&f, "height"), 64.0);
    let total = png(96, 64, 40).len() as f64;
    let last = *progress
        .borrow()
        .last()
        .expect("upload progress was reported");
    assert_eq!(last, (total, total), "progress ends at the file size");

    // Generate: the stream shows text, tools and state, and settles.
    let (d, r) = send_ok(&session, GENERATE).await;
    for t in ["text-delta", "text", "tool", "state-delta", "state", "done"] {
        assert!(d.has(t), "the turn emitted a {t} event: {:?}", d.types());
    }
    let tools = strings(&get(&r, "toolCalls"));
    assert_eq!(
        tools,
        ["generate_video", "auto_enhance"],
        "both generation stages ran"
    );
    assert!(b(&r, "stateChanged"));
    assert!(!b(&r, "silent"));
    let text = s(&r, "text");
    assert!(text.contains("Your clip is ready"), "{text}");
    assert!(
        !text.to_lowercase().contains("click the export button"),
        "GUI instructions are translated away: {text}"
    );
    assert!(strings(&get(&r, "actions")).contains(&"export".to_string()));
    let tl = get(&r, "timeline");
    let summary = call(&tl, "summary", &[]).as_string().unwrap();
    assert!(
        summary.starts_with("Timeline (3 tracks): 1. Video: city street"),
        "{summary}"
    );
    assert!(summary.contains("2. BGM: Lo-fi"), "{summary}");
    assert!(b(&tl, "readyForExport"));
    let video_src = s(
        &Array::from(&get(&Array::from(&get(&tl, "tracks")).get(0), "segments")).get(0),
        "src",
    );
    assert_eq!(
        video_src,
        s(&f, "url"),
        "the clip is made from the uploaded photo"
    );

    // Export and download a real MP4.
    let (result, bytes) = export_and_download(&session).await;
    assert!(bytes.len() > 2_000);
    assert!(
        get(&result, "sizeBytes").as_f64().is_some(),
        "the size is known"
    );
    // Credits: one generation.
    let c = ok(call(&session, "credits", &[JsValue::UNDEFINED]), "credits").await;
    assert_eq!(
        n(&c, "available"),
        0.0,
        "a generation costs 100 of the 100 free credits"
    );
    let st = stats().await;
    let ss = session_stats(&st, &sid(&session));
    assert_eq!(n(&ss, "turns_charged"), 1.0);
    assert_eq!(n(&ss, "renders"), 1.0);
    assert_no_double_charge(&st);
}

#[wasm_bindgen_test]
async fn batch_flow_two_photos_two_renders() {
    setup(1000).await;
    let (_client, session) = fresh_session().await;
    let files = ok(
        call(
            &session,
            "upload",
            &[
                Array::of2(&png_js(10), &png_js(220)).into(),
                obj(&[(
                    "filenames",
                    Array::of2(&js("beach.png"), &js("mountain.png")).into(),
                )]),
            ],
        ),
        "upload of two files",
    )
    .await;
    let files = Array::from(&files);
    assert_eq!(files.length(), 2);
    let urls: Vec<String> = files.iter().map(|f| s(&f, "url")).collect();
    assert_ne!(urls[0], urls[1]);
    assert_ne!(
        s(&files.get(0), "hash"),
        s(&files.get(1), "hash"),
        "two different photos"
    );

    let mut render_ids = Vec::new();
    for (i, prompt) in [
        "animate photo 1 into a cinematic clip with a slow zoom in",
        "animate photo 2 into a cinematic clip with an orbit",
    ]
    .iter()
    .enumerate()
    {
        let (_, r) = send_ok(&session, prompt).await;
        let tl = get(&r, "timeline");
        let video = Array::from(&get(&tl, "tracks")).get(0);
        let seg = Array::from(&get(&video, "segments")).get(0);
        assert_eq!(
            s(&seg, "src"),
            urls[i],
            "clip {} is made from photo {}",
            i + 1,
            i + 1
        );
        let camera = s(&seg, "camera");
        assert_eq!(camera, if i == 0 { "zoom_in" } else { "orbit" });
        let (result, _) = export_and_download(&session).await;
        render_ids.push(s(&result, "id"));
    }
    assert_ne!(render_ids[0], render_ids[1], "each clip has its own render");
    let st = stats().await;
    let ss = session_stats(&st, &sid(&session));
    assert_eq!(n(&ss, "renders"), 2.0);
    assert_eq!(n(&ss, "turns_charged"), 2.0);
    assert_eq!(n(&ss, "uploads"), 2.0, "both files were stored");
    assert_no_double_charge(&st);
}

#[wasm_bindgen_test]
async fn iterative_flow_state_reflects_each_edit() {
    setup(1000).await;
    let (_client, session) = fresh_session().await;
    let r = generate_text_clip(&session).await;
    assert!(b(&r, "stateChanged"));
    let (_, s0) = state(&session).await;
    assert!(
        s0.starts_with("Timeline (3 tracks): 1. Video: a city timelapse"),
        "{s0}"
    );

    let (_, r1) = send_ok(&session, "add lo-fi BGM at 35%").await;
    assert!(b(&r1, "stateChanged"));
    let (t1, s1) = state(&session).await;
    assert!(s1.contains("BGM: Lo-fi (0-5s, 35%)"), "{s1}");
    // The summary says what changed whether or not the agent wrote text.
    assert!(s(&r1, "summary").contains("35"), "{}", s(&r1, "summary"));

    let (_, r2) = send_ok(&session, "add title Urban Dreams").await;
    assert!(b(&r2, "stateChanged"));
    let (t2, s2) = state(&session).await;
    assert!(s2.contains("Title: \"Urban Dreams\""), "{s2}");
    assert!(s2.contains("35%"), "earlier edits are kept: {s2}");
    let changes = strings(&get(
        &call(&t2, "diff", std::slice::from_ref(&t1)),
        "changes",
    ));
    assert!(
        changes.iter().any(|c| c.contains("Urban Dreams")),
        "the diff names the new title: {changes:?}"
    );

    let (_, r3) = send_ok(&session, "make it 9:16").await;
    assert!(b(&r3, "stateChanged"));
    let (t3, s3) = state(&session).await;
    assert_eq!(get(&t3, "aspectRatio").as_string().as_deref(), Some("9:16"));
    assert!(s3.contains("Urban Dreams") && s3.contains("35%"), "{s3}");
    let draft = call(&t3, "toJSON", &[]);
    assert_eq!(n(&get(&draft, "m"), "width"), 1080.0);
    assert_eq!(n(&get(&draft, "m"), "height"), 1920.0);

    // The portrait edit reaches the export.
    let (result, _) = export_and_download(&session).await;
    assert!(s(&result, "id").starts_with("render_"));
    let st = stats().await;
    let ss = session_stats(&st, &sid(&session));
    assert_eq!(n(&ss, "turns_charged"), 4.0);
    assert_eq!(
        n(&ss, "credits_charged"),
        250.0,
        "one generation and three edits"
    );
    assert_no_double_charge(&st);
}

#[wasm_bindgen_test]
async fn chinese_routing_through_handle() {
    setup(1000).await;
    let (client, _) = new_client();
    let session = create_session(&client, obj(&[("language", js("zh-CN"))])).await;
    let before = global_stat(&stats().await, "turns_run");

    let credits = ok(
        call(&session, "handle", &[js("积分"), JsValue::UNDEFINED]),
        "积分",
    )
    .await;
    assert_eq!(s(&credits, "kind"), "credits");
    assert_eq!(n(&get(&credits, "credits"), "available"), 1000.0);
    assert!(s(&credits, "reply").contains("1000"));

    let empty = ok(
        call(&session, "handle", &[js("状态"), JsValue::UNDEFINED]),
        "状态",
    )
    .await;
    assert_eq!(s(&empty, "kind"), "state");
    assert_eq!(s(&empty, "reply"), "Timeline is empty");
    assert_eq!(
        global_stat(&stats().await, "turns_run"),
        before,
        "credits and state never start an agent turn"
    );

    let chat = ok(
        call(
            &session,
            "handle",
            &[js("生成一个城市延时视频，镜头推近"), JsValue::UNDEFINED],
        ),
        "生成",
    )
    .await;
    assert_eq!(s(&chat, "kind"), "chat");
    let reply = s(&chat, "reply");
    assert!(reply.contains("视频片段已生成"), "a Chinese reply: {reply}");
    assert!(
        !reply.contains("点击导出按钮"),
        "GUI steps are translated: {reply}"
    );

    let st = ok(
        call(&session, "handle", &[js("状态"), JsValue::UNDEFINED]),
        "状态",
    )
    .await;
    assert_eq!(s(&st, "kind"), "state");
    assert!(
        s(&st, "reply").starts_with("Timeline (3 tracks)"),
        "{}",
        s(&st, "reply")
    );

    let ex = ok(
        call(&session, "handle", &[js("导出"), JsValue::UNDEFINED]),
        "导出",
    )
    .await;
    assert_eq!(s(&ex, "kind"), "export");
    let url = s(&get(&ex, "export"), "url");
    assert!(s(&ex, "reply").contains(&url));
    let blob = ok(
        call(&get(&ex, "job"), "download", &[JsValue::UNDEFINED]),
        "download",
    )
    .await;
    assert_mp4(&blob_bytes(&blob).await);
    let stt = stats().await;
    assert_eq!(
        global_stat(&stt, "turns_run"),
        before + 1.0,
        "only the chat ran the agent"
    );
    assert_no_double_charge(&stt);
}

#[wasm_bindgen_test]
async fn silent_edit_is_summarised_from_the_state_diff() {
    // The emulator (seed 42) makes an edit silent when
    // mix(seed, turn index, 0x5117) % 100 < 30: true for a session's second
    // turn, false for its third.
    setup(1000).await;
    let (_client, session) = fresh_session().await;
    generate_text_clip(&session).await;

    let (d, r) = send_ok(&session, "add lo-fi BGM at 35%").await;
    assert!(b(&r, "silent"), "this edit ends with no text: {}", show(&r));
    assert_eq!(s(&r, "text"), "");
    assert!(
        !d.has("text") && !d.has("text-delta"),
        "no text was streamed"
    );
    assert!(b(&r, "stateChanged"));
    let summary = s(&r, "summary");
    assert!(
        summary.contains("35%") && summary.to_lowercase().contains("bgm")
            || summary.to_lowercase().contains("music"),
        "the summary describes the change: {summary}"
    );
    assert_ne!(summary, "No visible changes.");
    let state_ev = d.of_type("state");
    assert_eq!(state_ev.len(), 1);
    assert!(!strings(&get(&state_ev[0], "changes")).is_empty());

    let (_, r2) = send_ok(&session, "add title Golden Sky").await;
    assert!(!b(&r2, "silent"), "the next edit speaks");
    assert!(s(&r2, "text").contains("Golden Sky"));
}

#[wasm_bindgen_test]
async fn export_survives_a_reload() {
    setup(100).await;
    let client_id = random_id();
    let opts = client_options(&client_id, &[]);
    let client = new_client_with(&opts);
    let session = create_session(&client, JsValue::UNDEFINED).await;
    generate_text_clip(&session).await;

    // Start an export, keep its handle, then "close the page".
    let controller = web_sys::AbortController::new().unwrap();
    let (job, _) = export_with_progress(&session, &[("signal", controller.signal().into())]);
    let started = now();
    let saved = loop {
        let h = call(&session, "toJSON", &[]);
        if get(&h, "renderId").is_string() {
            break h;
        }
        assert!(
            now() - started < 10_000.0,
            "the render id reached the handle"
        );
        sleep(5.0).await;
    };
    let saved_text = js_sys::JSON::stringify(&saved)
        .unwrap()
        .as_string()
        .unwrap();
    assert!(
        !saved_text.contains("nmv_usr_"),
        "the handle holds no token: {saved_text}"
    );
    controller.abort();
    let e = err(get(&job, "result"), "the aborted export").await;
    assert_kind(&e, "aborted");
    let render_id = s(&saved, "renderId");

    // A new page: a new client from the saved handle (same client id).
    let resumed = match nemo_video::wasm::NemoClient::js_resume(
        JsValue::from_str(&saved_text),
        client_options(&client_id, &[]),
    ) {
        Ok(s) => JsValue::from(s),
        Err(e) => panic!("resume failed: {}", show(&e)),
    };
    assert_eq!(sid(&resumed), sid(&session));
    let job2 = call(&resumed, "resumeExport", &[JsValue::UNDEFINED]);
    assert!(!job2.is_null(), "a render was in flight");
    let result = ok(get(&job2, "result"), "the resumed export").await;
    assert_eq!(
        s(&result, "id"),
        render_id,
        "the same render, not a new one"
    );
    let blob = ok(call(&job2, "download", &[JsValue::UNDEFINED]), "download").await;
    assert_mp4(&blob_bytes(&blob).await);
    assert!(
        !get(&call(&resumed, "toJSON", &[]), "renderId").is_string(),
        "a finished render leaves the handle"
    );
    let st = stats().await;
    assert_eq!(
        n(&session_stats(&st, &sid(&session)), "renders"),
        1.0,
        "nothing re-rendered"
    );
}

#[wasm_bindgen_test]
async fn turn_survives_a_reload_without_a_second_charge() {
    setup(100).await;
    let client_id = random_id();
    let handles = std::rc::Rc::new(std::cell::RefCell::new(Vec::<JsValue>::new()));
    let h2 = handles.clone();
    let on_handle = wasm_bindgen::closure::Closure::<dyn Fn(JsValue)>::new(move |h: JsValue| {
        h2.borrow_mut().push(h)
    });
    let client = new_client_with(&client_options(
        &client_id,
        &[("onHandle", on_handle.into_js_value())],
    ));
    let session = create_session(&client, JsValue::UNDEFINED).await;

    let turn = call(
        &session,
        "send",
        &[
            js("generate a video of a quiet harbor at dawn"),
            JsValue::UNDEFINED,
        ],
    );
    // Read until the handle carries a position in the stream.
    let mut seen = 0;
    let saved = loop {
        let step = ok(call(&turn, "next", &[]), "next").await;
        assert_ne!(
            get(&step, "done").as_bool(),
            Some(true),
            "the turn ended before a save"
        );
        seen += 1;
        let h = call(&session, "toJSON", &[]);
        if get(&h, "lastEventId").is_string() && seen >= 2 {
            break h;
        }
    };
    assert_eq!(
        s(&saved, "turnText"),
        "generate a video of a quiet harbor at dawn"
    );
    assert!(!handles.borrow().is_empty(), "onHandle reported the turn");
    // The page goes away mid-turn.
    call(&turn, "abort", &[]);
    let e = err(get(&turn, "result"), "the aborted turn").await;
    assert_kind(&e, "aborted");

    let resumed = match nemo_video::wasm::NemoClient::js_resume(
        saved.clone(),
        client_options(&client_id, &[]),
    ) {
        Ok(s) => JsValue::from(s),
        Err(e) => panic!("resume failed: {}", show(&e)),
    };
    let turn2 = call(&resumed, "resumeTurn", &[JsValue::UNDEFINED]);
    assert!(!turn2.is_null(), "a turn was in flight");
    let d = drain(&turn2).await;
    assert!(
        d.error.is_none(),
        "the resumed turn finished: {:?}",
        d.error.as_ref().map(show)
    );
    let r = ok(get(&turn2, "result"), "resumed result").await;
    assert!(
        s(&r, "text").contains("I also added lo-fi background music"),
        "{}",
        s(&r, "text")
    );
    let tools = strings(&get(&r, "toolCalls"));
    assert!(tools.contains(&"auto_enhance".to_string()), "{tools:?}");
    assert!(
        call(&resumed, "resumeTurn", &[JsValue::UNDEFINED]).is_null(),
        "nothing left to resume"
    );

    let st = stats().await;
    let ss = session_stats(&st, &sid(&session));
    assert_eq!(n(&ss, "turns_run"), 1.0, "the message was not sent again");
    assert!(n(&ss, "turns_resumed") >= 1.0);
    assert_eq!(n(&ss, "turns_charged"), 1.0);
    assert_eq!(n(&ss, "credits_charged"), 100.0);
    assert_no_double_charge(&st);
}
