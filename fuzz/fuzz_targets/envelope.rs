//! Fuzzes reply decoding: `api::read_envelope` / `read_envelope_doc` with an
//! arbitrary HTTP status and body, then every typed reader on what they
//! return (`parse_token`, `parse_session`, `parse_claim`, `parse_upload`,
//! `parse_credits`, `parse_state`, `parse_render_status`), and the URL
//! checks that guard downloads and uploads (`resolve_http_url`,
//! `normalize_base_url`, `media::check_url`).
//!
//! Checked for every input: no panic; `read_envelope` is
//! `read_envelope_doc` + `take_data`; 429 is always `rate_limited` and 402
//! `export_blocked`; success only on a 2xx; every error has a message with
//! no token in it (the body may echo one); numbers read are finite; a
//! render's progress is within 0–100; a resolved download URL is http(s).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nemo_video::core::api::{
    self, normalize_base_url, parse_claim, parse_credits, parse_render_status, parse_session,
    parse_state, parse_token, parse_upload, read_envelope, read_envelope_doc, resolve_http_url,
    ErrorContext,
};
use nemo_video::core::error::{Error, ErrorKind};
use nemo_video::core::media;

fn check_err(e: &Error) {
    assert!(!e.message().is_empty(), "error without a message: {e:?}");
    assert!(
        !e.message().contains("nmv_"),
        "token in an error message: {e:?}"
    );
}

fn is_http(u: &str) -> bool {
    let l = u.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

fuzz_target!(|input: &[u8]| {
    let [s0, s1, rest @ ..] = input else { return };
    // Mostly plausible statuses, sometimes anything.
    let raw = u16::from(*s0) << 8 | u16::from(*s1);
    let status = match s0 % 4 {
        0 => 200,
        1 => [400, 401, 402, 403, 404, 409, 413, 429, 500, 502][usize::from(*s1) % 10],
        _ => raw,
    };
    let body = String::from_utf8_lossy(rest);
    let ctx = ErrorContext {
        web_url: "https://nemovideo.com",
        user_id: Some("anon_1"),
    };
    let doc = read_envelope_doc(status, &body, ctx);
    let data = read_envelope(status, &body, ctx);
    match (&doc, &data) {
        (Ok(d), Ok(v)) => assert_eq!(&api::take_data(d.clone()), v),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("read_envelope and read_envelope_doc disagree"),
    }
    match status {
        429 => assert_eq!(doc.as_ref().unwrap_err().kind(), ErrorKind::RateLimited),
        402 => assert_eq!(doc.as_ref().unwrap_err().kind(), ErrorKind::ExportBlocked),
        _ => {}
    }
    match &doc {
        Err(e) => check_err(e),
        Ok(d) => {
            assert!((200..300).contains(&status), "success on HTTP {status}");
            let v = api::take_data(d.clone());
            match parse_token(&v) {
                Ok(g) => {
                    assert!(!g.token.is_empty());
                    assert!(
                        !format!("{g:?}").contains(&g.token),
                        "Debug prints the token"
                    );
                }
                Err(e) => check_err(&e),
            }
            let _ = parse_session(&v).map_err(|e| check_err(&e));
            let _ = parse_claim(&v).map_err(|e| check_err(&e));
            match parse_credits(&v) {
                Ok(c) => assert!(
                    c.available.is_finite() && c.frozen.is_finite() && c.total.is_finite(),
                    "non-finite credits {c:?}"
                ),
                Err(e) => check_err(&e),
            }
            match parse_upload(&v) {
                Ok(files) => {
                    for f in files {
                        for x in [f.duration, f.width, f.height, f.fps].into_iter().flatten() {
                            assert!(x.is_finite(), "non-finite upload field");
                        }
                    }
                }
                Err(e) => check_err(&e),
            }
            let _ = parse_state(v.clone()).map_err(|e| check_err(&e));
            match parse_render_status(d) {
                Ok(s) => {
                    assert!(
                        (0.0..=100.0).contains(&s.progress),
                        "progress {}",
                        s.progress
                    );
                    if let Some(u) = &s.url {
                        match resolve_http_url("http://127.0.0.1:8787", u) {
                            Ok(r) => assert!(is_http(&r), "resolved to non-http {r:?}"),
                            Err(e) => check_err(&e),
                        }
                    }
                }
                Err(e) => check_err(&e),
            }
        }
    }

    // The body as a URL, and as a base URL.
    for base in ["https://api.example.com/v1", "http://127.0.0.1:8787"] {
        match resolve_http_url(base, &body) {
            Ok(r) => assert!(is_http(&r), "resolve_http_url gave {r:?}"),
            Err(e) => check_err(&e),
        }
    }
    match normalize_base_url(&body) {
        Ok(b) => {
            assert!(is_http(&b));
            assert!(!b.ends_with('/') || b.len() <= "https://".len());
            assert!(!b.contains('?') && !b.contains('#'));
            assert_eq!(
                normalize_base_url(&b).as_deref(),
                Ok(b.as_str()),
                "not idempotent"
            );
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidInput),
    }
    match media::check_url(&body) {
        Ok(()) => assert!(is_http(&body) && !body.chars().any(char::is_whitespace)),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            check_err(&e);
        }
    }
});
