//! Upload: `File`, `Blob`, `Uint8Array` or URL strings, one or several per
//! call. Every file's type (by name *and* magic bytes) and size are checked
//! before a single byte is sent; the bodies go to `FormData` (or the Node
//! transport) untouched and never enter wasm memory (only the first 64 bytes
//! are read, to sniff).

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::core::api::{endpoints, parse_upload, read_envelope, ErrorContext, UploadedFile};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::media::{self, MediaType, SNIFF_LEN};

use super::convert::{await_js, get, get_string, Obj};
use super::glue::{self, AbortSignal, Blob};
use super::http::headers_object;
use super::session::Session;

enum Item {
    File { blob: Blob, name: String },
    Url(String),
}

/// Checks every input, then uploads files (multipart) and URLs (JSON).
/// Resolves to the server's file records as JS objects.
pub(crate) async fn upload(
    session: &Session,
    input: &JsValue,
    options: &JsValue,
    signal: &AbortSignal,
) -> Result<JsValue> {
    let inputs: Vec<JsValue> = if Array::is_array(input) {
        Array::from(input).iter().collect()
    } else {
        vec![input.clone()]
    };
    if inputs.is_empty() {
        return Err(Error::invalid_input(
            "Nothing to upload: pass a file, a Blob, bytes or a URL.",
        ));
    }
    let names = get(options, "filenames");
    let mut items = Vec::with_capacity(inputs.len());
    for (i, v) in inputs.iter().enumerate() {
        let given_name = Array::is_array(&names)
            .then(|| Array::from(&names).get(i as u32).as_string())
            .flatten()
            .or_else(|| {
                (inputs.len() == 1)
                    .then(|| get_string(options, "filename"))
                    .flatten()
            });
        items.push(check_one(v, given_name, signal).await?);
    }

    let mut records: Vec<UploadedFile> = Vec::new();
    let urls: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            Item::Url(u) => Some(u.as_str()),
            Item::File { .. } => None,
        })
        .collect();
    if !urls.is_empty() {
        let data = session
            .client()
            .request(&endpoints::upload_urls(session.id(), &urls), signal)
            .await?;
        records.extend(parse_upload(&data)?);
    }
    let files: Vec<(&Blob, &str)> = items
        .iter()
        .filter_map(|i| match i {
            Item::File { blob, name } => Some((blob, name.as_str())),
            Item::Url(_) => None,
        })
        .collect();
    if !files.is_empty() {
        records.extend(upload_files(session, &files, &get(options, "onProgress"), signal).await?);
    }
    Ok(records.iter().map(file_to_js).collect::<Array>().into())
}

async fn check_one(v: &JsValue, given_name: Option<String>, signal: &AbortSignal) -> Result<Item> {
    if let Some(url) = v.as_string() {
        media::check_url(&url)?;
        return Ok(Item::Url(url.trim().to_string()));
    }
    let is_blob =
        v.is_object() && get(v, "size").as_f64().is_some() && get(v, "slice").is_function();
    let is_bytes = v.is_instance_of::<Uint8Array>();
    if !is_blob && !is_bytes {
        return Err(Error::invalid_input(
            "Each upload must be a File, a Blob, a Uint8Array or an http(s) URL string.",
        ));
    }
    if signal.aborted() {
        return Err(Error::aborted());
    }
    // Only the head crosses into wasm: 64 bytes for the magic-byte check.
    let head_bytes: Vec<u8> = if is_bytes {
        let u: &Uint8Array = v.unchecked_ref();
        let n = u.length().min(SNIFF_LEN as u32);
        u.subarray(0, n).to_vec()
    } else {
        let blob: &Blob = v.unchecked_ref();
        let head = await_js(glue::blob_head(blob, SNIFF_LEN as u32)).await?;
        head.unchecked_into::<Uint8Array>().to_vec()
    };
    let sniffed = media::sniff(&head_bytes);
    let name = given_name
        .or_else(|| get_string(v, "name").filter(|n| !n.is_empty()))
        .unwrap_or_else(|| match sniffed {
            Some(t) => format!("upload.{}", t.extension()),
            // No name and unknown content: the check below explains it.
            None => "upload".to_string(),
        });
    let size = if is_bytes {
        f64::from(v.unchecked_ref::<Uint8Array>().length())
    } else {
        v.unchecked_ref::<Blob>().size()
    };
    let kind: MediaType = media::check_upload(&name, size as u64, &head_bytes)?;
    let blob = glue::to_blob(v, kind.mime());
    Ok(Item::File { blob, name })
}

async fn upload_files(
    session: &Session,
    files: &[(&Blob, &str)],
    on_progress: &JsValue,
    signal: &AbortSignal,
) -> Result<Vec<UploadedFile>> {
    let client = session.client();
    let total: f64 = files.iter().map(|(b, _)| b.size()).sum();
    let req = endpoints::upload_files(session.id());
    let url = format!("{}{}", client.config().base_url, req.path);
    // The multipart form is built on the JS side (or streamed from disk by
    // the Node transport), from [[blob, filename], …].
    let parts: Array = files
        .iter()
        .map(|(blob, name)| Array::of2(blob, &JsValue::from_str(name)))
        .collect();
    // Sending is bound by progress, the reply by the request limit; a
    // timeout is never retried below (the server may have the file).
    let timing = &client.config().timing;
    let (stall_ms, reply_ms) = (
        timing.upload_stall_ms as f64,
        timing.request_timeout_ms as f64,
    );
    let mut reauthed = false;
    let mut rate_limited = false;
    loop {
        let token = client.ensure_token(signal).await?;
        let headers =
            crate::core::api::common_headers(&req, Some(&token), &client.config().attribution);
        let r = await_js(glue::post_form(
            &url,
            &headers_object(&headers),
            &parts,
            total,
            signal,
            on_progress,
            stall_ms,
            reply_ms,
        ))
        .await?;
        let status = get(&r, "status").as_f64().unwrap_or(0.0) as u16;
        let text = get_string(&r, "text").unwrap_or_default();
        let user_id = client.user_id();
        let ctx = ErrorContext {
            web_url: &client.config().web_url,
            user_id: user_id.as_deref(),
        };
        match read_envelope(status, &text, ctx) {
            Ok(data) => return parse_upload(&data),
            Err(e) if e.kind() == ErrorKind::TokenExpired && !reauthed => {
                reauthed = true;
                client.reauthenticate(&token, signal).await?;
            }
            Err(e) if e.kind() == ErrorKind::RateLimited && !rate_limited => {
                rate_limited = true;
                client
                    .wait(client.config().timing.rate_limit_wait_ms, signal)
                    .await?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// An uploaded file's record as a JS object.
pub(crate) fn file_to_js(f: &UploadedFile) -> JsValue {
    Obj::new()
        .str("filename", &f.filename)
        .str("fileType", &f.file_type)
        .str("url", &f.cdn_url)
        .opt_num("durationSec", f.duration)
        .opt_num("width", f.width)
        .opt_num("height", f.height)
        .opt_num("fps", f.fps)
        .opt_str("hash", f.hash.as_deref())
        .into_js()
}
