//! The filtergraph: turns a [`Plan`] into `ffmpeg` inputs and one `-filter_complex` graph.
//!
//! The graph has one chain per video piece (`[v0]`, `[v1]`, …) concatenated into `[vcat]`,
//! the titles drawn over that (`[vtitled]`), and the result as `[vout]`. When the plan has
//! audio, one chain per audio piece (`[a0]`, …) is mixed into `[aout]`. User text never enters
//! the graph: it is written to files in a temporary directory and read with `textfile=`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::draft::Camera;
use super::plan::{AudioPiece, Plan, Sound, Title, VideoPiece, Visual};
use super::text::{clean_text, wrap_text, Fonts};
use super::{AUDIO_RATE, KEN_BURNS_OVERSCAN};

/// Escapes an option value for a `-filter_complex` graph: first for the option parser
/// (`\ ' :`), then for the graph parser (`\ ' [ ] , ;`). Whitespace is escaped at both levels
/// so that leading/trailing spaces survive.
pub(super) fn esc(value: &str) -> String {
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
pub(super) fn secs(ms: u64) -> String {
    format!("{:.6}", ms as f64 / 1000.0)
}

/// `file:<path>` so that ffmpeg never reads a path as a protocol URL.
pub(super) fn file_arg(path: &Path) -> OsString {
    let mut s = OsString::from("file:");
    s.push(path.as_os_str());
    s
}

/// The `ffmpeg` inputs and filtergraph.
#[derive(Clone, Debug)]
pub(super) struct Graph {
    /// Per input: its options followed by `-i file:<path>`.
    pub(super) inputs: Vec<Vec<OsString>>,
    /// The `-filter_complex` text; outputs `[vout]` and, when `has_audio`, `[aout]`.
    pub(super) filter: String,
    /// Whether `[aout]` exists.
    pub(super) has_audio: bool,
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
pub(super) fn build_graph(
    plan: &Plan,
    width: u32,
    height: u32,
    fps: u32,
    fonts: &Fonts,
    text_dir: &Path,
) -> Result<Graph, String> {
    let mut g = GraphBuilder {
        canvas: Canvas::new(width, height, fps),
        fonts,
        texts: TextFiles {
            dir: text_dir,
            count: 0,
        },
        inputs: Vec::new(),
        chains: Vec::new(),
    };
    for (i, piece) in plan.video.iter().enumerate() {
        let chain = g.video_piece_chain(piece)?;
        g.chains.push(format!("{chain}[v{i}]"));
    }
    g.chains.push(concat_chain(plan.video.len()));
    let video = g.draw_titles("vcat", &plan.titles)?;
    g.chains.push(format!("[{video}]format=yuv420p[vout]"));
    if plan.has_audio {
        g.mix_audio(&plan.audio, plan.total_ms);
    }
    Ok(Graph {
        inputs: g.inputs,
        filter: g.chains.join(";"),
        has_audio: plan.has_audio,
    })
}

/// The graph under construction: inputs and filter chains are appended in order, so input
/// numbers (`[k:v:0]`) and text file names follow the plan.
struct GraphBuilder<'a> {
    /// Output size and frame rate.
    canvas: Canvas,
    /// Fonts for captions and titles.
    fonts: &'a Fonts,
    /// Where user text goes.
    texts: TextFiles<'a>,
    /// Per input: its options followed by `-i file:<path>`.
    inputs: Vec<Vec<OsString>>,
    /// Filter chains, joined with `;` at the end.
    chains: Vec<String>,
}

/// Numbered text files (`text0.txt`, `text1.txt`, …) holding user text for `drawtext`, so
/// that the text is never parsed by the filtergraph.
struct TextFiles<'a> {
    /// The directory the files go in.
    dir: &'a Path,
    /// How many files were written so far.
    count: usize,
}

impl TextFiles<'_> {
    /// Writes `text` to the next file and returns its path.
    fn write(&mut self, text: &str) -> Result<PathBuf, String> {
        let path = self.dir.join(format!("text{}.txt", self.count));
        self.count += 1;
        std::fs::write(&path, text.as_bytes())
            .map_err(|e| format!("cannot write title text: {e}"))?;
        Ok(path)
    }
}

/// `[v0][v1]…concat=n=…[vcat]`: the video pieces back to back.
fn concat_chain(pieces: usize) -> String {
    let mut concat_in = String::new();
    for i in 0..pieces {
        let _ = write!(concat_in, "[v{i}]");
    }
    format!("{concat_in}concat=n={pieces}:v=1:a=0[vcat]")
}

/// Output size and frame rate, with the strings filters take.
struct Canvas {
    /// Width in pixels.
    width: u32,
    /// Height in pixels.
    height: u32,
    /// Frames per second.
    fps: u32,
    /// `WxH`.
    size: String,
    /// The frame rate as text.
    fps_s: String,
}

// ---------------------------------------------------------------------------------------------
// Video pieces
// ---------------------------------------------------------------------------------------------

impl GraphBuilder<'_> {
    /// Adds an input and returns its index for `[k:v:0]` / `[k:a:0]` labels.
    fn add_input(&mut self, args: Vec<OsString>) -> usize {
        self.inputs.push(args);
        self.inputs.len() - 1
    }

    /// The chain producing exactly `piece.frames` frames at the canvas size for one piece
    /// (without its output label); adds the input it reads, if any.
    fn video_piece_chain(&mut self, piece: &VideoPiece) -> Result<String, String> {
        let n = piece.frames.max(1);
        Ok(match &piece.visual {
            Visual::Gap => self.canvas.black(n),
            Visual::Image { path, camera } => {
                let k = self.add_input(vec!["-i".into(), file_arg(path)]);
                self.canvas.ken_burns(k, *camera, n)
            }
            Visual::Video { path, in_ms } => {
                let args = video_input_args(path, *in_ms, &self.canvas.source_secs(n));
                let k = self.add_input(args);
                self.canvas.letterboxed_clip(k, n)
            }
            Visual::Synth {
                camera,
                caption,
                seed,
            } => {
                let mut c = self.canvas.generated_footage(*camera, *seed, n);
                if let Some(text) = self.caption_drawtext(caption)? {
                    c.push(',');
                    c.push_str(&text);
                }
                c
            }
        })
    }

    /// A one-line caption near the bottom of generated footage (`m.name`, shortened to fit);
    /// `None` when there is nothing to show.
    fn caption_drawtext(&mut self, caption: &str) -> Result<Option<String>, String> {
        let fs = (self.canvas.short_side() / 24.0).round().max(8.0);
        let width = self.canvas.width as f64;
        let lines = wrap_text(&clean_text(caption, 120), width * 0.9 / fs, 1);
        let Some(line) = lines.first().filter(|l| !l.trim().is_empty()) else {
            return Ok(None);
        };
        let file = self.texts.write(line)?;
        Ok(Some(filter(
            "drawtext",
            &[
                self.fonts.drawtext_option(line),
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
        )))
    }
}

/// Input options for a video clip: seek to the in-point and read only what the piece needs.
fn video_input_args(path: &Path, in_ms: u64, dur_s: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    if in_ms > 0 {
        args.push("-ss".into());
        args.push(secs(in_ms).into());
    }
    args.push("-t".into());
    args.push(dur_s.into());
    args.push("-i".into());
    args.push(file_arg(path));
    args
}

impl Canvas {
    /// A canvas of `width` x `height` at `fps`.
    fn new(width: u32, height: u32, fps: u32) -> Canvas {
        Canvas {
            width,
            height,
            fps,
            size: format!("{width}x{height}"),
            fps_s: fps.to_string(),
        }
    }

    /// The shorter side in pixels (text sizes scale with it).
    fn short_side(&self) -> f64 {
        self.width.min(self.height) as f64
    }

    /// How long a source for `frames` frames runs: their length plus half a second of slack,
    /// so the trim at the end of the chain always has enough frames.
    fn source_secs(&self, frames: u64) -> String {
        format!("{:.6}", frames as f64 / self.fps as f64 + 0.5)
    }

    /// `trim,setpts`: cuts a chain to exactly `frames` frames starting at time 0.
    fn exact_frames(frames: u64) -> String {
        format!(
            "{},{}",
            filter("trim", &[("end_frame", frames.to_string())]),
            filter("setpts", &[("expr", "PTS-STARTPTS".into())])
        )
    }

    /// `zoompan` for a camera move over `frames` output frames, emitting `d` frames per input
    /// frame, at the canvas size and rate.
    fn zoompan(&self, camera: Camera, frames: u64, d: u64) -> String {
        let (z, x, y) = camera_exprs(camera, frames);
        filter(
            "zoompan",
            &[
                ("z", z),
                ("x", x),
                ("y", y),
                ("d", d.to_string()),
                ("s", self.size.clone()),
                ("fps", self.fps_s.clone()),
            ],
        )
    }

    /// Black filler for a gap.
    fn black(&self, frames: u64) -> String {
        format!(
            "{},format=yuv420p,{}",
            filter(
                "color",
                &[
                    ("c", "black".into()),
                    ("s", self.size.clone()),
                    ("r", self.fps_s.clone()),
                    ("d", self.source_secs(frames)),
                ]
            ),
            Canvas::exact_frames(frames)
        )
    }

    /// A still image (input `k`) with a Ken Burns move: one frame, cover-scaled to
    /// [`KEN_BURNS_OVERSCAN`] times the canvas so the move is smooth, then `zoompan` turns it
    /// into `frames` frames.
    fn ken_burns(&self, k: usize, camera: Camera, frames: u64) -> String {
        let over = |x: u32| -> String {
            let v = (x as f64 * KEN_BURNS_OVERSCAN) as u32;
            (v - v % 2).max(2).to_string()
        };
        let (pw, ph) = (over(self.width), over(self.height));
        format!(
            "[{k}:v:0]{},{},{},setsar=1,format=yuv420p,{},{}",
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
            self.zoompan(camera, frames, frames),
            Canvas::exact_frames(frames)
        )
    }

    /// A video clip (input `k`) on the output frame grid, letterboxed to the canvas; a clip
    /// that is too short holds its last frame.
    fn letterboxed_clip(&self, k: usize, frames: u64) -> String {
        let (w, h) = (self.width.to_string(), self.height.to_string());
        format!(
            "[{k}:v:0]setpts=PTS-STARTPTS,{},{},{},setsar=1,format=yuv420p,{},{}",
            filter("fps", &[("fps", self.fps_s.clone())]),
            filter(
                "scale",
                &[
                    ("w", w.clone()),
                    ("h", h.clone()),
                    ("force_original_aspect_ratio", "decrease".into()),
                    ("force_divisible_by", "2".into()),
                ]
            ),
            filter(
                "pad",
                &[
                    ("w", w),
                    ("h", h),
                    ("x", "(ow-iw)/2".into()),
                    ("y", "(oh-ih)/2".into()),
                    ("color", "black".into()),
                ]
            ),
            filter(
                "tpad",
                &[("stop_mode", "clone".into()), ("stop", frames.to_string())]
            ),
            Canvas::exact_frames(frames)
        )
    }

    /// Generated footage: a slowly moving three-colour gradient at half size (palette and
    /// direction picked by `seed`) with the camera move applied frame by frame.
    fn generated_footage(&self, camera: Camera, seed: u64, frames: u64) -> String {
        let pal = PALETTES[(seed % PALETTES.len() as u64) as usize];
        let half = |x: u32| -> u32 {
            let v = (x / 2).max(16);
            v - v % 2
        };
        let (sw, sh) = (half(self.width), half(self.height));
        // Gradient line across the frame, its direction varied by the seed.
        let (x0, x1) = if seed % 2 == 1 {
            (sw * 9 / 10, sw / 10)
        } else {
            (sw / 10, sw * 9 / 10)
        };
        let gradients = filter(
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
                ("r", self.fps_s.clone()),
                ("d", self.source_secs(frames)),
                ("seed", (seed % 4_000_000_000).to_string()),
            ],
        );
        format!(
            "{gradients},format=yuv420p,{},{}",
            self.zoompan(camera, frames, 1),
            Canvas::exact_frames(frames)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Titles
// ---------------------------------------------------------------------------------------------

/// A title's text broken into lines and placed on the canvas.
struct TitleLayout {
    /// Font size in pixels.
    fs: f64,
    /// The lines (blank ones keep their slot but are not drawn).
    lines: Vec<String>,
    /// Line pitch in pixels.
    line_h: f64,
    /// `y` of the first line, so that the block is vertically centred.
    top: f64,
}

/// A title's timing as drawtext expressions.
struct TitleTiming {
    /// Opacity: fades in and out over a short time at both ends of the span.
    alpha: String,
    /// Draw only within the span.
    enable: String,
}

impl GraphBuilder<'_> {
    /// Draws every title over the video labelled `input` in one chain; returns the label of
    /// the result (`input` itself when there is nothing to draw).
    fn draw_titles(&mut self, input: &str, titles: &[Title]) -> Result<String, String> {
        let mut drawtexts: Vec<String> = Vec::new();
        for title in titles {
            drawtexts.extend(self.title_drawtexts(title)?);
        }
        if drawtexts.is_empty() {
            return Ok(input.to_string());
        }
        self.chains
            .push(format!("[{input}]{}[vtitled]", drawtexts.join(",")));
        Ok("vtitled".to_string())
    }

    /// One `drawtext` per non-blank line of a title (none when the text is empty).
    fn title_drawtexts(&mut self, title: &Title) -> Result<Vec<String>, String> {
        let Some(layout) = self.layout_title(&title.text) else {
            return Ok(Vec::new());
        };
        let timing = title_timing(title);
        let mut drawtexts = Vec::new();
        for (j, line) in layout.lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let y = (layout.top + j as f64 * layout.line_h).round();
            let file = self.texts.write(line)?;
            drawtexts.push(self.title_line(line, &file, layout.fs, y, &timing));
        }
        Ok(drawtexts)
    }

    /// Sizes and wraps a title: large (8.5 % of the short side) across 88 % of the width; a
    /// title that needs more than three lines is set smaller. `None` when there is no text.
    fn layout_title(&self, text: &str) -> Option<TitleLayout> {
        let text = clean_text(text, 400);
        let max_width = self.canvas.width as f64 * 0.88;
        let mut fs = (self.canvas.short_side() * 0.085).round().max(8.0);
        let mut lines = wrap_text(&text, max_width / fs, 6);
        if lines.len() > 3 {
            fs = (fs * 0.7).round().max(8.0);
            lines = wrap_text(&text, max_width / fs, 6);
        }
        if lines.is_empty() {
            return None;
        }
        let line_h = fs * 1.5;
        let top =
            (self.canvas.height as f64 - line_h * lines.len() as f64) / 2.0 + (line_h - fs) / 2.0;
        Some(TitleLayout {
            fs,
            lines,
            line_h,
            top,
        })
    }

    /// `drawtext` for one title line read from `file`: centred, white on a translucent box
    /// with a shadow, at `y`.
    fn title_line(&self, line: &str, file: &Path, fs: f64, y: f64, timing: &TitleTiming) -> String {
        filter(
            "drawtext",
            &[
                self.fonts.drawtext_option(line),
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
                ("y", format!("{y}")),
                ("alpha", timing.alpha.clone()),
                ("enable", timing.enable.clone()),
            ],
        )
    }
}

/// Shows the title during its span, fading in and out over a quarter of it (at most 0.3 s).
fn title_timing(title: &Title) -> TitleTiming {
    let a = title.start_ms as f64 / 1000.0;
    let b = title.end_ms as f64 / 1000.0;
    let fade = ((b - a) / 4.0).clamp(0.001, 0.3);
    TitleTiming {
        alpha: format!("clip(min((t-{a:.3})/{fade:.3},({b:.3}-t)/{fade:.3}),0,1)",),
        enable: format!("between(t,{a:.3},{b:.3})"),
    }
}

// ---------------------------------------------------------------------------------------------
// Audio
// ---------------------------------------------------------------------------------------------

impl GraphBuilder<'_> {
    /// One chain per audio piece (`[a0]`, `[a1]`, …) and the chain mixing them into `[aout]`.
    fn mix_audio(&mut self, pieces: &[AudioPiece], total_ms: u64) {
        let mut labels = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let chain = self.audio_piece_chain(piece);
            self.chains.push(format!("{chain}[a{i}]"));
            labels.push(format!("[a{i}]"));
        }
        self.chains.push(audio_output_chain(&labels, total_ms));
    }

    /// A piece's sound, conformed to 48 kHz stereo, exactly as long as the piece, at its
    /// volume, with fades, and delayed to its start on the timeline.
    fn audio_piece_chain(&mut self, piece: &AudioPiece) -> String {
        let d = piece.dur_ms.max(1);
        let source = match &piece.sound {
            Sound::File {
                path,
                in_ms,
                looped,
            } => {
                let k = self.add_input(audio_input_args(path, *in_ms, *looped, d));
                format!("[{k}:a:0]asetpts=PTS-STARTPTS")
            }
            Sound::Bed => lofi_bed(d),
        };
        let mut c = format!("{source},{}", conform_audio(piece, d));
        let delay = piece.start_ms * AUDIO_RATE as u64 / 1000;
        if delay > 0 {
            c.push(',');
            c.push_str(&filter(
                "adelay",
                &[("delays", format!("{delay}S")), ("all", "1".into())],
            ));
        }
        c
    }
}

/// Input options for an audio source: loop it when asked, seek to the in-point, and read a
/// little more than the `d_ms` the piece needs.
fn audio_input_args(path: &Path, in_ms: u64, looped: bool, d_ms: u64) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    if looped {
        args.push("-stream_loop".into());
        args.push("-1".into());
    }
    if in_ms > 0 {
        args.push("-ss".into());
        args.push(secs(in_ms).into());
    }
    args.push("-t".into());
    args.push(secs(d_ms + 500).into());
    args.push("-i".into());
    args.push(file_arg(path));
    args
}

/// The generated lo-fi bed for `d_ms` (plus slack), softened with a low-pass and a light echo.
fn lofi_bed(d_ms: u64) -> String {
    format!(
        "{},{},{}",
        filter(
            "aevalsrc",
            &[
                ("exprs", lofi_expr()),
                ("s", "24000".into()),
                ("d", secs(d_ms + 500)),
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
    )
}

/// Fade-in and fade-out lengths in seconds for a piece of `d_ms`: music gets gentle fades
/// (up to 0.3 s in, 0.6 s out), clip sound only a short de-click (up to 30 ms).
fn audio_fades(d_ms: u64, music: bool) -> (f64, f64) {
    if music {
        let f = (d_ms as f64 / 4000.0).min(0.6);
        (f.min(0.3), f)
    } else {
        let f = (d_ms as f64 / 4000.0).min(0.03);
        (f, f)
    }
}

/// The filters after a piece's source: 48 kHz stereo float, cut or padded to exactly `d_ms`,
/// the piece's volume, and its fades.
fn conform_audio(piece: &AudioPiece, d_ms: u64) -> String {
    let d_s = secs(d_ms);
    let (fade_in, fade_out) = audio_fades(d_ms, piece.music);
    let fade_out_start = (d_ms as f64 / 1000.0 - fade_out).max(0.0);
    [
        filter("aresample", &[("osr", AUDIO_RATE.to_string())]),
        filter(
            "aformat",
            &[
                ("sample_fmts", "fltp".into()),
                ("channel_layouts", "stereo".into()),
            ],
        ),
        filter("atrim", &[("end", d_s.clone())]),
        filter("apad", &[("whole_dur", d_s)]),
        filter("volume", &[("volume", format!("{:.4}", piece.volume))]),
        filter(
            "afade",
            &[("t", "in".into()), ("d", format!("{fade_in:.4}"))],
        ),
        filter(
            "afade",
            &[
                ("t", "out".into()),
                ("st", format!("{fade_out_start:.4}")),
                ("d", format!("{fade_out:.4}")),
            ],
        ),
    ]
    .join(",")
}

/// The `[aout]` chain: the labelled pieces mixed without normalisation (silence when there are
/// none), cut or padded to exactly `total_ms`, in 1024-sample frames for the AAC encoder.
fn audio_output_chain(labels: &[String], total_ms: u64) -> String {
    let total_s = secs(total_ms);
    let finish = format!(
        "{},{},{}[aout]",
        filter("apad", &[("whole_dur", total_s.clone())]),
        filter("atrim", &[("end", total_s)]),
        filter("asetnsamples", &[("n", "1024".into()), ("p", "0".into())]),
    );
    match labels.len() {
        0 => format!(
            "{},{finish}",
            filter(
                "anullsrc",
                &[
                    ("r", AUDIO_RATE.to_string()),
                    ("cl", "stereo".into()),
                    ("d", secs(total_ms + 100)),
                ]
            )
        ),
        1 => format!("{}{finish}", labels[0]),
        n => format!(
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
        ),
    }
}
