//! When the state polled after a dropped stream holds the turn's outcome.
//!
//! A stream that dropped without `id:`s (or whose resumes all failed) leaves
//! the client polling the session state every 5 s until it is settled
//! (docs/protocol.md, "Recovery after a dropped stream"). "Settled" is
//! decided here, from the snapshots alone:
//!
//! - A state still equal to the one before the turn is no outcome: the agent
//!   may not have written anything yet (a generation runs 30–90 s before its
//!   first state change).
//! - A changed state is settled once two polls in a row agree.
//! - **A generation is two-stage**: after the raw clip the backend adds BGM
//!   and a title on its own, and the result is final only when both are
//!   done. Between the stages the state holds still for a while (seconds to
//!   tens of seconds), which two agreeing polls would take for the end. So
//!   once a generation's clip shows, the state is settled only when the
//!   audio and the title tracks have changed too, or when it has held still
//!   for [`Timing::stage_two_wait_ms`] (a backend that skipped the second
//!   stage, or a second generation whose BGM and title came out the same,
//!   must not keep the turn waiting until its cap).
//!
//! Like the policies, it owns no clock: every call takes `now_ms`.

use crate::core::policy::Timing;
use crate::core::timeline::{self, Change, Timeline, TrackKind};

/// Judges the state snapshots of one recovery. Create it when polling
/// starts and report every snapshot with [`on_state`](Self::on_state).
#[derive(Clone, Debug)]
pub struct StateSettle {
    /// Whether the turn runs a generation (its message asked for one, or a
    /// generation tool ran before the drop).
    generation: bool,
    stage_two_wait_ms: u64,
    /// The previous snapshot, and when it first appeared.
    last: Option<(Timeline, u64)>,
}

impl StateSettle {
    /// A judge for a turn; `generation` when the turn generates a clip.
    pub fn new(timing: &Timing, generation: bool) -> Self {
        StateSettle {
            generation,
            stage_two_wait_ms: timing.stage_two_wait_ms,
            last: None,
        }
    }

    /// Reports the snapshot `state` polled at `now_ms`, with the state
    /// before the turn (`None`: unknown, so any snapshot counts as a
    /// change). Returns whether the turn's outcome is settled.
    pub fn on_state(&mut self, now_ms: u64, before: Option<&Timeline>, state: Timeline) -> bool {
        let since_ms = match &self.last {
            Some((t, since)) if *t == state => *since,
            _ => now_ms,
        };
        let steady = since_ms < now_ms;
        let settled = steady
            && before != Some(&state)
            && (!self.generation
                || !awaits_second_stage(before, &state)
                || now_ms - since_ms >= self.stage_two_wait_ms);
        self.last = Some((state, since_ms));
        settled
    }
}

/// Whether `after` shows a generation's first stage (a new or replaced
/// clip on a video track) but not yet its second (changes on both an audio
/// and a text track), compared with `before`.
pub fn awaits_second_stage(before: Option<&Timeline>, after: &Timeline) -> bool {
    let empty = Timeline::default();
    let changes = timeline::diff(before.unwrap_or(&empty), after);
    let touched = |kind: TrackKind| changes.iter().any(|c| change_kind(c) == Some(kind));
    let clip = changes.iter().any(|c| {
        matches!(
            c,
            Change::Added {
                kind: TrackKind::Video,
                ..
            } | Change::Replaced {
                kind: TrackKind::Video,
                ..
            }
        )
    });
    clip && !(touched(TrackKind::Audio) && touched(TrackKind::Text))
}

/// The kind of track a change is on (`None`: the aspect ratio).
fn change_kind(c: &Change) -> Option<TrackKind> {
    match c {
        Change::Added { kind, .. }
        | Change::Removed { kind, .. }
        | Change::Replaced { kind, .. }
        | Change::TextChanged { kind, .. }
        | Change::Retimed { kind, .. }
        | Change::VolumeChanged { kind, .. }
        | Change::CameraChanged { kind, .. }
        | Change::Edited { kind, .. } => Some(*kind),
        Change::AspectRatio { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;

    fn tl(draft: &str) -> Timeline {
        Timeline::parse(&json::parse(draft).expect("test draft").into_owned())
    }

    const EMPTY: &str = r#"{"t":[]}"#;
    const CLIP: &str = r#"{"t":[{"tt":0,"sg":[{"id":"v1","s":0,"d":5000,"src":"gen://a"}]}]}"#;
    const OTHER_CLIP: &str =
        r#"{"t":[{"tt":0,"sg":[{"id":"v2","s":0,"d":4000,"src":"gen://b"}]}]}"#;
    const FINAL: &str = r#"{"t":[{"tt":0,"sg":[{"id":"v1","s":0,"d":5000,"src":"gen://a"}]},
        {"tt":1,"sg":[{"id":"a1","s":0,"d":5000,"src":"bgm://lofi","m":{"name":"Lo-fi","volume":30}}]},
        {"tt":7,"sg":[{"id":"t1","s":0,"d":3000,"m":{"name":"Title","text":"Kite"}}]}]}"#;
    const SECOND_CLIP: &str = r#"{"t":[{"tt":0,"sg":[{"id":"v2","s":0,"d":5000,"src":"gen://b"}]},
        {"tt":1,"sg":[{"id":"a1","s":0,"d":5000,"src":"bgm://lofi","m":{"name":"Lo-fi","volume":30}}]},
        {"tt":7,"sg":[{"id":"t1","s":0,"d":3000,"m":{"name":"Title","text":"Kite"}}]}]}"#;
    const RETITLED: &str = r#"{"t":[{"tt":0,"sg":[{"id":"v1","s":0,"d":5000,"src":"gen://a"}]},
        {"tt":1,"sg":[{"id":"a1","s":0,"d":5000,"src":"bgm://lofi","m":{"name":"Lo-fi","volume":30}}]},
        {"tt":7,"sg":[{"id":"t1","s":0,"d":3000,"m":{"name":"Title","text":"Lake"}}]}]}"#;

    fn timing(wait: u64) -> Timing {
        Timing {
            stage_two_wait_ms: wait,
            ..Timing::default()
        }
    }

    #[test]
    fn an_unchanged_state_never_settles() {
        let before = tl(EMPTY);
        let mut s = StateSettle::new(&timing(60_000), true);
        for i in 0..100 {
            assert!(!s.on_state(i * 5_000, Some(&before), tl(EMPTY)));
        }
    }

    #[test]
    fn an_edit_settles_on_two_agreeing_polls() {
        let before = tl(FINAL);
        let mut s = StateSettle::new(&timing(60_000), false);
        assert!(
            !s.on_state(0, Some(&before), tl(RETITLED)),
            "one poll is not enough"
        );
        assert!(s.on_state(5_000, Some(&before), tl(RETITLED)));
    }

    #[test]
    fn a_changing_state_waits_for_it_to_hold_still() {
        let before = tl(EMPTY);
        let mut s = StateSettle::new(&timing(60_000), false);
        assert!(!s.on_state(0, Some(&before), tl(CLIP)));
        assert!(
            !s.on_state(5_000, Some(&before), tl(FINAL)),
            "changed again"
        );
        assert!(s.on_state(10_000, Some(&before), tl(FINAL)));
    }

    #[test]
    fn a_generation_waits_past_the_pause_between_its_stages() {
        let before = tl(EMPTY);
        let mut s = StateSettle::new(&timing(60_000), true);
        // The raw clip, then the state holds still while stage two runs.
        for t in [0, 5_000, 10_000, 15_000] {
            assert!(!s.on_state(t, Some(&before), tl(CLIP)), "at {t} ms");
        }
        // BGM and title arrive: settled once two polls agree.
        assert!(!s.on_state(20_000, Some(&before), tl(FINAL)));
        assert!(s.on_state(25_000, Some(&before), tl(FINAL)));
    }

    #[test]
    fn a_generation_without_a_second_stage_settles_after_the_wait() {
        let before = tl(EMPTY);
        let mut s = StateSettle::new(&timing(60_000), true);
        assert!(!s.on_state(0, Some(&before), tl(CLIP)));
        assert!(!s.on_state(59_999, Some(&before), tl(CLIP)));
        assert!(s.on_state(60_000, Some(&before), tl(CLIP)));
    }

    #[test]
    fn the_wait_counts_from_the_last_change() {
        let before = tl(EMPTY);
        let mut s = StateSettle::new(&timing(60_000), true);
        assert!(!s.on_state(0, Some(&before), tl(CLIP)));
        assert!(!s.on_state(40_000, Some(&before), tl(OTHER_CLIP)));
        assert!(!s.on_state(90_000, Some(&before), tl(OTHER_CLIP)));
        assert!(s.on_state(100_000, Some(&before), tl(OTHER_CLIP)));
    }

    #[test]
    fn a_second_generation_over_an_old_bgm_and_title_waits_too() {
        // BGM and title were there before the turn: only the clip changed,
        // so stage two has not shown yet.
        let before = tl(FINAL);
        assert!(awaits_second_stage(Some(&before), &tl(SECOND_CLIP)));
        let mut s = StateSettle::new(&timing(60_000), true);
        assert!(!s.on_state(0, Some(&before), tl(SECOND_CLIP)));
        assert!(!s.on_state(5_000, Some(&before), tl(SECOND_CLIP)));
        assert!(s.on_state(65_000, Some(&before), tl(SECOND_CLIP)));
    }

    #[test]
    fn stage_two_shows_as_audio_and_text_changes() {
        let before = tl(EMPTY);
        assert!(awaits_second_stage(Some(&before), &tl(CLIP)));
        assert!(!awaits_second_stage(Some(&before), &tl(FINAL)));
        assert!(!awaits_second_stage(None, &tl(FINAL)));
        // No new clip: not a generation's first stage.
        assert!(!awaits_second_stage(Some(&tl(FINAL)), &tl(RETITLED)));
        assert!(!awaits_second_stage(Some(&before), &tl(EMPTY)));
    }

    #[test]
    fn an_unknown_before_counts_any_state_as_a_change() {
        let mut s = StateSettle::new(&timing(60_000), false);
        assert!(!s.on_state(0, None, tl(EMPTY)));
        assert!(s.on_state(5_000, None, tl(EMPTY)));
    }

    #[test]
    fn a_clock_that_stands_still_is_not_two_polls() {
        let before = tl(EMPTY);
        let mut s = StateSettle::new(&timing(0), false);
        assert!(!s.on_state(7, Some(&before), tl(FINAL)));
        assert!(!s.on_state(7, Some(&before), tl(FINAL)));
        assert!(s.on_state(8, Some(&before), tl(FINAL)));
    }
}
