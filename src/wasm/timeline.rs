//! `Timeline`: the session's draft as JS sees it: tracks, the summary line,
//! export readiness, and the diff against the previous fetch.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::core::timeline::{self, Timeline, TrackKind};

use super::convert::{json_to_js, str_array, Obj};

/// A snapshot of the session's timeline.
#[wasm_bindgen(js_name = Timeline)]
#[derive(Clone)]
pub struct JsTimeline {
    current: Timeline,
    previous: Option<Timeline>,
}

impl From<Timeline> for JsTimeline {
    fn from(current: Timeline) -> Self {
        JsTimeline {
            current,
            previous: None,
        }
    }
}

impl JsTimeline {
    /// A snapshot that remembers the one before it, for `changes`.
    pub fn with_previous(current: Timeline, previous: Option<Timeline>) -> Self {
        JsTimeline { current, previous }
    }

    /// The core timeline.
    pub fn timeline(&self) -> &Timeline {
        &self.current
    }
}

fn kind_name(k: TrackKind) -> &'static str {
    match k {
        TrackKind::Video => "video",
        TrackKind::Audio => "audio",
        TrackKind::Text => "text",
        TrackKind::Other(_) => "other",
    }
}

fn kind_number(k: TrackKind) -> f64 {
    match k {
        TrackKind::Video => 0.0,
        TrackKind::Audio => 1.0,
        TrackKind::Text => 7.0,
        TrackKind::Other(n) => n as f64,
    }
}

fn diff_to_js(old: &Timeline, new: &Timeline) -> JsValue {
    let changes = timeline::diff(old, new);
    let described: Vec<String> = changes.iter().map(|c| c.describe()).collect();
    Obj::new()
        .set("changes", str_array(described.iter().map(String::as_str)))
        .str("summary", &timeline::summarize_changes(&changes))
        .into_js()
}

#[wasm_bindgen(js_class = Timeline)]
impl JsTimeline {
    /// The tracks: `{ kind, type, segments: [{ id, startMs, durationMs, src, name, volume, text, camera }] }`.
    #[wasm_bindgen(getter, unchecked_return_type = "Track[]")]
    pub fn tracks(&self) -> Array {
        self.current
            .tracks()
            .iter()
            .map(|t| {
                let segments: Array = t
                    .segments
                    .iter()
                    .map(|s| {
                        Obj::new()
                            .opt_str("id", s.id.as_deref())
                            .num("startMs", s.start_ms as f64)
                            .num("durationMs", s.duration_ms as f64)
                            .opt_str("src", s.src.as_deref())
                            .opt_str("name", s.name.as_deref())
                            .opt_num("volume", s.volume)
                            .opt_str("text", s.text.as_deref())
                            .opt_str("camera", s.camera.as_ref().and_then(|c| c.as_str()))
                            .into_js()
                    })
                    .collect();
                Obj::new()
                    .str("kind", kind_name(t.kind))
                    .num("type", kind_number(t.kind))
                    .set("segments", segments)
                    .into_js()
            })
            .collect()
    }

    /// `Timeline (3 tracks): 1. Video: … 2. BGM: … 3. Title: "…" (0-3s)`.
    pub fn summary(&self) -> String {
        self.current.summary()
    }

    /// True when at least one track has a segment.
    #[wasm_bindgen(getter, js_name = readyForExport)]
    pub fn ready_for_export(&self) -> bool {
        self.current.ready_for_export()
    }

    /// `"9:16"`, `"16:9"`, `"1:1"`, … when known.
    #[wasm_bindgen(getter, js_name = aspectRatio)]
    pub fn aspect_ratio(&self) -> Option<String> {
        self.current.aspect_ratio()
    }

    /// What changed since the previous `state()` call (empty on the first).
    #[wasm_bindgen(getter, unchecked_return_type = "TimelineDiff")]
    pub fn changes(&self) -> JsValue {
        match &self.previous {
            Some(p) => diff_to_js(p, &self.current),
            None => Obj::new()
                .set("changes", Array::new())
                .str("summary", "No visible changes.")
                .into_js(),
        }
    }

    /// The diff from `other` (an older timeline) to this one.
    #[wasm_bindgen(unchecked_return_type = "TimelineDiff")]
    pub fn diff(&self, other: &JsTimeline) -> JsValue {
        diff_to_js(&other.current, &self.current)
    }

    /// The raw draft, exactly as the server sent it (unknown keys kept).
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "unknown")]
    pub fn to_json(&self) -> JsValue {
        json_to_js(self.current.draft())
    }
}
