//! `POST /api/upload-video/nemo_agent/me/<sid>`: multipart files streamed to disk, or JSON
//! `{"urls":[…],"source_type":"url"}`.
//!
//! Files are never held in memory: chunks go straight to a file while a SHA-256 is kept.
//! Types are judged by magic bytes (4001), sizes while streaming (4002). URL sources are
//! fetched only when the host is loopback (127.0.0.0/8, ::1, localhost — resolved and
//! checked, each redirect hop too); any other URL is recorded as a remote reference
//! without being contacted.

use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::{FromRequest, Multipart, Path, Request, State},
    http::{header, HeaderMap},
    response::Response,
};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::{
    auth::{note_attribution, AuthUser},
    envelope::{self, ApiError, FETCH_FAILED, FILE_TOO_LARGE, UNSUPPORTED_TYPE},
    sniff,
    state::{AppState, FileKind, StoredFile},
    util,
};

/// Where one incoming file stands.
enum Verdict {
    Undecided,
    Writing,
    TooLarge,
    Unsupported,
}

/// Streams one file to disk, sniffing its first bytes and enforcing the size limit.
struct FileSink {
    dir: PathBuf,
    path: PathBuf,
    filename: String,
    ext: Option<String>,
    format: Option<&'static str>,
    head: Vec<u8>,
    pending: Vec<Bytes>,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    size: u64,
    max: u64,
    verdict: Verdict,
    id: String,
}

/// A file that passed both checks.
struct Accepted {
    id: String,
    path: PathBuf,
    filename: String,
    format: &'static str,
    size: u64,
    hash: String,
}

enum Outcome {
    Ok(Accepted),
    TooLarge(String),
    Unsupported(String),
}

impl FileSink {
    fn new(state: &AppState, filename: String) -> Self {
        let id = util::random_id("f_", 20);
        let dir = state.files_dir().join(&id);
        let path = dir.join(&filename);
        let ext = util::extension(&filename);
        FileSink {
            dir,
            path,
            filename,
            ext,
            format: None,
            head: Vec::new(),
            pending: Vec::new(),
            file: None,
            hasher: Sha256::new(),
            size: 0,
            max: state.config.max_file_size,
            verdict: Verdict::Undecided,
            id,
        }
    }

    async fn push(&mut self, chunk: Bytes) -> Result<(), ApiError> {
        self.size += chunk.len() as u64;
        match self.verdict {
            Verdict::TooLarge | Verdict::Unsupported => return Ok(()), // drain
            _ => {}
        }
        if self.size > self.max {
            self.verdict = Verdict::TooLarge;
            self.discard().await;
            return Ok(());
        }
        if let Verdict::Undecided = self.verdict {
            let need = sniff::HEAD_LEN.saturating_sub(self.head.len());
            self.head.extend_from_slice(&chunk[..need.min(chunk.len())]);
            self.pending.push(chunk);
            if self.head.len() >= sniff::HEAD_LEN {
                self.decide().await?;
            }
            return Ok(());
        }
        self.write(&chunk).await
    }

    async fn decide(&mut self) -> Result<(), ApiError> {
        let ext_ok = match &self.ext {
            None => true,
            Some(e) => sniff::format_from_ext(e).is_some(),
        };
        match sniff::sniff(&self.head, self.ext.as_deref()).filter(|_| ext_ok) {
            None => {
                self.verdict = Verdict::Unsupported;
                self.pending.clear();
            }
            Some(fmt) => {
                self.format = Some(fmt);
                self.verdict = Verdict::Writing;
                tokio::fs::create_dir_all(&self.dir)
                    .await
                    .map_err(|e| ApiError::internal(format!("storage: {e}")))?;
                let f = tokio::fs::File::create(&self.path)
                    .await
                    .map_err(|e| ApiError::internal(format!("storage: {e}")))?;
                self.file = Some(f);
                for chunk in std::mem::take(&mut self.pending) {
                    self.write(&chunk).await?;
                }
            }
        }
        Ok(())
    }

    async fn write(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        self.hasher.update(chunk);
        if let Some(f) = self.file.as_mut() {
            f.write_all(chunk)
                .await
                .map_err(|e| ApiError::internal(format!("storage: {e}")))?;
        }
        Ok(())
    }

    async fn discard(&mut self) {
        self.pending.clear();
        self.file = None;
        let _ = tokio::fs::remove_dir_all(&self.dir).await;
    }

    async fn finish(mut self) -> Result<Outcome, ApiError> {
        if let Verdict::Undecided = self.verdict {
            self.decide().await?;
        }
        match self.verdict {
            Verdict::TooLarge => Ok(Outcome::TooLarge(self.filename)),
            Verdict::Unsupported | Verdict::Undecided => {
                self.discard().await;
                Ok(Outcome::Unsupported(self.filename))
            }
            Verdict::Writing => {
                if let Some(mut f) = self.file.take() {
                    f.flush()
                        .await
                        .map_err(|e| ApiError::internal(format!("storage: {e}")))?;
                }
                let hash: String = self
                    .hasher
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                Ok(Outcome::Ok(Accepted {
                    id: self.id,
                    path: self.path,
                    filename: self.filename,
                    format: self.format.unwrap_or("mp4"),
                    size: self.size,
                    hash,
                }))
            }
        }
    }
}

fn too_large(state: &AppState, name: &str) -> ApiError {
    ApiError::code(
        FILE_TOO_LARGE,
        format!(
            "File too large: {name} (limit {} MB)",
            state.config.max_file_size / (1024 * 1024)
        ),
    )
    .with_data(json!({"filename": name, "max_bytes": state.config.max_file_size}))
}

fn unsupported(name: &str) -> ApiError {
    ApiError::code(
        UNSUPPORTED_TYPE,
        format!(
            "Unsupported file type: {name}. Accepted formats: {}",
            sniff::ACCEPTED.join(", ")
        ),
    )
    .with_data(json!({"filename": name, "accepted": sniff::ACCEPTED}))
}

async fn cleanup(accepted: &[Accepted]) {
    for a in accepted {
        if let Some(dir) = a.path.parent() {
            let _ = tokio::fs::remove_dir_all(dir).await;
        }
    }
}

/// The handler.
pub async fn upload(
    State(state): State<AppState>,
    user: AuthUser,
    Path((_agent, _me, sid)): Path<(String, String, String)>,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, ApiError> {
    note_attribution(&state, &headers);
    let idle = state.rt().session_idle_s;
    state.store().session_mut(&sid, &user.user_id, idle)?;

    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut remote: Vec<(String, String, Option<&'static str>)> = Vec::new();
    let accepted = if ctype.starts_with("multipart/form-data") {
        receive_multipart(&state, req).await?
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), state.config.json_limit)
            .await
            .map_err(|_| {
                ApiError::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    413,
                    "request body too large",
                )
            })?;
        let body: UrlBody = envelope::parse_json(&bytes, state.config.max_json_depth)?;
        receive_urls(&state, body, &mut remote).await?
    };

    // Probe and register.
    let base = state.base_url();
    let mut entries = Vec::new();
    let mut stored = Vec::new();
    for a in &accepted {
        let info = crate::probe::probe(&a.path).await.ok();
        let kind = sniff::kind_of(a.format);
        let cdn_url = format!("{base}/files/{}/{}", a.id, a.filename);
        let duration = info.as_ref().and_then(|i| i.duration_s);
        let entry = json!({
            "file_id": a.id,
            "filename": a.filename,
            "file_type": kind,
            "format": a.format,
            "size": a.size,
            "cdn_url": cdn_url,
            "duration": duration,
            "width": info.as_ref().and_then(|i| i.width),
            "height": info.as_ref().and_then(|i| i.height),
            "fps": info.as_ref().and_then(|i| i.fps),
            "hash": a.hash,
            "has_audio": info.as_ref().map(|i| i.has_audio),
        });
        stored.push(StoredFile {
            id: a.id.clone(),
            user_id: user.user_id.clone(),
            session_id: sid.clone(),
            filename: a.filename.clone(),
            kind,
            path: Some(a.path.clone()),
            cdn_url,
            duration,
        });
        entries.push(entry);
    }
    for (url, filename, format) in remote {
        let id = util::random_id("r_", 20);
        let kind = format.map(sniff::kind_of).unwrap_or(FileKind::Video);
        entries.push(json!({
            "file_id": id,
            "filename": filename,
            "file_type": kind,
            "format": format,
            "size": null,
            "cdn_url": url,
            "duration": null,
            "width": null,
            "height": null,
            "fps": null,
            "hash": null,
            "remote": true,
        }));
        stored.push(StoredFile {
            id,
            user_id: user.user_id.clone(),
            session_id: sid.clone(),
            filename,
            kind,
            path: None,
            cdn_url: url,
            duration: None,
        });
    }

    let bytes: u64 = accepted.iter().map(|a| a.size).sum();
    let applied = apply(&state, &user.user_id, &sid, idle, &entries, stored, bytes);
    if let Err(e) = applied {
        cleanup(&accepted).await;
        return Err(e);
    }
    tracing::info!(user_id = %user.user_id, session_id = %sid, files = entries.len(), bytes, "upload stored");
    Ok(envelope::ok(
        json!({"files": entries, "session_state_applied": true}),
    ))
}

/// Records accepted files in the store and the session state.
fn apply(
    state: &AppState,
    user_id: &str,
    sid: &str,
    idle: u64,
    entries: &[Value],
    stored: Vec<StoredFile>,
    bytes: u64,
) -> Result<(), ApiError> {
    {
        let mut store = state.store();
        let session = store.session_mut(sid, user_id, idle)?;
        for (entry, file) in entries.iter().zip(&stored) {
            session.video_infos.push(entry.clone());
            session.video_analyses.push(json!({
                "file_id": file.id,
                "filename": file.filename,
                "summary": analysis_summary(entry),
            }));
        }
        let n = stored.len() as u64;
        for f in stored {
            store.files.insert(f.id.clone(), f);
        }
        store.stats_for(sid).uploads += n;
        store.global.uploads += n;
        store.global.upload_bytes += bytes;
    }
    Ok(())
}

fn analysis_summary(entry: &Value) -> String {
    let kind = entry["file_type"].as_str().unwrap_or("file");
    let mut s = format!("A {kind}");
    if let (Some(w), Some(h)) = (entry["width"].as_u64(), entry["height"].as_u64()) {
        s.push_str(&format!(", {w}x{h}"));
    }
    if let Some(d) = entry["duration"].as_f64() {
        s.push_str(&format!(", {d:.1} s"));
    }
    s
}

async fn receive_multipart(state: &AppState, req: Request) -> Result<Vec<Accepted>, ApiError> {
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|e| ApiError::bad_request(format!("invalid multipart body: {e}")))?;
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut error: Option<ApiError> = None;
    let mut count = 0usize;
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                cleanup(&accepted).await;
                return Err(error.unwrap_or_else(|| {
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        too_large(state, "(request)")
                    } else {
                        ApiError::bad_request(format!("invalid multipart body: {e}"))
                    }
                }));
            }
        };
        let is_file = matches!(field.name(), Some("files") | Some("files[]") | Some("file"));
        if !is_file || error.is_some() || count >= state.config.max_files {
            if is_file && error.is_none() {
                error = Some(ApiError::bad_request(format!(
                    "at most {} files per upload",
                    state.config.max_files
                )));
            }
            // Drain the field so the response is only sent once the body is read.
            while let Ok(Some(_)) = field.chunk().await {}
            continue;
        }
        count += 1;
        let name = util::sanitize_filename(field.file_name().unwrap_or("file"));
        let mut sink = FileSink::new(state, name);
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => sink.push(chunk).await?,
                Ok(None) => break,
                Err(e) => {
                    let tl = matches!(sink.verdict, Verdict::TooLarge)
                        || e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE;
                    let name = sink.filename.clone();
                    sink.discard().await;
                    cleanup(&accepted).await;
                    return Err(if tl {
                        too_large(state, &name)
                    } else {
                        ApiError::bad_request(format!("upload interrupted: {e}"))
                    });
                }
            }
        }
        match sink.finish().await? {
            Outcome::Ok(a) => accepted.push(a),
            Outcome::TooLarge(n) => error = Some(too_large(state, &n)),
            Outcome::Unsupported(n) => error = Some(unsupported(&n)),
        }
    }
    if let Some(e) = error {
        cleanup(&accepted).await;
        return Err(e);
    }
    if accepted.is_empty() {
        return Err(ApiError::bad_request("no `files` field in the upload"));
    }
    Ok(accepted)
}

#[derive(Deserialize)]
struct UrlBody {
    #[serde(default)]
    urls: Vec<String>,
    #[serde(default)]
    source_type: Option<String>,
}

/// Whether a URL may be fetched: `Ok(Some(addrs))` for loopback hosts (resolved, all
/// addresses loopback), `Ok(None)` for anything else (never resolved or contacted).
async fn loopback_addrs(url: &reqwest::Url) -> Result<Option<Vec<SocketAddr>>, ApiError> {
    let port = url.port_or_known_default().unwrap_or(80);
    match url.host() {
        Some(url::Host::Ipv4(ip)) => Ok(ip
            .is_loopback()
            .then(|| vec![SocketAddr::new(IpAddr::V4(ip), port)])),
        Some(url::Host::Ipv6(ip)) => Ok(ip
            .is_loopback()
            .then(|| vec![SocketAddr::new(IpAddr::V6(ip), port)])),
        Some(url::Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            if d != "localhost" && !d.ends_with(".localhost") {
                return Ok(None);
            }
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((d.as_str(), port))
                .await
                .map_err(|e| ApiError::code(FETCH_FAILED, format!("cannot resolve {d}: {e}")))?
                .collect();
            if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
                return Err(ApiError::code(
                    FETCH_FAILED,
                    format!("{d} does not resolve to loopback only; refusing to fetch"),
                ));
            }
            Ok(Some(addrs))
        }
        None => Err(ApiError::bad_request("URL without a host")),
    }
}

fn url_filename(url: &reqwest::Url) -> String {
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back().map(str::to_string))
        .unwrap_or_default();
    util::sanitize_filename(&last)
}

async fn receive_urls(
    state: &AppState,
    body: UrlBody,
    remote: &mut Vec<(String, String, Option<&'static str>)>,
) -> Result<Vec<Accepted>, ApiError> {
    if let Some(st) = &body.source_type {
        if st != "url" {
            return Err(ApiError::bad_request("source_type must be \"url\""));
        }
    }
    if body.urls.is_empty() {
        return Err(ApiError::bad_request("urls is empty"));
    }
    if body.urls.len() > state.config.max_files {
        return Err(ApiError::bad_request(format!(
            "at most {} files per upload",
            state.config.max_files
        )));
    }
    let mut accepted = Vec::new();
    for raw in &body.urls {
        let result = receive_one_url(state, raw, remote).await;
        match result {
            Ok(Some(a)) => accepted.push(a),
            Ok(None) => {}
            Err(e) => {
                cleanup(&accepted).await;
                return Err(e);
            }
        }
    }
    Ok(accepted)
}

async fn receive_one_url(
    state: &AppState,
    raw: &str,
    remote: &mut Vec<(String, String, Option<&'static str>)>,
) -> Result<Option<Accepted>, ApiError> {
    let mut url = reqwest::Url::parse(raw.trim())
        .map_err(|e| ApiError::bad_request(format!("invalid URL {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::bad_request("only http(s) URLs are accepted"));
    }
    if loopback_addrs(&url).await?.is_none() {
        // A remote reference: recorded, never fetched.
        let filename = url_filename(&url);
        let format = match util::extension(url.path()) {
            None => None,
            Some(ext) => Some(sniff::format_from_ext(&ext).ok_or_else(|| unsupported(&filename))?),
        };
        remote.push((url.to_string(), filename, format));
        return Ok(None);
    }
    for _hop in 0..4 {
        let addrs = loopback_addrs(&url).await?.ok_or_else(|| {
            ApiError::code(FETCH_FAILED, "redirect to a non-loopback host refused")
        })?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(600));
        if let Some(url::Host::Domain(d)) = url.host() {
            builder = builder.resolve_to_addrs(d, &addrs);
        }
        let client = builder
            .build()
            .map_err(|e| ApiError::internal(format!("http client: {e}")))?;
        let mut resp = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| ApiError::code(FETCH_FAILED, format!("could not fetch {url}: {e}")))?;
        if resp.status().is_redirection() {
            let loc = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| ApiError::code(FETCH_FAILED, "redirect without Location"))?;
            url = url
                .join(loc)
                .map_err(|e| ApiError::code(FETCH_FAILED, format!("bad redirect: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(ApiError::code(
                    FETCH_FAILED,
                    "redirect to a non-http URL refused",
                ));
            }
            continue;
        }
        if !resp.status().is_success() {
            return Err(ApiError::code(
                FETCH_FAILED,
                format!("could not fetch {url}: HTTP {}", resp.status().as_u16()),
            ));
        }
        if let Some(len) = resp.content_length() {
            if len > state.config.max_file_size {
                return Err(too_large(state, &url_filename(&url)));
            }
        }
        let mut sink = FileSink::new(state, url_filename(&url));
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    sink.push(chunk).await?;
                    if matches!(sink.verdict, Verdict::TooLarge | Verdict::Unsupported) {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    sink.discard().await;
                    return Err(ApiError::code(
                        FETCH_FAILED,
                        format!("fetch interrupted: {e}"),
                    ));
                }
            }
        }
        return match sink.finish().await? {
            Outcome::Ok(a) => Ok(Some(a)),
            Outcome::TooLarge(n) => Err(too_large(state, &n)),
            Outcome::Unsupported(n) => Err(unsupported(&n)),
        };
    }
    Err(ApiError::code(FETCH_FAILED, "too many redirects"))
}
