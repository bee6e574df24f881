//! End-to-end tests of the ffmpeg export renderer and the ffprobe wrapper.
//!
//! Inputs (a PNG, two short MP4s with sound, a WAV) are generated with `ffmpeg` in a temp
//! directory; every render is checked with `ffprobe`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nemo_emulator::probe::probe;
use nemo_emulator::render::{render, MediaFile, MediaKind, RenderOutput, RenderRequest};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Runs ffmpeg synchronously to create a fixture.
fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Test inputs in a temp dir.
struct Fixtures {
    dir: tempfile::TempDir,
    image: PathBuf,
    clip_a: PathBuf,
    clip_b: PathBuf,
    wav: PathBuf,
}

fn fixtures() -> Fixtures {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let (image, clip_a, clip_b, wav) = (p("photo.png"), p("a.mp4"), p("b.mp4"), p("tone.wav"));
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=1280x720",
        "-frames:v",
        "1",
        image.to_str().unwrap(),
    ]);
    for (path, src, secs, hz) in [
        (&clip_a, "testsrc2=s=320x240:r=25", "3", "440"),
        (&clip_b, "smptebars=s=480x270:r=30", "2", "660"),
    ] {
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &format!("{src}:d={secs}"),
            "-f",
            "lavfi",
            "-i",
            &format!("sine=f={hz}:d={secs}"),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            path.to_str().unwrap(),
        ]);
    }
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=f=330:d=2",
        "-ac",
        "2",
        wav.to_str().unwrap(),
    ]);
    Fixtures {
        dir,
        image,
        clip_a,
        clip_b,
        wav,
    }
}

/// ffprobe's JSON for a file.
fn ffprobe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe {}", path.display());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn streams<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codec_type"] == kind)
        .collect()
}

fn duration_s(v: &Value) -> f64 {
    v["format"]["duration"].as_str().unwrap().parse().unwrap()
}

fn media(entries: &[(&str, &Path, MediaKind)]) -> HashMap<String, MediaFile> {
    entries
        .iter()
        .map(|(src, path, kind)| {
            (
                src.to_string(),
                MediaFile {
                    path: path.to_path_buf(),
                    kind: *kind,
                },
            )
        })
        .collect()
}

/// Runs a render while recording every progress value seen.
async fn run(req: RenderRequest) -> (Result<RenderOutput, String>, Vec<u8>, Duration) {
    let (tx, mut rx) = watch::channel(0u8);
    let collector = tokio::spawn(async move {
        let mut seen = vec![*rx.borrow()];
        while rx.changed().await.is_ok() {
            seen.push(*rx.borrow_and_update());
        }
        seen
    });
    let started = Instant::now();
    let res = render(req, tx, CancellationToken::new()).await;
    let took = started.elapsed();
    let seen = collector.await.unwrap();
    (res, seen, took)
}

fn assert_progress_ok(seen: &[u8]) {
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "progress not monotonic: {seen:?}"
    );
    assert_eq!(
        seen.last(),
        Some(&100),
        "progress did not reach 100: {seen:?}"
    );
    assert!(
        seen[..seen.len() - 1].iter().all(|p| *p < 100),
        "100 sent early: {seen:?}"
    );
}

fn req(
    draft: Value,
    w: u32,
    h: u32,
    media: HashMap<String, MediaFile>,
    out: &Path,
) -> RenderRequest {
    RenderRequest {
        draft,
        width: w,
        height: h,
        fps: 30,
        media,
        out_path: out.to_path_buf(),
    }
}

/// Luma (gray8) of one frame at `t` seconds, scaled to `w`x`h`.
fn gray_frame(path: &Path, t: f64, w: u32, h: u32) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-ss"])
        .arg(format!("{t}"))
        .arg("-i")
        .arg(path)
        .args(["-frames:v", "1", "-vf"])
        .arg(format!("scale={w}:{h},format=gray"))
        .args(["-f", "rawvideo", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

/// (a) Image + zoom_in + title + BGM (a WAV, looped) at 35 % in 9:16 1080x1920.
#[tokio::test]
async fn image_zoom_title_bgm_portrait() {
    let fx = fixtures();
    let out = fx.dir.path().join("out/a.mp4");
    let draft = json!({
        "t": [
            {"tt": 0, "sg": [{"id": "v1", "s": 0, "d": 5000, "src": "https://cdn/x/photo.png",
                "m": {"name": "photo", "camera": "zoom_in"}, "extra": {"kept": true}}]},
            {"tt": 1, "sg": [{"id": "b1", "s": 0, "d": 5000, "src": "https://cdn/x/tone.wav",
                "m": {"name": "Lo-fi", "volume": 35}}]},
            {"tt": 7, "sg": [{"id": "t1", "s": 0, "d": 3000, "m": {"text": "Urban Dreams"}}]}
        ],
        "d": 5000,
        "m": {"title": "t", "width": 1080, "height": 1920}
    });
    let m = media(&[
        ("https://cdn/x/photo.png", &fx.image, MediaKind::Image),
        ("https://cdn/x/tone.wav", &fx.wav, MediaKind::Audio),
    ]);
    let (res, seen, took) = run(req(draft, 1080, 1920, m, &out)).await;
    let output = res.expect("render ok");
    eprintln!("(a) 5 s 1080x1920 image+title+bgm took {took:?}");
    assert_progress_ok(&seen);
    let info = ffprobe(&out);
    let v = streams(&info, "video");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["codec_name"], "h264");
    assert_eq!(v[0]["pix_fmt"], "yuv420p");
    assert_eq!(
        (v[0]["width"].as_u64(), v[0]["height"].as_u64()),
        (Some(1080), Some(1920))
    );
    let a = streams(&info, "audio");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["codec_name"], "aac");
    let d = duration_s(&info);
    assert!((d - 5.0).abs() < 0.1, "duration {d}");
    assert!((output.duration_ms as f64 - 5000.0).abs() < 100.0);
    assert_eq!(output.size_bytes, std::fs::metadata(&out).unwrap().len());
    // The zoom really moves: first and last frames differ.
    let f0 = gray_frame(&out, 0.0, 54, 96);
    let f1 = gray_frame(&out, 4.9, 54, 96);
    let diff: u64 = f0.iter().zip(&f1).map(|(a, b)| a.abs_diff(*b) as u64).sum();
    assert!(diff > 54 * 96 * 2, "no camera movement (diff {diff})");
    // No partial files are left next to the output.
    let names: Vec<_> = std::fs::read_dir(out.parent().unwrap()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

/// (b) Text-only generation (src not in media) in 16:9 1920x1080, no audio track → no audio.
#[tokio::test]
async fn generated_clip_landscape_without_audio() {
    let fx = fixtures();
    let out = fx.dir.path().join("b.mp4");
    let draft = json!({
        "t": [
            {"tt": 0, "sg": [{"id": "g1", "s": 0, "d": 3000, "src": "emulator://generated/g1",
                "m": {"name": "city timelapse", "camera": "pan_right"}}]},
            {"tt": 7, "sg": [{"id": "t1", "s": 500, "d": 2000, "m": {"text": "Night City"}}]}
        ],
        "d": 3000,
        "m": {"width": 1920, "height": 1080}
    });
    let (res, seen, took) = run(req(draft, 1920, 1080, HashMap::new(), &out)).await;
    res.expect("render ok");
    eprintln!("(b) 3 s 1920x1080 generated took {took:?}");
    assert_progress_ok(&seen);
    let info = ffprobe(&out);
    let v = streams(&info, "video");
    assert_eq!(
        (v[0]["width"].as_u64(), v[0]["height"].as_u64()),
        (Some(1920), Some(1080))
    );
    assert_eq!(v[0]["codec_name"], "h264");
    assert!(
        streams(&info, "audio").is_empty(),
        "unexpected audio stream"
    );
    let d = duration_s(&info);
    assert!((d - 3.0).abs() < 0.1, "duration {d}");
    // Generated footage is not black.
    let f = gray_frame(&out, 1.0, 64, 36);
    let mean = f.iter().map(|x| *x as u64).sum::<u64>() / f.len() as u64;
    assert!(mean > 20, "generated clip looks black (mean {mean})");
}

/// (c) Two video segments, trimmed (one with an in-point) and concatenated, with their sound.
#[tokio::test]
async fn two_videos_trimmed_and_concatenated() {
    let fx = fixtures();
    let out = fx.dir.path().join("c.mp4");
    let draft = json!({
        "t": [{"tt": 0, "sg": [
            {"id": "a", "s": 0, "d": 1500, "src": "up://a.mp4", "m": {"name": "a", "in": 500}},
            {"id": "b", "s": 1500, "d": 2000, "src": "up://b.mp4", "m": {"name": "b", "volume": 50}}
        ]}]
    });
    let m = media(&[
        ("up://a.mp4", &fx.clip_a, MediaKind::Video),
        ("up://b.mp4", &fx.clip_b, MediaKind::Video),
    ]);
    let (res, seen, took) = run(req(draft, 720, 1280, m, &out)).await;
    let output = res.expect("render ok");
    eprintln!("(c) 3.5 s 720x1280 two clips took {took:?}");
    assert_progress_ok(&seen);
    let info = ffprobe(&out);
    let d = duration_s(&info);
    assert!((d - 3.5).abs() < 0.1, "duration {d}");
    assert!((output.duration_ms as f64 - 3500.0).abs() < 100.0);
    let v = streams(&info, "video");
    assert_eq!(v[0]["nb_frames"], "105");
    assert_eq!(
        (v[0]["width"].as_u64(), v[0]["height"].as_u64()),
        (Some(720), Some(1280))
    );
    assert_eq!(
        streams(&info, "audio").len(),
        1,
        "clip sound should be kept"
    );
}

/// (d) Cancelling mid-render kills ffmpeg, returns Err("cancelled") and leaves no file.
#[tokio::test]
async fn cancel_mid_render() {
    let fx = fixtures();
    let out_dir = fx.dir.path().join("cancel");
    let out = out_dir.join("d.mp4");
    let draft = json!({
        "t": [{"tt": 0, "sg": [{"id": "g", "s": 0, "d": 120000, "src": "emulator://generated/g"}]},
              {"tt": 1, "sg": [{"id": "m", "s": 0, "d": 120000, "src": "emulator://bgm/lofi"}]}],
        "d": 120000
    });
    let (tx, mut rx) = watch::channel(0u8);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(render(
        req(draft, 1080, 1920, HashMap::new(), &out),
        tx,
        cancel.clone(),
    ));
    // Wait for real progress (or give up waiting after 20 s and cancel anyway).
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        while rx.changed().await.is_ok() {
            if *rx.borrow_and_update() >= 1 {
                break;
            }
        }
    })
    .await;
    let cancelled_at = Instant::now();
    cancel.cancel();
    let res = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("render stops promptly after cancel")
        .unwrap();
    eprintln!("(d) cancel took effect in {:?}", cancelled_at.elapsed());
    assert_eq!(res.unwrap_err(), "cancelled");
    assert!(!out.exists());
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().collect();
    assert!(left.is_empty(), "partial files left: {left:?}");
    assert!(*rx.borrow() < 100);
}

/// (e) Hostile title text (quotes, colons, percent, backslash, brackets, CJK, emoji, newline)
/// renders without error and really draws something, only during its span.
#[tokio::test]
async fn hostile_title_text() {
    let fx = fixtures();
    let out = fx.dir.path().join("e.mp4");
    let text = "It's \"50%\" off: C:\\path\\x; [a,b] %{localtime} 'q'\n城市之夜 東京 서울 😀 \\n";
    let draft = json!({
        "t": [{"tt": 7, "sg": [{"id": "t", "s": 1000, "d": 1500, "m": {"text": text}}]}],
        "d": 3000
    });
    let (res, seen, _) = run(req(draft, 360, 640, HashMap::new(), &out)).await;
    res.expect("render ok");
    assert_progress_ok(&seen);
    let info = ffprobe(&out);
    assert!((duration_s(&info) - 3.0).abs() < 0.1);
    let bright = |t: f64| {
        gray_frame(&out, t, 90, 160)
            .iter()
            .filter(|p| **p > 128)
            .count()
    };
    assert_eq!(bright(0.3), 0, "title visible before its start");
    assert!(bright(1.75) > 20, "title not drawn");
    assert_eq!(bright(2.8), 0, "title visible after its end");
}

/// Generated BGM bed over a generated clip (orbit camera) gives an audible AAC track.
#[tokio::test]
async fn generated_bgm_bed_is_audible() {
    let fx = fixtures();
    let out = fx.dir.path().join("g.mp4");
    let draft = json!({
        "t": [{"tt": 0, "sg": [{"s": 0, "d": 2000, "src": "emulator://generated/x",
                                "m": {"camera": "orbit"}}]},
              {"tt": 1, "sg": [{"s": 0, "d": 2000, "src": "emulator://bgm/lofi",
                                "m": {"volume": 35}}]}]
    });
    let (res, seen, _) = run(req(draft, 640, 360, HashMap::new(), &out)).await;
    res.expect("render ok");
    assert_progress_ok(&seen);
    let info = ffprobe(&out);
    assert_eq!(streams(&info, "audio")[0]["codec_name"], "aac");
    let vd = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(&out)
        .args(["-af", "volumedetect", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&vd.stderr);
    let mean: f64 = log
        .lines()
        .find_map(|l| l.split("mean_volume:").nth(1))
        .and_then(|s| s.trim().trim_end_matches("dB").trim().parse().ok())
        .expect("volumedetect output");
    assert!(mean > -45.0 && mean < -6.0, "bed level {mean} dB");
}

/// (f) Garbage drafts give an error (no panic, no file); junk fields inside a valid shape and
/// a media file that cannot be read are tolerated.
#[tokio::test]
async fn garbage_drafts() {
    let fx = fixtures();
    let out = fx.dir.path().join("f.mp4");
    for draft in [
        json!(null),
        json!("not a draft"),
        json!({"t": {"tt": 0}}),
        json!({"t": [{"tt": 0, "sg": []}], "d": 5000}),
        json!({"t": [{"tt": 0, "sg": [null, 1, "x"]}]}),
        json!({"t": [{"tt": "banana", "sg": [{"s": 0}]}]}),
    ] {
        let (res, seen, _) = run(req(draft.clone(), 320, 240, HashMap::new(), &out)).await;
        assert!(res.is_err(), "draft {draft} should fail");
        assert!(!out.exists());
        assert!(seen.iter().all(|p| *p < 100));
    }
    let (res, _, _) = run(req(json!({}), 320, 240, HashMap::new(), &out)).await;
    assert_eq!(res.unwrap_err(), "draft has no segments");

    // Junk values get defaults: 5 s synthesized clip; the unreadable file is synthesized too.
    let bogus = fx.dir.path().join("not-really.mp4");
    std::fs::write(&bogus, b"this is not a video").unwrap();
    let draft = json!({"t": [
        {"tt": 0, "sg": [{"s": "x", "d": "y", "src": 123, "m": [1, 2]},
                         {"s": -100, "d": 1000, "src": "up://bogus", "m": {"camera": 7}}]},
        {"tt": 1, "sg": [{"s": 0, "d": "NaN", "src": "up://bogus", "m": {"volume": "loud"}}]},
        {"tt": 7, "sg": [{"s": 0, "d": 1000, "m": {"text": {"no": "pe"}}}]}
    ], "d": "zz", "m": {"width": "wide"}});
    let m = media(&[("up://bogus", &bogus, MediaKind::Video)]);
    let (res, seen, _) = run(req(draft, 0, 0, m, &out)).await;
    let output = res.expect("tolerant render");
    assert_progress_ok(&seen);
    assert!((output.duration_ms as f64 - 5000.0).abs() < 100.0);
    let info = ffprobe(&out);
    let v = streams(&info, "video");
    assert_eq!(
        (v[0]["width"].as_u64(), v[0]["height"].as_u64()),
        (Some(1080), Some(1920))
    );
    assert_eq!(streams(&info, "audio").len(), 1);
}

/// Probe: an image has dimensions but no duration or fps.
#[tokio::test]
async fn probe_image() {
    let fx = fixtures();
    let p = probe(&fx.image).await.unwrap();
    assert_eq!((p.width, p.height), (Some(1280), Some(720)));
    assert_eq!((p.duration_s, p.fps), (None, None));
    assert!(p.has_video && !p.has_audio);
    assert_eq!(p.video_codec.as_deref(), Some("png"));
}

/// Probe: a video reports duration, fps and its audio; a WAV is audio only.
#[tokio::test]
async fn probe_video_and_audio() {
    let fx = fixtures();
    let p = probe(&fx.clip_a).await.unwrap();
    assert_eq!((p.width, p.height), (Some(320), Some(240)));
    assert!((p.duration_s.unwrap() - 3.0).abs() < 0.1, "{p:?}");
    assert!((p.fps.unwrap() - 25.0).abs() < 0.01);
    assert!(p.has_video && p.has_audio);
    assert_eq!(p.video_codec.as_deref(), Some("h264"));
    assert_eq!(p.audio_codec.as_deref(), Some("aac"));

    let w = probe(&fx.wav).await.unwrap();
    assert!(!w.has_video && w.has_audio);
    assert!((w.duration_s.unwrap() - 2.0).abs() < 0.1);
    assert_eq!(w.fps, None);

    let junk = fx.dir.path().join("junk.bin");
    std::fs::write(&junk, b"\x00\x01garbage").unwrap();
    assert!(probe(&junk).await.is_err());
}
