//! Every fault kind through `/__emulator/faults`.

mod common;
use common::SendJson;

use std::time::{Duration, Instant};

use common::{read_sse, start, Emu};
use futures::StreamExt;
use serde_json::{json, Value};

async fn setup(extra: &[&str]) -> (Emu, String, String) {
    let emu = start(extra).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    (emu, tok, sid)
}

async fn credits(emu: &Emu, tok: &str) -> reqwest::Response {
    emu.get(tok, "/api/credits/balance/simple")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn listing_counts_and_validation() {
    let (emu, tok, _) = setup(&[]).await;
    let v = emu.fault(json!([{"endpoint": "credits", "kind": "rate_limit", "count": 2}, {"kind": "slow", "ms": 10}])).await;
    assert_eq!(v["added"].as_array().unwrap().len(), 2);
    let list: Value = emu
        .http
        .get(format!("{}/__emulator/faults", emu.url))
        .send_json()
        .await;
    let faults = list["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 2);
    assert_eq!(faults[0]["endpoint"], "credits");
    assert_eq!(faults[0]["count"], 2);
    assert_eq!(faults[1]["endpoint"], "*");
    assert_eq!(credits(&emu, &tok).await.status(), 429);
    let list: Value = emu
        .http
        .get(format!("{}/__emulator/faults", emu.url))
        .send_json()
        .await;
    assert_eq!(list["faults"][0]["count"], 1);
    assert_eq!(credits(&emu, &tok).await.status(), 429);
    // The "*" slow fault fires on the next API call of any endpoint.
    assert_eq!(credits(&emu, &tok).await.status(), 200);
    let list: Value = emu
        .http
        .get(format!("{}/__emulator/faults", emu.url))
        .send_json()
        .await;
    assert!(list["faults"].as_array().unwrap().is_empty());
    // Bad specs.
    for bad in [
        json!({"kind": "nope"}),
        json!({"endpoint": "nowhere", "kind": "slow"}),
        json!({"kind": "slow", "count": 0}),
    ] {
        let r = emu
            .http
            .post(format!("{}/__emulator/faults", emu.url))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    // DELETE clears.
    emu.fault(json!({"endpoint": "state", "kind": "rate_limit", "count": 5}))
        .await;
    emu.http
        .delete(format!("{}/__emulator/faults", emu.url))
        .send()
        .await
        .unwrap();
    assert_eq!(credits(&emu, &tok).await.status(), 200);
    let st = emu.stats().await;
    assert_eq!(st["global"]["faults_fired"]["rate_limit"], 2);
    assert_eq!(st["global"]["faults_fired"]["slow"], 1);
}

#[tokio::test]
async fn http_level_faults() {
    let (emu, tok, sid) = setup(&[]).await;

    emu.fault(json!({"endpoint": "credits", "kind": "rate_limit"}))
        .await;
    let r = credits(&emu, &tok).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "30");

    emu.fault(json!({"endpoint": "state", "kind": "expire_token"}))
        .await;
    assert_eq!(emu.state(&tok, &sid).await["code"], 1001);
    assert_eq!(
        credits(&emu, &tok).await.json::<Value>().await.unwrap()["code"],
        1001,
        "the token is really expired, on every endpoint"
    );

    let (tok, _) = emu.token_for("lost-session-client").await;
    let sid = emu.session(&tok).await;
    assert_eq!(emu.state(&tok, &sid).await["code"], 0);
    emu.fault(json!({"endpoint": "state", "kind": "lose_session"}))
        .await;
    assert_eq!(emu.state(&tok, &sid).await["code"], 1002);
    assert_eq!(emu.state(&tok, &sid).await["code"], 1002, "really lost");

    emu.fault(json!({"endpoint": "token", "kind": "http_500_html"}))
        .await;
    let r = emu
        .http
        .post(format!("{}/api/auth/anonymous-token", emu.url))
        .header("X-Client-Id", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("<html>"));

    emu.fault(json!({"endpoint": "session", "kind": "http_502_html"}))
        .await;
    let r = emu
        .post(&tok, "/api/tasks/me/with-session/nemo_agent")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().contains("502 Bad Gateway"));

    emu.fault(json!({"endpoint": "credits", "kind": "malformed_json"}))
        .await;
    let r = credits(&emu, &tok).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());

    emu.fault(json!({"endpoint": "credits", "kind": "slow", "ms": 400}))
        .await;
    let t = Instant::now();
    assert_eq!(credits(&emu, &tok).await.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(400));

    emu.fault(json!({"endpoint": "credits", "kind": "stall", "ms": 300}))
        .await;
    let t = Instant::now();
    assert_eq!(credits(&emu, &tok).await.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(300));

    emu.fault(json!({"endpoint": "upload", "kind": "out_of_credits"}))
        .await;
    let v: Value = emu
        .post(&tok, &format!("/api/upload-video/nemo_agent/me/{sid}"))
        .json(&json!({"urls": ["https://example.invalid/a.mp4"]}))
        .send_json()
        .await;
    assert_eq!(v["code"], 2001);
    assert!(
        v["msg"].as_str().unwrap().contains("/register?bind=anon_"),
        "{v}"
    );

    emu.fault(json!({"endpoint": "claim", "kind": "rate_limit"}))
        .await;
    let r = emu
        .post(&tok, "/api/auth/claim-token")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);

    emu.fault(json!({"endpoint": "render_status", "kind": "http_502_html"}))
        .await;
    let r = emu
        .get(&tok, "/api/render/proxy/lambda/render_x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
}

#[tokio::test]
async fn a_stall_without_a_time_ends_when_the_client_disconnects() {
    let (emu, tok, _) = setup(&[]).await;
    emu.fault(json!({"endpoint": "credits", "kind": "stall"}))
        .await;
    let gave_up = tokio::time::timeout(Duration::from_millis(500), credits(&emu, &tok)).await;
    assert!(gave_up.is_err(), "no answer while stalled");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let open = emu.stats().await["global"]["stalls_open"].as_u64();
        if open == Some(0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stalled request outlived its client: {open:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_expired_token_is_renewed_for_the_same_user_and_its_sessions() {
    let emu = start(&[]).await;
    let (tok, user) = emu.token_for("renewing-client").await;
    let sid = emu.session(&tok).await;
    emu.fault(json!({"endpoint": "credits", "kind": "expire_token"}))
        .await;
    assert_eq!(
        credits(&emu, &tok).await.json::<Value>().await.unwrap()["code"],
        1001
    );
    assert_eq!(emu.state(&tok, &sid).await["code"], 1001, "still expired");
    // The client's recovery: a new token for the same client id.
    let (fresh, same) = emu.token_for("renewing-client").await;
    assert_ne!(fresh, tok);
    assert_eq!(same, user, "the client id is the identity");
    assert_eq!(
        emu.state(&fresh, &sid).await["code"],
        0,
        "its session is still there"
    );
    assert_eq!(emu.balance(&fresh).await["available"], 100, "credits kept");
}

#[tokio::test]
async fn a_lost_session_stays_lost_for_chat_too() {
    let (emu, tok, sid) = setup(&[]).await;
    emu.fault(json!({"endpoint": "run_sse", "kind": "lose_session"}))
        .await;
    let first = emu.run(&tok, &sid, "hello").await;
    assert_eq!(first.body["code"], 1002, "{:?}", first.body);
    assert_eq!(emu.state(&tok, &sid).await["code"], 1002, "really lost");
}

#[tokio::test]
async fn a_resume_of_an_unknown_turn_is_refused_and_never_charged() {
    let (emu, tok, sid) = setup(&["--credits", "1000"]).await;
    for id in ["e-00000000-0000-0000-0000-000000000000:3", "not-ours"] {
        let r = emu
            .run_with(
                &tok,
                &sid,
                "make a video of a kite",
                &[("Last-Event-ID", id)],
            )
            .await;
        assert_eq!(r.status, 409, "{id}: {:?}", r.body);
        let msg = r.body["msg"].as_str().unwrap_or_default();
        assert!(msg.contains("was not run again"), "{msg}");
    }
    let stats = emu.stats().await;
    assert_eq!(stats["sessions"][&sid]["turns_run"], 0);
    assert_eq!(emu.balance(&tok).await["available"], 1000);
}

#[tokio::test]
async fn run_sse_faults() {
    let (emu, tok, sid) = setup(&["--credits", "100000", "--speed", "200"]).await;

    // drop_stream after N events.
    emu.fault(json!({"endpoint": "run_sse", "kind": "drop_stream", "after_events": 2}))
        .await;
    let s = emu.run(&tok, &sid, "generate a clip of snow").await;
    assert!(s.broken);
    assert_eq!(s.events.len(), 2);

    // malformed_json: one broken data line, the stream goes on.
    emu.fault(json!({"endpoint": "run_sse", "kind": "malformed_json", "after_events": 1}))
        .await;
    let s = emu.run(&tok, &sid, "generate a clip of fog").await;
    assert!(!s.broken);
    let bad = s
        .events
        .iter()
        .filter(|e| serde_json::from_str::<Value>(&e.data).is_err())
        .count();
    assert_eq!(bad, 1);
    assert!(s
        .texts()
        .iter()
        .any(|t| t.starts_with("Your clip is ready")));

    // stall with a duration: silence (no heartbeats) for that long, then the rest.
    emu.fault(json!({"endpoint": "run_sse", "kind": "stall", "after_events": 0, "ms": 700}))
        .await;
    let resp = emu
        .post(&tok, "/run_sse")
        .json(&Emu::run_body(&sid, "echo: after the stall"))
        .send()
        .await
        .unwrap();
    let t = Instant::now();
    let s = read_sse(resp).await;
    assert!(t.elapsed() >= Duration::from_millis(650));
    assert_eq!(s.texts(), vec!["after the stall".to_string()]);

    // stall forever: after N events nothing arrives, not even heartbeats.
    emu.fault(json!({"endpoint": "run_sse", "kind": "stall", "after_events": 1}))
        .await;
    let resp = emu
        .post(&tok, "/run_sse")
        .json(&Emu::run_body(&sid, "generate a clip of dunes"))
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let mut got = String::new();
    loop {
        match tokio::time::timeout(Duration::from_millis(800), stream.next()).await {
            Ok(Some(Ok(b))) => got.push_str(&String::from_utf8_lossy(&b)),
            Ok(_) => panic!("stream ended instead of stalling"),
            Err(_) => break,
        }
    }
    let mut parsed = common::Sse::default();
    common::parse_sse(&got, &mut parsed);
    assert_eq!(parsed.events.len(), 1, "{got}");
    assert_eq!(
        parsed.comments + parsed.empty_data,
        0,
        "no heartbeats while stalled: {got}"
    );
    drop(stream);

    // HTTP-level faults on run_sse: answered before any stream.
    for (kind, code) in [
        ("out_of_credits", 2001),
        ("expire_token", 1001),
        ("lose_session", 1002),
    ] {
        emu.fault(json!({"endpoint": "run_sse", "kind": kind}))
            .await;
        let s = emu.run(&tok, &sid, "generate a clip of ice").await;
        assert_eq!(s.body["code"], code, "{kind}");
    }
    emu.fault(json!({"endpoint": "run_sse", "kind": "rate_limit"}))
        .await;
    assert_eq!(
        emu.run(&tok, &sid, "generate a clip of ice").await.status,
        429
    );
    emu.fault(json!({"endpoint": "run_sse", "kind": "http_502_html"}))
        .await;
    let s = emu.run(&tok, &sid, "generate a clip of ice").await;
    assert_eq!(s.status, 502);
    assert!(s.raw.contains("<html>"));

    // None of the refused messages was charged.
    let stats = emu.stats().await;
    for m in stats["sessions"][&sid]["messages"].as_array().unwrap() {
        assert_ne!(m["hash"], Value::Null);
    }
    let fired = &stats["global"]["faults_fired"];
    for k in [
        "drop_stream",
        "malformed_json",
        "stall",
        "out_of_credits",
        "expire_token",
        "lose_session",
        "rate_limit",
        "http_502_html",
    ] {
        assert!(
            fired[k].as_u64().unwrap_or(0) >= 1,
            "{k} not counted: {fired}"
        );
    }
}

#[tokio::test]
async fn download_drop_stream_cuts_the_body() {
    let (emu, tok, sid) = setup(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.wav");
    let st = std::process::Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
        ])
        .arg(&path)
        .status()
        .unwrap();
    assert!(st.success());
    let bytes = std::fs::read(&path).unwrap();
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(bytes.clone()).file_name("a.wav"),
    );
    let v: Value = emu
        .post(&tok, &format!("/api/upload-video/nemo_agent/me/{sid}"))
        .multipart(form)
        .send_json()
        .await;
    let url = v["data"]["files"][0]["cdn_url"]
        .as_str()
        .unwrap()
        .to_string();
    emu.fault(json!({"endpoint": "files", "kind": "drop_stream", "after_events": 1000}))
        .await;
    let r = emu.http.get(&url).send().await.unwrap();
    assert_eq!(r.content_length(), Some(bytes.len() as u64));
    let mut got = 0usize;
    let mut broke = false;
    let mut s = r.bytes_stream();
    while let Some(c) = s.next().await {
        match c {
            Ok(b) => got += b.len(),
            Err(_) => {
                broke = true;
                break;
            }
        }
    }
    assert!(broke);
    assert_eq!(got, 1000);
    // Resume with Range.
    let r = emu
        .http
        .get(&url)
        .header("Range", format!("bytes={got}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &bytes[got..]);
}

#[tokio::test]
async fn render_fail_once_then_retry_with_a_new_id() {
    let (emu, tok, sid) = setup(&[]).await;
    emu.fault(json!({"endpoint": "export", "kind": "render_fail_once"}))
        .await;
    let draft = json!({"t": [{"tt": 0, "sg": [{"id": "v", "s": 0, "d": 1000, "src": "emulator://generated/x", "m": {"name": "x"}}]}], "d": 1000, "m": {"width": 320, "height": 240}});
    let export = |id: &'static str| {
        let emu = &emu;
        let tok = tok.clone();
        let body = json!({"id": id, "sessionId": sid, "draft": draft, "output": {"format": "mp4", "quality": "high"}});
        async move {
            let v: Value = emu
                .post(&tok, "/api/render/proxy/lambda")
                .json(&body)
                .send_json()
                .await;
            assert_eq!(v["success"], true, "{v}");
            loop {
                let v: Value = emu
                    .get(&tok, &format!("/api/render/proxy/lambda/{id}"))
                    .send_json()
                    .await;
                let s = v["status"].as_str().unwrap().to_string();
                if s == "completed" || s == "failed" {
                    return v;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let v = export("render_fail_1").await;
    assert_eq!(v["status"], "failed");
    assert_eq!(v["data"]["status"], "failed");
    assert!(v["data"]["error"]
        .as_str()
        .unwrap()
        .contains("render_fail_once"));
    let v = export("render_fail_2").await;
    assert_eq!(v["status"], "completed", "{v}");
    let stats = emu.stats().await;
    assert_eq!(stats["global"]["renders_failed"], 1);
    assert_eq!(stats["global"]["renders_completed"], 1);
}
