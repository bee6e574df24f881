//! Hardening gaps not covered by `api.rs` / `upload.rs`: oversized bodies on every JSON
//! endpoint (with and without a Content-Length), an early answer to an upload that is
//! still streaming in (the client must get the answer, not a connection reset), and path
//! traversal through every URL that names a stored file or a session.

mod common;

use bytes::Bytes;
use common::*;
use serde_json::{json, Value};

/// A 2×2 RGB PNG.
const PNG: &str = "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a730000001649444154789c636060686061686060606f60616f00000c7302170468e4d00000000049454e44ae426082";

fn png() -> Vec<u8> {
    (0..PNG.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&PNG[i..i + 2], 16).unwrap())
        .collect()
}

/// A body of `total` bytes sent in chunks, with no Content-Length.
fn chunked(total: usize, chunk: usize) -> reqwest::Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..total.div_ceil(chunk))
        .map(|i| Ok(Bytes::from(vec![b' '; chunk.min(total - i * chunk)])))
        .collect();
    reqwest::Body::wrap_stream(futures::stream::iter(chunks))
}

#[tokio::test]
async fn oversized_json_bodies_are_413_on_every_endpoint() {
    let emu = start(&["--json-limit", "65536"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let big = format!("{{\"pad\":\"{}\"}}", "a".repeat(70_000));
    let paths = [
        "/api/tasks/me/with-session/nemo_agent".to_string(),
        "/api/auth/claim-token".to_string(),
        "/run_sse".to_string(),
        "/api/render/proxy/lambda".to_string(),
        format!("/api/upload-video/nemo_agent/me/{sid}"),
    ];
    for p in &paths {
        // With a Content-Length.
        let r = emu
            .post(&tok, p)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{p} (content-length)");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], 413, "{p}: {v}");
        // Chunked, with no length announced.
        let r = emu
            .post(&tok, p)
            .header("content-type", "application/json")
            .body(chunked(200_000, 8192))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{p} (chunked)");
    }
    // The fault admin endpoint too.
    let r = emu
        .http
        .post(format!("{}/__emulator/faults", emu.url))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // Still healthy, and nothing was created by the refused requests.
    assert!(!emu.balance(&tok).await.is_null());
    let st = emu.stats().await;
    assert_eq!(st["global"]["sessions_created"], 1, "{st}");
    assert_eq!(st["global"]["turns_run"], 0, "{st}");
}

#[tokio::test]
async fn an_upload_over_the_route_limit_is_refused_and_not_stored() {
    let emu = start(&["--max-file-size", "1000", "--max-files", "1"]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    // Route limit: 1000 × 1 + 1 MiB. Send 3 MiB of a "PNG".
    let mut body = png();
    body.resize(3 * 1024 * 1024, 0);
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(body).file_name("big.png"),
    );
    let r = emu
        .post(&tok, &format!("/api/upload-video/nemo_agent/me/{sid}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    assert!(
        status == 413 || v["code"] == 4002,
        "expected 413 or 4002, got {status} {v}"
    );
    let st = emu.stats().await;
    assert_eq!(st["global"]["uploads"], 0, "{st}");
    assert_eq!(st["live"]["files"], 0, "{st}");
}

/// An answer given before the body was read (bad token, lost session, injected fault)
/// reaches a client that is still streaming a large upload, instead of a reset.
#[tokio::test]
async fn early_answers_reach_a_client_still_streaming_an_upload() {
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let boundary = "XBOUNDARYX";
    let multipart = |size: usize| {
        let head = format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"files\"; filename=\"a.png\"\r\ncontent-type: image/png\r\n\r\n"
        );
        let mut parts: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from(head))];
        let mut first = png();
        first.resize(64 * 1024, 0);
        parts.push(Ok(Bytes::from(first)));
        for _ in 0..size / (64 * 1024) {
            parts.push(Ok(Bytes::from(vec![0u8; 64 * 1024])));
        }
        parts.push(Ok(Bytes::from(format!("\r\n--{boundary}--\r\n"))));
        reqwest::Body::wrap_stream(futures::stream::iter(parts))
    };
    let ctype = format!("multipart/form-data; boundary={boundary}");
    let path = format!("/api/upload-video/nemo_agent/me/{sid}");

    // An unknown token: code 1001.
    let r = emu
        .post("nmv_usr_not_a_real_token", &path)
        .header("content-type", &ctype)
        .body(multipart(8 * 1024 * 1024))
        .send()
        .await
        .expect("the client got an answer, not a reset");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], 1001, "{v}");

    // An unknown session: code 1002.
    let r = emu
        .post(&tok, "/api/upload-video/nemo_agent/me/sess_nope")
        .header("content-type", &ctype)
        .body(multipart(8 * 1024 * 1024))
        .send()
        .await
        .expect("the client got an answer, not a reset");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], 1002, "{v}");

    // An injected rate limit: HTTP 429.
    emu.fault(json!({"endpoint": "upload", "kind": "rate_limit"}))
        .await;
    let r = emu
        .post(&tok, &path)
        .header("content-type", &ctype)
        .body(multipart(8 * 1024 * 1024))
        .send()
        .await
        .expect("the client got an answer, not a reset");
    assert_eq!(r.status(), 429);

    // The connection-level answer did not break the server.
    let r = emu
        .post(&tok, &path)
        .header("content-type", &ctype)
        .body(multipart(128 * 1024))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], 0, "{v}");
}

#[tokio::test]
async fn path_traversal_never_reaches_the_file_system() {
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(png()).file_name("p.png"),
    );
    let r = emu
        .post(&tok, &format!("/api/upload-video/nemo_agent/me/{sid}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], 0, "{v}");
    let cdn = v["data"]["files"][0]["cdn_url"]
        .as_str()
        .unwrap()
        .to_string();
    let id = cdn.split('/').rev().nth(1).unwrap().to_string();
    assert_eq!(emu.http.get(&cdn).send().await.unwrap().status(), 200);

    let probes = [
        format!("/files/{id}/..%2f..%2f..%2f..%2fetc%2fpasswd"),
        format!("/files/{id}/%2e%2e%2f%2e%2e%2fetc%2fpasswd"),
        format!("/files/{id}/..%5c..%5c..%5cetc%5cpasswd"),
        format!("/files/{id}/%252e%252e%252fetc%252fpasswd"),
        "/files/%2e%2e/passwd".to_string(),
        "/files/..%2f..%2f..%2fetc/passwd".to_string(),
        "/files/%2fetc/passwd".to_string(),
        "/renders/%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_string(),
        "/renders/..%5c..%5cCargo.toml".to_string(),
        "/renders/%2fetc%2fpasswd".to_string(),
        "/api/render/proxy/..%2f..%2fetc%2fpasswd/download".to_string(),
        "/api/render/proxy/lambda/..%2f..%2fetc%2fpasswd".to_string(),
        "/api/state/nemo_agent/me/..%2f..%2fetc%2fpasswd/latest".to_string(),
    ];
    for p in &probes {
        let r = emu.get(&tok, p).send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("root:"), "{p} served /etc/passwd");
        assert!(!text.contains("[package]"), "{p} served a source file");
        // Refused (a 4xx, or a code error for the state path), or the uploaded file
        // itself: files are looked up by id, and the name in the URL is not a path.
        assert!(
            (400..500).contains(&status)
                || text.contains("\"code\":1002")
                || (status == 200 && body.as_ref() == png().as_slice()),
            "{p}: HTTP {status} {text}"
        );
    }
    // The stored name is what the id serves, whatever name the URL gives.
    let r = emu
        .http
        .get(format!("{}/files/{id}/..%2f..%2fCargo.toml", emu.url))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.bytes().await.unwrap();
    assert!(
        status == 404 || body.as_ref() == png().as_slice(),
        "HTTP {status}"
    );

    // A URL source naming a local path is refused without being read.
    let r = emu
        .post(&tok, &format!("/api/upload-video/nemo_agent/me/{sid}"))
        .json(&json!({"urls": ["file:///etc/passwd"], "source_type": "url"}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_ne!(v["code"], 0, "{v}");
    assert!(!v.to_string().contains("root:"));
}
