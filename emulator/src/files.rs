//! Serving stored files (uploads at `/files/<id>/<name>`, renders) with HTTP Range support.
//! Files are looked up by id in the store, never by a path taken from the URL.

use std::{io, path::PathBuf};

use axum::{
    body::{Body, Bytes},
    extract::{Path, Request, State},
    http::{header, HeaderValue},
    response::Response,
};
use futures::StreamExt;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::{
    envelope::ApiError,
    faults::{self, FaultKind},
    state::AppState,
};

/// The upload id in a URL we issued (`…/files/<id>/<name>`), whatever host it names.
pub fn file_id_from_url(url: &str) -> Option<&str> {
    let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = after_scheme
        .find('/')
        .map(|i| &after_scheme[i..])
        .unwrap_or("");
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut seg = path.trim_start_matches('/').split('/');
    if seg.next()? != "files" {
        return None;
    }
    let id = seg.next()?;
    (!id.is_empty()).then_some(id)
}

/// Serves one file (Range, conditional requests, HEAD) and applies a pending
/// `drop_stream` fault for `endpoint`: the body is cut after `after_events` bytes (default:
/// half of it) and the connection aborted.
pub async fn serve_path(
    state: &AppState,
    endpoint: &str,
    path: PathBuf,
    req: Request,
) -> Result<Response, ApiError> {
    let resp = ServeFile::new(path)
        .oneshot(req)
        .await
        .map_err(|e| ApiError::internal(format!("file: {e}")))?;
    let mut resp = resp.map(Body::new);
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("private, max-age=3600"));
    let Some(f) = state.faults.take(endpoint, |k| k == FaultKind::DropStream) else {
        return Ok(resp);
    };
    faults::record_fired(state, f.kind);
    let len = resp
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let limit = if f.after_events > 0 {
        f.after_events
    } else {
        len / 2
    };
    let (parts, body) = resp.into_parts();
    let mut left = limit;
    let mut done = false;
    let stream = body.into_data_stream().filter_map(move |chunk| {
        let out: Option<Result<Bytes, io::Error>> = if done {
            None
        } else {
            match chunk {
                Ok(b) if (b.len() as u64) < left => {
                    left -= b.len() as u64;
                    Some(Ok(b))
                }
                Ok(b) => {
                    done = true;
                    let cut = b.slice(..left as usize);
                    left = 0;
                    if cut.is_empty() {
                        Some(Err(io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "injected drop_stream",
                        )))
                    } else {
                        // Send the head; the error follows on the next poll.
                        Some(Ok(cut))
                    }
                }
                Err(e) => Some(Err(io::Error::other(e.to_string()))),
            }
        };
        futures::future::ready(out)
    });
    let aborted = futures::stream::once(async {
        // Let the head reach the socket before the connection is cut.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "injected drop_stream",
        ))
    });
    let body = Body::from_stream(stream.chain(aborted));
    Ok(Response::from_parts(parts, body))
}

/// `GET /files/<id>/<name>`: an upload, public like a CDN URL.
pub async fn get_file(
    State(state): State<AppState>,
    Path((id, _name)): Path<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    let path = {
        let store = state.store();
        store
            .files
            .get(&id)
            .and_then(|f| f.path.clone())
            .ok_or_else(|| ApiError::not_found("file not found"))?
    };
    serve_path(&state, "files", path, req).await
}
