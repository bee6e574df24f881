//! Uploads: multipart streaming with real probe values, magic-byte type checks (4001),
//! size limits (4002), file-name sanitising, URL sources (loopback fetched, others only
//! recorded), and Range downloads of the cdn_url.

mod common;
use common::SendJson;

use std::path::{Path, PathBuf};

use common::{start, Emu};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn ffmpeg(args: &[&str], out: &Path) {
    let st = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y"])
        .args(args)
        .arg(out)
        .status()
        .unwrap();
    assert!(st.success());
}

struct Media {
    _dir: tempfile::TempDir,
    png: PathBuf,
    mp4: PathBuf,
    wav: PathBuf,
}

fn media() -> Media {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("photo.png");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=1",
            "-frames:v",
            "1",
        ],
        &png,
    );
    let mp4 = dir.path().join("clip.mp4");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360:rate=25:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
        &mp4,
    );
    let wav = dir.path().join("voice.wav");
    ffmpeg(
        &["-f", "lavfi", "-i", "sine=frequency=220:duration=1.5"],
        &wav,
    );
    Media {
        _dir: dir,
        png,
        mp4,
        wav,
    }
}

fn part(path: &Path, name: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(std::fs::read(path).unwrap()).file_name(name.to_string())
}

async fn upload(emu: &Emu, tok: &str, sid: &str, form: reqwest::multipart::Form) -> Value {
    emu.post(tok, &format!("/api/upload-video/nemo_agent/me/{sid}"))
        .multipart(form)
        .send_json()
        .await
}

async fn upload_urls(emu: &Emu, tok: &str, sid: &str, urls: &[&str]) -> (u16, Value) {
    let r = emu
        .post(tok, &format!("/api/upload-video/nemo_agent/me/{sid}"))
        .json(&json!({"urls": urls, "source_type": "url"}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn multipart_files_are_probed_hashed_and_served() {
    let m = media();
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let form = reqwest::multipart::Form::new()
        .part("files", part(&m.png, "photo.png"))
        .part("files", part(&m.mp4, "clip.mp4"))
        .part("files", part(&m.wav, "voice.wav"));
    let v = upload(&emu, &tok, &sid, form).await;
    assert_eq!(v["code"], 0, "{v}");
    assert_eq!(v["data"]["session_state_applied"], true);
    let files = v["data"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for f in files {
        for k in [
            "filename",
            "file_type",
            "cdn_url",
            "duration",
            "width",
            "height",
            "fps",
            "hash",
        ] {
            assert!(f.as_object().unwrap().contains_key(k), "{k} missing in {f}");
        }
    }
    let (png, mp4, wav) = (&files[0], &files[1], &files[2]);
    assert_eq!(png["file_type"], "image");
    assert_eq!(
        (png["width"].as_u64(), png["height"].as_u64()),
        (Some(320), Some(240))
    );
    assert!(png["duration"].is_null());
    assert_eq!(mp4["file_type"], "video");
    assert_eq!(mp4["format"], "mp4");
    assert_eq!(
        (mp4["width"].as_u64(), mp4["height"].as_u64()),
        (Some(640), Some(360))
    );
    assert!(
        (mp4["duration"].as_f64().unwrap() - 2.0).abs() < 0.2,
        "{mp4}"
    );
    assert!((mp4["fps"].as_f64().unwrap() - 25.0).abs() < 0.01);
    assert_eq!(wav["file_type"], "audio");
    assert!((wav["duration"].as_f64().unwrap() - 1.5).abs() < 0.1);
    let want: String = Sha256::digest(std::fs::read(&m.mp4).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(mp4["hash"], want.as_str());

    // The cdn_url serves the bytes, with Range.
    let url = mp4["cdn_url"].as_str().unwrap();
    assert!(url.starts_with(&emu.url));
    let body = emu
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.as_ref(), std::fs::read(&m.mp4).unwrap().as_slice());
    let r = emu
        .http
        .get(url)
        .header("Range", "bytes=4-11")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert!(r.headers()["content-range"]
        .to_str()
        .unwrap()
        .starts_with("bytes 4-11/"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"ftypisom");

    // State knows the uploads.
    let st = emu.state(&tok, &sid).await;
    assert_eq!(
        st["data"]["state"]["video_infos"].as_array().unwrap().len(),
        3
    );
    assert_eq!(
        st["data"]["state"]["video_analyses"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let stats = emu.stats().await;
    assert_eq!(stats["sessions"][&sid]["uploads"], 3);
}

#[tokio::test]
async fn wrong_types_are_4001_by_magic_bytes() {
    let m = media();
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "fake.png",
            b"<html><script>alert(1)</script></html>".to_vec(),
        ),
        (
            "fake.mp4",
            b"MZ\x90\x00\x03\x00\x00\x00 this is a windows executable".to_vec(),
        ),
        ("empty.jpg", Vec::new()),
        ("photo.exe", std::fs::read(&m.png).unwrap()),
        ("notes.txt", b"hello".to_vec()),
    ];
    for (name, bytes) in cases {
        let form = reqwest::multipart::Form::new().part(
            "files",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        );
        let v = upload(&emu, &tok, &sid, form).await;
        assert_eq!(v["code"], 4001, "{name}: {v}");
        assert!(
            v["msg"].as_str().unwrap().contains("mp4"),
            "accepted formats listed: {v}"
        );
    }
    // A good file next to a bad one: nothing is stored.
    let form = reqwest::multipart::Form::new()
        .part("files", part(&m.png, "good.png"))
        .part(
            "files",
            reqwest::multipart::Part::bytes(b"nope".to_vec()).file_name("bad.gif"),
        );
    assert_eq!(upload(&emu, &tok, &sid, form).await["code"], 4001);
    let st = emu.state(&tok, &sid).await;
    assert!(st["data"]["state"]["video_infos"]
        .as_array()
        .unwrap()
        .is_empty());
    // A PNG named .jpg is accepted as what it is.
    let form = reqwest::multipart::Form::new().part("files", part(&m.png, "really-a-png.jpg"));
    let v = upload(&emu, &tok, &sid, form).await;
    assert_eq!(v["code"], 0);
    assert_eq!(v["data"]["files"][0]["format"], "png");
}

#[tokio::test]
async fn size_limit_is_4002_and_file_count_is_limited() {
    let m = media();
    let emu = start(&["--max-file-size", "4096", "--max-files", "2"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let form = reqwest::multipart::Form::new().part("files", part(&m.mp4, "big.mp4"));
    let v = upload(&emu, &tok, &sid, form).await;
    assert_eq!(v["code"], 4002, "{v}");
    let form = reqwest::multipart::Form::new()
        .part("files", part(&m.wav, "a.wav"))
        .part("files", part(&m.wav, "b.wav"))
        .part("files", part(&m.wav, "c.wav"));
    let r = emu
        .post(&tok, &format!("/api/upload-video/nemo_agent/me/{sid}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    // wav files are over 4096 bytes too: either refusal is fine, never success.
    let v: Value = r.json().await.unwrap();
    assert_ne!(v["code"], 0);
    // A URL source over the limit.
    let big = {
        let form = reqwest::multipart::Form::new().part("files", part(&m.mp4, "c.mp4"));
        let emu2 = start(&[]).await;
        let t2 = emu2.token().await;
        let s2 = emu2.session(&t2).await;
        let v = upload(&emu2, &t2, &s2, form).await;
        (
            emu2,
            v["data"]["files"][0]["cdn_url"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    };
    let (_, v) = upload_urls(&emu, &tok, &sid, &[&big.1]).await;
    assert_eq!(v["code"], 4002, "{v}");
}

#[tokio::test]
async fn file_names_are_sanitised() {
    let m = media();
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let form =
        reqwest::multipart::Form::new().part("files", part(&m.png, "../../etc/evil name<>.png"));
    let v = upload(&emu, &tok, &sid, form).await;
    assert_eq!(v["code"], 0, "{v}");
    let f = &v["data"]["files"][0];
    assert_eq!(f["filename"], "evil_name__.png");
    let url = f["cdn_url"].as_str().unwrap();
    assert!(!url.contains(".."));
    assert_eq!(emu.http.get(url).send().await.unwrap().status(), 200);
}

/// A tiny loopback server that redirects.
async fn redirector(target_ok: String) -> String {
    use axum::{response::Redirect, routing::get, Router};
    let app = Router::new()
        .route(
            "/away.mp4",
            get(|| async { Redirect::temporary("http://10.255.255.1/x.mp4") }),
        )
        .route(
            "/ok.png",
            get(move || {
                let t = target_ok.clone();
                async move { Redirect::temporary(&t) }
            }),
        )
        .route(
            "/missing.mp4",
            get(|| async { (axum::http::StatusCode::NOT_FOUND, "no") }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn url_sources_loopback_fetched_remote_only_recorded() {
    let m = media();
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    // Put a file on the emulator to have a loopback URL to fetch.
    let v = upload(
        &emu,
        &tok,
        &sid,
        reqwest::multipart::Form::new().part("files", part(&m.mp4, "clip.mp4")),
    )
    .await;
    let src = v["data"]["files"][0]["cdn_url"]
        .as_str()
        .unwrap()
        .to_string();
    let via_localhost = src.replace("127.0.0.1", "localhost");

    let sid2 = emu.session(&tok).await;
    let (status, v) = upload_urls(
        &emu,
        &tok,
        &sid2,
        &[
            &src,
            &via_localhost,
            "https://cdn.example.invalid/media/beach.mov",
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["code"], 0, "{v}");
    let files = v["data"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for f in &files[..2] {
        assert_eq!(f["width"], 640);
        assert!(f["hash"].is_string());
        assert!(f["cdn_url"].as_str().unwrap().starts_with(&emu.url));
        assert_ne!(f["cdn_url"], src.as_str(), "re-hosted under a new id");
    }
    let remote = &files[2];
    assert_eq!(remote["remote"], true);
    assert_eq!(
        remote["cdn_url"],
        "https://cdn.example.invalid/media/beach.mov"
    );
    assert_eq!(remote["filename"], "beach.mov");
    assert_eq!(remote["file_type"], "video");
    assert!(remote["width"].is_null() && remote["hash"].is_null());

    // Redirects: to loopback is followed, to anything else refused.
    let red = redirector(src.clone()).await;
    let (_, v) = upload_urls(&emu, &tok, &sid2, &[&format!("{red}/ok.png")]).await;
    assert_eq!(v["code"], 0, "{v}");
    let (_, v) = upload_urls(&emu, &tok, &sid2, &[&format!("{red}/away.mp4")]).await;
    assert_eq!(v["code"], 4003, "{v}");
    let (_, v) = upload_urls(&emu, &tok, &sid2, &[&format!("{red}/missing.mp4")]).await;
    assert_eq!(v["code"], 4003, "{v}");

    // Wrong types and schemes.
    let (_, v) = upload_urls(&emu, &tok, &sid2, &["https://example.invalid/setup.exe"]).await;
    assert_eq!(v["code"], 4001);
    let (status, _) = upload_urls(&emu, &tok, &sid2, &["file:///etc/passwd"]).await;
    assert_eq!(status, 400);
    let (status, _) = upload_urls(&emu, &tok, &sid2, &["ftp://127.0.0.1/a.mp4"]).await;
    assert_eq!(status, 400);
    let (status, _) = upload_urls(&emu, &tok, &sid2, &[]).await;
    assert_eq!(status, 400);
    // Loopback content that is not media.
    let (_, v) = upload_urls(
        &emu,
        &tok,
        &sid2,
        &[&format!("{}/__emulator/health", emu.url)],
    )
    .await;
    assert_eq!(v["code"], 4001, "{v}");
}
