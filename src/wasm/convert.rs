//! Conversions between core values and JS values: plain objects for
//! replies, `NemoError` subclasses for errors, and back again for thrown
//! platform errors (a `TypeError` from fetch is a network failure, an
//! `AbortError` an abort).

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::error::{Error, ErrorKind, Recovery};
use crate::core::json::Value;

use super::glue;

/// Builds a plain JS object field by field.
pub struct Obj(Object);

impl Obj {
    /// An empty object.
    pub fn new() -> Self {
        Obj(Object::new())
    }

    /// Sets any JS value.
    pub fn set(self, key: &str, value: impl Into<JsValue>) -> Self {
        // Reflect.set only fails on frozen objects or proxies; ours is neither.
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), &value.into());
        self
    }

    /// Sets a string.
    pub fn str(self, key: &str, value: &str) -> Self {
        self.set(key, JsValue::from_str(value))
    }

    /// Sets a number.
    pub fn num(self, key: &str, value: f64) -> Self {
        self.set(key, JsValue::from_f64(value))
    }

    /// Sets a number when present; leaves the key out otherwise.
    pub fn opt_num(self, key: &str, value: Option<f64>) -> Self {
        match value {
            Some(v) => self.num(key, v),
            None => self,
        }
    }

    /// Sets a string when present; leaves the key out otherwise.
    pub fn opt_str(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.str(key, v),
            None => self,
        }
    }

    /// Sets a boolean.
    pub fn bool(self, key: &str, value: bool) -> Self {
        self.set(key, JsValue::from_bool(value))
    }

    /// The finished object.
    pub fn build(self) -> Object {
        self.0
    }

    /// The finished object as a `JsValue`.
    pub fn into_js(self) -> JsValue {
        self.0.into()
    }
}

impl Default for Obj {
    fn default() -> Self {
        Obj::new()
    }
}

/// A JS array of strings.
pub fn str_array<'a>(items: impl IntoIterator<Item = &'a str>) -> Array {
    items.into_iter().map(JsValue::from_str).collect()
}

/// Reads `obj[key]` (undefined when `obj` is not an object).
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Reads `obj[key]` as a string.
pub fn get_string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// Reads `obj[key]` as a number.
pub fn get_f64(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key).as_f64()
}

/// The recovery action as a JS object.
pub fn recovery_to_js(r: &Recovery) -> Object {
    let o = Obj::new()
        .str("action", r.as_str())
        .str("description", &r.describe());
    match r {
        Recovery::Register { url } => o.str("url", url),
        Recovery::RetryAfter { ms } => o.num("waitMs", *ms as f64),
        Recovery::ChooseSupportedFile { accepted } => {
            o.set("accepted", str_array(accepted.iter().copied()))
        }
        Recovery::CompressOrTrim { limit_bytes } => o.num("limitBytes", *limit_bytes as f64),
        _ => o,
    }
    .build()
}

/// A core error as the matching `NemoError` subclass.
pub fn error_to_js(e: &Error) -> JsValue {
    let code = e
        .code()
        .map_or(JsValue::UNDEFINED, |c| JsValue::from_f64(c as f64));
    let status = e
        .status()
        .map_or(JsValue::UNDEFINED, |s| JsValue::from_f64(f64::from(s)));
    glue::make_error(
        e.kind().as_str(),
        e.message(),
        code,
        status,
        &recovery_to_js(e.recovery()),
    )
}

/// Maps a thrown JS value (from fetch, a reader, a callback) to a core error.
pub fn error_from_js(e: &JsValue) -> Error {
    if glue::is_abort(e) {
        return Error::aborted();
    }
    // Our own NemoError passing back through Rust keeps its kind.
    if let Some(kind) = get_string(e, "kind") {
        if let Some(k) = ErrorKind::from_name(&kind) {
            let msg = get_string(e, "message").unwrap_or_default();
            let mut err = Error::new(k, msg);
            if let Some(c) = get_f64(e, "code") {
                err = err.with_code(c as i64);
            }
            if let Some(s) = get_f64(e, "status") {
                err = err.with_status(s as u16);
            }
            // Keep the recovery too (the registration link, the wait), so an
            // error that passes through `session.handle` arrives intact.
            let rec = get(e, "recovery");
            let recovery = match get_string(&rec, "action").as_deref() {
                Some("register") => get_string(&rec, "url").map(|url| Recovery::Register { url }),
                Some("retry_after") => get_f64(&rec, "waitMs")
                    .filter(|ms| ms.is_finite() && *ms >= 0.0)
                    .map(|ms| Recovery::RetryAfter { ms: ms as u64 }),
                Some("compress_or_trim") => get_f64(&rec, "limitBytes")
                    .filter(|n| n.is_finite() && *n >= 0.0)
                    .map(|n| Recovery::CompressOrTrim {
                        limit_bytes: n as u64,
                    }),
                Some(action) => Recovery::without_data(action),
                None => None,
            };
            if let Some(r) = recovery {
                err = err.with_recovery(r);
            }
            return err;
        }
    }
    let name = get_string(e, "name").unwrap_or_default();
    let msg = get_string(e, "message")
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into());
    if name == "TypeError" {
        // fetch rejects with TypeError for every network-level failure.
        Error::network(msg)
    } else if name == "TimeoutError" {
        // Our own limits (glue.js `timedOut`, `UploadWatch`) name the limit;
        // any other (e.g. a caller's `AbortSignal.timeout`) keeps its text.
        let limit = |key| get_f64(e, key).filter(|ms| ms.is_finite() && *ms >= 0.0);
        if let Some(ms) = limit("requestTimeoutMs") {
            Error::request_timeout(ms as u64)
        } else if let Some(ms) = limit("uploadStallMs") {
            Error::upload_stalled(ms as u64)
        } else if let Some(ms) = limit("uploadReplyMs") {
            Error::upload_no_reply(ms as u64)
        } else {
            Error::timeout(msg)
        }
    } else if name == "NotReadableError" || name == "NotFoundError" {
        // A File or file-backed Blob whose file changed or went away after
        // it was chosen (browsers and Node's `openAsBlob` throw these).
        Error::file_unreadable(msg)
    } else {
        Error::protocol(msg)
    }
}

/// A core JSON value as a JS value (objects keep their key order).
pub fn json_to_js(v: &Value<'_>) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => {
            JsValue::from_f64(crate::core::number::parse_f64(n).unwrap_or(f64::NAN))
        }
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(json_to_js).collect::<Array>().into(),
        Value::Object(o) => {
            let out = Object::new();
            for (k, v) in o.iter() {
                let _ = Reflect::set(&out, &JsValue::from_str(k), &json_to_js(v));
            }
            out.into()
        }
    }
}

/// A `Result` as a JS promise settles: the value, or the error object.
pub(crate) fn ok_or_reject(r: crate::core::error::Result<JsValue>) -> Result<JsValue, JsValue> {
    r.map_err(|e| error_to_js(&e))
}

/// Awaits a JS promise, mapping a rejection to a core error.
pub async fn await_js(p: js_sys::Promise) -> crate::core::error::Result<JsValue> {
    wasm_bindgen_futures::JsFuture::from(p)
        .await
        .map_err(|e| error_from_js(&e))
}
