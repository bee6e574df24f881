//! Upload: `File`, `Blob`, `Uint8Array` or URL strings, one or several per
//! call. Every file's type (by name *and* magic bytes) and size are checked
//! before a single byte is sent; the bodies go to `FormData` (or the Node
//! transport) untouched and never enter wasm memory (only the first 64 bytes
//! are read, to sniff). Both requests (the URLs as JSON, the files as a
//! multipart form) go through the client's one request driver, with its
//! re-authentication and its wait after a 429.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::core::api::{endpoints, parse_upload, UploadedFile};
use crate::core::error::{Error, Result};
use crate::core::media::{self, MediaType, SNIFF_LEN};

use super::client::Form;
use super::convert::{await_js, error_from_js, get, get_string, Obj};
use super::glue::{self, AbortSignal, Blob};
use super::session::Session;

/// Checks every input, then uploads files (multipart) and URLs (JSON).
/// Resolves to the server's file records as JS objects.
pub(crate) async fn upload(
    session: &Session,
    input: &JsValue,
    options: &JsValue,
    signal: &AbortSignal,
) -> Result<JsValue> {
    let inputs: Array = if Array::is_array(input) {
        input.clone().unchecked_into()
    } else {
        Array::of1(input)
    };
    if inputs.length() == 0 {
        return Err(Error::invalid_input(
            "Nothing to upload: pass a file, a Blob, bytes or a URL.",
        ));
    }
    // The heads of every Blob and byte array, read in one go (each one's
    // read error kept in its place: the checks below meet them in order).
    let heads: Array = await_js(glue::blob_heads(&inputs, SNIFF_LEN as u32))
        .await?
        .unchecked_into();
    let names = get(options, "filenames");
    let one = inputs.length() == 1;
    let mut urls: Vec<String> = Vec::new();
    let mut form = Form {
        parts: Array::new(),
        total: 0.0,
        on_progress: get(options, "onProgress"),
    };
    for (i, v) in inputs.iter().enumerate() {
        let i = i as u32;
        if let Some(url) = v.as_string() {
            media::check_url(&url)?;
            urls.push(url.trim().to_string());
            continue;
        }
        let given_name = Array::is_array(&names)
            .then(|| names.unchecked_ref::<Array>().get(i).as_string())
            .flatten()
            .or_else(|| one.then(|| get_string(options, "filename")).flatten());
        let (blob, name, size) = check_file(&v, &heads.get(i), given_name, signal)?;
        form.total += size;
        form.parts
            .push(&Array::of2(&blob, &JsValue::from_str(&name)));
    }

    let client = session.client();
    let mut records: Vec<UploadedFile> = Vec::new();
    if !urls.is_empty() {
        let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
        let data = client
            .request(&endpoints::upload_urls(session.id(), &urls), signal)
            .await?;
        records.extend(parse_upload(&data)?);
    }
    if form.parts.length() > 0 {
        // The multipart form is built on the JS side (or streamed from disk
        // by the Node transport), from [[blob, filename], …]. Sending is
        // bound by progress, the reply by the request limit; a time-out is
        // never retried (the server may have the file).
        let data = client
            .request_form(&endpoints::upload_files(session.id()), &form, signal)
            .await?;
        records.extend(parse_upload(&data)?);
    }
    Ok(records.iter().map(file_to_js).collect::<Array>().into())
}

/// Checks one file input against its `head` (the first bytes, or the error
/// reading them): its kind, name and size. Returns the Blob to send (a byte
/// array is wrapped, never copied through wasm memory), its name and size.
fn check_file(
    v: &JsValue,
    head: &JsValue,
    given_name: Option<String>,
    signal: &AbortSignal,
) -> Result<(Blob, String, f64)> {
    let is_bytes = v.is_instance_of::<Uint8Array>();
    let is_blob = !is_bytes
        && v.is_object()
        && get(v, "size").as_f64().is_some()
        && get(v, "slice").is_function();
    if !is_blob && !is_bytes {
        return Err(Error::invalid_input(
            "Each upload must be a File, a Blob, a Uint8Array or an http(s) URL string.",
        ));
    }
    if signal.aborted() {
        return Err(Error::aborted());
    }
    let Some(head) = head.dyn_ref::<Uint8Array>() else {
        return Err(error_from_js(head));
    };
    let head_bytes = head.to_vec();
    let name = given_name
        .or_else(|| get_string(v, "name").filter(|n| !n.is_empty()))
        .unwrap_or_else(|| {
            let mut name = String::from("upload");
            // No name and unknown content: the check below explains it.
            if let Some(t) = media::sniff(&head_bytes) {
                name.push('.');
                name.push_str(t.extension());
            }
            name
        });
    let size = if is_bytes {
        f64::from(v.unchecked_ref::<Uint8Array>().length())
    } else {
        v.unchecked_ref::<Blob>().size()
    };
    let kind: MediaType = media::check_upload(&name, size as u64, &head_bytes)?;
    Ok((glue::to_blob(v, kind.mime()), name, size))
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
