//! Timeline planning: resolves durations and the total, then lays the segments out as video
//! pieces (back to back on the frame grid), audio pieces and titles for the graph builder.

use std::collections::HashMap;
use std::path::PathBuf;

use super::draft::{Camera, ParsedDraft, Seg, TrackKind};
use super::{MediaFile, MediaKind, DEFAULT_SEGMENT_MS, MAX_ANY_MS, MAX_TOTAL_MS};
use crate::probe::ProbeInfo;

/// Where the pictures of a video piece come from.
#[derive(Clone, Debug)]
pub(super) enum Visual {
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
pub(super) struct VideoPiece {
    /// Number of frames (≥ 1).
    pub(super) frames: u64,
    /// What fills them.
    pub(super) visual: Visual,
}

/// Where the sound of an audio piece comes from.
#[derive(Clone, Debug)]
pub(super) enum Sound {
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
pub(super) struct AudioPiece {
    /// Start in ms.
    pub(super) start_ms: u64,
    /// Length in ms (≥ 1).
    pub(super) dur_ms: u64,
    /// Gain 0.0–1.0.
    pub(super) volume: f64,
    /// Longer fades for music beds, short de-click fades for clip sound.
    pub(super) music: bool,
    /// Source.
    pub(super) sound: Sound,
}

/// A title placed on the output timeline.
#[derive(Clone, Debug)]
pub(super) struct Title {
    /// Start in ms.
    pub(super) start_ms: u64,
    /// End in ms.
    pub(super) end_ms: u64,
    /// The user's text.
    pub(super) text: String,
}

/// Everything the graph builder needs.
#[derive(Clone, Debug)]
pub(super) struct Plan {
    /// Output duration in ms.
    pub(super) total_ms: u64,
    /// Video pieces, back to back, summing to the whole timeline.
    pub(super) video: Vec<VideoPiece>,
    /// Audio pieces.
    pub(super) audio: Vec<AudioPiece>,
    /// Whether the output carries an audio stream.
    pub(super) has_audio: bool,
    /// Titles.
    pub(super) titles: Vec<Title>,
}

/// Frame index of a millisecond position on the `fps` grid (rounded).
pub(super) fn frame_at(ms: u64, fps: u32) -> u64 {
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
///
/// Clip sound (audio carried by video-track files) comes first in [`Plan::audio`], in timeline
/// order, followed by the audio-track pieces in draft order.
pub(super) fn plan_timeline(
    parsed: ParsedDraft,
    media: &HashMap<String, MediaFile>,
    probes: &HashMap<PathBuf, ProbeInfo>,
    fps: u32,
) -> Plan {
    let sources = Sources { media, probes };
    let mut segs = parsed.segs;
    sources.fill_video_durations(&mut segs);
    let timeline = Timeline {
        total_ms: total_duration(parsed.total_ms, &segs),
        fps,
    };
    let (video, mut audio) = lay_out_video(&segs, sources, timeline);
    let has_audio = !audio.is_empty() || segs.iter().any(|s| s.kind == TrackKind::Audio);
    audio.extend(plan_audio_tracks(&segs, sources, timeline));
    Plan {
        total_ms: timeline.total_ms,
        video,
        audio,
        has_audio,
        titles: plan_titles(&segs, timeline),
    }
}

/// The local files behind segment sources and what probing found in them.
#[derive(Clone, Copy)]
struct Sources<'a> {
    /// Local files by segment `src`.
    media: &'a HashMap<String, MediaFile>,
    /// Probe results by file path (files that failed to probe are missing).
    probes: &'a HashMap<PathBuf, ProbeInfo>,
}

impl<'a> Sources<'a> {
    /// The file behind `seg.src` and its probe; `None` when the segment has no local, probed
    /// file (it is then synthesized).
    fn lookup(&self, seg: &Seg) -> Option<(&'a MediaFile, &'a ProbeInfo)> {
        let mf = self.media.get(seg.src.as_ref()?)?;
        let info = self.probes.get(&mf.path)?;
        Some((mf, info))
    }

    /// Gives every video segment without `d` its file's remaining length (after the in-point),
    /// or [`DEFAULT_SEGMENT_MS`] when that is unknown, so each one has a definite span.
    fn fill_video_durations(&self, segs: &mut [Seg]) {
        for seg in segs.iter_mut() {
            if seg.kind == TrackKind::Video && seg.dur_ms.is_none() {
                let from_file = self.remaining_video_ms(seg);
                seg.dur_ms = Some(from_file.unwrap_or(DEFAULT_SEGMENT_MS).min(MAX_ANY_MS));
            }
        }
    }

    /// How much of the segment's video file is left after its in-point (when positive).
    fn remaining_video_ms(&self, seg: &Seg) -> Option<u64> {
        self.media
            .get(seg.src.as_deref().unwrap_or(""))
            .filter(|mf| mf.kind == MediaKind::Video)
            .and_then(|mf| self.probes.get(&mf.path))
            .and_then(|p| p.duration_s)
            .map(|d| ((d * 1000.0) as u64).saturating_sub(seg.in_ms))
            .filter(|d| *d > 0)
    }
}

/// The output duration: the draft's `d`, else the latest segment end, else the latest start
/// plus [`DEFAULT_SEGMENT_MS`]; capped at [`MAX_TOTAL_MS`].
fn total_duration(draft_total_ms: Option<u64>, segs: &[Seg]) -> u64 {
    draft_total_ms
        .or_else(|| {
            segs.iter()
                .filter_map(|s| s.dur_ms.map(|d| s.start_ms + d))
                .max()
        })
        .filter(|t| *t > 0)
        .unwrap_or_else(|| segs.iter().map(|s| s.start_ms).max().unwrap_or(0) + DEFAULT_SEGMENT_MS)
        .min(MAX_TOTAL_MS)
}

/// The output timeline: its length and its frame grid.
#[derive(Clone, Copy, Debug)]
struct Timeline {
    /// Output duration in ms.
    total_ms: u64,
    /// Output frame rate.
    fps: u32,
}

/// The frames a video segment fills on the output grid, `[from, to)`.
#[derive(Clone, Copy, Debug)]
struct FrameRange {
    /// First output frame.
    from: u64,
    /// One past the last output frame.
    to: u64,
    /// Frames cut from the segment's head because an earlier segment was still playing.
    cut: u64,
}

impl Timeline {
    /// Number of output frames (at least one).
    fn total_frames(&self) -> u64 {
        frame_at(self.total_ms, self.fps).max(1)
    }

    /// Millisecond position of an output frame.
    fn ms_at(&self, frame: u64) -> u64 {
        ms_at(frame, self.fps)
    }

    /// The segment's `[start, end)` in ms, clipped to the timeline. Segments without `d` (only
    /// audio and text by now) run to the end.
    fn span(&self, s: &Seg) -> (u64, u64) {
        let start = s.start_ms.min(self.total_ms);
        let end = match s.dur_ms {
            Some(d) => (s.start_ms + d).min(self.total_ms),
            None => self.total_ms,
        };
        (start, end.max(start))
    }

    /// The frames a video segment gets when everything before `cursor` is taken: overlapping
    /// segments lose their head. `None` when nothing of the segment is left.
    fn frames_of(&self, seg: &Seg, cursor: u64) -> Option<FrameRange> {
        let total_frames = self.total_frames();
        let (start, end) = self.span(seg);
        let first = frame_at(start, self.fps).min(total_frames);
        let from = first.max(cursor);
        let to = frame_at(end, self.fps).min(total_frames);
        (to > from).then_some(FrameRange {
            from,
            to,
            cut: from - first,
        })
    }
}

/// Lays all video-track segments on one timeline (by start, then draft order), filling holes
/// with black. Returns the video pieces, which cover the timeline exactly, and the sound of
/// clips that have some.
fn lay_out_video(
    segs: &[Seg],
    sources: Sources,
    timeline: Timeline,
) -> (Vec<VideoPiece>, Vec<AudioPiece>) {
    let mut vsegs: Vec<&Seg> = segs.iter().filter(|s| s.kind == TrackKind::Video).collect();
    vsegs.sort_by_key(|s| (s.start_ms, s.order));
    let mut video = Vec::new();
    let mut clip_sound = Vec::new();
    let mut cursor = 0u64;
    for seg in vsegs {
        let Some(range) = timeline.frames_of(seg, cursor) else {
            continue;
        };
        push_gap(&mut video, cursor, range.from);
        let skip_ms = timeline.ms_at(range.cut);
        let found = sources.lookup(seg);
        let visual = segment_visual(seg, found, skip_ms);
        if let Some(sound) = clip_sound_of(seg, found, &visual, skip_ms) {
            clip_sound.push(AudioPiece {
                start_ms: timeline.ms_at(range.from),
                dur_ms: timeline
                    .ms_at(range.to)
                    .saturating_sub(timeline.ms_at(range.from))
                    .max(1),
                volume: seg.volume,
                music: false,
                sound,
            });
        }
        video.push(VideoPiece {
            frames: range.to - range.from,
            visual,
        });
        cursor = range.to;
    }
    push_gap(&mut video, cursor, timeline.total_frames());
    (video, clip_sound)
}

/// Appends black for frames `[from, to)` when that range is not empty.
fn push_gap(video: &mut Vec<VideoPiece>, from: u64, to: u64) {
    if to > from {
        video.push(VideoPiece {
            frames: to - from,
            visual: Visual::Gap,
        });
    }
}

/// What a video segment shows: its image or video file when probing found pictures in it,
/// else generated footage. `skip_ms` is how much of its head was cut by an overlap.
fn segment_visual(seg: &Seg, found: Option<(&MediaFile, &ProbeInfo)>, skip_ms: u64) -> Visual {
    match found {
        Some((mf, info)) if mf.kind == MediaKind::Image && info.has_video => Visual::Image {
            path: mf.path.clone(),
            camera: seg.camera,
        },
        Some((mf, info)) if mf.kind == MediaKind::Video && info.has_video => Visual::Video {
            path: mf.path.clone(),
            in_ms: in_point_within(seg.in_ms.saturating_add(skip_ms), info),
        },
        _ => synth_visual(seg),
    }
}

/// Generated footage for a segment: its camera move, `m.name` as the caption, and colours
/// seeded by the segment's identity so the same draft always looks the same.
fn synth_visual(seg: &Seg) -> Visual {
    Visual::Synth {
        camera: seg.camera,
        caption: if seg.name.trim().is_empty() {
            "Generated clip".to_string()
        } else {
            seg.name.clone()
        },
        seed: fnv(&format!("{}|{}|{}", seg.id, seg.name, seg.order)),
    }
}

/// The in-point, or 0 when it is at or past the end of the file (within 100 ms), so that a
/// bad in-point still plays something.
fn in_point_within(in_ms: u64, info: &ProbeInfo) -> u64 {
    match info.duration_s {
        Some(d) if (in_ms as f64) >= d * 1000.0 - 100.0 => 0,
        _ => in_ms,
    }
}

/// The sound a video segment's own file contributes (a clip's sound plays along with it):
/// read from the same in-point as its pictures, and looped when the pictures are synthesized.
/// `None` for images and files without audio.
fn clip_sound_of(
    seg: &Seg,
    found: Option<(&MediaFile, &ProbeInfo)>,
    visual: &Visual,
    skip_ms: u64,
) -> Option<Sound> {
    let (mf, info) = found?;
    if mf.kind == MediaKind::Image || !info.has_audio {
        return None;
    }
    let in_ms = match visual {
        Visual::Video { in_ms, .. } => *in_ms,
        _ => seg.in_ms.saturating_add(skip_ms),
    };
    Some(Sound::File {
        path: mf.path.clone(),
        in_ms,
        looped: matches!(visual, Visual::Synth { .. }),
    })
}

/// One music piece per non-empty audio-track segment: its file (looped to fill the span) when
/// it has sound, else the generated lo-fi bed.
fn plan_audio_tracks(segs: &[Seg], sources: Sources, timeline: Timeline) -> Vec<AudioPiece> {
    let mut audio = Vec::new();
    for seg in segs.iter().filter(|s| s.kind == TrackKind::Audio) {
        let (start, end) = timeline.span(seg);
        if end <= start {
            continue;
        }
        let sound = match sources.lookup(seg) {
            Some((mf, info)) if mf.kind != MediaKind::Image && info.has_audio => Sound::File {
                path: mf.path.clone(),
                in_ms: in_point_within(seg.in_ms, info),
                looped: true,
            },
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
    audio
}

/// One title per text-track segment with a non-empty span and non-blank text.
fn plan_titles(segs: &[Seg], timeline: Timeline) -> Vec<Title> {
    segs.iter()
        .filter(|s| s.kind == TrackKind::Text)
        .filter_map(|seg| {
            let (start, end) = timeline.span(seg);
            (end > start && !seg.text.trim().is_empty()).then(|| Title {
                start_ms: start,
                end_ms: end,
                text: seg.text.clone(),
            })
        })
        .collect()
}
