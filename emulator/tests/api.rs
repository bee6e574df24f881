//! Every plain endpoint and every transport / code error, over real HTTP.

mod common;
use common::SendJson;

use std::time::Duration;

use common::{start, ATTR};
use serde_json::{json, Value};

#[tokio::test]
async fn anonymous_token_rules() {
    let emu = start(&["--tokens-per-ip", "3"]).await;
    let url = format!("{}/api/auth/anonymous-token", emu.url);

    // Missing or over-long X-Client-Id: HTTP 400.
    let r = emu.http.post(&url).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_ne!(v["code"], 0);
    let r = emu
        .http
        .post(&url)
        .header("X-Client-Id", "x".repeat(65))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Shape and the one-token-per-client rule.
    let v: Value = emu
        .http
        .post(&url)
        .header("X-Client-Id", "client-a")
        .send_json()
        .await;
    assert_eq!(v["code"], 0);
    let d = &v["data"];
    assert!(d["token"].as_str().unwrap().starts_with("nmv_usr_"));
    assert!(d["user_id"].as_str().unwrap().starts_with("anon_"));
    assert_eq!(d["credits"], 100);
    let exp = d["expires_at"].as_str().unwrap();
    assert!(exp.ends_with('Z') && exp.len() == 20, "{exp}");
    let (t2, u2) = emu.token_for("client-a").await;
    assert_eq!(t2, d["token"].as_str().unwrap());
    assert_eq!(u2, d["user_id"].as_str().unwrap());

    // Per-IP limit: 3 distinct clients, the 4th gets 429.
    emu.token_for("client-b").await;
    emu.token_for("client-c").await;
    let r = emu
        .http
        .post(&url)
        .header("X-Client-Id", "client-d")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    // A known client still gets its token back.
    emu.token_for("client-a").await;
}

#[tokio::test]
async fn expired_and_invalid_tokens_answer_1001() {
    let emu = start(&["--token-ttl", "1"]).await;
    let (tok, _) = emu.token_for("ttl-client").await;
    let v = emu.balance(&tok).await;
    assert_eq!(v["available"], 100);

    for bad in ["", "nmv_usr_nope"] {
        let r = emu
            .http
            .get(format!("{}/api/credits/balance/simple", emu.url))
            .bearer_auth(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], 1001, "{v}");
        assert!(v["msg"].is_string() && v["message"].is_string());
    }
    // No Authorization at all.
    let v: Value = emu
        .http
        .get(format!("{}/api/credits/balance/simple", emu.url))
        .send_json()
        .await;
    assert_eq!(v["code"], 1001);

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let v: Value = emu
        .get(&tok, "/api/credits/balance/simple")
        .send_json()
        .await;
    assert_eq!(v["code"], 1001, "expired token: {v}");
    // The same client id now gets a fresh token.
    let (tok2, _) = emu.token_for("ttl-client").await;
    assert_ne!(tok2, tok);
}

#[tokio::test]
async fn sessions_state_claim_and_credits() {
    let emu = start(&["--session-idle", "1"]).await;
    let tok = emu.token().await;
    let v: Value = emu
        .post(&tok, "/api/tasks/me/with-session/nemo_agent")
        .json(&json!({"task_name": "my project", "language": "en"}))
        .send_json()
        .await;
    assert_eq!(v["code"], 0);
    let sid = v["data"]["session_id"].as_str().unwrap().to_string();
    let task_id = v["data"]["task_id"].as_str().unwrap().to_string();

    let st = emu.state(&tok, &sid).await;
    assert_eq!(st["code"], 0);
    let d = &st["data"];
    assert_eq!(d["session_id"], sid.as_str());
    assert_eq!(d["task_id"], task_id.as_str());
    assert_eq!(d["task_name"], "my project");
    for k in [
        "draft",
        "video_infos",
        "canvas_config",
        "video_analyses",
        "generated_media",
    ] {
        assert!(!d["state"][k].is_null(), "state.{k} missing: {d}");
    }
    assert_eq!(d["state"]["canvas_config"]["width"], 1080);
    assert_eq!(d["state"]["canvas_config"]["height"], 1920);

    // Claim token.
    let v: Value = emu
        .post(&tok, "/api/auth/claim-token")
        .json(&json!({"task_id": task_id, "session_id": sid}))
        .send_json()
        .await;
    assert_eq!(v["code"], 0, "{v}");
    assert!(v["data"]["claim_token"]
        .as_str()
        .unwrap()
        .starts_with("ct_"));
    assert!(v["data"]["expires_in"].as_u64().unwrap() > 0);
    let r = emu
        .post(&tok, "/api/auth/claim-token")
        .json(&json!({"task_id": "task_other", "session_id": sid}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Credits.
    let b = emu.balance(&tok).await;
    assert_eq!(b, json!({"available": 100, "frozen": 0, "total": 100}));

    // Unknown session: 1002 on state, upload, run_sse, claim.
    let v = emu.state(&tok, "nope").await;
    assert_eq!(v["code"], 1002);
    let v: Value = emu
        .post(&tok, "/api/upload-video/nemo_agent/me/nope")
        .json(&json!({"urls": ["https://example.invalid/a.mp4"], "source_type": "url"}))
        .send_json()
        .await;
    assert_eq!(v["code"], 1002);
    let s = emu.run(&tok, "nope", "hello").await;
    assert_eq!(s.body["code"], 1002, "{:?}", s.raw);
    assert!(s.body["msg"]
        .as_str()
        .unwrap()
        .contains("Session not found"));

    // Another user's session is not visible.
    let other = emu.token().await;
    assert_eq!(emu.state(&other, &sid).await["code"], 1002);

    // Idle expiry.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let v = emu.state(&tok, &sid).await;
    assert_eq!(v["code"], 1002, "idle session should be gone: {v}");
}

#[tokio::test]
async fn export_without_attribution_is_402() {
    let emu = start(&[]).await;
    let tok = emu.token().await;
    let sid = emu.session(&tok).await;
    let draft = json!({"t": [{"tt": 0, "sg": [{"id": "a", "s": 0, "d": 1000, "src": "emulator://generated/x"}]}], "d": 1000});
    for missing in 0..3 {
        let mut rb = emu
            .http
            .post(format!("{}/api/render/proxy/lambda", emu.url))
            .bearer_auth(&tok);
        for (i, (k, v)) in ATTR.iter().enumerate() {
            if i != missing {
                rb = rb.header(*k, *v);
            }
        }
        let r = rb
            .json(&json!({"id": "render_1", "sessionId": sid, "draft": draft, "output": {"format": "mp4", "quality": "high"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 402);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["success"], false);
        assert!(v["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("x-skill"));
    }
    // Other endpoints work without attribution (only counted).
    let v: Value = emu
        .http
        .get(format!("{}/api/credits/balance/simple", emu.url))
        .bearer_auth(&tok)
        .send_json()
        .await;
    assert_eq!(v["code"], 0);
    let st = emu.stats().await;
    assert!(st["global"]["missing_attribution"].as_u64().unwrap() >= 4);
}

#[tokio::test]
async fn cors_preflight_and_exposed_headers() {
    let emu = start(&[]).await;
    let r = emu
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/run_sse", emu.url))
        .header("Origin", "http://localhost:5173")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type,last-event-id,x-client-id,x-skill-source,x-skill-version,x-skill-platform",
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for want in [
        "authorization",
        "content-type",
        "last-event-id",
        "x-client-id",
        "x-skill-source",
        "x-skill-version",
        "x-skill-platform",
    ] {
        assert!(allowed.contains(want), "{want} not in {allowed}");
    }
    let r = emu
        .http
        .post(format!("{}/api/auth/anonymous-token", emu.url))
        .header("Origin", "http://localhost:5173")
        .header("X-Client-Id", "cors")
        .send()
        .await
        .unwrap();
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for want in ["content-length", "content-range", "accept-ranges"] {
        assert!(exposed.contains(want), "{want} not in {exposed}");
    }
}

#[tokio::test]
async fn hardening_limits() {
    let emu = start(&[]).await;
    let tok = emu.token().await;
    // JSON nested too deep.
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let r = emu
        .post(&tok, "/api/tasks/me/with-session/nemo_agent")
        .header("content-type", "application/json")
        .body(format!("{{\"task_name\":\"p\",\"x\":{deep}}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Body over 1 MiB.
    let big = format!("{{\"task_name\":\"{}\"}}", "a".repeat(1_100_000));
    let r = emu
        .post(&tok, "/api/tasks/me/with-session/nemo_agent")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // Malformed JSON.
    let r = emu
        .post(&tok, "/api/tasks/me/with-session/nemo_agent")
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Oversized headers.
    let r = emu
        .get(&tok, "/api/credits/balance/simple")
        .header("X-Junk", "j".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    // Unknown route: JSON 404.
    let r = emu.get(&tok, "/api/nothing/here").send().await.unwrap();
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], 404);
    // Unknown render / file ids.
    let r = emu
        .get(&tok, "/api/render/proxy/lambda/render_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = emu
        .get(&tok, "/files/..%2f..%2fetc/passwd")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = emu.get(&tok, "/renders/..%2fx.mp4").send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn static_www_dir_is_served_without_traversal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<h1>demo</h1>").unwrap();
    std::fs::create_dir(dir.path().join("pkg")).unwrap();
    std::fs::write(dir.path().join("pkg/app.js"), "export {}").unwrap();
    let secret = dir.path().parent().unwrap().join("nemo-emu-secret.txt");
    std::fs::write(&secret, "TOP-SECRET-CONTENT").unwrap();
    let www = dir.path().to_str().unwrap().to_string();
    let emu = start(&["--www", &www]).await;
    let r = emu.http.get(format!("{}/", emu.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "<h1>demo</h1>");
    let r = emu
        .http
        .get(format!("{}/pkg/app.js", emu.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    for p in [
        "/../nemo-emu-secret.txt",
        "/%2e%2e/nemo-emu-secret.txt",
        "/pkg/..%2f..%2fnemo-emu-secret.txt",
    ] {
        let r = emu
            .http
            .get(format!("{}{}", emu.url, p))
            .send()
            .await
            .unwrap();
        assert_ne!(r.status(), 200, "{p}");
        assert!(!r.text().await.unwrap().contains("TOP-SECRET"), "{p}");
    }
    // The API still answers on the same origin.
    let r = emu
        .http
        .post(format!("{}/api/auth/anonymous-token", emu.url))
        .header("X-Client-Id", "www")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = std::fs::remove_file(secret);
}

#[tokio::test]
async fn admin_config_reset_and_health() {
    let emu = start(&[]).await;
    let v: Value = emu
        .http
        .get(format!("{}/__emulator/health", emu.url))
        .send_json()
        .await;
    assert_eq!(v["ok"], true);
    let v: Value = emu
        .http
        .post(format!("{}/__emulator/config", emu.url))
        .json(&json!({"speed": 500, "token_ttl_s": 60, "credits": 300}))
        .send_json()
        .await;
    assert_eq!(v["runtime"]["speed"], 500.0);
    let tok = emu.token().await;
    assert_eq!(emu.balance(&tok).await["available"], 300);
    let r = emu
        .http
        .post(format!("{}/__emulator/config", emu.url))
        .json(&json!({"speed": -1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    emu.http
        .post(format!("{}/__emulator/reset", emu.url))
        .send()
        .await
        .unwrap();
    // Tokens are gone after a reset.
    assert_eq!(
        emu.get(&tok, "/api/credits/balance/simple")
            .send_json()
            .await["code"],
        1001
    );
    let v: Value = emu
        .http
        .get(format!("{}/__emulator/config", emu.url))
        .send_json()
        .await;
    assert_eq!(v["runtime"]["speed"], 1000.0);
}

#[test]
fn binary_help_documents_every_flag_and_prints_the_port() {
    let exe = env!("CARGO_BIN_EXE_nemo-emulator");
    let out = std::process::Command::new(exe)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--host",
        "--port",
        "--speed",
        "--seed",
        "--token-ttl",
        "--tokens-per-ip",
        "--credits",
        "--generation-cost",
        "--edit-cost",
        "--session-idle",
        "--heartbeat-ms",
        "--events",
        "--web-url",
        "--public-url",
        "--www",
        "--data-dir",
        "--max-file-size",
        "--max-files",
        "--json-limit",
        "--max-json-depth",
        "--max-header-bytes",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }

    use std::io::BufRead;
    let data = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(exe)
        .args(["--port", "0", "--data-dir"])
        .arg(data.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let url = line
        .trim()
        .strip_prefix("nemo-emulator listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{line}"));
    let port: u16 = url.parse().unwrap();
    assert_ne!(port, 0);
}
