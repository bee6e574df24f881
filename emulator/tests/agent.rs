//! The scripted agent over `/run_sse`: event shapes, the documented prompts, two-stage
//! generation, silent edits, credits, resume with Last-Event-ID, heartbeats.

mod common;
use common::SendJson;

use std::collections::HashSet;

use common::{read_sse, start, Emu};
use serde_json::{json, Value};

async fn upload_png(emu: &Emu, tok: &str, sid: &str, name: &str) -> Value {
    upload_png_sized(emu, tok, sid, name, "320x240").await
}

async fn upload_png_sized(emu: &Emu, tok: &str, sid: &str, name: &str, size: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let st = std::process::Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc=size={size}:rate=1"),
            "-frames:v",
            "1",
        ])
        .arg(&path)
        .status()
        .unwrap();
    assert!(st.success());
    let bytes = std::fs::read(&path).unwrap();
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
    );
    let v: Value = emu
        .post(tok, &format!("/api/upload-video/nemo_agent/me/{sid}"))
        .multipart(form)
        .send_json()
        .await;
    assert_eq!(v["code"], 0, "{v}");
    v["data"]["files"][0].clone()
}

fn video_seg(state: &Value) -> Value {
    state["data"]["state"]["draft"]["t"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tt"] == 0)
        .map(|t| t["sg"][0].clone())
        .unwrap_or(Value::Null)
}

fn track(state: &Value, tt: u64) -> Value {
    state["data"]["state"]["draft"]["t"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tt"] == tt)
        .map(|t| t["sg"][0].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn generation_from_image_is_adk_shaped_and_two_stage() {
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let file = upload_png(&emu, &tok, &sid, "city.png").await;
    let s = emu
        .run(
            &tok,
            &sid,
            "animate this photo into a cinematic video clip with a slow zoom in",
        )
        .await;
    assert_eq!(s.status, 200);
    assert!(s.content_type.starts_with("text/event-stream"));
    assert!(!s.broken);

    // Every event has an id `<turn>:<seq>`, unique, sequential.
    let ids: Vec<String> = s
        .events
        .iter()
        .map(|e| e.id.clone().expect("id on every event"))
        .collect();
    let turn = ids[0].rsplit_once(':').unwrap().0.to_string();
    assert!(turn.starts_with("e-"));
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(id, &format!("{turn}:{}", i + 1));
    }

    let evs = s.jsons();
    for v in &evs {
        assert_eq!(v["author"], "nemo_agent");
        assert_eq!(v["invocationId"], turn.as_str());
        for k in [
            "stateDelta",
            "artifactDelta",
            "requestedAuthConfigs",
            "requestedToolConfirmations",
        ] {
            assert!(v["actions"][k].is_object(), "actions.{k}: {v}");
        }
        assert!(v["id"].is_string() && v["timestamp"].is_f64());
        if !v["content"].is_null() {
            assert!(v["content"]["role"] == "model" || v["content"]["role"] == "user");
        }
    }
    // Key order like the fixtures: content first, then partial, invocationId, author, actions.
    let first = &s.events[0].data;
    assert!(first.starts_with("{\"content\":{\"parts\":["), "{first}");
    assert!(first.find("\"invocationId\"").unwrap() < first.find("\"author\"").unwrap());

    // Thought, tool call, tool result, state delta, texts, second stage.
    assert_eq!(evs[0]["content"]["parts"][0]["thought"], true);
    let calls = s.function_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["name"], "generate_video");
    assert_eq!(calls[0]["args"]["camera"], "zoom_in");
    assert_eq!(calls[0]["args"]["source_url"], file["cdn_url"]);
    assert_eq!(calls[1]["name"], "auto_enhance");
    let responses: Vec<&Value> = evs
        .iter()
        .filter(|v| !v["content"]["parts"][0]["functionResponse"].is_null())
        .collect();
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0]["content"]["role"], "user");
    let deltas = s.state_deltas();
    assert_eq!(deltas.len(), 2);
    // The state delta shares the ADK id of the tool result before it.
    let i = evs
        .iter()
        .position(|v| !v["actions"]["stateDelta"].as_object().unwrap().is_empty())
        .unwrap();
    assert_eq!(evs[i]["id"], evs[i - 1]["id"]);

    // Streaming text: partial deltas, then one complete event repeating the whole text.
    let texts = s.texts();
    assert_eq!(
        texts[0],
        "Your clip is ready! Click the Export button to download your video."
    );
    assert_eq!(texts.len(), 2);
    let partials: String = evs
        .iter()
        .take_while(|v| v["partial"] != false)
        .filter(|v| v["partial"] == true)
        .map(|v| v["content"]["parts"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(partials, texts[0]);
    let complete = evs.iter().find(|v| v["partial"] == false).unwrap();
    assert_eq!(complete["finishReason"], "STOP");

    // State: the draft has video + BGM + title; generation is charged 100.
    let st = emu.state(&tok, &sid).await;
    let v = video_seg(&st);
    assert_eq!(v["src"], file["cdn_url"]);
    assert_eq!(v["m"]["camera"], "zoom_in");
    assert!(!track(&st, 1).is_null() && !track(&st, 7).is_null());
    assert_eq!(track(&st, 1)["src"], "emulator://bgm/lofi");
    assert_eq!(
        st["data"]["state"]["generated_media"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(deltas[1]["draft"], st["data"]["state"]["draft"]);
    let b = emu.balance(&tok).await;
    assert_eq!(b, json!({"available": 0, "frozen": 0, "total": 0}));
}

#[tokio::test]
async fn partial_deltas_only_when_the_request_asks_for_streaming() {
    // Like ADK: without `"streaming": true` every text arrives whole.
    let emu = start(&["--credits", "1000"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let plain = emu
        .run_unstreamed(&tok, &sid, "make a video of a kite at sunset")
        .await;
    assert_eq!(plain.status, 200);
    let evs = plain.jsons();
    assert!(
        evs.iter().all(|v| v["partial"] != true),
        "no partial deltas"
    );
    assert!(!plain.texts().is_empty(), "the texts still arrive, whole");
    let sid2 = emu.session(&tok).await;
    let streamed = emu
        .run(&tok, &sid2, "make a video of a kite at sunset")
        .await;
    assert!(
        streamed.jsons().iter().any(|v| v["partial"] == true),
        "partial deltas when asked"
    );
}

#[tokio::test]
async fn text_only_generation_bgm_title_aspect_trim_in_english_and_chinese() {
    let emu = start(&["--credits", "1000"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let s = emu
        .run(&tok, &sid, "generate a video of a city timelapse with an orbit, 16:9, add title \"Urban Dreams\" and lo-fi BGM at 35%")
        .await;
    assert!(!s.broken);
    let st = emu.state(&tok, &sid).await;
    let v = video_seg(&st);
    assert!(
        v["src"]
            .as_str()
            .unwrap()
            .starts_with("emulator://generated/"),
        "{v}"
    );
    assert_eq!(v["m"]["camera"], "orbit");
    assert_eq!(v["m"]["name"], "a city timelapse");
    assert_eq!(track(&st, 7)["m"]["text"], "Urban Dreams");
    assert_eq!(track(&st, 1)["m"]["volume"], 35);
    let cc = &st["data"]["state"]["canvas_config"];
    assert_eq!(
        (cc["width"].as_u64(), cc["height"].as_u64()),
        (Some(1920), Some(1080))
    );
    let m = &st["data"]["state"]["draft"]["m"];
    assert_eq!(
        (m["width"].as_u64(), m["height"].as_u64()),
        (Some(1920), Some(1080))
    );

    // Edits, one per turn (some may be silent: the state still changes).
    let _ = emu.run(&tok, &sid, "add lo-fi BGM at 60%").await;
    assert_eq!(track(&emu.state(&tok, &sid).await, 1)["m"]["volume"], 60);
    let _ = emu.run(&tok, &sid, "change the title to Night City").await;
    assert_eq!(
        track(&emu.state(&tok, &sid).await, 7)["m"]["text"],
        "Night City"
    );
    let _ = emu.run(&tok, &sid, "make it 1:1").await;
    let st = emu.state(&tok, &sid).await;
    assert_eq!(st["data"]["state"]["canvas_config"]["width"], 1080);
    assert_eq!(st["data"]["state"]["canvas_config"]["height"], 1080);
    let _ = emu.run(&tok, &sid, "trim to 3 seconds").await;
    let st = emu.state(&tok, &sid).await;
    assert_eq!(st["data"]["state"]["draft"]["d"], 3000);
    assert_eq!(video_seg(&st)["d"], 3000);
    let _ = emu.run(&tok, &sid, "pan right").await;
    assert_eq!(
        video_seg(&emu.state(&tok, &sid).await)["m"]["camera"],
        "pan_right"
    );
    let _ = emu.run(&tok, &sid, "make it 9:16").await;
    let st = emu.state(&tok, &sid).await;
    assert_eq!(st["data"]["state"]["canvas_config"]["height"], 1920);

    // Credits: one generation (100) + six edits (50 each).
    let b = emu.balance(&tok).await;
    assert_eq!(b["available"], 1000 - 100 - 6 * 50);

    // Chinese session: Chinese prompts and answers.
    let sid = emu.session_lang(&tok, "zh-CN").await;
    let s = emu
        .run(&tok, &sid, "生成一个海边日落的视频，镜头拉远")
        .await;
    assert!(s.texts()[0].contains("点击导出"), "{:?}", s.texts());
    let st = emu.state(&tok, &sid).await;
    assert_eq!(video_seg(&st)["m"]["camera"], "zoom_out");
    let _ = emu.run(&tok, &sid, "添加背景音乐 音量35%").await;
    assert_eq!(track(&emu.state(&tok, &sid).await, 1)["m"]["volume"], 35);
    let _ = emu.run(&tok, &sid, "加标题 城市之梦").await;
    assert_eq!(
        track(&emu.state(&tok, &sid).await, 7)["m"]["text"],
        "城市之梦"
    );
}

#[tokio::test]
async fn batch_uploads_each_with_its_own_instruction() {
    let emu = start(&["--credits", "1000"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let f1 = upload_png(&emu, &tok, &sid, "one.png").await;
    let f2 = upload_png(&emu, &tok, &sid, "two.png").await;
    let f3 = upload_png(&emu, &tok, &sid, "three.png").await;
    for (text, file, cam) in [
        ("animate photo 2 with an orbit", &f2, "orbit"),
        ("animate photo 1 with a pan left", &f1, "pan_left"),
        (
            "animate the third photo with a slow zoom out",
            &f3,
            "zoom_out",
        ),
    ] {
        let s = emu.run(&tok, &sid, text).await;
        assert_eq!(
            s.function_calls()[0]["args"]["source_url"],
            file["cdn_url"],
            "{text}"
        );
        let st = emu.state(&tok, &sid).await;
        assert_eq!(video_seg(&st)["src"], file["cdn_url"]);
        assert_eq!(video_seg(&st)["m"]["camera"], cam);
    }
    let st = emu.state(&tok, &sid).await;
    assert_eq!(
        st["data"]["state"]["generated_media"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        st["data"]["state"]["video_infos"].as_array().unwrap().len(),
        3
    );
}

/// The silent-edit pattern of one emulator run (true = no text).
async fn silent_pattern(seed: &str) -> Vec<bool> {
    let emu = start(&["--credits", "100000", "--seed", seed]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let _ = emu.run(&tok, &sid, "generate a clip of waves").await;
    let mut out = Vec::new();
    for i in 0..20 {
        let s = emu
            .run(&tok, &sid, &format!("add lo-fi BGM at {}%", 10 + i))
            .await;
        assert!(!s.broken);
        // The tool result and state delta always come; the text may not.
        assert_eq!(s.state_deltas().len(), 1);
        out.push(s.texts().is_empty());
    }
    out
}

#[tokio::test]
async fn about_thirty_percent_of_edits_are_silent_and_it_is_seeded() {
    let a = silent_pattern("7").await;
    let b = silent_pattern("7").await;
    assert_eq!(a, b, "same seed, same pattern");
    let n = a.iter().filter(|s| **s).count();
    assert!((2..=12).contains(&n), "{n} of 20 silent: {a:?}");
    let c = silent_pattern("8").await;
    assert_ne!(a, c, "another seed, another pattern");
}

#[tokio::test]
async fn typed_events_by_header_and_by_flag() {
    for (flag, header) in [(None, true), (Some("typed"), false)] {
        let mut args = vec![];
        if let Some(f) = flag {
            args.extend(["--events", f]);
        }
        let emu = start(&args).await;
        let tok = emu.token().await;
        let sid = emu.session(&tok).await;
        let hdrs: Vec<(&str, &str)> = if header {
            vec![("X-Emulator-Events", "typed")]
        } else {
            vec![]
        };
        let s = emu
            .run_with(&tok, &sid, "generate a clip of a forest", &hdrs)
            .await;
        let evs = s.jsons();
        let types: Vec<&str> = evs.iter().map(|v| v["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "tool_call",
                "tool_result",
                "text",
                "tool_call",
                "tool_result",
                "text"
            ],
            "{types:?}"
        );
        assert_eq!(evs[0]["name"], "generate_video");
        assert!(evs[1]["result"].is_object());
        assert_eq!(
            evs[2]["content"],
            "Your clip is ready! Click the Export button to download your video."
        );
        assert!(s.events.iter().all(|e| e.id.is_some()));
        assert!(
            s.typed_heartbeats + s.comments + s.empty_data > 0,
            "heartbeats expected"
        );
    }
}

#[tokio::test]
async fn heartbeats_of_both_kinds_during_long_tool_runs() {
    // Speed 20: generation 1.5-4.5 s; heartbeats every 40 ms.
    let emu = start(&["--speed", "20"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let s = emu.run(&tok, &sid, "generate a clip of a desert").await;
    assert!(s.comments >= 3, "comments {}", s.comments);
    assert!(s.empty_data >= 3, "empty data {}", s.empty_data);
    assert!(s.raw.starts_with("retry: 2000\n\n"));
}

#[tokio::test]
async fn echo_returns_script_payloads_verbatim_and_free() {
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let payload = "<script>alert('x')</script><img src=x onerror=alert(1)> \"quotes\" & 中文 \u{2028} data: {\"fake\":1}\nline2";
    let s = emu.run(&tok, &sid, &format!("echo: {payload}")).await;
    assert_eq!(s.texts(), vec![payload.to_string()]);
    assert_eq!(emu.balance(&tok).await["available"], 100);
}

#[tokio::test]
async fn failure_mid_stream_is_an_error_event_and_refunded() {
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let s = emu.run(&tok, &sid, "fail: boom").await;
    let last = s.jsons().last().unwrap().clone();
    assert!(last["error"].as_str().unwrap().contains("boom"), "{last}");
    assert!(last["error_details"]["error_type"].is_string());
    assert_eq!(
        emu.balance(&tok).await,
        json!({"available": 100, "frozen": 0, "total": 100})
    );
}

#[tokio::test]
async fn out_of_credits_answers_2001_before_streaming() {
    let emu = start(&["--credits", "120"]).await;
    let (tok, user) = emu.token_for("broke").await;
    let sid = emu.session(&tok).await;
    let s = emu.run(&tok, &sid, "generate a clip of a river").await;
    assert!(!s.broken);
    let s = emu.run(&tok, &sid, "generate a clip of a mountain").await;
    assert!(
        s.content_type.starts_with("application/json"),
        "{}",
        s.content_type
    );
    assert_eq!(s.body["code"], 2001);
    let want = format!("https://nemovideo.com/register?bind={user}");
    assert!(
        s.body["msg"].as_str().unwrap().contains(&want),
        "{}",
        s.body
    );
    assert_eq!(s.body["data"]["bind_url"], want.as_str());
    // Nothing was charged for the refused turn.
    assert_eq!(emu.balance(&tok).await["available"], 20);
    // Chat that costs nothing still works.
    let s = emu.run(&tok, &sid, "hello").await;
    assert_eq!(s.texts().len(), 1);
}

#[tokio::test]
async fn credits_are_frozen_while_a_turn_runs() {
    let emu = start(&["--speed", "10"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let resp = emu
        .post(&tok, "/run_sse")
        .json(&Emu::run_body(&sid, "generate a clip of rain"))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        emu.balance(&tok).await,
        json!({"available": 0, "frozen": 100, "total": 100})
    );
    drop(resp);
    // The turn goes on without the connection and is charged once.
    for _ in 0..200 {
        if emu.balance(&tok).await["frozen"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        emu.balance(&tok).await,
        json!({"available": 0, "frozen": 0, "total": 0})
    );
}

#[tokio::test]
async fn resume_with_last_event_id_replays_without_a_second_charge() {
    let emu = start(&["--speed", "100", "--credits", "500"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    emu.fault(json!({"endpoint": "run_sse", "kind": "drop_stream", "after_events": 3}))
        .await;
    let text = "generate a clip of a lighthouse";
    let first = emu.run(&tok, &sid, text).await;
    assert!(first.broken, "stream should have been dropped");
    assert_eq!(first.events.len(), 3);
    let last = first.last_id().unwrap();

    // Resume while the turn is still running: replay + live.
    let resumed = emu
        .run_with(&tok, &sid, text, &[("Last-Event-ID", last.as_str())])
        .await;
    assert!(!resumed.broken);
    let (turn, _) = last.rsplit_once(':').unwrap();
    assert_eq!(
        resumed.events[0].id.as_deref(),
        Some(format!("{turn}:4").as_str())
    );
    let mut all: Vec<String> = first.events.iter().map(|e| e.data.clone()).collect();
    all.extend(resumed.events.iter().map(|e| e.data.clone()));
    let ids: HashSet<String> = first
        .events
        .iter()
        .chain(&resumed.events)
        .map(|e| e.id.clone().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        all.len(),
        "no duplicates across the two connections"
    );
    assert!(resumed
        .texts()
        .iter()
        .any(|t| t.starts_with("Your clip is ready")));

    // Resuming a finished turn from the middle replays the rest; from the end, nothing.
    let again = emu
        .run_with(
            &tok,
            &sid,
            text,
            &[("Last-Event-ID", format!("{turn}:1").as_str())],
        )
        .await;
    assert_eq!(again.events.len(), all.len() - 1);
    let end = resumed.last_id().unwrap();
    let none = emu
        .run_with(&tok, &sid, text, &[("Last-Event-ID", end.as_str())])
        .await;
    assert!(none.events.is_empty());

    // Charged exactly once.
    assert_eq!(emu.balance(&tok).await["available"], 400);
    let stats = emu.stats().await;
    let ss = &stats["sessions"][&sid];
    assert_eq!(ss["turns_run"], 1);
    assert_eq!(ss["turns_charged"], 1);
    assert_eq!(ss["turns_resumed"], 3);
    assert_eq!(ss["credits_charged"], 100);
    let msgs = ss["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["turn_id"], turn);
    assert_eq!(msgs[0]["charged"], true);

    // The resume works with typed events too.
    let typed = emu
        .run_with(
            &tok,
            &sid,
            text,
            &[
                ("Last-Event-ID", format!("{turn}:1").as_str()),
                ("X-Emulator-Events", "typed"),
            ],
        )
        .await;
    assert!(typed.jsons().iter().all(|v| v["type"].is_string()));
}

#[tokio::test]
async fn resume_of_an_unknown_or_foreign_turn_is_refused() {
    // Running the message instead would run and charge it twice (the
    // client only resumes a turn it already sent).
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let s = emu
        .run_with(&tok, &sid, "hello", &[("Last-Event-ID", "e-unknown:5")])
        .await;
    assert_eq!(s.status, 409);
    assert!(s.texts().is_empty());
    // A resume for another session's turn does not leak it either.
    let s = emu.run(&tok, &sid, "hello").await;
    let id = s.last_id().unwrap();
    let other = emu.session(&tok).await;
    let s2 = emu
        .run_with(
            &tok,
            &other,
            "hello there",
            &[("Last-Event-ID", id.as_str())],
        )
        .await;
    assert_eq!(s2.status, 409);
    assert!(s2.events.is_empty());
}

#[tokio::test]
async fn bad_run_bodies() {
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let r = emu
        .post(&tok, "/run_sse")
        .json(&json!({"app_name": "nemo_agent", "user_id": "me", "session_id": sid, "new_message": {"parts": []}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = emu
        .post(&tok, "/run_sse")
        .json(&json!({"app_name": "other", "session_id": sid, "new_message": {"parts": [{"text": "x"}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let s = read_sse(
        emu.http
            .post(format!("{}/run_sse", emu.url))
            .json(&Emu::run_body(&sid, "hi"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s.body["code"], 1001);
}

/// The output's aspect ratio follows the source unless the prompt asks for
/// one, and then the reply says so (a 16:9 photo used to come out 9:16,
/// silently).
#[tokio::test]
async fn the_output_aspect_follows_the_source_unless_the_prompt_asks() {
    let emu = start(&["--credits", "1000"]).await;
    let tok = emu.token().await;
    let canvas = |st: &Value| {
        let s = &st["data"]["state"];
        (
            s["canvas_config"]["width"].as_u64(),
            s["canvas_config"]["height"].as_u64(),
            s["draft"]["m"]["width"].as_u64(),
            s["draft"]["m"]["height"].as_u64(),
            s["canvas_config"]["aspect_ratio"]
                .as_str()
                .map(str::to_string),
        )
    };

    // A 16:9 photo, no ratio asked: a 16:9 clip, and the reply names none.
    let sid = emu.session(&tok).await;
    upload_png_sized(&emu, &tok, &sid, "wide.png", "640x360").await;
    let s = emu
        .run(&tok, &sid, "animate this photo into a cinematic video clip")
        .await;
    assert!(!s.broken);
    let st = emu.state(&tok, &sid).await;
    assert_eq!(
        canvas(&st),
        (
            Some(1920),
            Some(1080),
            Some(1920),
            Some(1080),
            Some("16:9".into())
        )
    );
    assert!(
        s.texts()
            .iter()
            .all(|t| !t.contains("9:16") && !t.contains("as you asked")),
        "{:?}",
        s.texts()
    );

    // A 4:5 portrait photo keeps its shape too.
    let sid = emu.session(&tok).await;
    upload_png_sized(&emu, &tok, &sid, "tall.png", "400x500").await;
    emu.run(&tok, &sid, "animate this photo").await;
    let st = emu.state(&tok, &sid).await;
    assert_eq!(
        canvas(&st),
        (
            Some(1080),
            Some(1350),
            Some(1080),
            Some(1350),
            Some("4:5".into())
        )
    );

    // The same 16:9 photo with a ratio in the prompt: that ratio, said in the reply.
    let sid = emu.session(&tok).await;
    upload_png_sized(&emu, &tok, &sid, "wide.png", "640x360").await;
    let s = emu
        .run(
            &tok,
            &sid,
            "animate this photo into a 9:16 cinematic video clip",
        )
        .await;
    let st = emu.state(&tok, &sid).await;
    assert_eq!(
        canvas(&st),
        (
            Some(1080),
            Some(1920),
            Some(1080),
            Some(1920),
            Some("9:16".into())
        )
    );
    assert!(
        s.texts()[0].contains("in 9:16 (1080x1920) as you asked"),
        "{:?}",
        s.texts()
    );
    // And in Chinese.
    let sid = emu.session(&tok).await;
    upload_png_sized(&emu, &tok, &sid, "wide.png", "640x360").await;
    let s = emu.run(&tok, &sid, "让这张照片动起来，改成竖屏").await;
    assert!(s.texts()[0].contains("按您的要求为9:16"), "{:?}", s.texts());
}
