//! Helpers shared by the integration tests: an in-process emulator on an ephemeral
//! loopback port, a reqwest client that never uses a proxy, and a small SSE reader.
#![allow(dead_code)]

use std::time::Duration;

use futures::StreamExt;
use nemo_emulator::{Config, Server};
use serde_json::{json, Value};

/// `request.send_json().await`: send, and read the reply as JSON, failing the
/// test on a transport or decoding error (the status is the caller's to check).
pub trait SendJson {
    /// Sends the request and decodes the body.
    fn send_json(self) -> impl std::future::Future<Output = Value>;
}

impl SendJson for reqwest::RequestBuilder {
    async fn send_json(self) -> Value {
        self.send()
            .await
            .expect("request reaches the emulator")
            .json()
            .await
            .expect("reply is JSON")
    }
}

pub struct Emu {
    pub server: Server,
    pub url: String,
    pub http: reqwest::Client,
}

/// Starts an emulator with fast defaults plus `extra` flags.
pub async fn start(extra: &[&str]) -> Emu {
    let mut args: Vec<&str> = Vec::new();
    for (k, v) in [
        ("--host", "127.0.0.1"),
        ("--port", "0"),
        ("--speed", "1000"),
        ("--heartbeat-ms", "40"),
    ] {
        if !extra.contains(&k) {
            args.extend([k, v]);
        }
    }
    args.extend_from_slice(extra);
    let config = Config::from_args(args).expect("flags");
    let server = nemo_emulator::start(config).await.expect("start");
    let url = server.url.clone();
    Emu {
        server,
        url,
        http: client(),
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

pub const ATTR: [(&str, &str); 3] = [
    ("X-Skill-Source", "higgsfield-ai"),
    ("X-Skill-Version", "0.1.0"),
    ("X-Skill-Platform", "unknown"),
];

/// One parsed SSE event.
#[derive(Debug, Clone)]
pub struct Ev {
    pub id: Option<String>,
    pub data: String,
}

impl Ev {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }
}

/// What a `/run_sse` stream carried.
#[derive(Debug, Default)]
pub struct Sse {
    pub status: u16,
    pub content_type: String,
    pub events: Vec<Ev>,
    pub comments: usize,
    pub empty_data: usize,
    pub typed_heartbeats: usize,
    /// The transport failed before the stream ended cleanly.
    pub broken: bool,
    pub raw: String,
    /// Non-SSE body (JSON error answers).
    pub body: Value,
}

impl Sse {
    /// Events other than typed heartbeats, as JSON.
    pub fn jsons(&self) -> Vec<Value> {
        self.events
            .iter()
            .map(Ev::json)
            .filter(|v| v["type"] != "heartbeat")
            .collect()
    }

    pub fn last_id(&self) -> Option<String> {
        self.events.iter().rev().find_map(|e| e.id.clone())
    }

    /// Complete model texts (non-partial, non-thought), ADK shape.
    pub fn texts(&self) -> Vec<String> {
        self.jsons()
            .iter()
            .filter(|v| v["partial"] != true)
            .filter_map(|v| {
                let p = &v["content"]["parts"][0];
                if p["thought"] == true {
                    return None;
                }
                p["text"].as_str().map(str::to_string)
            })
            .collect()
    }

    pub fn state_deltas(&self) -> Vec<Value> {
        self.jsons()
            .iter()
            .map(|v| v["actions"]["stateDelta"].clone())
            .filter(|d| d.as_object().map(|o| !o.is_empty()).unwrap_or(false))
            .collect()
    }

    pub fn function_calls(&self) -> Vec<Value> {
        self.jsons()
            .iter()
            .filter_map(|v| {
                let f = &v["content"]["parts"][0]["functionCall"];
                (!f.is_null()).then(|| f.clone())
            })
            .collect()
    }
}

/// Parses SSE text (LF line ends, as the emulator writes).
pub fn parse_sse(raw: &str, out: &mut Sse) {
    for block in raw.split("\n\n") {
        if block.is_empty() {
            continue;
        }
        let mut id = None;
        let mut data: Option<String> = None;
        for line in block.split('\n') {
            if line.starts_with(':') {
                out.comments += 1;
            } else if let Some(v) = line.strip_prefix("id:") {
                id = Some(v.trim_start().to_string());
            } else if let Some(v) = line.strip_prefix("data:") {
                let v = v.strip_prefix(' ').unwrap_or(v);
                data = Some(match data {
                    Some(d) => format!("{d}\n{v}"),
                    None => v.to_string(),
                });
            }
        }
        match data {
            Some(d) if d.is_empty() => out.empty_data += 1,
            Some(d) if d == r#"{"type":"heartbeat"}"# => out.typed_heartbeats += 1,
            Some(d) => out.events.push(Ev { id, data: d }),
            None => {}
        }
    }
}

impl Emu {
    pub async fn token_for(&self, client_id: &str) -> (String, String) {
        let v: Value = self
            .http
            .post(format!("{}/api/auth/anonymous-token", self.url))
            .header("X-Client-Id", client_id)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["code"], 0, "{v}");
        (
            v["data"]["token"].as_str().unwrap().to_string(),
            v["data"]["user_id"].as_str().unwrap().to_string(),
        )
    }

    pub async fn token(&self) -> String {
        self.token_for(&uuid::Uuid::new_v4().to_string()).await.0
    }

    pub fn get(&self, tok: &str, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self
            .http
            .get(format!("{}{}", self.url, path))
            .bearer_auth(tok);
        for (k, v) in ATTR {
            rb = rb.header(k, v);
        }
        rb
    }

    pub fn post(&self, tok: &str, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self
            .http
            .post(format!("{}{}", self.url, path))
            .bearer_auth(tok);
        for (k, v) in ATTR {
            rb = rb.header(k, v);
        }
        rb
    }

    pub async fn session_lang(&self, tok: &str, lang: &str) -> String {
        let v: Value = self
            .post(tok, "/api/tasks/me/with-session/nemo_agent")
            .json(&json!({"task_name": "project", "language": lang}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["code"], 0, "{v}");
        v["data"]["session_id"].as_str().unwrap().to_string()
    }

    pub async fn session(&self, tok: &str) -> String {
        self.session_lang(tok, "en").await
    }

    pub async fn state(&self, tok: &str, sid: &str) -> Value {
        self.get(tok, &format!("/api/state/nemo_agent/me/{sid}/latest"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn balance(&self, tok: &str) -> Value {
        let v: Value = self
            .get(tok, "/api/credits/balance/simple")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["data"].clone()
    }

    pub async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/__emulator/stats", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn fault(&self, spec: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/__emulator/faults", self.url))
            .json(&spec)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// The chat body as the client sends it: token streaming on.
    pub fn run_body(sid: &str, text: &str) -> Value {
        json!({"app_name": "nemo_agent", "user_id": "me", "session_id": sid,
               "new_message": {"parts": [{"text": text}], "role": "user"},
               "streaming": true})
    }

    /// Posts a chat message without `"streaming"` and reads the whole stream.
    pub async fn run_unstreamed(&self, tok: &str, sid: &str, text: &str) -> Sse {
        let mut body = Self::run_body(sid, text);
        body.as_object_mut().map(|o| o.remove("streaming"));
        let rb = self
            .post(tok, "/run_sse")
            .header("Accept", "text/event-stream")
            .json(&body);
        read_sse(rb.send().await.unwrap()).await
    }

    /// Posts a chat message and reads the whole stream (or until it breaks).
    pub async fn run(&self, tok: &str, sid: &str, text: &str) -> Sse {
        self.run_with(tok, sid, text, &[]).await
    }

    pub async fn run_with(
        &self,
        tok: &str,
        sid: &str,
        text: &str,
        headers: &[(&str, &str)],
    ) -> Sse {
        let mut rb = self
            .post(tok, "/run_sse")
            .header("Accept", "text/event-stream")
            .json(&Self::run_body(sid, text));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        read_sse(rb.send().await.unwrap()).await
    }
}

/// Reads an SSE (or JSON error) response to its end.
pub async fn read_sse(resp: reqwest::Response) -> Sse {
    let mut out = Sse {
        status: resp.status().as_u16(),
        content_type: resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        ..Default::default()
    };
    let mut raw = Vec::new();
    let mut stream = resp.bytes_stream();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(b))) => raw.extend_from_slice(&b),
            Ok(Some(Err(_))) => {
                out.broken = true;
                break;
            }
            Ok(None) => break,
            Err(_) => panic!("stream did not end within 60 s"),
        }
    }
    out.raw = String::from_utf8_lossy(&raw).into_owned();
    if out.content_type.starts_with("text/event-stream") {
        let raw = out.raw.clone();
        parse_sse(&raw, &mut out);
    } else {
        out.body = serde_json::from_str(&out.raw).unwrap_or(Value::Null);
    }
    out
}
