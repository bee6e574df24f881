//! The WHATWG HTML §9.2.6 event-stream algorithm, transcribed literally over
//! a whole stream at once: the oracle that the incremental [`super::sse`]
//! decoder is checked against by its property tests and by the fuzz target.
//! Compiled only for tests and with the `spec-oracle` feature.

use super::sse::{SseEvent, SseItem};

/// Decodes `bytes` as one complete stream (strip one BOM, U+FFFD for bad
/// bytes, split lines on CR/LF/CRLF, interpret fields). Returns the items,
/// the last event ID and the retry value.
pub fn reference(bytes: &[u8]) -> (Vec<SseItem>, String, Option<u64>) {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut cur));
            }
            '\n' => lines.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    let (mut out, mut data, mut ty, mut idbuf) =
        (Vec::new(), String::new(), String::new(), String::new());
    let (mut last_id, mut retry) = (String::new(), None::<u64>);
    for line in lines {
        if line.is_empty() {
            last_id = idbuf.clone();
            if data.is_empty() {
                ty.clear();
                continue;
            }
            if data.ends_with('\n') {
                data.pop();
            }
            out.push(SseItem::Event(SseEvent {
                event_type: if ty.is_empty() {
                    "message".into()
                } else {
                    ty.clone()
                },
                data: std::mem::take(&mut data),
                id: (!last_id.is_empty()).then(|| last_id.clone()),
                retry,
            }));
            ty.clear();
            continue;
        }
        if let Some(c) = line.strip_prefix(':') {
            out.push(SseItem::Comment(c.strip_prefix(' ').unwrap_or(c).into()));
            continue;
        }
        let (name, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line.as_str(), ""),
        };
        match name {
            "event" => ty = value.into(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => idbuf = value.into(),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // All digits, so the only failure is overflow: saturate,
                // as the decoder does.
                retry = Some(value.parse::<u64>().unwrap_or(u64::MAX))
            }
            _ => {}
        }
    }
    (out, last_id, retry)
}
