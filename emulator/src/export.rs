//! Export: `POST /api/render/proxy/lambda`, status polls, cancel and download.
//!
//! Jobs go pending → processing (real ffmpeg progress) → completed | failed; a cancelled job
//! ends `cancelled`. One active export per session (a second one: HTTP 409, code 4009).
//! Re-posting an existing `id` returns that job (a handle survives a page reload).

use std::{collections::HashMap, path::PathBuf, time::SystemTime};

use axum::{
    extract::{Path, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    auth::{attribution_missing, note_attribution, AuthUser},
    envelope::{self, ApiError, JsonBody, EXPORT_BUSY},
    faults::FaultKind,
    files,
    render::{self, MediaFile, MediaKind, RenderRequest},
    state::{AppState, FileKind, RenderJob, RenderStatus},
    util,
};

#[derive(Deserialize)]
pub struct ExportBody {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "sessionId", alias = "session_id")]
    session_id: Option<String>,
    #[serde(default)]
    draft: Option<Value>,
    #[serde(default)]
    output: Option<Value>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn has_segments(draft: &Value) -> bool {
    let d = match draft {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    };
    d["t"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .any(|t| t["sg"].as_array().map(|s| !s.is_empty()).unwrap_or(false))
        })
        .unwrap_or(false)
}

/// Status body in both documented shapes.
fn status_body(state: &AppState, job: &RenderJob) -> Response {
    let url = (job.status == RenderStatus::Completed)
        .then(|| format!("{}/renders/{}.mp4", state.base_url(), job.id));
    envelope::render_ok(
        json!({
            "id": job.id,
            "status": job.status,
            "progress": job.progress,
            "outputUrl": url,
            "error": job.error,
            "size_bytes": job.size_bytes,
            "duration_ms": job.duration_ms,
            "width": job.width,
            "height": job.height,
        }),
        json!({
            "id": job.id,
            "status": job.status,
            "progress": job.progress,
            "output": {"url": url},
            "error": job.error,
        }),
    )
}

/// Builds the media map: segment `src` → local upload of this user.
fn media_map(state: &AppState, user_id: &str, draft: &Value) -> HashMap<String, MediaFile> {
    let mut out = HashMap::new();
    let store = state.store();
    let Some(tracks) = draft["t"].as_array() else {
        return out;
    };
    for t in tracks {
        let Some(sg) = t["sg"].as_array() else {
            continue;
        };
        for s in sg {
            let Some(src) = s["src"].as_str() else {
                continue;
            };
            let Some(id) = files::file_id_from_url(src) else {
                continue;
            };
            let Some(f) = store.files.get(id) else {
                continue;
            };
            if f.user_id != user_id {
                continue;
            }
            if let Some(path) = &f.path {
                let kind = match f.kind {
                    FileKind::Image => MediaKind::Image,
                    FileKind::Video => MediaKind::Video,
                    FileKind::Audio => MediaKind::Audio,
                };
                out.insert(
                    src.to_string(),
                    MediaFile {
                        path: path.clone(),
                        kind,
                    },
                );
            }
        }
    }
    out
}

/// Output canvas: draft `m.width/height`, else the session canvas; at most 1080x1920.
fn canvas(draft: &Value, session_canvas: &Value) -> (u32, u32, u32) {
    let pick = |k: &str| {
        draft["m"][k]
            .as_u64()
            .or_else(|| session_canvas[k].as_u64())
            .unwrap_or(if k == "width" { 1080 } else { 1920 })
            .clamp(16, 4096) as u32
    };
    let (mut w, mut h) = (pick("width"), pick("height"));
    let (long, short) = if w >= h { (1920, 1080) } else { (1080, 1920) };
    let scale = f64::min(
        1.0,
        f64::min(long as f64 / w as f64, short as f64 / h as f64),
    );
    if scale < 1.0 {
        w = (w as f64 * scale) as u32;
        h = (h as f64 * scale) as u32;
    }
    let fps = session_canvas["fps"].as_u64().unwrap_or(30).clamp(1, 60) as u32;
    (w & !1, h & !1, fps)
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<AuthUser, ApiError>,
    JsonBody(body): JsonBody<ExportBody>,
) -> Result<Response, ApiError> {
    if let Some(h) = attribution_missing(&headers) {
        state.store().global.missing_attribution += 1;
        return Err(ApiError::new(
            StatusCode::PAYMENT_REQUIRED,
            402,
            format!("Export blocked: missing {h} header (attribution required on the free plan)"),
        )
        .render_shape());
    }
    let user = user.map_err(ApiError::render_shape)?;
    let sid = body.session_id.clone().unwrap_or_default();
    if sid.is_empty() {
        return Err(ApiError::bad_request("sessionId is required").render_shape());
    }
    let id = body
        .id
        .clone()
        .unwrap_or_else(|| format!("render_{}", util::random_hex()));
    if !valid_id(&id) {
        return Err(ApiError::bad_request("id must match [A-Za-z0-9_-]{1,64}").render_shape());
    }
    if let Some(fmt) = body.output.as_ref().and_then(|o| o["format"].as_str()) {
        if !fmt.eq_ignore_ascii_case("mp4") {
            return Err(ApiError::bad_request("only mp4 output is supported").render_shape());
        }
    }
    let idle = state.rt().session_idle_s;
    let (draft, session_canvas) = {
        let mut store = state.store();
        let s = store
            .session_mut(&sid, &user.user_id, idle)
            .map_err(ApiError::render_shape)?;
        let draft = body.draft.clone().unwrap_or_else(|| s.draft.clone());
        let canvas = s.canvas.clone();
        let active = s.active_render.clone();
        // Same id again: the existing job.
        if let Some(job) = store.renders.get(&id) {
            if job.user_id != user.user_id {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    EXPORT_BUSY,
                    "render id already in use",
                )
                .render_shape());
            }
            return Ok(status_body(&state, job));
        }
        if let Some(active) = active {
            if store
                .renders
                .get(&active)
                .map(|j| j.status.is_active())
                .unwrap_or(false)
            {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    EXPORT_BUSY,
                    "An export is already running for this session",
                )
                .with_data(json!({"id": active}))
                .render_shape());
            }
        }
        (draft, canvas)
    };
    if !has_segments(&draft) {
        return Err(
            ApiError::bad_request("draft has no segments; nothing to export").render_shape(),
        );
    }
    let (width, height, fps) = canvas(&draft, &session_canvas);
    let fail_once = state
        .faults
        .take("export", |k| k == FaultKind::RenderFailOnce);
    if let Some(f) = &fail_once {
        crate::faults::record_fired(&state, f.kind);
    }
    let media = media_map(&state, &user.user_id, &draft);
    let out_path = state.renders_dir().join(format!("{id}.mp4"));
    let cancel = CancellationToken::new();
    let job = RenderJob {
        id: id.clone(),
        session_id: sid.clone(),
        user_id: user.user_id.clone(),
        status: RenderStatus::Pending,
        progress: 0,
        out_path: out_path.clone(),
        error: None,
        cancel: cancel.clone(),
        created: SystemTime::now(),
        size_bytes: None,
        duration_ms: None,
        width,
        height,
    };
    let resp = {
        let mut store = state.store();
        let resp = status_body(&state, &job);
        store.renders.insert(id.clone(), job);
        if let Some(s) = store.sessions.get_mut(&sid) {
            s.active_render = Some(id.clone());
        }
        store.stats_for(&sid).renders += 1;
        store.global.renders_started += 1;
        resp
    };
    tracing::info!(user_id = %user.user_id, session_id = %sid, render = %id, width, height, "export queued");
    let req = RenderRequest {
        draft,
        width,
        height,
        fps,
        media,
        out_path,
    };
    tokio::spawn(run_job(state, id, req, cancel, fail_once.is_some()));
    Ok(resp)
}

fn update(state: &AppState, id: &str, f: impl FnOnce(&mut RenderJob)) {
    if let Some(j) = state.store().renders.get_mut(id) {
        f(j);
    }
}

async fn run_job(
    state: AppState,
    id: String,
    req: RenderRequest,
    cancel: CancellationToken,
    fail: bool,
) {
    // Queue time (scaled).
    let wait = state.rt().scaled(2000.0);
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = cancel.cancelled() => { finish(&state, &id, Err("cancelled".into()), true); return; }
    }
    update(&state, &id, |j| {
        if j.status == RenderStatus::Pending {
            j.status = RenderStatus::Processing;
        }
    });
    if fail {
        let wait = state.rt().scaled(3000.0);
        update(&state, &id, |j| j.progress = 37);
        tokio::time::sleep(wait).await;
        finish(
            &state,
            &id,
            Err("render failed: injected render_fail_once fault".into()),
            false,
        );
        return;
    }
    let (tx, mut rx) = watch::channel(0u8);
    let st2 = state.clone();
    let id2 = id.clone();
    let forward = tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let p = *rx.borrow_and_update();
            update(&st2, &id2, |j| {
                if j.status == RenderStatus::Processing {
                    j.progress = j.progress.max(p.min(99));
                }
            });
        }
    });
    let result = render::render(req, tx, cancel.clone()).await;
    let _ = forward.await;
    let cancelled = cancel.is_cancelled();
    finish(
        &state,
        &id,
        result.map(|o| (o.size_bytes, o.duration_ms)),
        cancelled,
    );
}

fn finish(state: &AppState, id: &str, result: Result<(u64, u64), String>, cancelled: bool) {
    let mut store = state.store();
    let Some(job) = store.renders.get_mut(id) else {
        return;
    };
    let sid = job.session_id.clone();
    match result {
        _ if cancelled => {
            job.status = RenderStatus::Cancelled;
            job.error = Some("cancelled".into());
            store.global.renders_cancelled += 1;
        }
        Ok((size, dur)) => {
            job.status = RenderStatus::Completed;
            job.progress = 100;
            job.size_bytes = Some(size);
            job.duration_ms = Some(dur);
            store.global.renders_completed += 1;
            tracing::info!(render = %id, size, dur, "export completed");
        }
        Err(e) => {
            job.status = RenderStatus::Failed;
            job.error = Some(e.clone());
            store.global.renders_failed += 1;
            tracing::warn!(render = %id, error = %e, "export failed");
        }
    }
    if let Some(s) = store.sessions.get_mut(&sid) {
        if s.active_render.as_deref() == Some(id) {
            s.active_render = None;
        }
    }
}

fn job_for<'a>(
    store: &'a crate::state::Store,
    id: &str,
    user_id: &str,
) -> Result<&'a RenderJob, ApiError> {
    store
        .renders
        .get(id)
        .filter(|j| j.user_id == user_id)
        .ok_or_else(|| ApiError::not_found(format!("render not found: {id}")).render_shape())
}

pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<AuthUser, ApiError>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    note_attribution(&state, &headers);
    let user = user.map_err(ApiError::render_shape)?;
    let store = state.store();
    let job = job_for(&store, &id, &user.user_id)?;
    Ok(status_body(&state, job))
}

pub async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<AuthUser, ApiError>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    note_attribution(&state, &headers);
    let user = user.map_err(ApiError::render_shape)?;
    let mut store = state.store();
    job_for(&store, &id, &user.user_id)?;
    let Some(job) = store.renders.get_mut(&id) else {
        return Err(ApiError::not_found("render not found").render_shape());
    };
    if job.status.is_active() {
        job.cancel.cancel();
        job.status = RenderStatus::Cancelled;
        job.error = Some("cancelled".into());
        let sid = job.session_id.clone();
        if let Some(s) = store.sessions.get_mut(&sid) {
            if s.active_render.as_deref() == Some(id.as_str()) {
                s.active_render = None;
            }
        }
    }
    let job = job_for(&store, &id, &user.user_id)?;
    Ok(status_body(&state, job))
}

fn completed_path(state: &AppState, id: &str, user_id: Option<&str>) -> Result<PathBuf, ApiError> {
    let store = state.store();
    let job = store
        .renders
        .get(id)
        .filter(|j| user_id.map(|u| u == j.user_id).unwrap_or(true))
        .ok_or_else(|| ApiError::not_found(format!("render not found: {id}")).render_shape())?;
    if job.status != RenderStatus::Completed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            409,
            format!("render {id} is {:?}, not completed", job.status).to_lowercase(),
        )
        .render_shape());
    }
    Ok(job.out_path.clone())
}

/// `GET /api/render/proxy/<id>/download` (bearer auth), with Range support.
pub async fn download(
    State(state): State<AppState>,
    user: Result<AuthUser, ApiError>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let user = user.map_err(ApiError::render_shape)?;
    let path = completed_path(&state, &id, Some(&user.user_id))?;
    let mut resp = files::serve_path(&state, "download", path, req).await?;
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.mp4\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `GET /renders/<id>.mp4`: the public output URL, with Range support.
pub async fn output(
    State(state): State<AppState>,
    Path(file): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let Some(id) = file.strip_suffix(".mp4").filter(|i| valid_id(i)) else {
        return Err(ApiError::not_found("not found"));
    };
    let path = completed_path(&state, id, None).map_err(|e| {
        if e.status == StatusCode::CONFLICT {
            ApiError::not_found("render not completed")
        } else {
            e
        }
    })?;
    Ok(files::serve_path(&state, "download", path, req)
        .await?
        .into_response())
}
