//! Draft parsing: the draft's short-key JSON reduced to defaulted [`Seg`]s, plus the canvas size.
//!
//! Everything here is tolerant of junk: unreadable values fall back to defaults, segments of
//! unknown track types are skipped, and only a draft with nothing renderable is an error.

use serde_json::Value;

use super::{MAX_ANY_MS, MAX_LONG_SIDE, MAX_SEGMENTS, MAX_SHORT_SIDE};

/// The three track types the renderer understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TrackKind {
    /// `tt` 0.
    Video,
    /// `tt` 1.
    Audio,
    /// `tt` 7.
    Text,
}

/// A Ken Burns camera move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Camera {
    /// Slow push in.
    ZoomIn,
    /// Slow pull out.
    ZoomOut,
    /// Slide from right to left.
    PanLeft,
    /// Slide from left to right.
    PanRight,
    /// A gentle circular drift with a slight zoom.
    Orbit,
    /// No movement.
    Static,
}

impl Camera {
    /// Reads `m.camera`; unknown or missing values mean a gentle zoom in.
    pub(super) fn parse(s: Option<&str>) -> Camera {
        let Some(s) = s else { return Camera::ZoomIn };
        let norm: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c == '-' || c == ' ' { '_' } else { c })
            .collect();
        match norm.as_str() {
            "zoom_out" | "zoomout" | "pull_out" | "dolly_out" => Camera::ZoomOut,
            "pan_left" | "panleft" | "left" => Camera::PanLeft,
            "pan_right" | "panright" | "right" => Camera::PanRight,
            "orbit" | "arc" | "circle" => Camera::Orbit,
            "static" | "none" | "still" | "fixed" => Camera::Static,
            _ => Camera::ZoomIn,
        }
    }
}

/// One segment with every field defaulted.
#[derive(Clone, Debug)]
pub(super) struct Seg {
    /// Which track type it came from.
    pub(super) kind: TrackKind,
    /// Position in the draft (tie-breaker when sorting).
    pub(super) order: usize,
    /// Segment id (for colours and logs).
    pub(super) id: String,
    /// Start in ms.
    pub(super) start_ms: u64,
    /// Duration in ms when the draft gives a positive one.
    pub(super) dur_ms: Option<u64>,
    /// The `src` string, if any.
    pub(super) src: Option<String>,
    /// `m.name`.
    pub(super) name: String,
    /// `m.text` (titles).
    pub(super) text: String,
    /// Gain 0.0–1.0 from `m.volume`.
    pub(super) volume: f64,
    /// `m.camera`.
    pub(super) camera: Camera,
    /// In-point into the source in ms.
    pub(super) in_ms: u64,
}

/// The draft reduced to what rendering needs.
#[derive(Clone, Debug)]
pub(super) struct ParsedDraft {
    /// Usable segments of known track types.
    pub(super) segs: Vec<Seg>,
    /// The draft's `d`, when positive.
    pub(super) total_ms: Option<u64>,
    /// `m.width`.
    pub(super) width: Option<u32>,
    /// `m.height`.
    pub(super) height: Option<u32>,
}

/// A finite number from a JSON number or numeric string.
fn num(v: Option<&Value>) -> Option<f64> {
    let x = match v? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    x.is_finite().then_some(x)
}

/// A millisecond value: negative becomes 0, huge values are clamped.
fn ms(v: Option<&Value>) -> Option<u64> {
    num(v).map(|x| x.clamp(0.0, MAX_ANY_MS as f64).round() as u64)
}

/// A string from a JSON string or number.
fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The elements of the array at `v[key]`; empty when it is missing or not an array.
fn array_at<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Reads the draft; `Err("draft has no segments")` when nothing renderable is in it.
pub(super) fn parse_draft(draft: &Value) -> Result<ParsedDraft, String> {
    let owned;
    let draft = match unstringify(draft) {
        Some(parsed) => {
            owned = parsed;
            &owned
        }
        None => draft,
    };
    let segs = parse_segments(draft);
    if segs.is_empty() {
        return Err("draft has no segments".to_string());
    }
    let meta = draft.get("m");
    Ok(ParsedDraft {
        segs,
        total_ms: ms(draft.get("d")).filter(|d| *d > 0),
        width: dimension(meta, "width"),
        height: dimension(meta, "height"),
    })
}

/// Some clients hand the draft over as a JSON string: this parses it (junk becomes `null`).
/// `None` when the draft is not a string and is used as it is.
fn unstringify(draft: &Value) -> Option<Value> {
    match draft {
        Value::String(s) => Some(serde_json::from_str::<Value>(s).unwrap_or(Value::Null)),
        _ => None,
    }
}

/// `m.width` / `m.height` when it is a plausible pixel count (1–16384).
fn dimension(meta: Option<&Value>, key: &str) -> Option<u32> {
    num(meta.and_then(|m| m.get(key)))
        .filter(|x| *x >= 1.0 && *x <= 16_384.0)
        .map(|x| x as u32)
}

/// Every usable segment of every track of a known type, in draft order, capped at
/// [`MAX_SEGMENTS`] so a huge draft cannot make a huge filtergraph.
fn parse_segments(draft: &Value) -> Vec<Seg> {
    let mut segs = Vec::new();
    for track in array_at(draft, "t") {
        let Some(kind) = track_kind(track) else {
            continue;
        };
        if !track.is_object() {
            continue;
        }
        for seg in array_at(track, "sg").iter().filter(|s| s.is_object()) {
            if segs.len() >= MAX_SEGMENTS {
                return segs;
            }
            segs.push(parse_segment(seg, kind, segs.len()));
        }
    }
    segs
}

/// The track's type from `tt`. A missing `tt` means video; one that is present but unreadable
/// or not one of 0, 1, 7 gives `None` (the track is skipped).
fn track_kind(track: &Value) -> Option<TrackKind> {
    let tt = match track.get("tt") {
        None | Some(Value::Null) => Some(0),
        Some(v) => num(Some(v))
            .filter(|x| x.fract() == 0.0 && x.abs() < 1e9)
            .map(|x| x as i64),
    };
    match tt {
        Some(0) => Some(TrackKind::Video),
        Some(1) => Some(TrackKind::Audio),
        Some(7) => Some(TrackKind::Text),
        _ => None,
    }
}

/// One segment object with every field defaulted; `order` is its position among the usable
/// segments. Metadata is read from `m` first and from the segment itself as a fallback.
fn parse_segment(seg: &Value, kind: TrackKind, order: usize) -> Seg {
    let m = seg.get("m").filter(|m| m.is_object());
    let mget = |key: &str| m.and_then(|m| m.get(key));
    let name = text_of(mget("name"))
        .or_else(|| text_of(seg.get("name")))
        .unwrap_or_default();
    let mut text = text_of(mget("text"))
        .or_else(|| text_of(seg.get("text")))
        .or_else(|| text_of(mget("title")))
        .unwrap_or_default();
    // A title without text shows its name.
    if kind == TrackKind::Text && text.trim().is_empty() {
        text = name.clone();
    }
    let volume = num(mget("volume"))
        .or_else(|| num(seg.get("volume")))
        .unwrap_or(100.0)
        .clamp(0.0, 100.0)
        / 100.0;
    let camera = mget("camera")
        .and_then(Value::as_str)
        .or_else(|| seg.get("camera").and_then(Value::as_str));
    let in_ms = ms(mget("in"))
        .or_else(|| ms(mget("trim_start")))
        .or_else(|| ms(seg.get("trim_start")))
        .or_else(|| ms(seg.get("in")))
        .unwrap_or(0);
    Seg {
        kind,
        order,
        id: text_of(seg.get("id")).unwrap_or_else(|| format!("seg{order}")),
        start_ms: ms(seg.get("s")).unwrap_or(0),
        dur_ms: ms(seg.get("d")).filter(|d| *d > 0),
        src: seg
            .get("src")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        name,
        text,
        volume,
        camera: Camera::parse(camera),
        in_ms,
    }
}

/// Output size: request, else draft, else 1080x1920; fitted into 1920x1080 / 1080x1920; even.
pub(super) fn canvas_size(
    req_w: u32,
    req_h: u32,
    draft_w: Option<u32>,
    draft_h: Option<u32>,
) -> (u32, u32) {
    let (w, h) = if req_w > 0 && req_h > 0 {
        (req_w, req_h)
    } else if let (Some(w), Some(h)) = (draft_w, draft_h) {
        (w, h)
    } else {
        (MAX_SHORT_SIDE, MAX_LONG_SIDE)
    };
    let (max_w, max_h) = if w >= h {
        (MAX_LONG_SIDE, MAX_SHORT_SIDE)
    } else {
        (MAX_SHORT_SIDE, MAX_LONG_SIDE)
    };
    let scale = (max_w as f64 / w as f64)
        .min(max_h as f64 / h as f64)
        .min(1.0);
    let even = |x: f64| -> u32 {
        let x = (x.floor() as u32).clamp(16, MAX_LONG_SIDE);
        x - x % 2
    };
    (even(w as f64 * scale), even(h as f64 * scale))
}
