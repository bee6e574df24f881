//! Shared helpers for the `wasm_client_*` suites: they drive the real
//! JS-facing API (`NemoClient`, `Session`, `Turn`, `ExportJob`) through JS
//! values, against a running `nemo-emulator` whose URL arrives at compile
//! time in `NEMO_EMULATOR_URL` (see `scripts/test-all.sh`).
//!
//! The emulator is shared by every test, but wasm-bindgen-test runs the
//! tests of one binary one at a time, so each test may schedule faults and
//! set the emulator's run-time config without racing another. Each test
//! uses a fresh client id (so a fresh anonymous user and account).
#![allow(dead_code)]

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array, JSON};
use nemo_video::wasm::NemoClient;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &Function, ms: f64) -> JsValue;
}

/// The emulator's base URL (compile-time `NEMO_EMULATOR_URL`).
pub fn emu() -> &'static str {
    match option_env!("NEMO_EMULATOR_URL") {
        Some(u) if !u.is_empty() => u.trim_end_matches('/'),
        _ => panic!(
            "NEMO_EMULATOR_URL is not set: start the emulator with \
             `bash scripts/emulator.sh start --speed 200` and export its URL before `wasm-pack test`"
        ),
    }
}

// ---- JS value access ---------------------------------------------------------

pub fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

pub fn s(v: &JsValue, key: &str) -> String {
    get(v, key)
        .as_string()
        .unwrap_or_else(|| panic!("{key} is not a string in {}", show(v)))
}

pub fn n(v: &JsValue, key: &str) -> f64 {
    get(v, key)
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {}", show(v)))
}

pub fn b(v: &JsValue, key: &str) -> bool {
    get(v, key)
        .as_bool()
        .unwrap_or_else(|| panic!("{key} is not a boolean in {}", show(v)))
}

/// A path like `global.turns_charged` or `sessions.<sid>.messages`.
pub fn at(v: &JsValue, path: &[&str]) -> JsValue {
    path.iter().fold(v.clone(), |acc, k| get(&acc, k))
}

pub fn strings(v: &JsValue) -> Vec<String> {
    Array::from(v)
        .iter()
        .filter_map(|x| x.as_string())
        .collect()
}

/// JSON text of a value, for messages (errors print their fields).
pub fn show(v: &JsValue) -> String {
    if v.is_instance_of::<js_sys::Error>() || !get(v, "kind").is_undefined() {
        return format!(
            "{} kind={:?} code={:?} status={:?} message={:?}",
            get(v, "name").as_string().unwrap_or_default(),
            get(v, "kind").as_string(),
            get(v, "code").as_f64(),
            get(v, "status").as_f64(),
            get(v, "message").as_string()
        );
    }
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| format!("{v:?}"))
}

/// Builds a plain object from pairs.
pub fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

pub fn js(s: &str) -> JsValue {
    JsValue::from_str(s)
}

pub fn num(x: f64) -> JsValue {
    JsValue::from_f64(x)
}

/// Calls `target.method(...args)`.
pub fn call(target: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    let f: Function = get(target, method)
        .dyn_into()
        .unwrap_or_else(|_| panic!("{method} is not a function"));
    let a: Array = args.iter().collect();
    f.apply(target, &a)
        .unwrap_or_else(|e| panic!("{method} threw synchronously: {}", show(&e)))
}

/// Awaits a promise (or any thenable value, like an `ExportJob`).
pub async fn wait(p: JsValue) -> Result<JsValue, JsValue> {
    let p = Promise::resolve(&p);
    JsFuture::from(p).await
}

/// Awaits a promise that must resolve.
pub async fn ok(p: JsValue, what: &str) -> JsValue {
    match wait(p).await {
        Ok(v) => v,
        Err(e) => panic!("{what} failed: {}", show(&e)),
    }
}

/// Awaits a promise that must reject, returning the error object.
pub async fn err(p: JsValue, what: &str) -> JsValue {
    match wait(p).await {
        Ok(v) => panic!("{what} succeeded but should have failed: {}", show(&v)),
        Err(e) => e,
    }
}

/// Asserts an error's `kind` (and that it is a `NemoError` with a recovery).
pub fn assert_kind(e: &JsValue, kind: &str) {
    assert_eq!(
        get(e, "kind").as_string().as_deref(),
        Some(kind),
        "expected a {kind} error, got {}",
        show(e)
    );
    assert!(
        e.is_instance_of::<js_sys::Error>(),
        "errors are Error objects"
    );
    assert!(
        get(e, "recovery").is_object(),
        "every error has a recovery: {}",
        show(e)
    );
    let msg = get(e, "message").as_string().unwrap_or_default();
    assert!(!msg.trim().is_empty(), "errors have a message");
}

pub fn now() -> f64 {
    js_sys::Date::now()
}

pub async fn sleep(ms: f64) {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    JsFuture::from(p).await.unwrap();
}

/// A random id for `clientId` (letters, digits and '-').
pub fn random_id() -> String {
    let hex: String = (0..32)
        .map(|_| {
            let d = (js_sys::Math::random() * 16.0) as u32;
            std::char::from_digit(d.min(15), 16).unwrap()
        })
        .collect();
    format!("t-{hex}")
}

// ---- the emulator's admin API -----------------------------------------------

/// A request to the emulator; the reply as parsed JSON.
pub async fn admin(method: &str, path: &str, body: Option<&str>) -> JsValue {
    let mut pairs = vec![("method", js(method))];
    if let Some(b) = body {
        pairs.push(("body", js(b)));
        pairs.push(("headers", obj(&[("content-type", js("application/json"))])));
    }
    let url = format!("{}{path}", emu());
    let res = JsFuture::from(global_fetch(&url, &obj(&pairs)))
        .await
        .unwrap_or_else(|e| panic!("cannot reach the emulator at {url}: {}", show(&e)));
    let status = n(&res, "status");
    let text = ok(call(&res, "text", &[]), "reading the admin reply")
        .await
        .as_string()
        .unwrap_or_default();
    assert!(
        (200.0..300.0).contains(&status),
        "{method} {path} → HTTP {status}: {text}"
    );
    JSON::parse(&text).unwrap_or(JsValue::NULL)
}

/// Schedules faults: `{"endpoint":…,"kind":…,"count"?,"after_events"?,"ms"?}` (or an array).
pub async fn fault(spec: &str) {
    admin("POST", "/__emulator/faults", Some(spec)).await;
}

pub async fn clear_faults() {
    admin("DELETE", "/__emulator/faults", None).await;
}

pub async fn pending_faults() -> usize {
    Array::from(&get(
        &admin("GET", "/__emulator/faults", None).await,
        "faults",
    ))
    .length() as usize
}

pub async fn stats() -> JsValue {
    admin("GET", "/__emulator/stats", None).await
}

pub fn global_stat(st: &JsValue, key: &str) -> f64 {
    at(st, &["global", key]).as_f64().unwrap_or(0.0)
}

pub fn fired(st: &JsValue, kind: &str) -> f64 {
    at(st, &["global", "faults_fired", kind])
        .as_f64()
        .unwrap_or(0.0)
}

/// The per-session statistics.
pub fn session_stats(st: &JsValue, sid: &str) -> JsValue {
    let v = at(st, &["sessions", sid]);
    assert!(v.is_object(), "the emulator has no stats for session {sid}");
    v
}

/// No message was charged twice anywhere: within each session, at most one
/// charged turn per message text (our tests never send the same text twice
/// in one session), and per session `turns_charged` matches the records.
pub fn assert_no_double_charge(st: &JsValue) {
    let sessions = get(st, "sessions");
    let keys = Object::keys(sessions.unchecked_ref::<Object>());
    for sid in keys.iter() {
        let sid = sid.as_string().unwrap();
        let ss = get(&sessions, &sid);
        let msgs = Array::from(&get(&ss, "messages"));
        let mut charged: Vec<String> = Vec::new();
        for m in msgs.iter() {
            if get(&m, "charged").as_bool() == Some(true) {
                let h = s(&m, "hash");
                assert!(
                    !charged.contains(&h),
                    "session {sid}: the same message was charged twice: {}",
                    show(&ss)
                );
                charged.push(h);
            }
        }
        assert_eq!(
            n(&ss, "turns_charged") as usize,
            charged.len(),
            "session {sid}: turns_charged disagrees with the message records"
        );
    }
}

/// Per-test emulator settings: fast agent, no token cap in the way, a given
/// credit grant for new users, no leftover faults.
pub async fn setup(credits: i64) {
    clear_faults().await;
    let cfg = format!(
        r#"{{"speed":200,"tokens_per_ip":1000000,"credits":{credits},"generation_cost":100,"edit_cost":50,"events":"adk","heartbeat_ms":10000}}"#
    );
    admin("POST", "/__emulator/config", Some(&cfg)).await;
}

// ---- the client ---------------------------------------------------------------

/// Protocol durations for tests: everything 1000× faster, but a generation
/// (a few hundred ms on the emulator at speed 200) must not look stalled,
/// its second stage (up to 100 ms after the clip at speed 200, more on a
/// loaded machine) must not be taken for a skipped one, and a real ffmpeg
/// render needs more than 10 × 30 ms of polling.
pub fn timing() -> JsValue {
    obj(&[
        ("scale", num(0.001)),
        ("stageTwoWaitMs", num(5_000.0)),
        ("stallMs", num(30_000.0)),
        ("turnCapMs", num(120_000.0)),
        ("stillWorkingMs", num(30_000.0)),
        ("renderPollMs", num(100.0)),
        ("renderMaxPolls", num(600.0)),
    ])
}

/// An in-memory `StorageLike` (keeps tests off the page's localStorage).
pub fn memory_storage() -> JsValue {
    let store = Object::new();
    let get_store = store.clone();
    let get_fn = Closure::<dyn Fn(JsValue) -> JsValue>::new(move |k: JsValue| {
        Reflect::get(&get_store, &k).unwrap_or(JsValue::NULL)
    });
    let set_store = store.clone();
    let set_fn = Closure::<dyn Fn(JsValue, JsValue)>::new(move |k: JsValue, v: JsValue| {
        let _ = Reflect::set(&set_store, &k, &v);
    });
    obj(&[
        ("get", get_fn.into_js_value()),
        ("set", set_fn.into_js_value()),
    ])
}

/// Options for `new NemoClient(…)`: the emulator, a client id, test timing.
pub fn client_options(client_id: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let o = obj(&[
        ("baseUrl", js(emu())),
        ("clientId", js(client_id)),
        ("timing", timing()),
        ("storage", memory_storage()),
    ]);
    for (k, v) in extra {
        Reflect::set(&o, &js(k), v).unwrap();
    }
    o
}

/// `new NemoClient(options)` as the JS object.
pub fn new_client_with(options: &JsValue) -> JsValue {
    match NemoClient::js_new(options.clone()) {
        Ok(c) => JsValue::from(c),
        Err(e) => panic!("new NemoClient failed: {}", show(&e)),
    }
}

/// A client for a fresh anonymous user.
pub fn new_client() -> (JsValue, String) {
    let id = random_id();
    (new_client_with(&client_options(&id, &[])), id)
}

/// `await client.createSession(opts)`.
pub async fn create_session(client: &JsValue, opts: JsValue) -> JsValue {
    ok(call(client, "createSession", &[opts]), "createSession").await
}

/// A fresh client and session (language `en`).
pub async fn fresh_session() -> (JsValue, JsValue) {
    let (client, _) = new_client();
    let session = create_session(&client, JsValue::UNDEFINED).await;
    (client, session)
}

pub fn sid(session: &JsValue) -> String {
    s(session, "sessionId")
}

// ---- turns ----------------------------------------------------------------------

/// Everything a turn produced when iterated with `next()` to the end.
pub struct Drained {
    pub events: Vec<JsValue>,
    /// The final `next()` rejection, when the turn failed.
    pub error: Option<JsValue>,
}

impl Drained {
    pub fn types(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| get(e, "type").as_string().unwrap_or_default())
            .collect()
    }
    pub fn has(&self, t: &str) -> bool {
        self.types().iter().any(|x| x == t)
    }
    pub fn of_type(&self, t: &str) -> Vec<JsValue> {
        self.events
            .iter()
            .filter(|e| get(e, "type").as_string().as_deref() == Some(t))
            .cloned()
            .collect()
    }
}

/// Iterates a `Turn` the way `for await` does (calling `next()`).
pub async fn drain(turn: &JsValue) -> Drained {
    let mut events = Vec::new();
    loop {
        match wait(call(turn, "next", &[])).await {
            Ok(step) => {
                if get(&step, "done").as_bool() == Some(true) {
                    return Drained {
                        events,
                        error: None,
                    };
                }
                events.push(get(&step, "value"));
            }
            Err(e) => {
                return Drained {
                    events,
                    error: Some(e),
                }
            }
        }
    }
}

/// Sends a message, iterates it to the end and returns (events, result).
pub async fn send_ok(session: &JsValue, text: &str) -> (Drained, JsValue) {
    send_ok_with(session, text, JsValue::UNDEFINED).await
}

pub async fn send_ok_with(session: &JsValue, text: &str, opts: JsValue) -> (Drained, JsValue) {
    let turn = call(session, "send", &[js(text), opts]);
    let d = drain(&turn).await;
    if let Some(e) = &d.error {
        panic!(
            "turn {text:?} failed: {} (events: {:?})",
            show(e),
            d.types()
        );
    }
    let result = ok(get(&turn, "result"), "turn.result").await;
    let done = d.of_type("done");
    assert_eq!(done.len(), 1, "exactly one done event: {:?}", d.types());
    assert!(
        Object::is(&get(&done[0], "result"), &result)
            || show(&get(&done[0], "result")) == show(&result),
        "the done event carries the result"
    );
    (d, result)
}

/// Sends a message that must fail; returns (events, error).
pub async fn send_err(session: &JsValue, text: &str) -> (Drained, JsValue) {
    let turn = call(session, "send", &[js(text), JsValue::UNDEFINED]);
    let d = drain(&turn).await;
    let e = d
        .error
        .clone()
        .unwrap_or_else(|| panic!("turn {text:?} should have failed; events {:?}", d.types()));
    let e2 = err(get(&turn, "result"), "turn.result").await;
    assert_eq!(
        get(&e, "kind").as_string(),
        get(&e2, "kind").as_string(),
        "next() and result reject alike"
    );
    (d, e)
}

pub const GENERATE: &str = "animate this photo into a cinematic video clip with camera movement";

/// Generates a clip from a text prompt (no upload needed).
pub async fn generate_text_clip(session: &JsValue) -> JsValue {
    let (_, r) = send_ok(
        session,
        "generate a video of a city timelapse with a slow zoom in",
    )
    .await;
    r
}

// ---- state ---------------------------------------------------------------------

/// `await session.state()` → (timeline object, summary string).
pub async fn state(session: &JsValue) -> (JsValue, String) {
    let t = ok(call(session, "state", &[JsValue::UNDEFINED]), "state()").await;
    let summary = call(&t, "summary", &[]).as_string().unwrap();
    (t, summary)
}

// ---- media -------------------------------------------------------------------------

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A valid RGB PNG (correct CRCs, zlib with stored blocks): a gradient
/// tinted by `tint`, so two calls give two different photos.
pub fn png(w: u32, h: u32, tint: u8) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((w * 3 + 1) * h) as usize);
    for y in 0..h {
        raw.push(0); // filter: none
        for x in 0..w {
            raw.push((x * 255 / w.max(1)) as u8);
            raw.push((y * 255 / h.max(1)) as u8);
            raw.push(tint);
        }
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, blk) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = blk.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(blk);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

pub fn png_js(tint: u8) -> JsValue {
    Uint8Array::from(png(96, 64, tint).as_slice()).into()
}

/// The bytes of a Blob.
pub async fn blob_bytes(blob: &JsValue) -> Vec<u8> {
    let buf = ok(call(blob, "arrayBuffer", &[]), "blob.arrayBuffer()").await;
    Uint8Array::new(&buf).to_vec()
}

/// Asserts `bytes` are an MP4: an `ftyp` box first, and a real size.
pub fn assert_mp4(bytes: &[u8]) {
    assert!(
        bytes.len() > 2_000,
        "an MP4 of {} bytes is too small",
        bytes.len()
    );
    assert_eq!(
        &bytes[4..8],
        b"ftyp",
        "the download starts with an ftyp box"
    );
    let box_len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    assert!((8..bytes.len()).contains(&box_len), "a sane ftyp box size");
    let has_moov = bytes.windows(4).any(|w| w == b"moov");
    assert!(has_moov, "the MP4 has a moov box");
}

// ---- export ----------------------------------------------------------------------

/// `session.export({ onProgress })` → (job, collected progress events).
pub fn export_with_progress(
    session: &JsValue,
    extra: &[(&str, JsValue)],
) -> (JsValue, std::rc::Rc<std::cell::RefCell<Vec<JsValue>>>) {
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen2 = seen.clone();
    let cb = Closure::<dyn Fn(JsValue)>::new(move |p: JsValue| seen2.borrow_mut().push(p));
    let mut pairs = vec![("onProgress", cb.into_js_value())];
    pairs.extend(extra.iter().cloned());
    let job = call(session, "export", &[obj(&pairs)]);
    (job, seen)
}

/// Exports, downloads, checks the MP4; returns (result, bytes).
pub async fn export_and_download(session: &JsValue) -> (JsValue, Vec<u8>) {
    let (job, progress) = export_with_progress(session, &[]);
    let result = ok(get(&job, "result"), "export").await;
    let id = s(&result, "id");
    assert!(
        id.starts_with("render_"),
        "render ids look like render_<ts>: {id}"
    );
    assert!(s(&result, "url").starts_with("http"), "an http URL");
    let statuses: Vec<String> = progress.borrow().iter().map(|p| s(p, "status")).collect();
    assert!(
        statuses.iter().any(|s| s == "completed"),
        "progress reached completed: {statuses:?}"
    );
    let blob = ok(call(&job, "download", &[JsValue::UNDEFINED]), "download").await;
    let bytes = blob_bytes(&blob).await;
    assert_mp4(&bytes);
    if let Some(size) = get(&result, "sizeBytes").as_f64() {
        assert_eq!(size as usize, bytes.len(), "sizeBytes matches the download");
    }
    (result, bytes)
}
