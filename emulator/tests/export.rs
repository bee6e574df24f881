//! Export through the HTTP API: a real MP4 checked with ffprobe, both status shapes, one
//! active export per session, cancel, re-posting an id, downloads with Range.

mod common;
use common::SendJson;

use std::time::Duration;

use common::{start, Emu};
use serde_json::{json, Value};

async fn poll(emu: &Emu, tok: &str, id: &str) -> Value {
    let mut last_progress = 0;
    for _ in 0..1200 {
        let v: Value = emu
            .get(tok, &format!("/api/render/proxy/lambda/{id}"))
            .send_json()
            .await;
        assert_eq!(v["success"], true, "{v}");
        // Both shapes agree.
        assert_eq!(v["status"], v["data"]["status"]);
        assert_eq!(v["progress"], v["data"]["progress"]);
        let p = v["progress"].as_u64().unwrap();
        assert!(p >= last_progress && p <= 100);
        last_progress = p;
        match v["status"].as_str().unwrap() {
            "pending" | "processing" => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => return v,
        }
    }
    panic!("render {id} did not finish");
}

fn ffprobe(path: &std::path::Path) -> Value {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(path)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn export_of_a_generated_clip_is_a_real_h264_mp4() {
    let emu = start(&["--credits", "1000"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    // Upload a photo, animate it, square canvas, 2 seconds.
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("p.png");
    assert!(std::process::Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x480:rate=1",
            "-frames:v",
            "1"
        ])
        .arg(&png)
        .status()
        .unwrap()
        .success());
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(std::fs::read(&png).unwrap()).file_name("p.png"),
    );
    let v: Value = emu
        .post(&tok, &format!("/api/upload-video/nemo_agent/me/{sid}"))
        .multipart(form)
        .send_json()
        .await;
    assert_eq!(v["code"], 0);
    emu.run(&tok, &sid, "animate this photo with a slow zoom in, 1:1")
        .await;
    emu.run(&tok, &sid, "trim to 2 seconds").await;
    let st = emu.state(&tok, &sid).await;
    let draft = st["data"]["state"]["draft"].clone();
    assert_eq!(draft["d"], 2000);

    let body = json!({"id": "render_1700000000000", "sessionId": sid, "draft": draft, "output": {"format": "mp4", "quality": "high"}});
    let v: Value = emu
        .post(&tok, "/api/render/proxy/lambda")
        .json(&body)
        .send_json()
        .await;
    assert_eq!(v["success"], true);
    assert_eq!(v["data"]["id"], "render_1700000000000");
    assert_eq!(v["data"]["status"], "pending");
    assert_eq!(v["data"]["progress"], 0);

    // A second export for the same session while the first runs: 409 / 4009.
    let r = emu
        .post(&tok, "/api/render/proxy/lambda")
        .json(&json!({"id": "render_other", "sessionId": sid, "draft": draft}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], 4009);
    assert_eq!(e["data"]["id"], "render_1700000000000");
    // Re-posting the same id returns the job.
    let again: Value = emu
        .post(&tok, "/api/render/proxy/lambda")
        .json(&body)
        .send_json()
        .await;
    assert_eq!(again["data"]["id"], "render_1700000000000");

    let done = poll(&emu, &tok, "render_1700000000000").await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["progress"], 100);
    let url = done["output"]["url"].as_str().unwrap().to_string();
    assert_eq!(done["data"]["outputUrl"], url.as_str());
    assert!(url.ends_with("/renders/render_1700000000000.mp4"));

    // Download from the output URL (no auth), with Range, and from the fallback.
    let full = emu.http.get(&url).send().await.unwrap();
    assert_eq!(full.headers()["content-type"], "video/mp4");
    let bytes = full.bytes().await.unwrap();
    let r = emu
        .http
        .get(&url)
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &bytes[..100]);
    let r = emu
        .get(&tok, "/api/render/proxy/render_1700000000000/download")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    assert_eq!(r.bytes().await.unwrap(), bytes);
    let r = emu
        .get(&tok, "/api/render/proxy/render_1700000000000/download")
        .header("Range", "bytes=10-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);

    let out = dir.path().join("out.mp4");
    std::fs::write(&out, &bytes).unwrap();
    let p = ffprobe(&out);
    let streams = p["streams"].as_array().unwrap();
    let video = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64()),
        (Some(1080), Some(1080))
    );
    let audio = streams
        .iter()
        .find(|s| s["codec_type"] == "audio")
        .expect("BGM gives an audio track");
    assert_eq!(audio["codec_name"], "aac");
    let dur: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((dur - 2.0).abs() < 0.15, "duration {dur}");

    // Export is free; stats count the render.
    assert_eq!(emu.balance(&tok).await["available"], 1000 - 100 - 50);
    let stats = emu.stats().await;
    assert_eq!(stats["sessions"][&sid]["renders"], 1);
    assert_eq!(stats["global"]["renders_completed"], 1);

    // Another user cannot see the job.
    let other = emu.token().await;
    let r = emu
        .get(&other, "/api/render/proxy/lambda/render_1700000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = emu
        .get(&other, "/api/render/proxy/render_1700000000000/download")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn cancel_empty_drafts_and_unknown_sessions() {
    let emu = start(&["--speed", "1"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let draft = json!({"t": [{"tt": 0, "sg": [{"id": "v", "s": 0, "d": 1000, "src": "emulator://generated/x"}]}], "d": 1000, "m": {"width": 320, "height": 240}});
    // Speed 1: the job waits 2 s in the queue, long enough to cancel it.
    let v: Value = emu
        .post(&tok, "/api/render/proxy/lambda")
        .json(&json!({"id": "render_c", "sessionId": sid, "draft": draft}))
        .send_json()
        .await;
    assert_eq!(v["data"]["status"], "pending");
    let v: Value = emu
        .post(&tok, "/api/render/proxy/lambda/render_c/cancel")
        .send_json()
        .await;
    assert_eq!(v["success"], true);
    assert_eq!(v["data"]["status"], "cancelled");
    let v = poll(&emu, &tok, "render_c").await;
    assert_eq!(v["status"], "cancelled");
    assert!(v["output"]["url"].is_null());
    // Download of a job that did not complete.
    let r = emu
        .get(&tok, "/api/render/proxy/render_c/download")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = emu
        .http
        .get(format!("{}/renders/render_c.mp4", emu.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // After a cancel a new export for the session is allowed.
    let v: Value = emu
        .post(&tok, "/api/render/proxy/lambda")
        .json(&json!({"id": "render_d", "sessionId": sid, "draft": draft}))
        .send_json()
        .await;
    assert_eq!(v["success"], true, "{v}");
    emu.post(&tok, "/api/render/proxy/lambda/render_d/cancel")
        .send()
        .await
        .unwrap();

    // Empty draft: 400. Unknown session: 1002. Bad id: 400. Unknown job: 404.
    let r = emu
        .post(&tok, "/api/render/proxy/lambda")
        .json(&json!({"id": "render_e", "sessionId": sid, "draft": {"t": [{"tt": 0, "sg": []}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = emu
        .post(&tok, "/api/render/proxy/lambda")
        .json(&json!({"id": "render_f", "sessionId": "nope", "draft": draft}))
        .send_json()
        .await;
    assert_eq!(v["code"], 1002);
    assert_eq!(v["success"], false);
    let r = emu
        .post(&tok, "/api/render/proxy/lambda")
        .json(&json!({"id": "../../etc", "sessionId": sid, "draft": draft}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = emu
        .post(&tok, "/api/render/proxy/lambda/render_zz/cancel")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = emu
        .http
        .get(format!("{}/api/render/proxy/lambda/render_c", emu.url))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], 1001);
}
