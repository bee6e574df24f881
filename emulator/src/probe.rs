//! Media inspection with `ffprobe`.
//!
//! [`probe`] runs `ffprobe -v error -print_format json -show_streams -show_format` on a local
//! file and condenses the answer into a [`ProbeInfo`]. Still images (PNG, JPEG, WebP, …) report
//! their dimensions with `duration_s` and `fps` set to `None`. Cover art embedded in audio files
//! (an "attached picture" stream) does not count as video.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

/// How long one `ffprobe` run may take before it is killed and reported as an error.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// What `ffprobe` says about a media file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProbeInfo {
    /// Display width in pixels of the first video stream (after rotation metadata is applied).
    pub width: Option<u32>,
    /// Display height in pixels of the first video stream (after rotation metadata is applied).
    pub height: Option<u32>,
    /// Duration in seconds; `None` for still images or when the container does not say.
    pub duration_s: Option<f64>,
    /// Average frame rate of the first video stream; `None` for still images and audio.
    pub fps: Option<f64>,
    /// Whether the file holds a real video (or image) stream; cover art does not count.
    pub has_video: bool,
    /// Whether the file holds at least one audio stream.
    pub has_audio: bool,
    /// `codec_name` of the first video stream (e.g. `h264`, `png`).
    pub video_codec: Option<String>,
    /// `codec_name` of the first audio stream (e.g. `aac`, `mp3`).
    pub audio_codec: Option<String>,
}

/// Inspects a local media file with `ffprobe`.
///
/// Returns an error (never panics) when `ffprobe` is missing, fails, times out, prints
/// something that is not JSON, or finds neither a video nor an audio stream.
pub async fn probe(path: &Path) -> Result<ProbeInfo, String> {
    // `file:` keeps ffprobe from reading a path such as `a:b.mp4` as a protocol URL.
    let mut target = std::ffi::OsString::from("file:");
    target.push(path.as_os_str());
    let mut cmd = Command::new("ffprobe");
    cmd.args([
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_streams",
        "-show_format",
    ])
    .arg(&target)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);

    let child = cmd
        .spawn()
        .map_err(|e| format!("ffprobe not available: {e}"))?;
    let output = match tokio::time::timeout(PROBE_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(format!("ffprobe failed: {e}")),
        Err(_) => return Err("ffprobe timed out".to_string()),
    };
    if !output.status.success() {
        let msg = String::from_utf8_lossy(&output.stderr);
        let msg = msg.trim();
        return Err(if msg.is_empty() {
            format!("ffprobe failed ({})", output.status)
        } else {
            format!("ffprobe failed: {}", last_chars(msg, 500))
        });
    }
    let json: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("ffprobe printed invalid JSON: {e}"))?;
    parse_probe_json(&json)
}

/// Condenses `ffprobe` JSON output (`-show_streams -show_format`) into a [`ProbeInfo`].
fn parse_probe_json(json: &Value) -> Result<ProbeInfo, String> {
    let streams: &[Value] = json
        .get("streams")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let format = json.get("format").unwrap_or(&Value::Null);
    let format_name = format
        .get("format_name")
        .and_then(Value::as_str)
        .unwrap_or("");

    let video = streams.iter().find(|s| {
        s.get("codec_type").and_then(Value::as_str) == Some("video") && !is_attached_pic(s)
    });
    let audio = streams
        .iter()
        .find(|s| s.get("codec_type").and_then(Value::as_str) == Some("audio"));
    if video.is_none() && audio.is_none() {
        return Err("no audio or video stream found".to_string());
    }

    let mut info = ProbeInfo {
        has_video: video.is_some(),
        has_audio: audio.is_some(),
        video_codec: video.and_then(|v| str_field(v, "codec_name")),
        audio_codec: audio.and_then(|a| str_field(a, "codec_name")),
        ..ProbeInfo::default()
    };

    let image = video.is_some_and(|v| audio.is_none() && is_still_image(v, format_name));

    if let Some(v) = video {
        let w = num_field(v, "width").filter(|w| *w > 0.0 && *w <= u32::MAX as f64);
        let h = num_field(v, "height").filter(|h| *h > 0.0 && *h <= u32::MAX as f64);
        let (mut w, mut h) = (w.map(|x| x as u32), h.map(|x| x as u32));
        if rotation_is_quarter_turn(v) {
            std::mem::swap(&mut w, &mut h);
        }
        info.width = w;
        info.height = h;
        if !image {
            info.fps = rate_field(v, "avg_frame_rate").or_else(|| rate_field(v, "r_frame_rate"));
        }
    }

    if !image {
        info.duration_s = num_field(format, "duration")
            .or_else(|| video.and_then(|v| num_field(v, "duration")))
            .or_else(|| audio.and_then(|a| num_field(a, "duration")))
            .filter(|d| *d >= 0.0);
    }
    Ok(info)
}

/// True for a video stream that is really cover art embedded in an audio file.
fn is_attached_pic(stream: &Value) -> bool {
    stream
        .get("disposition")
        .and_then(|d| d.get("attached_pic"))
        .and_then(Value::as_i64)
        == Some(1)
}

/// True when a video stream is a single still picture rather than moving footage.
fn is_still_image(stream: &Value, format_name: &str) -> bool {
    if format_name == "image2" || format_name.ends_with("_pipe") {
        return true;
    }
    let codec = stream
        .get("codec_name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let still_codec = matches!(
        codec,
        "png" | "mjpeg" | "jpegls" | "webp" | "bmp" | "tiff" | "jpeg2000" | "qoi"
    );
    let nb_frames = num_field(stream, "nb_frames");
    still_codec
        && num_field(stream, "duration").is_none()
        && !matches!(nb_frames, Some(n) if n > 1.0)
}

/// True when the stream carries a ±90°/270° rotation (display matrix or legacy `rotate` tag).
fn rotation_is_quarter_turn(stream: &Value) -> bool {
    let from_side_data = stream
        .get("side_data_list")
        .and_then(Value::as_array)
        .and_then(|list| list.iter().find_map(|sd| num_field(sd, "rotation")));
    let from_tag = stream.get("tags").and_then(|t| num_field(t, "rotate"));
    match from_side_data.or(from_tag) {
        Some(r) => (r.round() as i64).rem_euclid(180) == 90,
        None => false,
    }
}

/// A string field, ignoring empty values.
fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A numeric field that ffprobe may print either as a JSON number or as a string.
fn num_field(v: &Value, key: &str) -> Option<f64> {
    let x = match v.get(key)? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    x.is_finite().then_some(x)
}

/// A rational such as `30000/1001`; `0/0` and other nonsense give `None`.
fn rate_field(v: &Value, key: &str) -> Option<f64> {
    let s = v.get(key)?.as_str()?;
    let rate = match s.split_once('/') {
        Some((n, d)) => {
            let n: f64 = n.trim().parse().ok()?;
            let d: f64 = d.trim().parse().ok()?;
            if d == 0.0 {
                return None;
            }
            n / d
        }
        None => s.trim().parse().ok()?,
    };
    (rate.is_finite() && rate > 0.0 && rate < 10_000.0).then_some(rate)
}

/// The last `n` characters of `s` (on a character boundary).
fn last_chars(s: &str, n: usize) -> &str {
    let count = s.chars().count();
    if count <= n {
        return s;
    }
    let skip = count - n;
    let idx = s.char_indices().nth(skip).map(|(i, _)| i).unwrap_or(0);
    &s[idx..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn png_is_an_image_without_duration() {
        let j = json!({"streams":[{"codec_name":"png","codec_type":"video","width":1600,"height":1200,
            "avg_frame_rate":"25/1","disposition":{"attached_pic":0}}],
            "format":{"format_name":"png_pipe"}});
        let info = parse_probe_json(&j).unwrap();
        assert_eq!(info.width, Some(1600));
        assert_eq!(info.height, Some(1200));
        assert_eq!(info.duration_s, None);
        assert_eq!(info.fps, None);
        assert!(info.has_video && !info.has_audio);
        assert_eq!(info.video_codec.as_deref(), Some("png"));
    }

    #[test]
    fn mp4_with_rotation_and_audio() {
        let j = json!({"streams":[
            {"codec_name":"h264","codec_type":"video","width":1920,"height":1080,
             "avg_frame_rate":"30000/1001","duration":"2.5",
             "side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]},
            {"codec_name":"aac","codec_type":"audio","duration":"2.5"}],
            "format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"2.500000"}});
        let info = parse_probe_json(&j).unwrap();
        assert_eq!((info.width, info.height), (Some(1080), Some(1920)));
        assert!((info.fps.unwrap() - 29.97).abs() < 0.01);
        assert_eq!(info.duration_s, Some(2.5));
        assert!(info.has_video && info.has_audio);
        assert_eq!(info.audio_codec.as_deref(), Some("aac"));
    }

    #[test]
    fn cover_art_is_not_video() {
        let j = json!({"streams":[
            {"codec_name":"mp3","codec_type":"audio"},
            {"codec_name":"mjpeg","codec_type":"video","width":500,"height":500,
             "disposition":{"attached_pic":1}}],
            "format":{"format_name":"mp3","duration":"3.0"}});
        let info = parse_probe_json(&j).unwrap();
        assert!(!info.has_video && info.has_audio);
        assert_eq!(info.width, None);
        assert_eq!(info.duration_s, Some(3.0));
    }

    #[test]
    fn garbage_json_is_an_error_not_a_panic() {
        for j in [
            json!(null),
            json!([]),
            json!({"streams": "x"}),
            json!({"streams": [1, "a", null]}),
            json!({"streams": [{"codec_type": "data"}]}),
        ] {
            assert!(parse_probe_json(&j).is_err());
        }
        let j = json!({"streams":[{"codec_type":"video","width":-5,"height":"abc",
            "avg_frame_rate":"0/0","r_frame_rate":"x/y"}],"format":{"duration":"NaN"}});
        let info = parse_probe_json(&j).unwrap();
        assert_eq!((info.width, info.height, info.fps), (None, None, None));
    }

    #[tokio::test]
    async fn missing_file_is_an_error() {
        assert!(probe(Path::new("/nonexistent/definitely/not/here.mp4"))
            .await
            .is_err());
    }
}
