//! Edits to the draft (timeline) JSON. Objects are changed in place so unknown keys that a
//! client put on tracks, segments or metadata survive every edit.
//!
//! Shape: `{"t":[{"tt":0|1|7,"sg":[{"id","s","d","src","m":{…}}]}],"d":ms,"m":{title,width,height}}`.

use serde_json::{json, Map, Value};

pub const TT_VIDEO: u64 = 0;
pub const TT_AUDIO: u64 = 1;
pub const TT_TEXT: u64 = 7;
pub const BGM_SRC: &str = "emulator://bgm/lofi";
pub const TITLE_MS: u64 = 3000;

fn obj(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

fn tracks(draft: &mut Value) -> &mut Vec<Value> {
    let d = obj(draft);
    let t = d.entry("t").or_insert_with(|| json!([]));
    if !t.is_array() {
        *t = json!([]);
    }
    match t {
        Value::Array(a) => a,
        _ => unreachable!("just made an array"),
    }
}

/// The first track of type `tt`, created (empty) if missing.
pub fn track_mut(draft: &mut Value, tt: u64) -> &mut Value {
    let ts = tracks(draft);
    let pos = ts.iter().position(|t| t["tt"].as_u64() == Some(tt));
    let i = match pos {
        Some(i) => i,
        None => {
            ts.push(json!({"tt": tt, "sg": []}));
            ts.len() - 1
        }
    };
    &mut ts[i]
}

fn segments(track: &mut Value) -> &mut Vec<Value> {
    let t = obj(track);
    let sg = t.entry("sg").or_insert_with(|| json!([]));
    if !sg.is_array() {
        *sg = json!([]);
    }
    match sg {
        Value::Array(a) => a,
        _ => unreachable!("just made an array"),
    }
}

fn first_segment(draft: &Value, tt: u64) -> Option<&Value> {
    draft["t"]
        .as_array()?
        .iter()
        .find(|t| t["tt"].as_u64() == Some(tt))?["sg"]
        .as_array()?
        .first()
}

/// Whether the video track holds a segment.
pub fn has_video(draft: &Value) -> bool {
    first_segment(draft, TT_VIDEO).is_some()
}

/// The `src` of the first video segment.
pub fn video_src(draft: &Value) -> Option<String> {
    first_segment(draft, TT_VIDEO)?["src"]
        .as_str()
        .map(str::to_string)
}

/// Total length: the end of the last segment on any track.
pub fn total_ms(draft: &Value) -> u64 {
    let mut end = 0;
    if let Some(ts) = draft["t"].as_array() {
        for t in ts {
            if let Some(sg) = t["sg"].as_array() {
                for s in sg {
                    let e = s["s"].as_u64().unwrap_or(0) + s["d"].as_u64().unwrap_or(0);
                    end = end.max(e);
                }
            }
        }
    }
    end
}

fn video_end(draft: &Value) -> u64 {
    draft["t"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["tt"].as_u64() == Some(TT_VIDEO)))
        .and_then(|t| t["sg"].as_array())
        .map(|sg| {
            sg.iter()
                .map(|s| s["s"].as_u64().unwrap_or(0) + s["d"].as_u64().unwrap_or(0))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

/// Recomputes `d` and stretches BGM / clamps the title to the video length.
pub fn settle(draft: &mut Value) {
    let vend = video_end(draft);
    if vend > 0 {
        for tt in [TT_AUDIO, TT_TEXT] {
            let exists = draft["t"]
                .as_array()
                .map(|ts| ts.iter().any(|t| t["tt"].as_u64() == Some(tt)))
                .unwrap_or(false);
            if !exists {
                continue;
            }
            for s in segments(track_mut(draft, tt)) {
                let start = s["s"].as_u64().unwrap_or(0).min(vend.saturating_sub(1));
                let d = s["d"].as_u64().unwrap_or(0);
                let nd = if tt == TT_AUDIO {
                    vend - start
                } else {
                    d.min(vend - start).max(1)
                };
                let so = obj(s);
                so.insert("s".into(), json!(start));
                so.insert("d".into(), json!(nd));
            }
        }
    }
    let total = total_ms(draft);
    obj(draft).insert("d".into(), json!(total));
}

/// Puts a freshly generated clip on the video track (replacing what was there).
pub fn set_clip(draft: &mut Value, id: &str, src: &str, name: &str, camera: &str, d_ms: u64) {
    let track = track_mut(draft, TT_VIDEO);
    let sg = segments(track);
    sg.clear();
    sg.push(
        json!({"id": id, "s": 0, "d": d_ms, "src": src, "m": {"name": name, "camera": camera}}),
    );
    settle(draft);
}

/// Changes the camera of the video segments; false when there is none.
pub fn set_camera(draft: &mut Value, camera: &str) -> bool {
    if !has_video(draft) {
        return false;
    }
    for s in segments(track_mut(draft, TT_VIDEO)) {
        let m = obj(s).entry("m").or_insert_with(|| json!({}));
        obj(m).insert("camera".into(), json!(camera));
    }
    true
}

/// Adds (or updates) the lo-fi BGM bed at `volume` over the whole video.
pub fn set_bgm(draft: &mut Value, id: &str, volume: u8) {
    let total = video_end(draft).max(1000);
    let track = track_mut(draft, TT_AUDIO);
    let sg = segments(track);
    if let Some(s) = sg.first_mut() {
        let m = obj(s).entry("m").or_insert_with(|| json!({}));
        obj(m).insert("volume".into(), json!(volume));
    } else {
        sg.push(json!({"id": id, "s": 0, "d": total, "src": BGM_SRC, "m": {"name": "Lo-fi", "volume": volume}}));
    }
    settle(draft);
}

/// Adds (or changes) the title shown over the first seconds.
pub fn set_title(draft: &mut Value, id: &str, text: &str) {
    let total = video_end(draft).max(1000);
    let track = track_mut(draft, TT_TEXT);
    let sg = segments(track);
    if let Some(s) = sg.first_mut() {
        let m = obj(s).entry("m").or_insert_with(|| json!({}));
        obj(m).insert("text".into(), json!(text));
    } else {
        sg.push(json!({"id": id, "s": 0, "d": TITLE_MS.min(total), "m": {"name": "Title", "text": text}}));
    }
    if let Some(m) = draft.get_mut("m") {
        obj(m).insert("title".into(), json!(text));
    }
    settle(draft);
}

/// Sets the canvas size in the draft metadata.
pub fn set_size(draft: &mut Value, w: u32, h: u32) {
    let m = obj(draft).entry("m").or_insert_with(|| json!({}));
    let m = obj(m);
    m.insert("width".into(), json!(w));
    m.insert("height".into(), json!(h));
}

/// Trims (or extends generated stills) the video to `ms`.
pub fn trim(draft: &mut Value, ms: u64) {
    let ms = ms.max(1);
    let sg = segments(track_mut(draft, TT_VIDEO));
    sg.retain(|s| s["s"].as_u64().unwrap_or(0) < ms);
    for s in sg.iter_mut() {
        let start = s["s"].as_u64().unwrap_or(0);
        let d = s["d"].as_u64().unwrap_or(0);
        let nd = if sg_is_last_end(start, d, ms) {
            ms - start
        } else {
            d
        };
        obj(s).insert("d".into(), json!(nd));
    }
    // Other tracks: cut at the new end.
    for tt in [TT_AUDIO, TT_TEXT] {
        let exists = draft["t"]
            .as_array()
            .map(|ts| ts.iter().any(|t| t["tt"].as_u64() == Some(tt)))
            .unwrap_or(false);
        if exists {
            let sg = segments(track_mut(draft, tt));
            sg.retain(|s| s["s"].as_u64().unwrap_or(0) < ms);
            for s in sg.iter_mut() {
                let start = s["s"].as_u64().unwrap_or(0);
                let d = s["d"].as_u64().unwrap_or(0);
                obj(s).insert("d".into(), json!(d.min(ms - start)));
            }
        }
    }
    settle(draft);
}

fn sg_is_last_end(start: u64, d: u64, ms: u64) -> bool {
    // A segment crossing the cut, or the single clip of a generated video, ends at `ms`.
    start + d >= ms || start == 0
}

/// `Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)`.
pub fn summary(draft: &Value) -> String {
    let ts: Vec<&Value> = draft["t"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|t| t["sg"].as_array().map(|s| !s.is_empty()).unwrap_or(false))
                .collect()
        })
        .unwrap_or_default();
    let secs = |ms: u64| {
        let s = ms as f64 / 1000.0;
        if (s - s.round()).abs() < 1e-9 {
            format!("{}", s as u64)
        } else {
            format!("{s:.1}")
        }
    };
    let mut out = format!(
        "Timeline ({} track{}):",
        ts.len(),
        if ts.len() == 1 { "" } else { "s" }
    );
    for (i, t) in ts.iter().enumerate() {
        let s = &t["sg"][0];
        let start = s["s"].as_u64().unwrap_or(0);
        let end = start + s["d"].as_u64().unwrap_or(0);
        let range = format!("{}-{}s", secs(start), secs(end));
        let name = s["m"]["name"].as_str().unwrap_or("");
        let part = match t["tt"].as_u64() {
            Some(TT_AUDIO) => format!(
                "BGM: {name} ({range}, {}%)",
                s["m"]["volume"].as_u64().unwrap_or(100)
            ),
            Some(TT_TEXT) => format!(
                "Title: \"{}\" ({range})",
                s["m"]["text"].as_str().unwrap_or("")
            ),
            _ => format!("Video: {name} ({range})"),
        };
        out.push_str(&format!(" {}. {part}", i + 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_documented_timeline() {
        let mut d = json!({"t": [], "d": 0, "m": {"title": "p", "width": 1080, "height": 1920}, "x_custom": 1});
        set_clip(
            &mut d,
            "v1",
            "emulator://generated/a",
            "city timelapse",
            "zoom_in",
            10_000,
        );
        set_bgm(&mut d, "a1", 35);
        set_title(&mut d, "t1", "Urban Dreams");
        assert_eq!(
            summary(&d),
            "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: \"Urban Dreams\" (0-3s)"
        );
        assert_eq!(d["x_custom"], 1);
        assert_eq!(d["d"], 10_000);
        trim(&mut d, 5000);
        assert_eq!(d["d"], 5000);
        assert_eq!(d["t"][1]["sg"][0]["d"], 5000);
        // Unknown keys on segments survive edits.
        d["t"][0]["sg"][0]["zz"] = json!("keep");
        set_camera(&mut d, "orbit");
        set_bgm(&mut d, "a2", 50);
        assert_eq!(d["t"][0]["sg"][0]["zz"], "keep");
        assert_eq!(d["t"][1]["sg"][0]["m"]["volume"], 50);
    }
}
