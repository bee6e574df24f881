//! The draft (timeline) model: a typed, read-only view over the `draft`
//! object from the state endpoint, its one-line human summary, export
//! readiness, and a diff that explains in words what a silent turn changed.
//!
//! The draft uses short keys (docs/protocol.md, "The draft (timeline)"):
//! `t` tracks, `tt` track type (0 video, 1 audio/BGM, 7 text/title), `sg`
//! segments, `d` duration in ms, `m` metadata. Segments follow the project
//! convention `{id, s, d, src, m: {name, volume, text, camera}}`.
//!
//! Why a view and not a model: the draft goes back to the server verbatim on
//! export, and its format is only partly documented. [`Timeline`] therefore
//! keeps the original JSON untouched ([`Timeline::to_json`] returns it with
//! unknown keys and number text as received) and derives the typed
//! [`Track`]s from it on demand. Reading is tolerant everywhere: a missing or
//! wrongly typed field becomes a default, never an error.

use crate::core::json::{self, Value};

/// What a track holds, from its `tt` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrackKind {
    /// `tt: 0`: video clips.
    Video,
    /// `tt: 1`: audio, usually background music (BGM).
    Audio,
    /// `tt: 7`: text overlays and titles.
    Text,
    /// Any other `tt`; `-1` when it is missing or not a number.
    Other(i64),
}

impl TrackKind {
    /// The kind for a `tt` value.
    pub fn from_tt(tt: i64) -> Self {
        match tt {
            0 => TrackKind::Video,
            1 => TrackKind::Audio,
            7 => TrackKind::Text,
            n => TrackKind::Other(n),
        }
    }

    /// The label used in summaries: "Video", "BGM", "Title", "Track".
    pub fn label(self) -> &'static str {
        match self {
            TrackKind::Video => "Video",
            TrackKind::Audio => "BGM",
            TrackKind::Text => "Title",
            TrackKind::Other(_) => "Track",
        }
    }

    /// The noun used inside a sentence: "video", "BGM", "title", "track".
    pub fn noun(self) -> &'static str {
        match self {
            TrackKind::Video => "video",
            TrackKind::Audio => "BGM",
            TrackKind::Text => "title",
            TrackKind::Other(_) => "track",
        }
    }
}

/// One clip, sound or text on a track.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// `id` (numbers are turned into their text).
    pub id: Option<String>,
    /// `s`: where it starts on the timeline, in ms (0 when missing).
    pub start_ms: u64,
    /// `d`: how long it lasts, in ms (0 when missing: unknown).
    pub duration_ms: u64,
    /// `src`: the media URL.
    pub src: Option<String>,
    /// `m.name`.
    pub name: Option<String>,
    /// `m.volume` in percent (0–100). A fraction strictly between 0 and 1
    /// is read as a share (0.35 → 35) since some producers write it so.
    pub volume: Option<f64>,
    /// `m.text`: the words shown, for text segments.
    pub text: Option<String>,
    /// `m.camera`: the camera movement, as given (a string or an object).
    pub camera: Option<Value<'static>>,
    /// The segment's JSON as received, unknown keys included.
    pub raw: Value<'static>,
}

/// One track of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    /// The track's `id`, when it has one.
    pub id: Option<String>,
    /// What the track holds.
    pub kind: TrackKind,
    /// The segments in their stored order.
    pub segments: Vec<Segment>,
}

/// The session's draft, kept as received, with a typed view on top.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// The draft exactly as received (`null` when there was none).
    draft: Value<'static>,
    /// The draft parsed, when the server sent it as a JSON string.
    decoded: Option<Value<'static>>,
    /// `state.canvas_config`, when read from a state reply.
    canvas: Option<Value<'static>>,
}

impl Default for Timeline {
    /// An empty timeline (no draft).
    fn default() -> Self {
        Timeline {
            draft: Value::Null,
            decoded: None,
            canvas: None,
        }
    }
}

impl Timeline {
    /// Wraps a `draft` value. Never fails: a missing or malformed draft is
    /// an empty timeline. A draft sent as a JSON *string* is decoded for the
    /// view but kept as the string for [`to_json`](Self::to_json).
    pub fn parse(draft: &Value<'_>) -> Timeline {
        let decoded = match draft {
            Value::String(s) => json::parse(s).ok().map(Value::into_owned),
            _ => None,
        };
        Timeline {
            draft: draft.clone().into_owned(),
            decoded,
            canvas: None,
        }
    }

    /// Reads `state.draft` and `state.canvas_config` from the state
    /// endpoint's `data`. Also accepts the whole reply (`data.state`) or the
    /// `state` object itself.
    pub fn from_state(state_data: &Value<'_>) -> Timeline {
        let state = state_data
            .get("state")
            .or_else(|| state_data.pointer(&["data", "state"]))
            .unwrap_or(state_data);
        let mut t = Timeline::parse(state.get("draft").unwrap_or(&Value::Null));
        t.canvas = state
            .get("canvas_config")
            .filter(|c| !c.is_null())
            .map(|c| c.clone().into_owned());
        t
    }

    /// The draft as received, for the export body.
    pub fn draft(&self) -> &Value<'static> {
        &self.draft
    }

    /// The draft as JSON text, unchanged from what was received.
    pub fn to_json(&self) -> String {
        self.draft.to_json()
    }

    /// `canvas_config` from the state, when there was one.
    pub fn canvas_config(&self) -> Option<&Value<'static>> {
        self.canvas.as_ref()
    }

    /// The draft object the view reads from.
    fn doc(&self) -> &Value<'static> {
        self.decoded.as_ref().unwrap_or(&self.draft)
    }

    /// The tracks, in order. Entries of `t` that are not objects are
    /// skipped; so are segments that are not objects.
    pub fn tracks(&self) -> Vec<Track> {
        let Some(tracks) = self.doc().get("t").and_then(Value::as_array) else {
            return Vec::new();
        };
        tracks
            .iter()
            .filter(|t| t.as_object().is_some())
            .map(|t| Track {
                id: id_of(t.get("id")),
                kind: kind_of(t),
                segments: t
                    .get("sg")
                    .and_then(Value::as_array)
                    .unwrap_or(&[])
                    .iter()
                    .filter(|s| s.as_object().is_some())
                    .map(segment_of)
                    .collect(),
            })
            .collect()
    }

    /// Whether the draft can be exported: `t` holds at least one track with
    /// a non-empty `sg`.
    pub fn ready_for_export(&self) -> bool {
        self.doc()
            .get("t")
            .and_then(Value::as_array)
            .is_some_and(|t| {
                t.iter().any(|track| {
                    track
                        .get("sg")
                        .and_then(Value::as_array)
                        .is_some_and(|sg| !sg.is_empty())
                })
            })
    }

    /// The project title (`m.title`), when set.
    pub fn title(&self) -> Option<&str> {
        self.doc().pointer(&["m", "title"]).and_then(Value::as_str)
    }

    /// The canvas size in pixels: `canvas_config` `width`/`height` first,
    /// then the draft's `m.width`/`m.height`.
    pub fn size(&self) -> Option<(u64, u64)> {
        let read = |v: Option<&Value<'_>>| {
            let v = v?;
            let w = ms_of(v.get("width").or_else(|| v.get("w")))?;
            let h = ms_of(v.get("height").or_else(|| v.get("h")))?;
            (w > 0 && h > 0).then_some((w, h))
        };
        read(self.canvas.as_ref()).or_else(|| read(self.doc().get("m")))
    }

    /// The aspect ratio as "W:H" ("9:16"): an explicit `aspect_ratio` /
    /// `ratio` in `canvas_config` first, else computed from [`size`](Self::size)
    /// and snapped to a common ratio within 1% (1080x1920 → "9:16").
    pub fn aspect_ratio(&self) -> Option<String> {
        let explicit = self.canvas.as_ref().and_then(|c| {
            ["aspect_ratio", "aspectRatio", "ratio"]
                .iter()
                .find_map(|k| c.get(k).and_then(Value::as_str))
        });
        if let Some(r) = explicit.filter(|r| !r.is_empty()) {
            return Some(r.to_string());
        }
        let (w, h) = self.size()?;
        Some(ratio_text(w, h))
    }

    /// The one-line summary (docs/protocol.md, "The draft (timeline)"), e.g.
    /// `Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)`.
    ///
    /// Rules for what the example does not show:
    /// - no tracks: `Timeline is empty`; one track: `Timeline (1 track): …`;
    /// - several segments on a track are joined with ", ":
    ///   `1. Video: a (0-5s), b (5-10s)`; a track without segments: `1. Video: empty`;
    /// - seconds keep up to three decimals without trailing zeros
    ///   (`0-2.5s`); a segment with no duration shows no range;
    /// - the volume is shown for BGM segments only, when known;
    /// - a missing name falls back to `m.title`, then the file name of
    ///   `src`, then "untitled"; titles show their text (else their name)
    ///   in quotes.
    pub fn summary(&self) -> String {
        let tracks = self.tracks();
        if tracks.is_empty() {
            return "Timeline is empty".to_string();
        }
        let mut out = String::with_capacity(64 * tracks.len());
        out.push_str("Timeline (");
        push_u64(&mut out, tracks.len() as u64);
        out.push_str(if tracks.len() == 1 {
            " track):"
        } else {
            " tracks):"
        });
        for (i, track) in tracks.iter().enumerate() {
            out.push(' ');
            push_u64(&mut out, i as u64 + 1);
            out.push_str(". ");
            out.push_str(track.kind.label());
            out.push_str(": ");
            if track.segments.is_empty() {
                out.push_str("empty");
            }
            for (j, seg) in track.segments.iter().enumerate() {
                if j > 0 {
                    out.push_str(", ");
                }
                seg.describe_into(track.kind, &mut out);
            }
        }
        out
    }
}

impl Segment {
    /// The name to show: titles their quoted text (or name); other kinds
    /// `m.name`, `m.title`, the file name of `src`, or "untitled".
    pub fn label(&self, kind: TrackKind) -> String {
        let mut out = String::new();
        self.label_into(kind, &mut out);
        out
    }

    fn label_into(&self, kind: TrackKind, out: &mut String) {
        if kind == TrackKind::Text {
            if let Some(t) = self.text.as_deref().or(self.name.as_deref()) {
                out.push('"');
                out.push_str(t);
                out.push('"');
                return;
            }
        }
        let title = self.raw.pointer(&["m", "title"]).and_then(Value::as_str);
        let label = self
            .name
            .as_deref()
            .or(title)
            .filter(|s| !s.is_empty())
            .or_else(|| self.src.as_deref().and_then(file_name))
            .unwrap_or("untitled");
        out.push_str(label);
    }

    /// The segment as in a summary: `Lo-fi (0-10s, 35%)`.
    pub fn describe(&self, kind: TrackKind) -> String {
        let mut out = String::new();
        self.describe_into(kind, &mut out);
        out
    }

    fn describe_into(&self, kind: TrackKind, out: &mut String) {
        self.label_into(kind, out);
        let volume = self.volume.filter(|_| kind == TrackKind::Audio);
        if self.duration_ms == 0 && volume.is_none() {
            return;
        }
        out.push_str(" (");
        if self.duration_ms > 0 {
            push_range(out, self.start_ms, self.duration_ms);
            if volume.is_some() {
                out.push_str(", ");
            }
        }
        if let Some(v) = volume {
            push_percent(out, v);
        }
        out.push(')');
    }
}

// ---- Reading helpers ------------------------------------------------------

fn id_of(v: Option<&Value<'_>>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn str_of(v: Option<&Value<'_>>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A finite number, also from a numeric string ("35").
fn num_of(v: Option<&Value<'_>>) -> Option<f64> {
    let n = match v? {
        Value::Number(_) => v?.as_f64(),
        Value::String(s) => crate::core::number::parse_f64(s.trim()),
        _ => None,
    }?;
    n.is_finite().then_some(n)
}

/// A non-negative whole number (milliseconds, pixels); negatives clamp to 0.
fn ms_of(v: Option<&Value<'_>>) -> Option<u64> {
    num_of(v).map(|n| if n <= 0.0 { 0 } else { n.round() as u64 })
}

fn kind_of(track: &Value<'_>) -> TrackKind {
    if let Some(tt) = num_of(track.get("tt")) {
        if tt.fract() == 0.0 && tt.abs() < 1e15 {
            return TrackKind::from_tt(tt as i64);
        }
    }
    // Tolerate a spelled-out type when `tt` is missing.
    match track.get("type").and_then(Value::as_str) {
        Some("video") => TrackKind::Video,
        Some("audio" | "bgm" | "music") => TrackKind::Audio,
        Some("text" | "title") => TrackKind::Text,
        _ => TrackKind::Other(-1),
    }
}

fn segment_of(seg: &Value<'_>) -> Segment {
    let m = seg.get("m");
    let field = |k: &str| m.and_then(|m| m.get(k));
    let volume = num_of(field("volume")).map(|v| if v > 0.0 && v < 1.0 { v * 100.0 } else { v });
    Segment {
        id: id_of(seg.get("id")),
        start_ms: ms_of(seg.get("s")).unwrap_or(0),
        duration_ms: ms_of(seg.get("d")).unwrap_or(0),
        src: str_of(seg.get("src")),
        name: str_of(field("name")),
        volume,
        text: str_of(field("text")),
        camera: field("camera")
            .filter(|c| !c.is_null())
            .map(|c| c.clone().into_owned()),
        raw: seg.clone().into_owned(),
    }
}

/// The last path part of a URL, without query or fragment.
fn file_name(src: &str) -> Option<&str> {
    let path = src.split(['?', '#']).next().unwrap_or(src);
    path.rsplit('/').next().filter(|s| !s.is_empty())
}

// ---- Formatting helpers ---------------------------------------------------

fn push_u64(out: &mut String, n: u64) {
    crate::core::format::push_digits(n, 1, out);
}

/// Milliseconds as seconds with up to three decimals: 2500 → "2.5".
fn push_secs(out: &mut String, ms: u64) {
    push_u64(out, ms / 1000);
    let frac = ms % 1000;
    if frac != 0 {
        let digits = [
            b'0' + (frac / 100) as u8,
            b'0' + (frac / 10 % 10) as u8,
            b'0' + (frac % 10) as u8,
        ];
        let mut len = 3;
        while len > 0 && digits.get(len - 1) == Some(&b'0') {
            len -= 1;
        }
        out.push('.');
        for d in digits.iter().take(len) {
            out.push(char::from(*d));
        }
    }
}

/// `0-10s`.
fn push_range(out: &mut String, start_ms: u64, duration_ms: u64) {
    push_secs(out, start_ms);
    out.push('-');
    push_secs(out, start_ms.saturating_add(duration_ms));
    out.push('s');
}

/// `35%`, or `12.5%` for a fractional percentage (one decimal).
fn push_percent(out: &mut String, v: f64) {
    out.push_str(&crate::core::format::decimal(v, 1));
    out.push('%');
}

/// "W:H" reduced, snapped to a common ratio when within 1%.
fn ratio_text(w: u64, h: u64) -> String {
    const COMMON: [(u64, u64); 10] = [
        (16, 9),
        (9, 16),
        (1, 1),
        (4, 3),
        (3, 4),
        (4, 5),
        (5, 4),
        (3, 2),
        (2, 3),
        (21, 9),
    ];
    let r = w as f64 / h as f64;
    let (a, b) = COMMON
        .iter()
        .copied()
        .find(|&(a, b)| (r / (a as f64 / b as f64) - 1.0).abs() < 0.01)
        .unwrap_or_else(|| {
            let g = gcd(w, h).max(1);
            (w / g, h / g)
        });
    let mut s = String::new();
    crate::core::format::push_digits(a, 1, &mut s);
    s.push(':');
    crate::core::format::push_digits(b, 1, &mut s);
    s
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

// ---- Diff -----------------------------------------------------------------

/// One visible difference between two drafts.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A segment appeared.
    Added {
        /// Its track's kind.
        kind: TrackKind,
        /// The new segment.
        segment: Segment,
    },
    /// A segment disappeared.
    Removed {
        /// Its track's kind.
        kind: TrackKind,
        /// The segment that was there.
        segment: Segment,
    },
    /// A segment's media (`src`) or name changed.
    Replaced {
        /// Its track's kind.
        kind: TrackKind,
        /// The segment now.
        segment: Segment,
    },
    /// A segment's text changed (`None`: the text was removed).
    TextChanged {
        /// Its track's kind.
        kind: TrackKind,
        /// The new text.
        text: Option<String>,
    },
    /// A segment moved or changed length.
    Retimed {
        /// Its track's kind.
        kind: TrackKind,
        /// The old start, ms.
        old_start_ms: u64,
        /// The old duration, ms.
        old_duration_ms: u64,
        /// The new start, ms.
        start_ms: u64,
        /// The new duration, ms.
        duration_ms: u64,
    },
    /// A segment's volume changed.
    VolumeChanged {
        /// Its track's kind.
        kind: TrackKind,
        /// The old volume, percent.
        old: Option<f64>,
        /// The new volume, percent.
        new: Option<f64>,
    },
    /// A segment's camera movement changed (`None`: removed).
    CameraChanged {
        /// Its track's kind.
        kind: TrackKind,
        /// The new camera value.
        camera: Option<Value<'static>>,
    },
    /// Something else about a segment changed (keys this model does not
    /// interpret).
    Edited {
        /// Its track's kind.
        kind: TrackKind,
        /// The segment now.
        segment: Segment,
    },
    /// The aspect ratio changed.
    AspectRatio {
        /// The old ratio ("16:9").
        old: Option<String>,
        /// The new ratio ("9:16").
        new: Option<String>,
    },
}

impl Change {
    /// The change as a lower-case clause, e.g. `added BGM: Lo-fi (0-10s, 35%)`,
    /// `changed the title to "Urban Dreams"`, `trimmed the video to 0-5s`,
    /// `BGM volume 35% → 50%`, `changed the aspect ratio to 9:16`.
    pub fn describe(&self) -> String {
        let mut out = String::with_capacity(48);
        match self {
            Change::Added { kind, segment } | Change::Removed { kind, segment } => {
                out.push_str(if matches!(self, Change::Added { .. }) {
                    "added "
                } else {
                    "removed "
                });
                out.push_str(kind.noun());
                out.push_str(": ");
                segment.describe_into(*kind, &mut out);
            }
            Change::Replaced { kind, segment } => {
                out.push_str("replaced the ");
                out.push_str(kind.noun());
                out.push_str(" with ");
                segment.describe_into(*kind, &mut out);
            }
            Change::TextChanged { kind, text } => match text {
                Some(t) => {
                    out.push_str("changed the ");
                    out.push_str(kind.noun());
                    if *kind != TrackKind::Text {
                        out.push_str(" text");
                    }
                    out.push_str(" to \"");
                    out.push_str(t);
                    out.push('"');
                }
                None => {
                    out.push_str("removed the ");
                    out.push_str(kind.noun());
                    out.push_str(" text");
                }
            },
            Change::Retimed {
                kind,
                old_duration_ms,
                start_ms,
                duration_ms,
                ..
            } => {
                out.push_str(if duration_ms < old_duration_ms {
                    "trimmed the "
                } else if duration_ms > old_duration_ms {
                    "extended the "
                } else {
                    "moved the "
                });
                out.push_str(kind.noun());
                out.push_str(" to ");
                push_range(&mut out, *start_ms, *duration_ms);
            }
            Change::VolumeChanged { kind, old, new } => match (old, new) {
                (Some(o), Some(n)) => {
                    out.push_str(kind.noun());
                    out.push_str(" volume ");
                    push_percent(&mut out, *o);
                    out.push_str(" → ");
                    push_percent(&mut out, *n);
                }
                (None, Some(n)) => {
                    out.push_str("set the ");
                    out.push_str(kind.noun());
                    out.push_str(" volume to ");
                    push_percent(&mut out, *n);
                }
                _ => {
                    out.push_str("reset the ");
                    out.push_str(kind.noun());
                    out.push_str(" volume");
                }
            },
            Change::CameraChanged { camera, .. } => match camera {
                None => out.push_str("removed the camera movement"),
                Some(c) => {
                    out.push_str("changed the camera movement");
                    if let Some(words) = camera_words(c) {
                        out.push_str(" to ");
                        out.push_str(words);
                    }
                }
            },
            Change::Edited { kind, .. } => {
                out.push_str("edited the ");
                out.push_str(kind.noun());
            }
            Change::AspectRatio { new, .. } => match new {
                Some(r) => {
                    out.push_str("changed the aspect ratio to ");
                    out.push_str(r);
                }
                None => out.push_str("reset the aspect ratio"),
            },
        }
        out
    }
}

/// Words for a camera value: the string itself, or the first string among
/// an object's `type` / `movement` / `motion` / `name` / `preset`.
fn camera_words<'v>(c: &'v Value<'_>) -> Option<&'v str> {
    let s = match c {
        Value::String(s) => s.as_ref(),
        _ => ["type", "movement", "motion", "name", "preset"]
            .iter()
            .find_map(|k| c.get(k).and_then(Value::as_str))?,
    };
    Some(s).filter(|s| !s.is_empty() && s.len() <= 80)
}

/// What changed from `old` to `new`, in the new timeline's order, removals
/// after additions within a track, the aspect ratio last.
///
/// Tracks are matched by `id`, then by kind in order; segments by `id`,
/// then the remaining ones by position. The aspect ratio is reported when
/// it differs, except when it first appears on a timeline that was empty
/// (the first generation sets it; that is not an edit).
pub fn diff(old: &Timeline, new: &Timeline) -> Vec<Change> {
    let (ot, nt) = (old.tracks(), new.tracks());
    let mut out = Vec::new();
    let pairs = match_items(&ot, &nt, |t| t.id.as_deref(), |a, b| a.kind == b.kind);
    for (track, pair) in nt.iter().zip(&pairs) {
        let old_segments = pair
            .and_then(|i| ot.get(i))
            .map_or(&[][..], |t| &t.segments);
        diff_segments(track.kind, old_segments, &track.segments, &mut out);
    }
    for (i, track) in ot.iter().enumerate() {
        if !pairs.contains(&Some(i)) {
            diff_segments(track.kind, &track.segments, &[], &mut out);
        }
    }
    let (or, nr) = (old.aspect_ratio(), new.aspect_ratio());
    if or != nr && !(or.is_none() && ot.is_empty()) {
        out.push(Change::AspectRatio { old: or, new: nr });
    }
    out
}

/// For each item of `new`, the index of its match in `old`: same id first,
/// then the first unmatched `old` item that `fallback` accepts.
fn match_items<T>(
    old: &[T],
    new: &[T],
    id: impl Fn(&T) -> Option<&str>,
    fallback: impl Fn(&T, &T) -> bool,
) -> Vec<Option<usize>> {
    let mut used = vec![false; old.len()];
    let mut pairs = vec![None; new.len()];
    // Claims the first unused `old` item that `accept` takes.
    let claim = |used: &mut [bool], accept: &dyn Fn(&T) -> bool| {
        let i = old
            .iter()
            .zip(used.iter())
            .position(|(o, &u)| !u && accept(o))?;
        if let Some(u) = used.get_mut(i) {
            *u = true;
        }
        Some(i)
    };
    for (n, pair) in new.iter().zip(pairs.iter_mut()) {
        if let Some(nid) = id(n) {
            *pair = claim(&mut used, &|o| id(o) == Some(nid));
        }
    }
    for (n, pair) in new.iter().zip(pairs.iter_mut()) {
        if pair.is_none() {
            *pair = claim(&mut used, &|o| fallback(o, n));
        }
    }
    pairs
}

fn diff_segments(kind: TrackKind, old: &[Segment], new: &[Segment], out: &mut Vec<Change>) {
    let pairs = match_items(old, new, |s| s.id.as_deref(), |_, _| true);
    for (seg, pair) in new.iter().zip(&pairs) {
        match pair.and_then(|i| old.get(i)) {
            Some(o) => compare(kind, o, seg, out),
            None => out.push(Change::Added {
                kind,
                segment: seg.clone(),
            }),
        }
    }
    for (i, seg) in old.iter().enumerate() {
        if !pairs.contains(&Some(i)) {
            out.push(Change::Removed {
                kind,
                segment: seg.clone(),
            });
        }
    }
}

fn compare(kind: TrackKind, a: &Segment, b: &Segment, out: &mut Vec<Change>) {
    if a.raw == b.raw {
        return;
    }
    let is_text = kind == TrackKind::Text;
    if a.src != b.src || (!is_text && a.name != b.name) {
        // The description of a replacement already carries timing and volume.
        out.push(Change::Replaced {
            kind,
            segment: b.clone(),
        });
        return;
    }
    let before = out.len();
    let shown = |s: &Segment| {
        if is_text {
            s.text.clone().or_else(|| s.name.clone())
        } else {
            s.text.clone()
        }
    };
    let (ta, tb) = (shown(a), shown(b));
    if ta != tb {
        out.push(Change::TextChanged { kind, text: tb });
    }
    if a.start_ms != b.start_ms || a.duration_ms != b.duration_ms {
        out.push(Change::Retimed {
            kind,
            old_start_ms: a.start_ms,
            old_duration_ms: a.duration_ms,
            start_ms: b.start_ms,
            duration_ms: b.duration_ms,
        });
    }
    let same_volume = match (a.volume, b.volume) {
        (Some(x), Some(y)) => (x - y).abs() < 0.05,
        (None, None) => true,
        _ => false,
    };
    if !same_volume {
        out.push(Change::VolumeChanged {
            kind,
            old: a.volume,
            new: b.volume,
        });
    }
    if a.camera != b.camera {
        out.push(Change::CameraChanged {
            kind,
            camera: b.camera.clone(),
        });
    }
    if out.len() == before {
        out.push(Change::Edited {
            kind,
            segment: b.clone(),
        });
    }
}

/// One sentence for a list of changes: `Added BGM: Lo-fi (0-10s, 35%) and
/// changed the title to "Urban Dreams".` (three or more: "a, b and c.");
/// `No visible changes.` for none.
pub fn summarize_changes(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "No visible changes.".to_string();
    }
    let mut out = String::with_capacity(64 * changes.len());
    let last = changes.len() - 1;
    for (i, c) in changes.iter().enumerate() {
        if i > 0 {
            out.push_str(if i == last { " and " } else { ", " });
        }
        let d = c.describe();
        if i == 0 {
            let mut chars = d.chars();
            if let Some(first) = chars.next() {
                // Every description starts with a fixed ASCII word.
                out.push(first.to_ascii_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push_str(&d);
        }
    }
    out.push('.');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{"t":[
        {"tt":0,"sg":[{"id":"v1","s":0,"d":10000,"src":"https://cdn.example/city.mp4","m":{"name":"city timelapse","camera":"slow zoom in"}}]},
        {"tt":1,"sg":[{"id":"a1","s":0,"d":10000,"src":"https://cdn.example/lofi.mp3","m":{"name":"Lo-fi","volume":35}}]},
        {"tt":7,"sg":[{"id":"x1","s":0,"d":3000,"m":{"text":"Urban Dreams"}}]}
    ],"d":10000,"m":{"title":"City","width":1080,"height":1920}}"#;

    fn tl(text: &str) -> Timeline {
        Timeline::parse(&json::parse(text).unwrap())
    }

    #[test]
    fn summary_matches_the_protocol_exactly() {
        assert_eq!(
            tl(EXAMPLE).summary(),
            r#"Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)"#
        );
    }

    #[test]
    fn summary_edge_cases() {
        assert_eq!(tl("{}").summary(), "Timeline is empty");
        assert_eq!(Timeline::default().summary(), "Timeline is empty");
        assert_eq!(tl(r#"{"t":"garbage"}"#).summary(), "Timeline is empty");
        assert_eq!(
            tl(r#"{"t":[{"tt":0,"sg":[{"s":0,"d":2500,"src":"https://x/y/clip.mp4?sig=1"},{"s":2500,"d":1234,"m":{"name":"b"}}]}]}"#).summary(),
            "Timeline (1 track): 1. Video: clip.mp4 (0-2.5s), b (2.5-3.734s)"
        );
        assert_eq!(
            tl(r#"{"t":[{"tt":1,"sg":[]},{"tt":7,"sg":[{"m":{}}]},{"tt":3,"sg":[{"d":"1000","m":{"volume":0.5}}]}]}"#).summary(),
            "Timeline (3 tracks): 1. BGM: empty 2. Title: untitled 3. Track: untitled (0-1s)"
        );
        assert_eq!(
            tl(r#"{"t":[{"tt":1,"sg":[{"m":{"name":"Jazz","volume":12.5}}]}]}"#).summary(),
            "Timeline (1 track): 1. BGM: Jazz (12.5%)"
        );
    }

    #[test]
    fn typed_view() {
        let t = tl(EXAMPLE);
        let tracks = t.tracks();
        assert_eq!(tracks.len(), 3);
        assert_eq!(tracks[0].kind, TrackKind::Video);
        assert_eq!(tracks[1].kind, TrackKind::Audio);
        assert_eq!(tracks[2].kind, TrackKind::Text);
        let v = &tracks[0].segments[0];
        assert_eq!(v.id.as_deref(), Some("v1"));
        assert_eq!((v.start_ms, v.duration_ms), (0, 10_000));
        assert_eq!(v.src.as_deref(), Some("https://cdn.example/city.mp4"));
        assert_eq!(
            v.camera.as_ref().and_then(Value::as_str),
            Some("slow zoom in")
        );
        assert_eq!(tracks[1].segments[0].volume, Some(35.0));
        assert_eq!(tracks[2].segments[0].text.as_deref(), Some("Urban Dreams"));
        assert_eq!(t.title(), Some("City"));
        assert_eq!(t.aspect_ratio().as_deref(), Some("9:16"));
        // Garbage is tolerated.
        let g = tl(r#"{"t":[1,null,{"sg":[3,{"id":7,"s":-5,"d":true}]}]}"#);
        let tracks = g.tracks();
        assert_eq!(tracks.len(), 1);
        assert_eq!(tracks[0].kind, TrackKind::Other(-1));
        assert_eq!(tracks[0].segments.len(), 1);
        assert_eq!(tracks[0].segments[0].id.as_deref(), Some("7"));
        assert_eq!(tracks[0].segments[0].start_ms, 0);
    }

    #[test]
    fn round_trip_keeps_unknown_keys_and_number_text() {
        let text = r#"{"t":[{"tt":0,"x_future":{"k":[1.50,2e3]},"sg":[{"id":"a","s":0,"d":10000.0,"fx":"glow","m":{"name":"n","zz":12345678901234567890}}]}],"m":{"width":1080},"extra":null}"#;
        let t = tl(text);
        assert_eq!(t.to_json(), text);
        assert_eq!(t.tracks()[0].segments[0].duration_ms, 10_000);
        // From state, with the draft sent as a string.
        let state = json::parse(r#"{"state":{"draft":"{\"t\":[{\"tt\":0,\"sg\":[{\"d\":1000}]}]}","canvas_config":{"width":1920,"height":1080}}}"#).unwrap();
        let t = Timeline::from_state(&state);
        assert!(t.ready_for_export());
        assert_eq!(
            t.to_json(),
            r#""{\"t\":[{\"tt\":0,\"sg\":[{\"d\":1000}]}]}""#
        );
        assert_eq!(t.aspect_ratio().as_deref(), Some("16:9"));
    }

    #[test]
    fn from_state_reads_the_draft_and_canvas() {
        let text = format!(
            r#"{{"session_id":"s","state":{{"draft":{EXAMPLE},"canvas_config":{{"aspect_ratio":"1:1"}},"video_infos":[]}}}}"#
        );
        let data = json::parse(&text).unwrap();
        let t = Timeline::from_state(&data);
        assert_eq!(t.tracks().len(), 3);
        assert_eq!(t.aspect_ratio().as_deref(), Some("1:1"));
        assert_eq!(t.draft(), &json::parse(EXAMPLE).unwrap().into_owned());
        let envelope = json::parse(r#"{"code":0,"data":{"state":{"draft":{"t":[]}}}}"#).unwrap();
        assert!(!Timeline::from_state(&envelope).ready_for_export());
        let empty = Timeline::from_state(&json::parse("{}").unwrap());
        assert_eq!(empty.draft(), &Value::Null);
        assert_eq!(empty.summary(), "Timeline is empty");
    }

    #[test]
    fn readiness() {
        assert!(tl(EXAMPLE).ready_for_export());
        assert!(!tl("{}").ready_for_export());
        assert!(!tl(r#"{"t":[]}"#).ready_for_export());
        assert!(!tl(r#"{"t":[{"tt":0,"sg":[]},{"tt":1}]}"#).ready_for_export());
        assert!(tl(r#"{"t":[{"tt":0,"sg":[]},{"tt":1,"sg":[{}]}]}"#).ready_for_export());
        assert!(!Timeline::parse(&Value::str("not json")).ready_for_export());
    }

    #[test]
    fn ratio_snapping() {
        assert_eq!(ratio_text(1080, 1920), "9:16");
        assert_eq!(ratio_text(1366, 768), "16:9");
        assert_eq!(ratio_text(1000, 1000), "1:1");
        assert_eq!(ratio_text(1000, 700), "10:7");
    }

    const BASE: &str = r#"{"t":[{"tt":0,"sg":[{"id":"v1","s":0,"d":10000,"src":"https://cdn/city.mp4","m":{"name":"city timelapse"}}]}],"m":{"width":1920,"height":1080}}"#;

    #[test]
    fn diff_added_bgm_and_title() {
        let old = tl(BASE);
        let new = tl(
            r#"{"t":[{"tt":0,"sg":[{"id":"v1","s":0,"d":10000,"src":"https://cdn/city.mp4","m":{"name":"city timelapse"}}]},
            {"tt":1,"sg":[{"id":"a1","s":0,"d":10000,"src":"https://cdn/l.mp3","m":{"name":"Lo-fi","volume":35}}]}],"m":{"width":1920,"height":1080}}"#,
        );
        let changes = diff(&old, &new);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].describe(), "added BGM: Lo-fi (0-10s, 35%)");
        assert_eq!(
            summarize_changes(&changes),
            "Added BGM: Lo-fi (0-10s, 35%)."
        );

        let newer = tl(
            r#"{"t":[{"tt":0,"sg":[{"id":"v1","s":0,"d":10000,"src":"https://cdn/city.mp4","m":{"name":"city timelapse"}}]},
            {"tt":1,"sg":[{"id":"a1","s":0,"d":10000,"src":"https://cdn/l.mp3","m":{"name":"Lo-fi","volume":35}}]},
            {"tt":7,"sg":[{"id":"x","s":0,"d":3000,"m":{"text":"Old"}}]}],"m":{"width":1920,"height":1080}}"#,
        );
        let renamed = tl(&newer.to_json().replace("\"Old\"", "\"Urban Dreams\""));
        let changes = diff(&old, &renamed);
        assert_eq!(
            summarize_changes(&changes),
            r#"Added BGM: Lo-fi (0-10s, 35%) and added title: "Urban Dreams" (0-3s)."#
        );
        let changes = diff(&newer, &renamed);
        assert_eq!(
            summarize_changes(&changes),
            r#"Changed the title to "Urban Dreams"."#
        );
    }

    #[test]
    fn diff_trim_volume_aspect_and_removal() {
        let old = tl(EXAMPLE);
        let edited = EXAMPLE
            .replace(
                r#""d":10000,"src":"https://cdn.example/city.mp4""#,
                r#""d":5000,"src":"https://cdn.example/city.mp4""#,
            )
            .replace(r#""volume":35"#, r#""volume":50"#)
            .replace(
                r#""width":1080,"height":1920"#,
                r#""width":1920,"height":1080"#,
            );
        let changes = diff(&old, &tl(&edited));
        let words: Vec<_> = changes.iter().map(Change::describe).collect();
        assert_eq!(
            words,
            [
                "trimmed the video to 0-5s",
                "BGM volume 35% → 50%",
                "changed the aspect ratio to 16:9"
            ]
        );
        assert_eq!(
            summarize_changes(&changes),
            "Trimmed the video to 0-5s, BGM volume 35% → 50% and changed the aspect ratio to 16:9."
        );
        // Removing the BGM track.
        let no_bgm = tl(r#"{"t":[
            {"tt":0,"sg":[{"id":"v1","s":0,"d":10000,"src":"https://cdn.example/city.mp4","m":{"name":"city timelapse","camera":"slow zoom in"}}]},
            {"tt":7,"sg":[{"id":"x1","s":0,"d":3000,"m":{"text":"Urban Dreams"}}]}
        ],"d":10000,"m":{"title":"City","width":1080,"height":1920}}"#);
        let words: Vec<_> = diff(&old, &no_bgm).iter().map(Change::describe).collect();
        assert_eq!(words, ["removed BGM: Lo-fi (0-10s, 35%)"]);
        assert_eq!(summarize_changes(&diff(&old, &old)), "No visible changes.");
    }

    #[test]
    fn diff_matches_by_id_then_position() {
        // Ids changed (regenerated): fall back to position → one replacement.
        let old =
            tl(r#"{"t":[{"tt":1,"sg":[{"id":"a","d":1000,"src":"u1","m":{"name":"Lo-fi"}}]}]}"#);
        let new =
            tl(r#"{"t":[{"tt":1,"sg":[{"id":"b","d":1000,"src":"u2","m":{"name":"Jazz"}}]}]}"#);
        let words: Vec<_> = diff(&old, &new).iter().map(Change::describe).collect();
        assert_eq!(words, ["replaced the BGM with Jazz (0-1s)"]);
        // Reordered segments with ids: no change reported.
        let old = tl(
            r#"{"t":[{"tt":0,"sg":[{"id":"1","d":1000,"m":{"name":"a"}},{"id":"2","d":1000,"m":{"name":"b"}}]}]}"#,
        );
        let new = tl(
            r#"{"t":[{"tt":0,"sg":[{"id":"2","d":1000,"m":{"name":"b"}},{"id":"1","d":1000,"m":{"name":"a"}}]}]}"#,
        );
        assert!(diff(&old, &new).is_empty());
        // Middle segment removed.
        let new = tl(r#"{"t":[{"tt":0,"sg":[{"id":"2","d":1000,"m":{"name":"b"}}]}]}"#);
        let words: Vec<_> = diff(&old, &new).iter().map(Change::describe).collect();
        assert_eq!(words, ["removed video: a (0-1s)"]);
    }

    #[test]
    fn diff_camera_unknown_keys_and_first_generation() {
        let old = tl(r#"{"t":[{"tt":0,"sg":[{"id":"v","d":1000,"m":{"camera":"static"}}]}]}"#);
        let new = tl(
            r#"{"t":[{"tt":0,"sg":[{"id":"v","d":1000,"m":{"camera":{"type":"slow zoom in","speed":0.5}}}]}]}"#,
        );
        assert_eq!(
            summarize_changes(&diff(&old, &new)),
            "Changed the camera movement to slow zoom in."
        );
        let new = tl(
            r#"{"t":[{"tt":0,"sg":[{"id":"v","d":1000,"fx":"glow","m":{"camera":"static"}}]}]}"#,
        );
        assert_eq!(summarize_changes(&diff(&old, &new)), "Edited the video.");
        // Extended and moved.
        let new = tl(r#"{"t":[{"tt":0,"sg":[{"id":"v","d":2500,"m":{"camera":"static"}}]}]}"#);
        assert_eq!(
            diff(&old, &new)[0].describe(),
            "extended the video to 0-2.5s"
        );
        let new =
            tl(r#"{"t":[{"tt":0,"sg":[{"id":"v","s":500,"d":1000,"m":{"camera":"static"}}]}]}"#);
        assert_eq!(
            diff(&old, &new)[0].describe(),
            "moved the video to 0.5-1.5s"
        );
        // The first generation on an empty timeline does not report the ratio.
        let state = |draft: &str| {
            Timeline::from_state(
                &json::parse(&format!(r#"{{"state":{{"draft":{draft},"canvas_config":{{"width":1080,"height":1920}}}}}}"#)).unwrap(),
            )
        };
        let empty = Timeline::from_state(&json::parse(r#"{"state":{"draft":{}}}"#).unwrap());
        let first = state(r#"{"t":[{"tt":0,"sg":[{"id":"v","d":5000,"m":{"name":"clip"}}]}]}"#);
        assert_eq!(
            summarize_changes(&diff(&empty, &first)),
            "Added video: clip (0-5s)."
        );
    }
}
