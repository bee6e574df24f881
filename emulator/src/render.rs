//! Export rendering: composes a draft (timeline) into one real MP4 with `ffmpeg`.
//!
//! [`render`] turns the draft's short-key JSON (`t` tracks, `tt` track type, `sg` segments,
//! `s`/`d` start and duration in ms, `src`, `m` metadata) into a single `ffmpeg` run with one
//! `-filter_complex` graph and encodes H.264 (libx264, yuv420p, `+faststart`) plus AAC.
//!
//! * **Video tracks (`tt` 0)** — all video tracks are laid on one timeline by `s`/`d`, gaps are
//!   black. When segments overlap, the earlier one plays to its end and the later one starts
//!   where it stops (its head is cut). Images get a Ken Burns move following `m.camera`
//!   (`zoom_in` — the default —, `zoom_out`, `pan_left`, `pan_right`, `orbit`, `static`); videos
//!   are trimmed to `d` from an optional in-point (`m.in`, `m.trim_start`, `trim_start` or `in`,
//!   in ms) and letterboxed to the canvas (a clip that is too short holds its last frame). A
//!   segment whose `src` is not in [`RenderRequest::media`] (e.g. `emulator://generated/<id>`)
//!   becomes synthesized "generated footage": a moving colour gradient with the same camera
//!   move and `m.name` as a caption.
//! * **Text tracks (`tt` 7)** — `m.text` (else `m.name`) is drawn as a large centred title with
//!   box, shadow and a short fade over the segment's span. The text goes through a file
//!   (`textfile=`, `expansion=none`), so user input is never parsed by the filtergraph. Long
//!   titles are wrapped. Lines holding CJK use a CJK font when fontconfig knows one; without one
//!   they still render (with missing-glyph boxes) instead of failing.
//! * **Audio tracks (`tt` 1)** — each segment is mixed at `m.volume` (0–100, default 100) over
//!   its span. A local audio file (or a video with audio) is used and looped to fill the span;
//!   anything else (`emulator://bgm/…`, unknown sources) becomes a generated lo-fi bed (a soft
//!   Am7–Fmaj7–Cmaj7–G chord loop with a gentle pulse and a low thump on each beat).
//! * **Audio stream rule** — the output has an AAC stream exactly when the draft has at least
//!   one audio-track segment or a video-track segment whose media file has sound (that sound is
//!   mixed in at the segment's `m.volume`). Otherwise the MP4 is video-only.
//! * **Duration** — the draft's `d` when it is a positive number, else the latest segment end;
//!   capped at 10 minutes. Video is frame-exact on the `fps` grid, audio is sample-exact.
//! * **Canvas** — `width` x `height` from the request (falling back to the draft's `m.width` /
//!   `m.height`, then 1080x1920), scaled down to fit 1920x1080 (landscape) or 1080x1920
//!   (portrait) and rounded down to even numbers. `fps` 0 means 30; it is clamped to 1–60.
//!
//! Progress comes from `ffmpeg -progress pipe:1` (`out_time_us` over the total duration) and is
//! sent on the watch channel as non-decreasing values; 100 is sent only after the file is in
//! place. Output is written to a hidden temporary file next to `out_path` and renamed on
//! success; on error or cancellation it is deleted and `ffmpeg` is killed.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::probe::{probe, ProbeInfo};

/// What kind of local file a segment `src` points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    /// A still picture (PNG, JPEG, WebP, …); animated with a Ken Burns move.
    Image,
    /// A video file, possibly with sound.
    Video,
    /// An audio file (MP3, WAV, M4A, …).
    Audio,
}

/// A local file standing behind a segment `src`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaFile {
    /// Where the file is on disk.
    pub path: PathBuf,
    /// What the file holds.
    pub kind: MediaKind,
}

/// Everything one export needs.
#[derive(Clone, Debug)]
pub struct RenderRequest {
    /// The draft exactly as it sits in session state (`{t, d, m}`); tolerant of junk.
    pub draft: Value,
    /// Output width in pixels (0 = take it from the draft); clamped and made even.
    pub width: u32,
    /// Output height in pixels (0 = take it from the draft); clamped and made even.
    pub height: u32,
    /// Output frame rate (0 = 30); clamped to 1–60.
    pub fps: u32,
    /// Local files by segment `src`, exactly as the string appears in the draft.
    pub media: HashMap<String, MediaFile>,
    /// Where the finished MP4 goes (replaced if it exists).
    pub out_path: PathBuf,
}

/// What a finished export produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderOutput {
    /// Size of the MP4 at `out_path` in bytes.
    pub size_bytes: u64,
    /// Duration of the MP4 in milliseconds (as probed; the planned duration if probing fails).
    pub duration_ms: u64,
}

/// Longest side of the output canvas.
const MAX_LONG_SIDE: u32 = 1920;
/// Shortest side of the output canvas.
const MAX_SHORT_SIDE: u32 = 1080;
/// Longest export in milliseconds.
const MAX_TOTAL_MS: u64 = 600_000;
/// Any millisecond value in the draft is clamped to this before arithmetic.
const MAX_ANY_MS: u64 = 86_400_000;
/// Duration given to a video segment without a usable `d`.
const DEFAULT_SEGMENT_MS: u64 = 5_000;
/// At most this many segments are rendered; the rest are ignored.
const MAX_SEGMENTS: usize = 200;
/// Output audio sample rate.
const AUDIO_RATE: u32 = 48_000;
/// Preferred title font.
const FONT_BOLD: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
/// Images are pre-scaled by this factor before `zoompan` so the move is smooth, not jittery.
const KEN_BURNS_OVERSCAN: f64 = 2.0;

/// Renders `req.draft` to an MP4 at `req.out_path`.
///
/// Sends progress (0–100, never decreasing, 100 only on success) on `progress`. Cancelling
/// `cancel` kills `ffmpeg`, removes the partial output and returns `Err("cancelled")`. A
/// draft without any usable segment gives `Err("draft has no segments")`. Never panics.
pub async fn render(
    req: RenderRequest,
    progress: watch::Sender<u8>,
    cancel: CancellationToken,
) -> Result<RenderOutput, String> {
    if cancel.is_cancelled() {
        return Err("cancelled".to_string());
    }
    let parsed = parse_draft(&req.draft)?;

    // Probe every local file a segment refers to, once per path.
    let mut paths: Vec<PathBuf> = Vec::new();
    for seg in &parsed.segs {
        if let Some(mf) = seg.src.as_ref().and_then(|s| req.media.get(s)) {
            if !paths.contains(&mf.path) {
                paths.push(mf.path.clone());
            }
        }
    }
    let probes_fut = futures::future::join_all(paths.iter().map(|p| probe(p)));
    let results = tokio::select! {
        r = probes_fut => r,
        _ = cancel.cancelled() => return Err("cancelled".to_string()),
    };
    let probes: HashMap<PathBuf, ProbeInfo> = paths
        .into_iter()
        .zip(results)
        .filter_map(|(p, r)| match r {
            Ok(info) => Some((p, info)),
            Err(e) => {
                tracing::warn!(path = %p.display(), error = %e, "media probe failed; synthesizing");
                None
            }
        })
        .collect();

    let (width, height) = canvas_size(req.width, req.height, parsed.width, parsed.height);
    let fps = if req.fps == 0 {
        30
    } else {
        req.fps.clamp(1, 60)
    };
    let plan = plan_timeline(parsed, &req.media, &probes, fps);
    let fonts = fonts().await;

    let text_dir = tempfile::Builder::new()
        .prefix("nemo-render-")
        .tempdir()
        .map_err(|e| format!("cannot create temp dir: {e}"))?;
    let graph = build_graph(&plan, width, height, fps, &fonts, text_dir.path())?;

    // Output goes to a hidden temp file next to out_path; it is deleted on drop.
    let parent = match req.out_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    tokio::fs::create_dir_all(&parent)
        .await
        .map_err(|e| format!("cannot create output directory: {e}"))?;
    let file_name = req
        .out_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "render".to_string());
    let partial = tempfile::Builder::new()
        .prefix(&format!(".{file_name}.partial-"))
        .suffix(".mp4")
        .tempfile_in(&parent)
        .map_err(|e| format!("cannot create output file: {e}"))?;

    let mut args: Vec<OsString> = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        .iter()
        .map(OsString::from)
        .collect();
    for input in &graph.inputs {
        args.extend(input.iter().cloned());
    }
    let total_s = secs(plan.total_ms);
    args.push("-filter_complex".into());
    args.push(graph.filter.clone().into());
    args.extend(
        [
            "-map",
            "[vout]",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-r",
        ]
        .iter()
        .map(OsString::from),
    );
    args.push(fps.to_string().into());
    if graph.has_audio {
        args.extend(
            [
                "-map", "[aout]", "-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-ac", "2",
            ]
            .iter()
            .map(OsString::from),
        );
    } else {
        args.push("-an".into());
    }
    args.extend(
        [
            "-t",
            &total_s,
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            "-progress",
            "pipe:1",
            "-nostats",
        ]
        .iter()
        .map(OsString::from),
    );
    args.push(file_arg(partial.path()));
    tracing::debug!(?args, "starting ffmpeg");

    let mut child = Command::new("ffmpeg")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("ffmpeg not available: {e}"))?;

    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let stderr_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        if let Some(mut err) = stderr {
            let mut chunk = [0u8; 4096];
            loop {
                match err.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        buf.extend_from_slice(&chunk[..n]);
                        if buf.len() > 16_384 {
                            buf.drain(..buf.len() - 8_192);
                        }
                    }
                }
            }
        }
        String::from_utf8_lossy(&buf).into_owned()
    });

    let total_us = plan.total_ms.max(1) as f64 * 1000.0;
    let progress_ref = &progress;
    let read_progress = async move {
        let Some(out) = stdout else { return };
        let mut lines = BufReader::new(out).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let Some(v) = line.strip_prefix("out_time_us=") else {
                continue;
            };
            let Ok(us) = v.trim().parse::<f64>() else {
                continue;
            };
            if us.is_finite() && us > 0.0 {
                let pct = ((us / total_us) * 100.0).floor().clamp(0.0, 99.0) as u8;
                send_progress(progress_ref, pct);
            }
        }
    };

    let status = tokio::select! {
        (_, status) = async { tokio::join!(read_progress, child.wait()) } => status,
        _ = cancel.cancelled() => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            stderr_task.abort();
            drop(partial);
            return Err("cancelled".to_string());
        }
    };
    let stderr_text = stderr_task.await.unwrap_or_default();
    let status = status.map_err(|e| format!("ffmpeg failed: {e}"))?;
    if !status.success() {
        let msg = stderr_text.trim();
        let tail: Vec<&str> = msg.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("ffmpeg failed ({status}): {}", tail.join(" | ")));
    }
    if cancel.is_cancelled() {
        return Err("cancelled".to_string());
    }
    let size_bytes = tokio::fs::metadata(partial.path())
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    if size_bytes == 0 {
        return Err("ffmpeg produced an empty file".to_string());
    }
    partial
        .persist(&req.out_path)
        .map_err(|e| format!("cannot move output into place: {}", e.error))?;
    drop(text_dir);

    let duration_ms = match probe(&req.out_path).await {
        Ok(ProbeInfo {
            duration_s: Some(d),
            ..
        }) => (d * 1000.0).round() as u64,
        _ => plan.total_ms,
    };
    send_progress(&progress, 100);
    Ok(RenderOutput {
        size_bytes,
        duration_ms,
    })
}

/// Raises the progress value to `pct` (never lowers it); works with or without receivers.
fn send_progress(tx: &watch::Sender<u8>, pct: u8) {
    let pct = pct.min(100);
    tx.send_if_modified(|v| {
        if pct > *v {
            *v = pct;
            true
        } else {
            false
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Draft parsing
// ---------------------------------------------------------------------------------------------

/// The three track types the renderer understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TrackKind {
    /// `tt` 0.
    Video,
    /// `tt` 1.
    Audio,
    /// `tt` 7.
    Text,
}

/// A Ken Burns camera move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Camera {
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
    fn parse(s: Option<&str>) -> Camera {
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
struct Seg {
    /// Which track type it came from.
    kind: TrackKind,
    /// Position in the draft (tie-breaker when sorting).
    order: usize,
    /// Segment id (for colours and logs).
    id: String,
    /// Start in ms.
    start_ms: u64,
    /// Duration in ms when the draft gives a positive one.
    dur_ms: Option<u64>,
    /// The `src` string, if any.
    src: Option<String>,
    /// `m.name`.
    name: String,
    /// `m.text` (titles).
    text: String,
    /// Gain 0.0–1.0 from `m.volume`.
    volume: f64,
    /// `m.camera`.
    camera: Camera,
    /// In-point into the source in ms.
    in_ms: u64,
}

/// The draft reduced to what rendering needs.
#[derive(Clone, Debug)]
struct ParsedDraft {
    /// Usable segments of known track types.
    segs: Vec<Seg>,
    /// The draft's `d`, when positive.
    total_ms: Option<u64>,
    /// `m.width`.
    width: Option<u32>,
    /// `m.height`.
    height: Option<u32>,
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

/// Reads the draft; `Err("draft has no segments")` when nothing renderable is in it.
fn parse_draft(draft: &Value) -> Result<ParsedDraft, String> {
    // Some clients hand the draft over as a JSON string.
    let owned;
    let draft = match draft {
        Value::String(s) => {
            owned = serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
            &owned
        }
        other => other,
    };
    let meta = draft.get("m");
    let dim = |key: &str| -> Option<u32> {
        num(meta.and_then(|m| m.get(key)))
            .filter(|x| *x >= 1.0 && *x <= 16_384.0)
            .map(|x| x as u32)
    };
    let mut segs = Vec::new();
    let tracks: &[Value] = draft
        .get("t")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    'tracks: for track in tracks {
        // A missing `tt` means video; one that is present but unreadable means "unknown".
        let tt = match track.get("tt") {
            None | Some(Value::Null) => Some(0),
            Some(v) => num(Some(v))
                .filter(|x| x.fract() == 0.0 && x.abs() < 1e9)
                .map(|x| x as i64),
        };
        let kind = match tt {
            Some(0) => TrackKind::Video,
            Some(1) => TrackKind::Audio,
            Some(7) => TrackKind::Text,
            _ => continue,
        };
        if !track.is_object() {
            continue;
        }
        let list: &[Value] = track
            .get("sg")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for seg in list {
            if !seg.is_object() {
                continue;
            }
            if segs.len() >= MAX_SEGMENTS {
                break 'tracks;
            }
            let m = seg.get("m").filter(|m| m.is_object());
            let mget = |key: &str| m.and_then(|m| m.get(key));
            let name = text_of(mget("name"))
                .or_else(|| text_of(seg.get("name")))
                .unwrap_or_default();
            let mut text = text_of(mget("text"))
                .or_else(|| text_of(seg.get("text")))
                .or_else(|| text_of(mget("title")))
                .unwrap_or_default();
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
            segs.push(Seg {
                kind,
                order: segs.len(),
                id: text_of(seg.get("id")).unwrap_or_else(|| format!("seg{}", segs.len())),
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
            });
        }
    }
    if segs.is_empty() {
        return Err("draft has no segments".to_string());
    }
    Ok(ParsedDraft {
        segs,
        total_ms: ms(draft.get("d")).filter(|d| *d > 0),
        width: dim("width"),
        height: dim("height"),
    })
}

/// Output size: request, else draft, else 1080x1920; fitted into 1920x1080 / 1080x1920; even.
fn canvas_size(req_w: u32, req_h: u32, draft_w: Option<u32>, draft_h: Option<u32>) -> (u32, u32) {
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

// ---------------------------------------------------------------------------------------------
// Timeline planning
// ---------------------------------------------------------------------------------------------

/// Where the pictures of a video piece come from.
#[derive(Clone, Debug)]
enum Visual {
    /// A still image with a camera move.
    Image {
        /// Image file.
        path: PathBuf,
        /// Camera move.
        camera: Camera,
    },
    /// A video file, read from `in_ms`.
    Video {
        /// Video file.
        path: PathBuf,
        /// In-point in ms.
        in_ms: u64,
    },
    /// Generated footage.
    Synth {
        /// Camera move.
        camera: Camera,
        /// Caption (usually `m.name`).
        caption: String,
        /// Seed for colours.
        seed: u64,
    },
    /// Black filler.
    Gap,
}

/// A run of frames on the output timeline.
#[derive(Clone, Debug)]
struct VideoPiece {
    /// Number of frames (≥ 1).
    frames: u64,
    /// What fills them.
    visual: Visual,
}

/// Where the sound of an audio piece comes from.
#[derive(Clone, Debug)]
enum Sound {
    /// A local file (looped when `looped`).
    File {
        /// The file.
        path: PathBuf,
        /// In-point in ms.
        in_ms: u64,
        /// Loop the file to fill the span (background music).
        looped: bool,
    },
    /// The generated lo-fi bed.
    Bed,
}

/// An audio piece placed on the output timeline.
#[derive(Clone, Debug)]
struct AudioPiece {
    /// Start in ms.
    start_ms: u64,
    /// Length in ms (≥ 1).
    dur_ms: u64,
    /// Gain 0.0–1.0.
    volume: f64,
    /// Longer fades for music beds, short de-click fades for clip sound.
    music: bool,
    /// Source.
    sound: Sound,
}

/// A title placed on the output timeline.
#[derive(Clone, Debug)]
struct Title {
    /// Start in ms.
    start_ms: u64,
    /// End in ms.
    end_ms: u64,
    /// The user's text.
    text: String,
}

/// Everything the graph builder needs.
#[derive(Clone, Debug)]
struct Plan {
    /// Output duration in ms.
    total_ms: u64,
    /// Video pieces, back to back, summing to the whole timeline.
    video: Vec<VideoPiece>,
    /// Audio pieces.
    audio: Vec<AudioPiece>,
    /// Whether the output carries an audio stream.
    has_audio: bool,
    /// Titles.
    titles: Vec<Title>,
}

/// Frame index of a millisecond position on the `fps` grid (rounded).
fn frame_at(ms: u64, fps: u32) -> u64 {
    (ms.saturating_mul(fps as u64) + 500) / 1000
}

/// Millisecond position of a frame index.
fn ms_at(frame: u64, fps: u32) -> u64 {
    frame.saturating_mul(1000) / fps.max(1) as u64
}

/// A small stable hash (FNV-1a) for colours.
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Resolves durations, the total, and lays out video, audio and title pieces.
fn plan_timeline(
    parsed: ParsedDraft,
    media: &HashMap<String, MediaFile>,
    probes: &HashMap<PathBuf, ProbeInfo>,
    fps: u32,
) -> Plan {
    let lookup = |seg: &Seg| -> Option<(&MediaFile, &ProbeInfo)> {
        let mf = media.get(seg.src.as_ref()?)?;
        let info = probes.get(&mf.path)?;
        Some((mf, info))
    };

    // Video segments without `d` take their file's remaining length or a default.
    let mut segs = parsed.segs;
    for seg in segs.iter_mut() {
        if seg.kind == TrackKind::Video && seg.dur_ms.is_none() {
            let from_file = media
                .get(seg.src.as_deref().unwrap_or(""))
                .filter(|mf| mf.kind == MediaKind::Video)
                .and_then(|mf| probes.get(&mf.path))
                .and_then(|p| p.duration_s)
                .map(|d| ((d * 1000.0) as u64).saturating_sub(seg.in_ms))
                .filter(|d| *d > 0);
            seg.dur_ms = Some(from_file.unwrap_or(DEFAULT_SEGMENT_MS).min(MAX_ANY_MS));
        }
    }
    let total_ms = parsed
        .total_ms
        .or_else(|| {
            segs.iter()
                .filter_map(|s| s.dur_ms.map(|d| s.start_ms + d))
                .max()
        })
        .filter(|t| *t > 0)
        .unwrap_or_else(|| segs.iter().map(|s| s.start_ms).max().unwrap_or(0) + DEFAULT_SEGMENT_MS)
        .min(MAX_TOTAL_MS);
    // Audio and text segments without `d` run to the end.
    let span = |s: &Seg| -> (u64, u64) {
        let start = s.start_ms.min(total_ms);
        let end = match s.dur_ms {
            Some(d) => (s.start_ms + d).min(total_ms),
            None => total_ms,
        };
        (start, end.max(start))
    };

    let total_frames = frame_at(total_ms, fps).max(1);
    let mut video = Vec::new();
    let mut audio = Vec::new();
    let mut has_audio = false;
    let mut titles = Vec::new();

    let mut vsegs: Vec<&Seg> = segs.iter().filter(|s| s.kind == TrackKind::Video).collect();
    vsegs.sort_by_key(|s| (s.start_ms, s.order));
    let mut cursor = 0u64;
    for seg in vsegs {
        let (start, end) = span(seg);
        let first = frame_at(start, fps).min(total_frames);
        let a = first.max(cursor);
        let b = frame_at(end, fps).min(total_frames);
        if b <= a {
            continue;
        }
        if a > cursor {
            video.push(VideoPiece {
                frames: a - cursor,
                visual: Visual::Gap,
            });
        }
        let skip_ms = ms_at(a - first, fps);
        let synth = Visual::Synth {
            camera: seg.camera,
            caption: if seg.name.trim().is_empty() {
                "Generated clip".to_string()
            } else {
                seg.name.clone()
            },
            seed: fnv(&format!("{}|{}|{}", seg.id, seg.name, seg.order)),
        };
        let visual = match lookup(seg) {
            Some((mf, info)) if mf.kind == MediaKind::Image && info.has_video => Visual::Image {
                path: mf.path.clone(),
                camera: seg.camera,
            },
            Some((mf, info)) if mf.kind == MediaKind::Video && info.has_video => {
                let mut in_ms = seg.in_ms.saturating_add(skip_ms);
                if let Some(d) = info.duration_s {
                    if (in_ms as f64) >= d * 1000.0 - 100.0 {
                        in_ms = 0;
                    }
                }
                Visual::Video {
                    path: mf.path.clone(),
                    in_ms,
                }
            }
            _ => synth,
        };
        // A clip's own sound plays along with it.
        if let Some((mf, info)) = lookup(seg) {
            if mf.kind != MediaKind::Image && info.has_audio {
                let in_ms = match &visual {
                    Visual::Video { in_ms, .. } => *in_ms,
                    _ => seg.in_ms.saturating_add(skip_ms),
                };
                audio.push(AudioPiece {
                    start_ms: ms_at(a, fps),
                    dur_ms: ms_at(b, fps).saturating_sub(ms_at(a, fps)).max(1),
                    volume: seg.volume,
                    music: false,
                    sound: Sound::File {
                        path: mf.path.clone(),
                        in_ms,
                        looped: matches!(visual, Visual::Synth { .. }),
                    },
                });
                has_audio = true;
            }
        }
        video.push(VideoPiece {
            frames: b - a,
            visual,
        });
        cursor = b;
    }
    if cursor < total_frames {
        video.push(VideoPiece {
            frames: total_frames - cursor,
            visual: Visual::Gap,
        });
    }

    for seg in segs.iter().filter(|s| s.kind == TrackKind::Audio) {
        has_audio = true;
        let (start, end) = span(seg);
        if end <= start {
            continue;
        }
        let sound = match lookup(seg) {
            Some((mf, info)) if mf.kind != MediaKind::Image && info.has_audio => {
                let mut in_ms = seg.in_ms;
                if let Some(d) = info.duration_s {
                    if (in_ms as f64) >= d * 1000.0 - 100.0 {
                        in_ms = 0;
                    }
                }
                Sound::File {
                    path: mf.path.clone(),
                    in_ms,
                    looped: true,
                }
            }
            _ => Sound::Bed,
        };
        audio.push(AudioPiece {
            start_ms: start,
            dur_ms: end - start,
            volume: seg.volume,
            music: true,
            sound,
        });
    }

    for seg in segs.iter().filter(|s| s.kind == TrackKind::Text) {
        let (start, end) = span(seg);
        if end > start && !seg.text.trim().is_empty() {
            titles.push(Title {
                start_ms: start,
                end_ms: end,
                text: seg.text.clone(),
            });
        }
    }

    Plan {
        total_ms,
        video,
        audio,
        has_audio,
        titles,
    }
}

// ---------------------------------------------------------------------------------------------
// Fonts and text
// ---------------------------------------------------------------------------------------------

/// How drawtext finds a font.
#[derive(Clone, Debug, PartialEq, Eq)]
enum FontRef {
    /// `fontfile=`.
    File(PathBuf),
    /// `font=` (fontconfig pattern).
    Name(String),
}

/// Fonts for titles.
#[derive(Clone, Debug)]
struct Fonts {
    /// Bold Latin font.
    latin: FontRef,
    /// A font with CJK glyphs, when the system has one.
    cjk: Option<PathBuf>,
}

/// Fonts found on the system (looked up once per process).
async fn fonts() -> Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    if let Some(f) = FONTS.get() {
        return f.clone();
    }
    let latin = if Path::new(FONT_BOLD).is_file() {
        FontRef::File(PathBuf::from(FONT_BOLD))
    } else {
        match first_font_file(&["fc-match", "-f", "%{file}", "Sans:bold"]).await {
            Some(p) => FontRef::File(p),
            None => FontRef::Name("Sans".to_string()),
        }
    };
    let mut cjk = None;
    for lang in [":lang=zh", ":lang=ja", ":lang=ko"] {
        if let Some(p) = first_font_file(&["fc-list", lang, "file"]).await {
            cjk = Some(p);
            break;
        }
    }
    let found = Fonts { latin, cjk };
    let _ = FONTS.set(found.clone());
    found
}

/// Runs a fontconfig tool and returns the first existing font file it prints.
async fn first_font_file(cmd: &[&str]) -> Option<PathBuf> {
    let (prog, args) = cmd.split_first()?;
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(10), out)
        .await
        .ok()?
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut files: Vec<PathBuf> = text
        .lines()
        .map(|l| l.trim().trim_end_matches(':').trim())
        .filter(|l| !l.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.into_iter().next()
}

/// True for characters DejaVu lacks and a CJK font has (Han, kana, Hangul, full-width forms).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7FF
        | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Rough advance width of a character in ems (bold sans).
fn char_em(c: char) -> f64 {
    if is_cjk(c) {
        1.0
    } else if c == ' ' {
        0.32
    } else if c.is_ascii_uppercase() || c == 'm' || c == 'w' || c == 'M' || c == 'W' {
        0.78
    } else {
        0.64
    }
}

/// Width of a string in ems.
fn str_em(s: &str) -> f64 {
    s.chars().map(char_em).sum()
}

/// Cleans user text: tabs become spaces, other control characters go, length is capped.
fn clean_text(text: &str, max_chars: usize) -> String {
    text.chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .filter(|c| *c == '\n' || !c.is_control())
        .take(max_chars)
        .collect()
}

/// Greedy word wrap to `max_em` per line; CJK characters may break anywhere; at most
/// `max_lines` lines (the last one ends with "…" when text was dropped).
fn wrap_text(text: &str, max_em: f64, max_lines: usize) -> Vec<String> {
    let max_em = max_em.max(1.0);
    let mut lines: Vec<String> = Vec::new();
    for para in text.split('\n') {
        // Tokens: words, or single CJK characters; flag = preceded by whitespace.
        let mut tokens: Vec<(String, bool)> = Vec::new();
        let mut cur = String::new();
        let mut space_before = false;
        for c in para.chars() {
            if c.is_whitespace() {
                if !cur.is_empty() {
                    tokens.push((std::mem::take(&mut cur), space_before));
                }
                space_before = true;
            } else if is_cjk(c) {
                if !cur.is_empty() {
                    tokens.push((std::mem::take(&mut cur), space_before));
                    space_before = false;
                }
                tokens.push((c.to_string(), space_before));
                space_before = false;
            } else {
                cur.push(c);
            }
        }
        if !cur.is_empty() {
            tokens.push((cur, space_before));
        }
        let mut line = String::new();
        for (tok, sp) in tokens {
            let sep = if sp && !line.is_empty() { " " } else { "" };
            if str_em(&line) + str_em(sep) + str_em(&tok) <= max_em {
                line.push_str(sep);
                line.push_str(&tok);
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A token wider than a line is broken by characters.
            for c in tok.chars() {
                if !line.is_empty() && str_em(&line) + char_em(c) > max_em {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(c);
            }
        }
        lines.push(line);
    }
    // Trim blank lines at both ends.
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            while !last.is_empty() && str_em(last) + 1.0 > max_em {
                last.pop();
            }
            last.push('…');
        }
    }
    lines
}

// ---------------------------------------------------------------------------------------------
// Filtergraph
// ---------------------------------------------------------------------------------------------

/// Escapes an option value for a `-filter_complex` graph: first for the option parser
/// (`\ ' :`), then for the graph parser (`\ ' [ ] , ;`). Whitespace is escaped at both levels
/// so that leading/trailing spaces survive.
fn esc(value: &str) -> String {
    let mut level1 = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if matches!(c, '\\' | '\'' | ':') || c.is_whitespace() {
            level1.push('\\');
        }
        level1.push(c);
    }
    let mut level2 = String::with_capacity(level1.len() + 8);
    for c in level1.chars() {
        if matches!(c, '\\' | '\'' | '[' | ']' | ',' | ';') || c.is_whitespace() {
            level2.push('\\');
        }
        level2.push(c);
    }
    level2
}

/// `name=k1=v1:k2=v2` with every value escaped.
fn filter(name: &str, opts: &[(&str, String)]) -> String {
    let mut s = String::from(name);
    for (i, (k, v)) in opts.iter().enumerate() {
        s.push(if i == 0 { '=' } else { ':' });
        s.push_str(k);
        s.push('=');
        s.push_str(&esc(v));
    }
    s
}

/// Seconds with microsecond precision, as ffmpeg durations.
fn secs(ms: u64) -> String {
    format!("{:.6}", ms as f64 / 1000.0)
}

/// `file:<path>` so that ffmpeg never reads a path as a protocol URL.
fn file_arg(path: &Path) -> OsString {
    let mut s = OsString::from("file:");
    s.push(path.as_os_str());
    s
}

/// The `ffmpeg` inputs and filtergraph.
#[derive(Clone, Debug)]
struct Graph {
    /// Per input: its options followed by `-i file:<path>`.
    inputs: Vec<Vec<OsString>>,
    /// The `-filter_complex` text; outputs `[vout]` and, when `has_audio`, `[aout]`.
    filter: String,
    /// Whether `[aout]` exists.
    has_audio: bool,
}

/// zoompan `z`, `x`, `y` expressions for a camera move over `frames` output frames.
fn camera_exprs(camera: Camera, frames: u64) -> (String, String, String) {
    let den = frames.saturating_sub(1).max(1);
    let p = format!("(on/{den})");
    // Smoothstep easing.
    let e = format!("({p}*{p}*(3-2*{p}))");
    let cx = "(iw-iw/zoom)/2".to_string();
    let cy = "(ih-ih/zoom)/2".to_string();
    match camera {
        Camera::ZoomIn => (format!("1+0.2*{e}"), cx, cy),
        Camera::ZoomOut => (format!("1.2-0.2*{e}"), cx, cy),
        Camera::PanLeft => ("1.15".into(), format!("(iw-iw/zoom)*(1-{e})"), cy),
        Camera::PanRight => ("1.15".into(), format!("(iw-iw/zoom)*{e}"), cy),
        Camera::Orbit => (
            format!("1.15+0.05*sin(PI*{p})"),
            format!("(iw-iw/zoom)/2*(1+0.85*cos(2*PI*{p}))"),
            format!("(ih-ih/zoom)/2*(1+0.85*sin(2*PI*{p}))"),
        ),
        Camera::Static => ("1".into(), "0".into(), "0".into()),
    }
}

/// Colour palettes for generated footage.
const PALETTES: &[[&str; 3]] = &[
    ["0x0f2027", "0x2c5364", "0x4ca1af"],
    ["0x1e3c72", "0x2a5298", "0xf7797d"],
    ["0x42275a", "0x734b6d", "0xf4c4f3"],
    ["0x134e5e", "0x71b280", "0xf9d423"],
    ["0x1a2a6c", "0xb21f1f", "0xfdbb2d"],
    ["0x373b44", "0x4286f4", "0xa8c0ff"],
    ["0x0b486b", "0xf56217", "0xffd194"],
    ["0x283c86", "0x45a247", "0xc6ffdd"],
];

/// The lo-fi bed: a four-chord loop (2 s per chord) with soft plucked envelopes, a slow swell
/// and a quiet low thump on each beat. Mono; `t` in seconds.
fn lofi_expr() -> String {
    let chord = |f: [f64; 4]| -> String {
        f.iter()
            .map(|hz| format!("sin(2*PI*{hz}*t)"))
            .collect::<Vec<_>>()
            .join("+")
    };
    let am7 = chord([220.0, 261.63, 329.63, 392.0]);
    let fmaj7 = chord([174.61, 220.0, 261.63, 329.63]);
    let cmaj7 = chord([130.81, 164.81, 196.0, 246.94]);
    let g6 = chord([196.0, 246.94, 293.66, 329.63]);
    let chords = format!(
        "if(lt(mod(t,8),2),{am7},if(lt(mod(t,8),4),{fmaj7},if(lt(mod(t,8),6),{cmaj7},{g6})))"
    );
    let env = "(1-exp(-30*mod(t,2)))*(0.55+0.45*exp(-1.5*mod(t,2)))";
    let swell = "(0.85+0.15*sin(2*PI*0.25*t))";
    let thump = "0.30*sin(2*PI*55*mod(t,1))*exp(-10*mod(t,1))";
    format!("0.075*{env}*{swell}*({chords})+{thump}")
}

/// Builds inputs and the filtergraph; writes title text files into `text_dir`.
fn build_graph(
    plan: &Plan,
    width: u32,
    height: u32,
    fps: u32,
    fonts: &Fonts,
    text_dir: &Path,
) -> Result<Graph, String> {
    let mut inputs: Vec<Vec<OsString>> = Vec::new();
    let mut chains: Vec<String> = Vec::new();
    let size = format!("{width}x{height}");
    let fps_s = fps.to_string();
    let mut text_files = 0usize;
    let mut write_text = |text: &str| -> Result<PathBuf, String> {
        let path = text_dir.join(format!("text{text_files}.txt"));
        text_files += 1;
        std::fs::write(&path, text.as_bytes())
            .map_err(|e| format!("cannot write title text: {e}"))?;
        Ok(path)
    };
    let font_opt = |line: &str| -> (&'static str, String) {
        if line.chars().any(is_cjk) {
            if let Some(p) = &fonts.cjk {
                return ("fontfile", p.to_string_lossy().into_owned());
            }
        }
        match &fonts.latin {
            FontRef::File(p) => ("fontfile", p.to_string_lossy().into_owned()),
            FontRef::Name(n) => ("font", n.clone()),
        }
    };
    let short_side = width.min(height) as f64;

    // --- Video pieces -----------------------------------------------------------------------
    for (i, piece) in plan.video.iter().enumerate() {
        let n = piece.frames.max(1);
        let dur_s = format!("{:.6}", n as f64 / fps as f64 + 0.5);
        let tail = format!(
            "{},{}",
            filter("trim", &[("end_frame", n.to_string())]),
            filter("setpts", &[("expr", "PTS-STARTPTS".into())])
        );
        let zoompan = |camera: Camera, d: u64| -> String {
            let (z, x, y) = camera_exprs(camera, n);
            filter(
                "zoompan",
                &[
                    ("z", z),
                    ("x", x),
                    ("y", y),
                    ("d", d.to_string()),
                    ("s", size.clone()),
                    ("fps", fps_s.clone()),
                ],
            )
        };
        let chain = match &piece.visual {
            Visual::Gap => format!(
                "{},format=yuv420p,{tail}",
                filter(
                    "color",
                    &[
                        ("c", "black".into()),
                        ("s", size.clone()),
                        ("r", fps_s.clone()),
                        ("d", dur_s.clone()),
                    ]
                )
            ),
            Visual::Image { path, camera } => {
                let k = inputs.len();
                inputs.push(vec!["-i".into(), file_arg(path)]);
                let over = |x: u32| -> String {
                    let v = (x as f64 * KEN_BURNS_OVERSCAN) as u32;
                    (v - v % 2).max(2).to_string()
                };
                let (pw, ph) = (over(width), over(height));
                format!(
                    "[{k}:v:0]{},{},{},setsar=1,format=yuv420p,{},{tail}",
                    filter("trim", &[("end_frame", "1".into())]),
                    filter(
                        "scale",
                        &[
                            ("w", pw.clone()),
                            ("h", ph.clone()),
                            ("force_original_aspect_ratio", "increase".into()),
                            ("flags", "bicubic".into()),
                        ]
                    ),
                    filter("crop", &[("w", pw), ("h", ph)]),
                    zoompan(*camera, n),
                )
            }
            Visual::Video { path, in_ms } => {
                let k = inputs.len();
                let mut args: Vec<OsString> = Vec::new();
                if *in_ms > 0 {
                    args.push("-ss".into());
                    args.push(secs(*in_ms).into());
                }
                args.push("-t".into());
                args.push(dur_s.clone().into());
                args.push("-i".into());
                args.push(file_arg(path));
                inputs.push(args);
                format!(
                    "[{k}:v:0]setpts=PTS-STARTPTS,{},{},{},setsar=1,format=yuv420p,{},{tail}",
                    filter("fps", &[("fps", fps_s.clone())]),
                    filter(
                        "scale",
                        &[
                            ("w", width.to_string()),
                            ("h", height.to_string()),
                            ("force_original_aspect_ratio", "decrease".into()),
                            ("force_divisible_by", "2".into()),
                        ]
                    ),
                    filter(
                        "pad",
                        &[
                            ("w", width.to_string()),
                            ("h", height.to_string()),
                            ("x", "(ow-iw)/2".into()),
                            ("y", "(oh-ih)/2".into()),
                            ("color", "black".into()),
                        ]
                    ),
                    filter(
                        "tpad",
                        &[("stop_mode", "clone".into()), ("stop", n.to_string())]
                    ),
                )
            }
            Visual::Synth {
                camera,
                caption,
                seed,
            } => {
                let pal = PALETTES[(*seed % PALETTES.len() as u64) as usize];
                let half = |x: u32| -> u32 {
                    let v = (x / 2).max(16);
                    v - v % 2
                };
                let (sw, sh) = (half(width), half(height));
                // Gradient line across the frame, its direction varied by the seed.
                let flip = seed % 2 == 1;
                let (x0, x1) = if flip {
                    (sw * 9 / 10, sw / 10)
                } else {
                    (sw / 10, sw * 9 / 10)
                };
                let mut c = format!(
                    "{},format=yuv420p,{},{tail}",
                    filter(
                        "gradients",
                        &[
                            ("s", format!("{sw}x{sh}")),
                            ("c0", pal[0].into()),
                            ("c1", pal[1].into()),
                            ("c2", pal[2].into()),
                            ("nb_colors", "3".into()),
                            ("x0", x0.to_string()),
                            ("y0", "0".into()),
                            ("x1", x1.to_string()),
                            ("y1", sh.to_string()),
                            ("speed", "0.02".into()),
                            ("r", fps_s.clone()),
                            ("d", dur_s.clone()),
                            ("seed", (seed % 4_000_000_000).to_string()),
                        ]
                    ),
                    zoompan(*camera, 1),
                );
                let fs = (short_side / 24.0).round().max(8.0);
                let lines = wrap_text(&clean_text(caption, 120), width as f64 * 0.9 / fs, 1);
                if let Some(line) = lines.first().filter(|l| !l.trim().is_empty()) {
                    let file = write_text(line)?;
                    c.push(',');
                    c.push_str(&filter(
                        "drawtext",
                        &[
                            font_opt(line),
                            ("textfile", file.to_string_lossy().into_owned()),
                            ("expansion", "none".into()),
                            ("fontsize", format!("{fs}")),
                            ("fontcolor", "white@0.9".into()),
                            ("box", "1".into()),
                            ("boxcolor", "black@0.35".into()),
                            ("boxborderw", format!("{}", (fs * 0.3).round())),
                            ("x", "(w-text_w)/2".into()),
                            ("y", "h*0.82".into()),
                        ],
                    ));
                }
                c
            }
        };
        chains.push(format!("{chain}[v{i}]"));
    }
    let mut concat_in = String::new();
    for i in 0..plan.video.len() {
        let _ = write!(concat_in, "[v{i}]");
    }
    let mut vlabel = "vcat".to_string();
    chains.push(format!(
        "{concat_in}concat=n={}:v=1:a=0[vcat]",
        plan.video.len()
    ));

    // --- Titles -------------------------------------------------------------------------------
    let mut drawtexts: Vec<String> = Vec::new();
    for title in &plan.titles {
        let text = clean_text(&title.text, 400);
        let mut fs = (short_side * 0.085).round().max(8.0);
        let mut lines = wrap_text(&text, width as f64 * 0.88 / fs, 6);
        if lines.len() > 3 {
            fs = (fs * 0.7).round().max(8.0);
            lines = wrap_text(&text, width as f64 * 0.88 / fs, 6);
        }
        if lines.is_empty() {
            continue;
        }
        let a = title.start_ms as f64 / 1000.0;
        let b = title.end_ms as f64 / 1000.0;
        let fade = ((b - a) / 4.0).clamp(0.001, 0.3);
        let alpha = format!("clip(min((t-{a:.3})/{fade:.3},({b:.3}-t)/{fade:.3}),0,1)",);
        let line_h = fs * 1.5;
        let top = (height as f64 - line_h * lines.len() as f64) / 2.0 + (line_h - fs) / 2.0;
        for (j, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let file = write_text(line)?;
            drawtexts.push(filter(
                "drawtext",
                &[
                    font_opt(line),
                    ("textfile", file.to_string_lossy().into_owned()),
                    ("expansion", "none".into()),
                    ("fontsize", format!("{fs}")),
                    ("fontcolor", "white".into()),
                    ("box", "1".into()),
                    ("boxcolor", "black@0.4".into()),
                    ("boxborderw", format!("{}", (fs * 0.15).round())),
                    ("shadowcolor", "black@0.7".into()),
                    ("shadowx", "3".into()),
                    ("shadowy", "3".into()),
                    ("x", "(w-text_w)/2".into()),
                    ("y", format!("{}", (top + j as f64 * line_h).round())),
                    ("alpha", alpha.clone()),
                    ("enable", format!("between(t,{a:.3},{b:.3})")),
                ],
            ));
        }
    }
    if !drawtexts.is_empty() {
        chains.push(format!("[vcat]{}[vtitled]", drawtexts.join(",")));
        vlabel = "vtitled".to_string();
    }
    chains.push(format!("[{vlabel}]format=yuv420p[vout]"));

    // --- Audio --------------------------------------------------------------------------------
    if plan.has_audio {
        let mut labels = Vec::new();
        for (i, piece) in plan.audio.iter().enumerate() {
            let d = piece.dur_ms.max(1);
            let d_s = secs(d);
            let (fade_in, fade_out) = if piece.music {
                let f = (d as f64 / 4000.0).min(0.6);
                (f.min(0.3), f)
            } else {
                let f = (d as f64 / 4000.0).min(0.03);
                (f, f)
            };
            let fade_out_start = (d as f64 / 1000.0 - fade_out).max(0.0);
            let head = match &piece.sound {
                Sound::File {
                    path,
                    in_ms,
                    looped,
                } => {
                    let k = inputs.len();
                    let mut args: Vec<OsString> = Vec::new();
                    if *looped {
                        args.push("-stream_loop".into());
                        args.push("-1".into());
                    }
                    if *in_ms > 0 {
                        args.push("-ss".into());
                        args.push(secs(*in_ms).into());
                    }
                    args.push("-t".into());
                    args.push(secs(d + 500).into());
                    args.push("-i".into());
                    args.push(file_arg(path));
                    inputs.push(args);
                    format!("[{k}:a:0]asetpts=PTS-STARTPTS")
                }
                Sound::Bed => format!(
                    "{},{},{}",
                    filter(
                        "aevalsrc",
                        &[
                            ("exprs", lofi_expr()),
                            ("s", "24000".into()),
                            ("d", secs(d + 500)),
                        ]
                    ),
                    filter("lowpass", &[("f", "2400".into())]),
                    filter(
                        "aecho",
                        &[
                            ("in_gain", "0.8".into()),
                            ("out_gain", "0.8".into()),
                            ("delays", "180".into()),
                            ("decays", "0.25".into()),
                        ]
                    ),
                ),
            };
            let mut c = format!(
                "{head},{},{},{},{},{},{},{}",
                filter("aresample", &[("osr", AUDIO_RATE.to_string())]),
                filter(
                    "aformat",
                    &[
                        ("sample_fmts", "fltp".into()),
                        ("channel_layouts", "stereo".into()),
                    ]
                ),
                filter("atrim", &[("end", d_s.clone())]),
                filter("apad", &[("whole_dur", d_s.clone())]),
                filter("volume", &[("volume", format!("{:.4}", piece.volume))]),
                filter(
                    "afade",
                    &[("t", "in".into()), ("d", format!("{fade_in:.4}"))]
                ),
                filter(
                    "afade",
                    &[
                        ("t", "out".into()),
                        ("st", format!("{fade_out_start:.4}")),
                        ("d", format!("{fade_out:.4}")),
                    ]
                ),
            );
            let delay = piece.start_ms * AUDIO_RATE as u64 / 1000;
            if delay > 0 {
                c.push(',');
                c.push_str(&filter(
                    "adelay",
                    &[("delays", format!("{delay}S")), ("all", "1".into())],
                ));
            }
            chains.push(format!("{c}[a{i}]"));
            labels.push(format!("[a{i}]"));
        }
        let total_s = secs(plan.total_ms);
        let finish = format!(
            "{},{},{}[aout]",
            filter("apad", &[("whole_dur", total_s.clone())]),
            filter("atrim", &[("end", total_s.clone())]),
            filter("asetnsamples", &[("n", "1024".into()), ("p", "0".into())]),
        );
        match labels.len() {
            0 => chains.push(format!(
                "{},{finish}",
                filter(
                    "anullsrc",
                    &[
                        ("r", AUDIO_RATE.to_string()),
                        ("cl", "stereo".into()),
                        ("d", secs(plan.total_ms + 100)),
                    ]
                )
            )),
            1 => chains.push(format!("{}{finish}", labels[0])),
            n => chains.push(format!(
                "{}{},{finish}",
                labels.join(""),
                filter(
                    "amix",
                    &[
                        ("inputs", n.to_string()),
                        ("duration", "longest".into()),
                        ("normalize", "0".into()),
                    ]
                )
            )),
        }
    }

    Ok(Graph {
        inputs,
        filter: chains.join(";"),
        has_audio: plan.has_audio,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_and_garbage_drafts_have_no_segments() {
        for d in [
            json!(null),
            json!("garbage"),
            json!(42),
            json!([]),
            json!({}),
            json!({"t": "x"}),
            json!({"t": []}),
            json!({"t": [{"tt": 0, "sg": []}]}),
            json!({"t": [{"tt": 0, "sg": [1, "a", null, []]}]}),
            json!({"t": [{"tt": 5, "sg": [{"s": 0, "d": 1000}]}]}),
            json!({"t": [null, 3, "x", {"tt": 1, "sg": "nope"}]}),
        ] {
            assert_eq!(
                parse_draft(&d).unwrap_err(),
                "draft has no segments",
                "draft {d}"
            );
        }
    }

    #[test]
    fn fields_get_defaults() {
        let d = json!({"t": [
            {"tt": "0", "sg": [{"s": "abc", "d": -5, "m": "junk", "camera": "Zoom-Out"}]},
            {"tt": 1, "sg": [{"s": 1000.7, "m": {"volume": "35"}}]},
            {"tt": 7, "sg": [{"s": 0, "d": 2000, "m": {"name": "Hi"}}]}
        ], "d": "4000", "m": {"width": 1920, "height": "1080"}});
        let p = parse_draft(&d).unwrap();
        assert_eq!(p.total_ms, Some(4000));
        assert_eq!((p.width, p.height), (Some(1920), Some(1080)));
        assert_eq!(p.segs.len(), 3);
        assert_eq!(p.segs[0].start_ms, 0);
        assert_eq!(p.segs[0].dur_ms, None);
        assert_eq!(p.segs[0].camera, Camera::ZoomOut);
        assert_eq!(p.segs[1].start_ms, 1001);
        assert!((p.segs[1].volume - 0.35).abs() < 1e-9);
        assert_eq!(p.segs[2].text, "Hi");
    }

    #[test]
    fn stringified_draft_is_accepted() {
        let d = Value::String(r#"{"t":[{"tt":0,"sg":[{"s":0,"d":1000}]}]}"#.into());
        assert_eq!(parse_draft(&d).unwrap().segs.len(), 1);
    }

    #[test]
    fn canvas_is_clamped_and_even() {
        assert_eq!(canvas_size(1080, 1920, None, None), (1080, 1920));
        assert_eq!(canvas_size(3840, 2160, None, None), (1920, 1080));
        assert_eq!(canvas_size(2160, 3840, None, None), (1080, 1920));
        assert_eq!(canvas_size(641, 361, None, None), (640, 360));
        assert_eq!(canvas_size(0, 0, Some(1920), Some(1080)), (1920, 1080));
        assert_eq!(canvas_size(0, 0, None, None), (1080, 1920));
        assert_eq!(canvas_size(1, 1, None, None), (16, 16));
        let (w, h) = canvas_size(u32::MAX, 3, None, None);
        assert!(w <= 1920 && h >= 16 && w % 2 == 0 && h % 2 == 0);
    }

    #[test]
    fn camera_names() {
        assert_eq!(Camera::parse(Some("zoom_in")), Camera::ZoomIn);
        assert_eq!(Camera::parse(Some("Pan Left")), Camera::PanLeft);
        assert_eq!(Camera::parse(Some("pan_right")), Camera::PanRight);
        assert_eq!(Camera::parse(Some("orbit")), Camera::Orbit);
        assert_eq!(Camera::parse(Some("static")), Camera::Static);
        assert_eq!(Camera::parse(Some("???")), Camera::ZoomIn);
        assert_eq!(Camera::parse(None), Camera::ZoomIn);
    }

    #[test]
    fn escaping_survives_both_parser_levels() {
        assert_eq!(esc("between(t,1,2)"), r"between(t\,1\,2)");
        assert_eq!(esc("/a:b"), r"/a\\:b");
        assert_eq!(esc("it's"), r"it\\\'s");
        assert_eq!(esc("[x];"), r"\[x\]\;");
    }

    #[test]
    fn layout_fills_the_timeline_exactly() {
        let d = json!({"t": [{"tt": 0, "sg": [
            {"s": 500, "d": 1000},
            {"s": 1200, "d": 1000},
            {"s": 5000, "d": 9000}
        ]}], "d": 7000});
        let plan = plan_timeline(
            parse_draft(&d).unwrap(),
            &HashMap::new(),
            &HashMap::new(),
            30,
        );
        assert_eq!(plan.total_ms, 7000);
        let frames: u64 = plan.video.iter().map(|p| p.frames).sum();
        assert_eq!(frames, 210);
        assert!(matches!(plan.video[0].visual, Visual::Gap));
        assert_eq!(plan.video[0].frames, 15);
        assert!(!plan.has_audio);
        assert!(plan.titles.is_empty());
    }

    #[test]
    fn total_defaults_to_latest_end() {
        let d = json!({"t": [
            {"tt": 0, "sg": [{"s": 0, "d": 2000}]},
            {"tt": 1, "sg": [{"s": 0, "d": 3500, "src": "emulator://bgm/lofi"}]}
        ]});
        let plan = plan_timeline(
            parse_draft(&d).unwrap(),
            &HashMap::new(),
            &HashMap::new(),
            25,
        );
        assert_eq!(plan.total_ms, 3500);
        assert!(plan.has_audio);
        assert!(matches!(plan.audio[0].sound, Sound::Bed));
    }

    #[test]
    fn huge_values_are_capped() {
        let d = json!({"t": [{"tt": 0, "sg": [{"s": 1e300, "d": 1e300}, {"s": 0, "d": 1000}]}]});
        let plan = plan_timeline(
            parse_draft(&d).unwrap(),
            &HashMap::new(),
            &HashMap::new(),
            30,
        );
        assert_eq!(plan.total_ms, MAX_TOTAL_MS);
        let frames: u64 = plan.video.iter().map(|p| p.frames).sum();
        assert_eq!(frames, frame_at(MAX_TOTAL_MS, 30));
    }

    #[test]
    fn graph_shape() {
        let d = json!({"t": [
            {"tt": 0, "sg": [{"s": 0, "d": 1000, "src": "emulator://generated/a"},
                             {"s": 2000, "d": 1000, "m": {"camera": "orbit"}}]},
            {"tt": 1, "sg": [{"s": 0, "d": 3000, "src": "emulator://bgm/x", "m": {"volume": 35}},
                             {"s": 1000, "d": 500}]},
            {"tt": 7, "sg": [{"s": 0, "d": 1000, "m": {"text": "a:b, 'c' [d];"}}]}
        ]});
        let plan = plan_timeline(
            parse_draft(&d).unwrap(),
            &HashMap::new(),
            &HashMap::new(),
            30,
        );
        let dir = tempfile::tempdir().unwrap();
        let fonts = Fonts {
            latin: FontRef::Name("Sans".into()),
            cjk: None,
        };
        let g = build_graph(&plan, 640, 360, 30, &fonts, dir.path()).unwrap();
        assert!(g.inputs.is_empty());
        assert!(g.has_audio);
        assert!(
            g.filter.contains("concat=n=3:v=1:a=0[vcat]"),
            "{}",
            g.filter
        );
        assert!(g.filter.contains("amix=inputs=2"), "{}", g.filter);
        assert!(g.filter.contains("volume=volume=0.3500"), "{}", g.filter);
        assert!(g.filter.ends_with("[aout]"));
        // User text never reaches the graph; it sits in a file.
        assert!(!g.filter.contains("a:b"));
        let texts: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(!texts.is_empty());
    }

    #[test]
    fn wrapping() {
        let lines = wrap_text("Hello wonderful world of video", 8.0, 6);
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(str_em(l) <= 8.0 + 1e-9, "{l}");
        }
        let cjk = wrap_text("城市的夜晚灯火通明城市的夜晚灯火通明", 5.0, 6);
        assert!(cjk.len() >= 4);
        assert_eq!(wrap_text("", 10.0, 3), Vec::<String>::new());
        let many = wrap_text(&"word ".repeat(200), 6.0, 3);
        assert_eq!(many.len(), 3);
        assert!(many[2].ends_with('…'));
        // Nothing panics on awkward input.
        wrap_text("\n\n  \n", 0.0, 0);
        wrap_text("𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 \u{200d}", 0.5, 2);
    }

    #[test]
    fn clean_text_drops_controls() {
        assert_eq!(clean_text("a\tb\u{0}c\r\nd", 100), "a bc\nd");
        assert_eq!(clean_text("abcdef", 3), "abc");
    }
}
