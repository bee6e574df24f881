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
//!
//! The steps live in submodules, in the order [`render`] runs them: `draft` (the JSON reduced
//! to defaulted segments and the canvas size), `plan` (durations and the layout of video,
//! audio and title pieces on the timeline), `text` (fonts and title wrapping) and `graph` (the
//! `ffmpeg` inputs and filtergraph). This file probes the media and runs `ffmpeg`.

mod draft;
mod graph;
mod plan;
mod text;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::probe::{probe, ProbeInfo};
use draft::{canvas_size, parse_draft, ParsedDraft};
use graph::{build_graph, file_arg, secs, Graph};
use plan::plan_timeline;
use text::fonts;

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
    let probes = probe_media(&parsed, &req.media, &cancel).await?;
    let (width, height) = canvas_size(req.width, req.height, parsed.width, parsed.height);
    let fps = output_fps(req.fps);
    let plan = plan_timeline(parsed, &req.media, &probes, fps);
    let fonts = fonts().await;
    let text_dir = tempfile::Builder::new()
        .prefix("nemo-render-")
        .tempdir()
        .map_err(|e| format!("cannot create temp dir: {e}"))?;
    let graph = build_graph(&plan, width, height, fps, &fonts, text_dir.path())?;
    let partial = partial_output_file(&req.out_path).await?;
    let args = ffmpeg_args(&graph, fps, plan.total_ms, partial.path());
    run_ffmpeg(&args, plan.total_ms, &progress, &cancel).await?;
    let size_bytes = keep_output(partial, &req.out_path, &cancel).await?;
    drop(text_dir);
    let duration_ms = output_duration_ms(&req.out_path, plan.total_ms).await;
    send_progress(&progress, 100);
    Ok(RenderOutput {
        size_bytes,
        duration_ms,
    })
}

/// Probes every local file a segment refers to, once per path and all at once. Files that
/// fail to probe are left out (with a warning), so their segments get synthesized.
async fn probe_media(
    parsed: &ParsedDraft,
    media: &HashMap<String, MediaFile>,
    cancel: &CancellationToken,
) -> Result<HashMap<PathBuf, ProbeInfo>, String> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for seg in &parsed.segs {
        if let Some(mf) = seg.src.as_ref().and_then(|s| media.get(s)) {
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
    Ok(paths
        .into_iter()
        .zip(results)
        .filter_map(|(p, r)| match r {
            Ok(info) => Some((p, info)),
            Err(e) => {
                tracing::warn!(path = %p.display(), error = %e, "media probe failed; synthesizing");
                None
            }
        })
        .collect())
}

/// The output frame rate: 0 means 30, anything else is clamped to 1–60.
fn output_fps(fps: u32) -> u32 {
    if fps == 0 {
        30
    } else {
        fps.clamp(1, 60)
    }
}

/// A hidden temporary file next to `out_path` (creating its directory) for `ffmpeg` to write
/// to, so a half-written MP4 never appears under the real name; it is deleted on drop.
async fn partial_output_file(out_path: &Path) -> Result<tempfile::NamedTempFile, String> {
    let parent = match out_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    tokio::fs::create_dir_all(&parent)
        .await
        .map_err(|e| format!("cannot create output directory: {e}"))?;
    let file_name = out_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "render".to_string());
    tempfile::Builder::new()
        .prefix(&format!(".{file_name}.partial-"))
        .suffix(".mp4")
        .tempfile_in(&parent)
        .map_err(|e| format!("cannot create output file: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The ffmpeg run
// ---------------------------------------------------------------------------------------------

/// Owned `ffmpeg` arguments from string literals.
fn os_args(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// The whole `ffmpeg` command line (without the program): quiet global options, the graph's
/// inputs and filtergraph, the encoders, and the MP4 at `out` with progress on stdout.
fn ffmpeg_args(graph: &Graph, fps: u32, total_ms: u64, out: &Path) -> Vec<OsString> {
    let mut args = os_args(&["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]);
    for input in &graph.inputs {
        args.extend(input.iter().cloned());
    }
    args.push("-filter_complex".into());
    args.push(graph.filter.clone().into());
    args.extend(video_encoder_args(fps));
    args.extend(audio_encoder_args(graph.has_audio));
    args.extend(container_args(total_ms));
    args.push(file_arg(out));
    args
}

/// `[vout]` as fast H.264 in yuv420p (the pixel format every player takes) at `fps`.
fn video_encoder_args(fps: u32) -> Vec<OsString> {
    let mut args = os_args(&[
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
    ]);
    args.push(fps.to_string().into());
    args
}

/// `[aout]` as 48 kHz stereo AAC when the graph has audio, else no audio stream at all.
fn audio_encoder_args(has_audio: bool) -> Vec<OsString> {
    if has_audio {
        os_args(&[
            "-map", "[aout]", "-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-ac", "2",
        ])
    } else {
        os_args(&["-an"])
    }
}

/// Exactly `total_ms` long, MP4 with the index up front (`+faststart`, so it streams), and
/// machine-readable progress on stdout instead of the stats line.
fn container_args(total_ms: u64) -> Vec<OsString> {
    let total_s = secs(total_ms);
    os_args(&[
        "-t",
        &total_s,
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        "-progress",
        "pipe:1",
        "-nostats",
    ])
}

/// Runs `ffmpeg` to completion, forwarding its progress. On cancellation it is killed and
/// `Err("cancelled")` returned; on failure the error holds the last lines it printed.
async fn run_ffmpeg(
    args: &[OsString],
    total_ms: u64,
    progress: &watch::Sender<u8>,
    cancel: &CancellationToken,
) -> Result<(), String> {
    tracing::debug!(?args, "starting ffmpeg");
    let mut child = spawn_ffmpeg(args)?;
    let stdout = child.stdout.take();
    let stderr_task = tokio::spawn(stderr_tail(child.stderr.take()));
    let status = tokio::select! {
        (_, status) = async {
            tokio::join!(forward_progress(stdout, total_ms, progress), child.wait())
        } => status,
        _ = cancel.cancelled() => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            stderr_task.abort();
            return Err("cancelled".to_string());
        }
    };
    let stderr_text = stderr_task.await.unwrap_or_default();
    let status = status.map_err(|e| format!("ffmpeg failed: {e}"))?;
    if !status.success() {
        return Err(ffmpeg_failure(status, &stderr_text));
    }
    Ok(())
}

/// Starts `ffmpeg` with piped stdout (progress) and stderr (errors); it is killed if dropped.
fn spawn_ffmpeg(args: &[OsString]) -> Result<Child, String> {
    Command::new("ffmpeg")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("ffmpeg not available: {e}"))
}

/// Reads `ffmpeg`'s stderr to the end, keeping only its tail (8–16 KiB) so a chatty run
/// cannot use unbounded memory; the tail is what error messages are made from.
async fn stderr_tail(stderr: Option<ChildStderr>) -> String {
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
}

/// Turns `out_time_us=` lines of `-progress pipe:1` into percentages of `total_ms` (at most
/// 99: 100 is only sent once the file is in place) until stdout closes.
async fn forward_progress(
    stdout: Option<ChildStdout>,
    total_ms: u64,
    progress: &watch::Sender<u8>,
) {
    let Some(out) = stdout else { return };
    let total_us = total_ms.max(1) as f64 * 1000.0;
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
            send_progress(progress, pct);
        }
    }
}

/// The error for a failed run: the exit status and the last six lines `ffmpeg` printed.
fn ffmpeg_failure(status: ExitStatus, stderr: &str) -> String {
    let tail: Vec<&str> = stderr.trim().lines().rev().take(6).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    format!("ffmpeg failed ({status}): {}", tail.join(" | "))
}

/// Moves the finished file to `out_path` and returns its size, unless the export was
/// cancelled meanwhile or `ffmpeg` wrote nothing (then the partial file is deleted).
async fn keep_output(
    partial: tempfile::NamedTempFile,
    out_path: &Path,
    cancel: &CancellationToken,
) -> Result<u64, String> {
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
        .persist(out_path)
        .map_err(|e| format!("cannot move output into place: {}", e.error))?;
    Ok(size_bytes)
}

/// The MP4's duration as probed, or the planned one when probing fails.
async fn output_duration_ms(out_path: &Path, planned_ms: u64) -> u64 {
    match probe(out_path).await {
        Ok(ProbeInfo {
            duration_s: Some(d),
            ..
        }) => (d * 1000.0).round() as u64,
        _ => planned_ms,
    }
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

#[cfg(test)]
mod tests {
    use super::draft::Camera;
    use super::graph::esc;
    use super::plan::{frame_at, Sound, Visual};
    use super::text::{clean_text, str_em, wrap_text, FontRef, Fonts};
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
