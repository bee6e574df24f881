//! Export as a sans-IO state machine: submit the render with a fresh
//! `render_<ts>` id, poll it on the [`RenderPoller`] schedule, retry once
//! with a new id, resolve the MP4's URL (docs/protocol.md, "Endpoints" →
//! "Export (render)").
//!
//! [`ExportMachine`] owns no socket, timer or clock, in the style of
//! quinn-proto's and h11's `Connection`: the shell feeds it *inputs* (the
//! export was requested, a reply arrived, a timer fired, the user cancelled,
//! the caller aborted), each with `now_ms`, and drains the *effects* it
//! decided on with [`ExportMachine::poll_effect`]: fetch the state, send
//! this request, arm a timer, report progress, remember or forget the render
//! id, probe the result's size, finish, fail. Every rule lives here, so the
//! whole schedule (minutes of polling, a retry with a new id, a cancel in
//! any phase) is a unit test that runs in microseconds.
//!
//! [`ExportDownload`] does the same for the download of a finished export:
//! which URL to try (the render's URL, then the documented
//! `GET /api/render/proxy/<id>/download`) and what a failed reply means. The
//! bytes themselves stay in the shell.
//!
//! The effects come in an order the shell performs one by one: bookkeeping
//! first (progress, the id), then at most one I/O effect whose answer is the
//! next input. After [`ExportEffect::Finish`] or [`ExportEffect::Fail`]
//! nothing more comes.

use std::collections::VecDeque;

use crate::core::api::RenderStatus;
use crate::core::api::{self, endpoints, parse_render_status, ApiRequest, ErrorContext};
use crate::core::error::{Error, ErrorKind, Recovery, Result};
use crate::core::json::Value;
use crate::core::policy::{RenderPoller, RenderStep, Timing};
use crate::core::timeline::Timeline;

/// A progress report for the caller's `onProgress`.
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub struct ExportProgress {
    /// 0–100, as the server reported it (0 for the client's own reports).
    pub progress: f64,
    /// The render state (`pending`, `processing`, `completed`, `failed`,
    /// `cancelled`) or `retrying` before a resubmission.
    pub status: &'static str,
    /// The render id the report is about (the old one for `retrying`).
    pub id: Option<String>,
}

/// A finished export.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub struct ExportResult {
    /// The render id.
    pub id: String,
    /// The MP4's absolute http(s) URL.
    pub url: String,
    /// Its size from the probe, when the server said.
    pub size_bytes: Option<u64>,
}

/// What the shell does next. Each I/O effect names the input that takes
/// its answer.
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub enum ExportEffect {
    /// GET the session state (for the draft to render); feed the timeline
    /// or the error to [`ExportMachine::on_state`].
    FetchState,
    /// Send this request (render submit, status or cancel); feed the reply
    /// document or the error to [`ExportMachine::on_reply`].
    Send(ApiRequest),
    /// Call [`ExportMachine::on_timer`] at `at_ms` (the same clock as the
    /// inputs' `now_ms`).
    ArmTimer {
        /// When the timer fires.
        at_ms: u64,
    },
    /// Tell the caller (`onProgress`).
    Progress(ExportProgress),
    /// Persist this render id in the session handle, so a reloaded page can
    /// resume the render.
    RememberId(String),
    /// Clear the render id from the session handle: nothing to resume.
    ForgetId,
    /// Ask `url` for its size (a HEAD request bound by `limit_ms`, `0` = no
    /// limit); feed the size (or `None` when the server did not say) or
    /// the error to [`ExportMachine::on_size`].
    ProbeSize {
        /// The MP4's URL.
        url: String,
        /// The request's time limit ([`Timing::request_timeout_ms`]).
        limit_ms: u64,
    },
    /// The export is done.
    Finish(ExportResult),
    /// The export failed with this error.
    Fail(Error),
}

/// How a user's cancel ended, from [`ExportMachine::on_cancel_reply`].
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub enum CancelOutcome {
    /// The server stopped the render: forget its id (clear it from the
    /// session handle); the cancel call succeeds.
    ForgetId,
    /// The cancel request failed: the render may still run, so its id stays
    /// resumable; the cancel call fails with this.
    Fail(Error),
}

/// Where the machine is.
enum Phase {
    /// Created; waiting for [`ExportMachine::submit`] or
    /// [`ExportMachine::resume`].
    Idle,
    /// Waiting for the state (the draft); `retry` for a resubmission.
    FetchingState { retry: bool },
    /// The submit of `id` is in flight.
    Submitting { id: String, retry: bool },
    /// Waiting for the poll timer.
    Waiting,
    /// A status request is in flight.
    Polling,
    /// The old job's cancel is in flight, before a resubmission.
    CancellingPrevious,
    /// The result URL's size probe is in flight.
    Probing { url: String },
    /// Finished or failed: every input is ignored (but
    /// [`ExportMachine::cancel`]).
    Ended,
}

/// One export, from the request to the MP4's URL, as a state machine of its
/// inputs. See the [module docs](self).
///
/// The rules, as docs/protocol.md states them:
/// - the draft is read from the state just before each submit; a timeline
///   without clips fails with "Nothing to export yet…" (`invalid_input`);
/// - each submit uses a render id strictly newer than the job's previous
///   one (`render_<max(now, prev + 1)>`), so a retry never reuses an id;
/// - polls follow [`RenderPoller`] (cadence, most polls, one resubmission,
///   the previous job cancelled first when it ran out of polls);
/// - a status request that fails with a network, protocol (including an
///   unreadable status) or timeout error counts as a poll; any other error
///   fails the export;
/// - the completed URL is resolved against the base URL
///   ([`api::resolve_http_url`]); a missing URL is a protocol error;
/// - resuming an existing render id skips the submit;
/// - the render id is remembered once submitted and forgotten once the
///   render finished or failed for good; an abort keeps it (the render
///   goes on and can be resumed);
/// - a user's [`cancel`](Self::cancel) ends the export as `aborted` with
///   [`Recovery::None`].
pub struct ExportMachine {
    timing: Timing,
    base_url: String,
    session_id: String,
    render_id: Option<String>,
    phase: Phase,
    poller: Option<RenderPoller>,
    cancelled: bool,
    effects: VecDeque<ExportEffect>,
}

impl ExportMachine {
    /// A machine for one export of session `session_id` on the API at
    /// `base_url`, with `timing`'s render schedule. It does nothing until
    /// [`submit`](Self::submit) or [`resume`](Self::resume).
    pub fn new(timing: &Timing, base_url: &str, session_id: &str) -> Self {
        ExportMachine {
            timing: *timing,
            base_url: base_url.to_string(),
            session_id: session_id.to_string(),
            render_id: None,
            phase: Phase::Idle,
            poller: None,
            cancelled: false,
            effects: VecDeque::new(),
        }
    }

    /// The next effect to perform, in order; `None` while the machine waits
    /// for the answer to the last I/O effect (or once it ended).
    pub fn poll_effect(&mut self) -> Option<ExportEffect> {
        self.effects.pop_front()
    }

    /// The current render id: the resumed one, or the last one the server
    /// accepted (it changes once if the first render fails).
    pub fn render_id(&self) -> Option<&str> {
        self.render_id.as_deref()
    }

    /// Whether the export finished or failed (its last effect is queued).
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended)
    }

    /// Whether the user cancelled the export.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    // ---- Inputs -----------------------------------------------------------

    /// Input: the caller asked for an export at `now_ms`. Next: the state.
    pub fn submit(&mut self, now_ms: u64) {
        let _ = now_ms;
        if let Phase::Idle = self.phase {
            self.fetch_state(false);
        }
    }

    /// Input: the caller resumes the render `render_id` (from a saved
    /// session handle) at `now_ms`: no submit; polling starts now.
    pub fn resume(&mut self, now_ms: u64, render_id: &str) {
        if let Phase::Idle = self.phase {
            self.render_id = Some(render_id.to_string());
            self.started(now_ms);
        }
    }

    /// Input: the state fetched for [`ExportEffect::FetchState`] (its
    /// timeline holds the draft to render), or why it could not be fetched.
    pub fn on_state(&mut self, now_ms: u64, state: Result<Timeline>) {
        let Phase::FetchingState { retry } = self.phase else {
            return;
        };
        let timeline = match state {
            Ok(t) => t,
            Err(e) => return self.fail(e),
        };
        if !timeline.ready_for_export() {
            return self.fail(Error::invalid_input(
                "Nothing to export yet: the timeline has no clips. Generate a video first.",
            ));
        }
        let id = self.next_render_id(now_ms);
        let req = endpoints::render_submit(&id, &self.session_id, timeline.draft());
        self.effects.push_back(ExportEffect::Send(req));
        self.phase = Phase::Submitting { id, retry };
    }

    /// Input: the reply to an [`ExportEffect::Send`] (the whole reply
    /// document, as `request_doc` gives it), or its error. Dispatches on
    /// what was sent: [`on_submitted`](Self::on_submitted), a status
    /// ([`on_status`](Self::on_status), parsed here), or the cancel of the
    /// previous job.
    pub fn on_reply(&mut self, now_ms: u64, reply: Result<Value<'_>>) {
        match self.phase {
            Phase::Submitting { .. } => self.on_submitted(now_ms, reply.map(|_| ())),
            Phase::Polling => {
                self.on_status(now_ms, reply.and_then(|doc| parse_render_status(&doc)))
            }
            // Whatever the old job's cancel answered, the retry goes ahead
            // (the server refuses a second active export if it still runs).
            Phase::CancellingPrevious => self.resubmit(),
            _ => {}
        }
    }

    /// Input: the submit's reply: accepted, or why not (a failed submit is
    /// never re-sent: it may have been processed).
    pub fn on_submitted(&mut self, now_ms: u64, reply: Result<()>) {
        let Phase::Submitting { id, retry } = &self.phase else {
            return;
        };
        if let Err(e) = reply {
            return self.fail(e);
        }
        let (id, retry) = (id.clone(), *retry);
        self.render_id = Some(id.clone());
        self.effects.push_back(ExportEffect::RememberId(id));
        if retry {
            let step = match &mut self.poller {
                Some(p) => p.on_resubmitted(now_ms),
                None => RenderPoller::new(&self.timing, now_ms).step(),
            };
            self.follow(now_ms, step);
        } else {
            self.started(now_ms);
        }
    }

    /// Input: the poll timer armed by [`ExportEffect::ArmTimer`] fired.
    pub fn on_timer(&mut self, now_ms: u64) {
        let _ = now_ms;
        if let Phase::Waiting = self.phase {
            if let Some(id) = &self.render_id {
                self.effects
                    .push_back(ExportEffect::Send(endpoints::render_status(id)));
                self.phase = Phase::Polling;
            }
        }
    }

    /// Input: a status poll's answer, parsed, or why the poll failed.
    pub fn on_status(&mut self, now_ms: u64, status: Result<RenderStatus>) {
        let Phase::Polling = self.phase else {
            return;
        };
        let Some(poller) = self.poller.as_mut() else {
            return;
        };
        let status = match status {
            Ok(s) => s,
            Err(e) if is_transient(e.kind()) => {
                // A failed status check still counts as a poll.
                let step = poller.on_poll_error(now_ms);
                return self.follow(now_ms, step);
            }
            Err(e) => return self.fail(e),
        };
        let step = poller.on_status(now_ms, status.state);
        self.progress(status.progress, status.state.as_str());
        match step {
            RenderStep::Download => self.completed(status.url),
            step => self.follow(now_ms, step),
        }
    }

    /// Input: the size probe's answer (`None`: the server did not say), or
    /// its error.
    pub fn on_size(&mut self, now_ms: u64, size: Result<Option<u64>>) {
        let _ = now_ms;
        let Phase::Probing { url } = &self.phase else {
            return;
        };
        let url = url.clone();
        let size_bytes = match size {
            Ok(n) => n,
            Err(e) => return self.fail(e),
        };
        let id = self.render_id.clone().unwrap_or_default();
        self.effects.push_back(ExportEffect::ForgetId);
        self.effects.push_back(ExportEffect::Finish(ExportResult {
            id,
            url,
            size_bytes,
        }));
        self.phase = Phase::Ended;
    }

    /// Input: the user cancelled at `now_ms`. A running export ends at once
    /// as `aborted` with [`Recovery::None`] (late answers are ignored).
    /// Returns the cancel request to send for the current render id, if
    /// one was submitted (also after the export ended); feed its answer to
    /// [`on_cancel_reply`](Self::on_cancel_reply). The shell also stops
    /// its I/O in flight.
    pub fn cancel(&mut self, now_ms: u64) -> Option<ApiRequest> {
        let _ = now_ms;
        self.cancelled = true;
        if !self.is_ended() {
            // The user's own decision: nothing to recover.
            self.fail(Error::aborted().with_recovery(Recovery::None));
        }
        self.render_id.as_deref().map(endpoints::render_cancel)
    }

    /// Input: the answer to the request [`cancel`](Self::cancel) returned.
    pub fn on_cancel_reply(&mut self, now_ms: u64, reply: Result<()>) -> CancelOutcome {
        let _ = now_ms;
        match reply {
            Ok(()) => CancelOutcome::ForgetId,
            Err(e) => CancelOutcome::Fail(e),
        }
    }

    /// Input: the caller's signal fired at `now_ms`. The export stops
    /// waiting with `aborted`; the render goes on and its id stays
    /// remembered, so it can be resumed.
    pub fn abort(&mut self, now_ms: u64) {
        let _ = now_ms;
        if !self.is_ended() {
            self.fail(Error::aborted());
        }
    }

    // ---- Decisions ----------------------------------------------------------

    /// The job's render id is known and polling starts at `now_ms`.
    fn started(&mut self, now_ms: u64) {
        self.progress(0.0, "pending");
        let poller = RenderPoller::new(&self.timing, now_ms);
        let step = poller.step();
        self.poller = Some(poller);
        self.follow(now_ms, step);
    }

    /// Acts on the poller's step.
    fn follow(&mut self, now_ms: u64, step: RenderStep) {
        let _ = now_ms;
        match step {
            RenderStep::PollAt { at_ms, .. } => {
                self.effects.push_back(ExportEffect::ArmTimer { at_ms });
                self.phase = Phase::Waiting;
            }
            RenderStep::Resubmit { cancel_previous } => match &self.render_id {
                Some(id) if cancel_previous => {
                    // One active export per session: stop the old job first.
                    self.effects
                        .push_back(ExportEffect::Send(endpoints::render_cancel(id)));
                    self.phase = Phase::CancellingPrevious;
                }
                _ => self.resubmit(),
            },
            // Only reached through `on_status`, which handles it.
            RenderStep::Download => self.fail(Error::protocol("the render finished without a URL")),
            step @ RenderStep::Fail(_) => {
                let e = step
                    .error(&self.timing)
                    .unwrap_or_else(|| Error::render_failed("the render failed"));
                self.effects.push_back(ExportEffect::ForgetId);
                self.fail(e);
            }
        }
    }

    /// Starts the resubmission with a new id: the state first.
    fn resubmit(&mut self) {
        self.progress(0.0, "retrying");
        self.fetch_state(true);
    }

    fn fetch_state(&mut self, retry: bool) {
        self.effects.push_back(ExportEffect::FetchState);
        self.phase = Phase::FetchingState { retry };
    }

    /// The render completed with `url` (maybe relative, maybe missing).
    fn completed(&mut self, url: Option<String>) {
        let url = match url {
            Some(u) => api::resolve_http_url(&self.base_url, &u),
            None => Err(Error::protocol("the completed render has no URL")),
        };
        match url {
            Ok(url) => {
                self.effects.push_back(ExportEffect::ProbeSize {
                    url: url.clone(),
                    limit_ms: self.timing.request_timeout_ms,
                });
                self.phase = Phase::Probing { url };
            }
            Err(e) => self.fail(e),
        }
    }

    fn progress(&mut self, progress: f64, status: &'static str) {
        self.effects
            .push_back(ExportEffect::Progress(ExportProgress {
                progress,
                status,
                id: self.render_id.clone(),
            }));
    }

    /// A render id strictly newer than the job's previous one, so a retry
    /// never reuses one: `render_<max(now, prev + 1)>`.
    fn next_render_id(&self, now_ms: u64) -> String {
        let prev: u64 = self
            .render_id
            .as_deref()
            .and_then(|id| id.strip_prefix("render_"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        api::render_id(now_ms.max(prev.saturating_add(1)))
    }

    /// Ends the export with `e`. I/O not yet performed is moot; the
    /// reports and the id bookkeeping still happen.
    fn fail(&mut self, e: Error) {
        self.effects.retain(|effect| {
            !matches!(
                effect,
                ExportEffect::FetchState
                    | ExportEffect::Send(_)
                    | ExportEffect::ArmTimer { .. }
                    | ExportEffect::ProbeSize { .. }
            )
        });
        self.effects.push_back(ExportEffect::Fail(e));
        self.phase = Phase::Ended;
    }
}

/// Whether a failed status request counts as a poll (the status endpoint
/// may come back) instead of failing the export.
fn is_transient(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Network | ErrorKind::Protocol | ErrorKind::Timeout
    )
}

// ---- Download ---------------------------------------------------------------

/// What the shell does next to download a finished export.
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub enum DownloadStep {
    /// Download `url` into a Blob and feed how it went to
    /// [`ExportDownload::on_fetched`]. Without `api` it is a plain GET with
    /// no headers (the render's own URL); with `api` it is that API
    /// endpoint: send the bearer token and the attribution headers
    /// ([`api::common_headers`]).
    Fetch {
        /// The absolute URL.
        url: String,
        /// The API request `url` was built from, when it is one.
        api: Option<ApiRequest>,
    },
    /// The Blob is the video.
    Done,
    /// The download failed with this error.
    Fail(Error),
}

/// How one download attempt ended, as the shell saw it.
pub enum Fetched<'a> {
    /// The video arrived as a Blob.
    Blob,
    /// A reply that is not the video: its HTTP status and, when the body
    /// was text (a JSON envelope, an HTML proxy page), that text.
    NotVideo {
        /// The HTTP status.
        status: u16,
        /// The body, when it was text.
        text: Option<&'a str>,
    },
    /// The request failed (network, abort, or no token for the fallback).
    Failed(Error),
}

/// Which URL to download a finished export from: the render's URL first,
/// then the documented fallback `GET /api/render/proxy/<id>/download` with
/// the bearer token (docs/protocol.md, "Export (render)"). Only an abort
/// stops before the fallback.
pub struct ExportDownload {
    url: String,
    fallback: ApiRequest,
    fallback_url: String,
    tried_fallback: bool,
}

impl ExportDownload {
    /// The download of render `id`, finished at `url`, on the API at
    /// `base_url`.
    pub fn new(base_url: &str, id: &str, url: &str) -> Self {
        let fallback = endpoints::render_download(id);
        let mut fallback_url = String::with_capacity(base_url.len() + fallback.path.len());
        fallback_url.push_str(base_url);
        fallback_url.push_str(&fallback.path);
        ExportDownload {
            url: url.to_string(),
            fallback,
            fallback_url,
            tried_fallback: false,
        }
    }

    /// The first attempt: the render's URL.
    pub fn start(&self) -> DownloadStep {
        DownloadStep::Fetch {
            url: self.url.clone(),
            api: None,
        }
    }

    /// Input: how the last attempt went; `ctx` reads an error envelope the
    /// fallback may answer with.
    pub fn on_fetched(&mut self, fetched: Fetched<'_>, ctx: ErrorContext<'_>) -> DownloadStep {
        if let Fetched::Blob = fetched {
            return DownloadStep::Done;
        }
        if !self.tried_fallback {
            if let Fetched::Failed(e) = &fetched {
                if e.kind() == ErrorKind::Aborted {
                    return DownloadStep::Fail(e.clone());
                }
            }
            self.tried_fallback = true;
            return DownloadStep::Fetch {
                url: self.fallback_url.clone(),
                api: Some(self.fallback.clone()),
            };
        }
        DownloadStep::Fail(match fetched {
            Fetched::Failed(e) => e,
            Fetched::NotVideo { status, text } => not_video_error(status, text, ctx),
            Fetched::Blob => return DownloadStep::Done,
        })
    }
}

/// The fallback answered with something that is not the video: a JSON or
/// HTML answer says why (1001, 2001, a proxy page…).
fn not_video_error(status: u16, text: Option<&str>, ctx: ErrorContext<'_>) -> Error {
    let status_text = crate::core::format::Int::from(status);
    let e = match text {
        Some(text) => match api::read_envelope(status, text, ctx) {
            Err(e) => return e,
            Ok(_) => Error::protocol(format!(
                "the download answered with a JSON reply instead of the video (HTTP {status_text})"
            )),
        },
        None => Error::protocol(format!("the download failed with HTTP {status_text}")),
    };
    e.with_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::api::RenderState;
    use crate::core::json;

    const BASE: &str = "http://api.test";
    const SID: &str = "s1";
    const POLL: u64 = 30_000;

    fn machine() -> ExportMachine {
        ExportMachine::new(&Timing::default(), BASE, SID)
    }

    fn drain(m: &mut ExportMachine) -> Vec<ExportEffect> {
        std::iter::from_fn(|| m.poll_effect()).collect()
    }

    fn ready() -> Timeline {
        Timeline::from_state(
            &json::parse(r#"{"state":{"draft":{"t":[{"tt":0,"sg":[{"d":5000}]}]}}}"#).unwrap(),
        )
    }

    fn empty() -> Timeline {
        Timeline::from_state(&json::parse(r#"{"state":{"draft":{"t":[]}}}"#).unwrap())
    }

    fn status(state: RenderState, progress: f64, url: Option<&str>) -> Result<RenderStatus> {
        Ok(RenderStatus {
            id: None,
            state,
            progress,
            url: url.map(str::to_string),
            error: None,
        })
    }

    fn progress(progress: f64, status: &'static str, id: &str) -> ExportEffect {
        ExportEffect::Progress(ExportProgress {
            progress,
            status,
            id: Some(id.to_string()),
        })
    }

    fn send_submit(id: &str) -> ExportEffect {
        ExportEffect::Send(endpoints::render_submit(id, SID, ready().draft()))
    }

    fn send_status(id: &str) -> ExportEffect {
        ExportEffect::Send(endpoints::render_status(id))
    }

    fn timer(at_ms: u64) -> ExportEffect {
        ExportEffect::ArmTimer { at_ms }
    }

    fn fail_of(effects: &[ExportEffect]) -> &Error {
        match effects.last() {
            Some(ExportEffect::Fail(e)) => e,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    /// Submits at `now` and returns the machine waiting for its first poll
    /// (the id is `render_<now>`, and never `render_0`: ids start above 0).
    fn submitted(now: u64) -> ExportMachine {
        let mut m = machine();
        m.submit(now);
        assert_eq!(drain(&mut m), [ExportEffect::FetchState]);
        m.on_state(now, Ok(ready()));
        let id = api::render_id(now.max(1));
        assert_eq!(drain(&mut m), [send_submit(&id)]);
        m.on_submitted(now, Ok(()));
        assert_eq!(
            drain(&mut m),
            [
                ExportEffect::RememberId(id.clone()),
                progress(0.0, "pending", &id),
                timer(now + POLL),
            ]
        );
        m
    }

    /// Plays `n` polls answered "processing" from `from`, returning the
    /// effects of the last and its time.
    fn play_processing(m: &mut ExportMachine, from: u64, n: u32) -> (Vec<ExportEffect>, u64) {
        let mut at = from;
        let mut last = Vec::new();
        for _ in 0..n {
            at += POLL;
            m.on_timer(at);
            let id = m.render_id().unwrap().to_string();
            assert_eq!(drain(m), [send_status(&id)]);
            m.on_status(at, status(RenderState::Processing, 50.0, None));
            last = drain(m);
        }
        (last, at)
    }

    #[test]
    fn submit_then_polls_on_the_cadence_with_progress() {
        let mut m = submitted(1_000);
        assert_eq!(m.render_id(), Some("render_1000"));
        // The timer fires a bit late: the next poll is a full interval later.
        m.on_timer(31_050);
        assert_eq!(drain(&mut m), [send_status("render_1000")]);
        m.on_status(31_100, status(RenderState::Pending, 0.0, None));
        assert_eq!(
            drain(&mut m),
            [progress(0.0, "pending", "render_1000"), timer(61_100)]
        );
        m.on_timer(61_100);
        assert_eq!(drain(&mut m), [send_status("render_1000")]);
        m.on_status(61_200, status(RenderState::Processing, 42.5, None));
        assert_eq!(
            drain(&mut m),
            [progress(42.5, "processing", "render_1000"), timer(91_200)]
        );
        // Early or stray inputs do nothing.
        m.on_status(
            61_300,
            status(RenderState::Completed, 100.0, Some("/x.mp4")),
        );
        m.on_size(61_300, Ok(Some(1)));
        m.on_state(61_300, Ok(ready()));
        assert!(drain(&mut m).is_empty());
        assert!(!m.is_ended());
    }

    #[test]
    fn completed_resolves_the_url_probes_it_and_forgets_the_id() {
        let mut m = submitted(0);
        m.on_timer(POLL);
        drain(&mut m);
        m.on_status(
            POLL,
            status(RenderState::Completed, 100.0, Some("/files/render_0.mp4")),
        );
        let url = "http://api.test/files/render_0.mp4".to_string();
        assert_eq!(
            drain(&mut m),
            [
                progress(100.0, "completed", "render_1"),
                ExportEffect::ProbeSize {
                    url: url.clone(),
                    limit_ms: 60_000
                },
            ]
        );
        m.on_size(POLL + 5, Ok(Some(1234)));
        assert_eq!(
            drain(&mut m),
            [
                ExportEffect::ForgetId,
                ExportEffect::Finish(ExportResult {
                    id: "render_1".into(),
                    url,
                    size_bytes: Some(1234),
                }),
            ]
        );
        assert!(m.is_ended());
        m.on_timer(POLL * 2);
        m.abort(POLL * 2);
        assert!(drain(&mut m).is_empty(), "nothing after the end");
    }

    #[test]
    fn completed_with_an_absolute_url_and_no_size() {
        let mut m = submitted(0);
        m.on_timer(POLL);
        drain(&mut m);
        m.on_status(
            POLL,
            status(
                RenderState::Completed,
                100.0,
                Some(" https://cdn.test/a.mp4 "),
            ),
        );
        assert_eq!(
            drain(&mut m).last(),
            Some(&ExportEffect::ProbeSize {
                url: "https://cdn.test/a.mp4".into(),
                limit_ms: 60_000
            })
        );
        m.on_size(POLL, Ok(None));
        assert_eq!(
            drain(&mut m).last(),
            Some(&ExportEffect::Finish(ExportResult {
                id: "render_1".into(),
                url: "https://cdn.test/a.mp4".into(),
                size_bytes: None,
            }))
        );
    }

    #[test]
    fn completed_without_a_usable_url_is_a_protocol_error() {
        for url in [None, Some("javascript:alert(1)")] {
            let mut m = submitted(0);
            m.on_timer(POLL);
            drain(&mut m);
            m.on_status(POLL, status(RenderState::Completed, 100.0, url));
            let effects = drain(&mut m);
            assert_eq!(fail_of(&effects).kind(), ErrorKind::Protocol, "{url:?}");
            // The id stays: the render exists, only its URL was unusable.
            assert!(!effects.contains(&ExportEffect::ForgetId), "{url:?}");
        }
        let mut m = submitted(0);
        m.on_timer(POLL);
        drain(&mut m);
        m.on_status(POLL, status(RenderState::Completed, 100.0, None));
        assert!(text_has(
            fail_of(&drain(&mut m)).message(),
            "the completed render has no URL"
        ));
    }

    #[test]
    fn a_failed_probe_fails_the_export() {
        let mut m = submitted(0);
        m.on_timer(POLL);
        drain(&mut m);
        m.on_status(POLL, status(RenderState::Completed, 100.0, Some("/a.mp4")));
        drain(&mut m);
        m.on_size(POLL, Err(Error::network("offline")));
        let effects = drain(&mut m);
        assert_eq!(effects.len(), 1);
        assert_eq!(fail_of(&effects).kind(), ErrorKind::Network);
    }

    #[test]
    fn render_failure_is_retried_once_with_a_new_id() {
        let mut m = submitted(5_000);
        m.on_timer(35_000);
        drain(&mut m);
        m.on_status(35_000, status(RenderState::Failed, 10.0, None));
        // Not cancelled first: the failed job is not running.
        assert_eq!(
            drain(&mut m),
            [
                progress(10.0, "failed", "render_5000"),
                progress(0.0, "retrying", "render_5000"),
                ExportEffect::FetchState,
            ]
        );
        // A clock that went back still gives a newer id.
        m.on_state(4_000, Ok(ready()));
        assert_eq!(drain(&mut m), [send_submit("render_5001")]);
        assert_eq!(m.render_id(), Some("render_5000"), "not before accepted");
        m.on_submitted(36_000, Ok(()));
        // The retry's polls start over; no second "pending".
        assert_eq!(
            drain(&mut m),
            [
                ExportEffect::RememberId("render_5001".into()),
                timer(36_000 + POLL),
            ]
        );
        assert_eq!(m.render_id(), Some("render_5001"));
        m.on_timer(66_000);
        assert_eq!(drain(&mut m), [send_status("render_5001")]);
        m.on_status(
            66_000,
            status(RenderState::Completed, 100.0, Some("/b.mp4")),
        );
        m.on_size(66_000, Ok(None));
        let effects = drain(&mut m);
        assert!(matches!(
            effects.last(),
            Some(ExportEffect::Finish(r)) if r.id == "render_5001"
        ));
    }

    #[test]
    fn the_retry_id_follows_the_clock_when_it_moved_on() {
        let mut m = submitted(5_000);
        m.on_timer(35_000);
        drain(&mut m);
        m.on_status(35_000, status(RenderState::Failed, 0.0, None));
        drain(&mut m);
        m.on_state(35_100, Ok(ready()));
        assert_eq!(drain(&mut m), [send_submit("render_35100")]);
    }

    #[test]
    fn a_second_failure_fails_the_export() {
        let mut m = submitted(0);
        m.on_timer(POLL);
        drain(&mut m);
        m.on_status(POLL, status(RenderState::Failed, 0.0, None));
        drain(&mut m);
        m.on_state(POLL, Ok(ready()));
        drain(&mut m);
        m.on_submitted(POLL, Ok(()));
        drain(&mut m);
        m.on_timer(2 * POLL);
        drain(&mut m);
        m.on_status(2 * POLL, status(RenderState::Failed, 0.0, None));
        let effects = drain(&mut m);
        assert_eq!(
            effects[..2],
            [
                progress(0.0, "failed", "render_30000"),
                ExportEffect::ForgetId
            ]
        );
        let e = fail_of(&effects);
        assert_eq!(e.kind(), ErrorKind::RenderFailed);
        assert!(text_has(e.message(), "failed twice"));
        assert!(m.is_ended());
    }

    #[test]
    fn a_failed_submit_fails_without_remembering_the_id() {
        let mut m = machine();
        m.submit(0);
        drain(&mut m);
        m.on_state(10, Ok(ready()));
        drain(&mut m);
        let busy = Error::new(ErrorKind::Protocol, "an export is already running").with_code(4009);
        m.on_submitted(20, Err(busy.clone()));
        assert_eq!(drain(&mut m), [ExportEffect::Fail(busy)]);
        assert_eq!(m.render_id(), None);
    }

    #[test]
    fn running_out_of_polls_cancels_the_job_then_retries_then_times_out() {
        let mut m = submitted(0);
        let (last, at) = play_processing(&mut m, 0, 10);
        // The 10th poll is at 5 minutes; the job may still run: cancel it.
        assert_eq!(at, 300_000);
        assert_eq!(
            last,
            [
                progress(50.0, "processing", "render_1"),
                ExportEffect::Send(endpoints::render_cancel("render_1")),
            ]
        );
        // Whatever the cancel answers, the retry goes ahead.
        m.on_reply(at, Err(Error::network("offline")));
        assert_eq!(
            drain(&mut m),
            [
                progress(0.0, "retrying", "render_1"),
                ExportEffect::FetchState
            ]
        );
        m.on_state(at, Ok(ready()));
        assert_eq!(drain(&mut m), [send_submit("render_300000")]);
        m.on_submitted(at, Ok(()));
        assert_eq!(
            drain(&mut m),
            [
                ExportEffect::RememberId("render_300000".into()),
                timer(at + POLL)
            ]
        );
        let (last, end) = play_processing(&mut m, at, 10);
        assert_eq!(end, 600_000);
        assert_eq!(last[1], ExportEffect::ForgetId);
        let e = fail_of(&last);
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(text_has(e.message(), "10 status checks"));
    }

    #[test]
    fn poll_errors_count_as_polls() {
        let mut m = submitted(0);
        let mut at = 0;
        for (i, e) in [
            Error::network("reset"),
            Error::protocol("unknown render status"),
            Error::request_timeout(60_000),
        ]
        .into_iter()
        .enumerate()
        {
            at += POLL;
            m.on_timer(at);
            assert_eq!(drain(&mut m), [send_status("render_1")]);
            m.on_status(at, Err(e));
            // No progress for a failed check; the next one is on the cadence.
            assert_eq!(drain(&mut m), [timer(at + POLL)], "error {i}");
        }
        // Seven more failures use up the job's ten polls.
        for _ in 0..7 {
            at += POLL;
            m.on_timer(at);
            drain(&mut m);
            m.on_status(at, Err(Error::network("reset")));
        }
        assert_eq!(
            drain(&mut m),
            [ExportEffect::Send(endpoints::render_cancel("render_1"))]
        );
    }

    #[test]
    fn an_unreadable_status_reply_counts_as_a_poll() {
        let mut m = submitted(0);
        m.on_timer(POLL);
        drain(&mut m);
        m.on_reply(
            POLL,
            Ok(json::parse(r#"{"success":true,"data":{}}"#).unwrap()),
        );
        assert_eq!(drain(&mut m), [timer(2 * POLL)]);
        m.on_timer(2 * POLL);
        drain(&mut m);
        let doc =
            r#"{"success":true,"data":{"status":"completed","progress":100,"outputUrl":"/o.mp4"}}"#;
        m.on_reply(2 * POLL, Ok(json::parse(doc).unwrap()));
        assert_eq!(
            drain(&mut m),
            [
                progress(100.0, "completed", "render_1"),
                ExportEffect::ProbeSize {
                    url: "http://api.test/o.mp4".into(),
                    limit_ms: 60_000
                }
            ]
        );
    }

    #[test]
    fn a_non_transient_poll_error_fails_at_once() {
        for e in [
            Error::session_not_found(),
            Error::token_expired(),
            Error::rate_limited(30_000),
            Error::aborted(),
        ] {
            let mut m = submitted(0);
            m.on_timer(POLL);
            drain(&mut m);
            m.on_status(POLL, Err(e.clone()));
            assert_eq!(drain(&mut m), [ExportEffect::Fail(e)]);
            assert_eq!(m.render_id(), Some("render_1"), "still resumable");
        }
    }

    #[test]
    fn cancelled_elsewhere_is_not_retried() {
        let mut m = submitted(0);
        m.on_timer(POLL);
        drain(&mut m);
        m.on_status(POLL, status(RenderState::Cancelled, 30.0, None));
        let effects = drain(&mut m);
        assert_eq!(
            effects[..2],
            [
                progress(30.0, "cancelled", "render_1"),
                ExportEffect::ForgetId
            ]
        );
        assert_eq!(fail_of(&effects).kind(), ErrorKind::Aborted);
    }

    fn assert_cancelled(effects: &[ExportEffect]) {
        assert_eq!(effects.len(), 1, "{effects:?}");
        let e = fail_of(effects);
        assert_eq!(e.kind(), ErrorKind::Aborted);
        assert_eq!(e.recovery(), &Recovery::None);
    }

    #[test]
    fn cancel_before_the_submit_reply() {
        let mut m = machine();
        m.submit(0);
        drain(&mut m);
        m.on_state(10, Ok(ready()));
        drain(&mut m);
        // Nothing accepted yet: nothing to cancel on the server.
        assert_eq!(m.cancel(20), None);
        assert_cancelled(&drain(&mut m));
        m.on_submitted(30, Ok(()));
        assert!(drain(&mut m).is_empty(), "a late reply is ignored");
        assert_eq!(m.render_id(), None);
        assert!(m.is_cancelled());
    }

    #[test]
    fn cancel_before_the_state_reply() {
        let mut m = machine();
        m.submit(0);
        drain(&mut m);
        assert_eq!(m.cancel(5), None);
        assert_cancelled(&drain(&mut m));
        m.on_state(10, Ok(ready()));
        assert!(drain(&mut m).is_empty());
    }

    #[test]
    fn cancel_while_waiting_for_the_poll_timer() {
        let mut m = submitted(0);
        assert_eq!(m.cancel(100), Some(endpoints::render_cancel("render_1")));
        assert_cancelled(&drain(&mut m));
        m.on_timer(POLL);
        assert!(drain(&mut m).is_empty(), "no poll after the cancel");
        assert_eq!(m.on_cancel_reply(200, Ok(())), CancelOutcome::ForgetId);
    }

    #[test]
    fn cancel_while_a_poll_is_in_flight() {
        let mut m = submitted(0);
        m.on_timer(POLL);
        drain(&mut m);
        assert_eq!(
            m.cancel(POLL + 1),
            Some(endpoints::render_cancel("render_1"))
        );
        // The aborted poll's own error, or a late status, changes nothing.
        m.on_status(POLL + 2, Err(Error::aborted()));
        m.on_status(POLL + 2, status(RenderState::Completed, 100.0, Some("/a")));
        assert_cancelled(&drain(&mut m));
        // The cancel request itself failed: the render may still run.
        let e = Error::network("offline");
        assert_eq!(
            m.on_cancel_reply(POLL + 3, Err(e.clone())),
            CancelOutcome::Fail(e)
        );
    }

    #[test]
    fn cancel_while_probing_and_after_the_end() {
        let mut m = submitted(0);
        m.on_timer(POLL);
        drain(&mut m);
        m.on_status(POLL, status(RenderState::Completed, 100.0, Some("/a.mp4")));
        drain(&mut m);
        assert!(m.cancel(POLL).is_some());
        assert_cancelled(&drain(&mut m));

        // After a finished export the result stands; the server's job can
        // still be cancelled (its id is still known).
        let mut m = submitted(0);
        m.on_timer(POLL);
        drain(&mut m);
        m.on_status(POLL, status(RenderState::Completed, 100.0, Some("/a.mp4")));
        m.on_size(POLL, Ok(None));
        drain(&mut m);
        assert_eq!(
            m.cancel(POLL * 2),
            Some(endpoints::render_cancel("render_1"))
        );
        assert!(drain(&mut m).is_empty());
    }

    #[test]
    fn cancel_during_the_retry() {
        let mut m = submitted(0);
        let (_, at) = play_processing(&mut m, 0, 10);
        // While the old job's cancel is in flight.
        assert_eq!(m.cancel(at), Some(endpoints::render_cancel("render_1")));
        assert_cancelled(&drain(&mut m));
        m.on_reply(at, Ok(json::parse(r#"{"success":true}"#).unwrap()));
        assert!(drain(&mut m).is_empty(), "no resubmission after a cancel");
    }

    /// Drives a fresh export to step `n` of its life and returns it waiting
    /// there (with the label of the step).
    fn at_step(n: usize) -> (ExportMachine, &'static str) {
        let mut m = machine();
        m.submit(0);
        if n == 0 {
            return (m, "fetching the state");
        }
        drain(&mut m);
        m.on_state(0, Ok(ready()));
        if n == 1 {
            return (m, "submitting");
        }
        drain(&mut m);
        m.on_submitted(0, Ok(()));
        if n == 2 {
            return (m, "waiting for the timer");
        }
        drain(&mut m);
        m.on_timer(POLL);
        if n == 3 {
            return (m, "polling");
        }
        drain(&mut m);
        if n == 4 {
            m.on_status(POLL, status(RenderState::Failed, 0.0, None));
            return (m, "fetching the state for the retry");
        }
        if n == 5 {
            m.on_status(POLL, status(RenderState::Failed, 0.0, None));
            drain(&mut m);
            m.on_state(POLL, Ok(ready()));
            return (m, "resubmitting");
        }
        m.on_status(POLL, status(RenderState::Completed, 100.0, Some("/a.mp4")));
        (m, "probing")
    }

    #[test]
    fn abort_at_each_step_keeps_the_id() {
        for n in 0..=6 {
            let (mut m, label) = at_step(n);
            drain(&mut m);
            let id = m.render_id().map(str::to_string);
            m.abort(POLL + 1);
            let effects = drain(&mut m);
            assert_eq!(effects.len(), 1, "{label}: {effects:?}");
            assert_eq!(fail_of(&effects).kind(), ErrorKind::Aborted, "{label}");
            assert!(!m.is_cancelled(), "{label}");
            assert_eq!(m.render_id().map(str::to_string), id, "{label}");
            // Late answers of any kind are ignored.
            m.on_state(POLL + 2, Ok(ready()));
            m.on_submitted(POLL + 2, Ok(()));
            m.on_timer(POLL + 2);
            m.on_status(POLL + 2, status(RenderState::Completed, 100.0, Some("/a")));
            m.on_size(POLL + 2, Ok(Some(1)));
            m.abort(POLL + 2);
            assert!(drain(&mut m).is_empty(), "{label}");
        }
    }

    #[test]
    fn cancel_at_each_step() {
        for n in 0..=6 {
            let (mut m, label) = at_step(n);
            drain(&mut m);
            let id = m.render_id().map(str::to_string);
            let req = m.cancel(POLL + 1);
            assert_eq!(req, id.as_deref().map(endpoints::render_cancel), "{label}");
            assert_cancelled(&drain(&mut m));
            m.abort(POLL + 2);
            assert!(drain(&mut m).is_empty(), "{label}");
        }
    }

    #[test]
    fn a_cancel_drops_io_not_yet_performed_but_keeps_the_bookkeeping() {
        let mut m = machine();
        m.submit(0);
        drain(&mut m);
        m.on_state(0, Ok(ready()));
        drain(&mut m);
        m.on_submitted(0, Ok(()));
        // Cancelled before the shell performed these effects.
        assert!(m.cancel(1).is_some());
        let effects = drain(&mut m);
        assert_eq!(
            effects[..2],
            [
                ExportEffect::RememberId("render_1".into()),
                progress(0.0, "pending", "render_1"),
            ]
        );
        assert_cancelled(&effects[2..]);
    }

    #[test]
    fn an_aborted_poll_without_a_cancel_keeps_its_error() {
        let mut m = submitted(0);
        m.on_timer(POLL);
        drain(&mut m);
        let mine = Error::new(ErrorKind::Aborted, "stopped").with_recovery(Recovery::Retry);
        m.on_status(POLL, Err(mine.clone()));
        assert_eq!(drain(&mut m), [ExportEffect::Fail(mine)]);
    }

    #[test]
    fn resume_skips_the_submit() {
        let mut m = machine();
        m.resume(1_000, "render_77");
        assert_eq!(m.render_id(), Some("render_77"));
        assert_eq!(
            drain(&mut m),
            [progress(0.0, "pending", "render_77"), timer(1_000 + POLL)]
        );
        m.on_timer(31_000);
        assert_eq!(drain(&mut m), [send_status("render_77")]);
        m.on_status(
            31_000,
            status(RenderState::Completed, 100.0, Some("/r.mp4")),
        );
        m.on_size(31_000, Ok(Some(9)));
        let effects = drain(&mut m);
        assert_eq!(
            effects[effects.len() - 2..],
            [
                ExportEffect::ForgetId,
                ExportEffect::Finish(ExportResult {
                    id: "render_77".into(),
                    url: "http://api.test/r.mp4".into(),
                    size_bytes: Some(9),
                })
            ]
        );
        // Neither a second submit nor a second resume restarts it.
        m.submit(40_000);
        m.resume(40_000, "render_78");
        assert!(drain(&mut m).is_empty());
    }

    #[test]
    fn a_resumed_render_that_fails_is_retried_with_a_newer_id() {
        let mut m = machine();
        m.resume(0, "render_99999999");
        drain(&mut m);
        m.on_timer(POLL);
        drain(&mut m);
        m.on_status(POLL, status(RenderState::Failed, 0.0, None));
        drain(&mut m);
        m.on_state(POLL, Ok(ready()));
        assert_eq!(drain(&mut m), [send_submit("render_100000000")]);

        // An id that is not ours: the clock alone.
        let mut m = machine();
        m.resume(0, "job-7");
        drain(&mut m);
        m.on_timer(POLL);
        drain(&mut m);
        m.on_status(POLL, status(RenderState::Failed, 0.0, None));
        drain(&mut m);
        m.on_state(POLL + 1, Ok(ready()));
        assert_eq!(drain(&mut m), [send_submit("render_30001")]);
    }

    #[test]
    fn a_timeline_without_clips_is_not_exported() {
        let mut m = machine();
        m.submit(0);
        drain(&mut m);
        m.on_state(5, Ok(empty()));
        let effects = drain(&mut m);
        assert_eq!(effects.len(), 1, "nothing sent");
        let e = fail_of(&effects);
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            e.message(),
            "Nothing to export yet: the timeline has no clips. Generate a video first."
        );
        assert_eq!(e.recovery(), &Recovery::FixInput);
    }

    #[test]
    fn a_failed_state_fetch_fails_the_export() {
        let mut m = machine();
        m.submit(0);
        drain(&mut m);
        let e = Error::session_not_found();
        m.on_state(5, Err(e.clone()));
        assert_eq!(drain(&mut m), [ExportEffect::Fail(e)]);
    }

    #[test]
    fn the_schedule_follows_the_timing() {
        let t = Timing::default().scaled(0.001);
        let mut m = ExportMachine::new(&t, BASE, SID);
        m.resume(7, "render_1");
        assert_eq!(drain(&mut m)[1], timer(37));
    }

    // ---- Download ----

    fn ctx() -> ErrorContext<'static> {
        ErrorContext {
            web_url: "https://web.test",
            user_id: Some("u1"),
        }
    }

    fn fallback_step() -> DownloadStep {
        DownloadStep::Fetch {
            url: "http://api.test/api/render/proxy/render_1/download".into(),
            api: Some(endpoints::render_download("render_1")),
        }
    }

    fn download() -> ExportDownload {
        ExportDownload::new(BASE, "render_1", "https://cdn.test/a.mp4")
    }

    #[test]
    fn download_tries_the_url_first() {
        let mut d = download();
        assert_eq!(
            d.start(),
            DownloadStep::Fetch {
                url: "https://cdn.test/a.mp4".into(),
                api: None
            }
        );
        assert_eq!(d.on_fetched(Fetched::Blob, ctx()), DownloadStep::Done);
    }

    #[test]
    fn download_falls_back_to_the_endpoint() {
        for first in [
            Fetched::Failed(Error::network("CORS")),
            Fetched::NotVideo {
                status: 403,
                text: None,
            },
            Fetched::NotVideo {
                status: 200,
                text: Some("<html>proxy</html>"),
            },
        ] {
            let mut d = download();
            assert_eq!(d.on_fetched(first, ctx()), fallback_step());
            assert_eq!(d.on_fetched(Fetched::Blob, ctx()), DownloadStep::Done);
        }
    }

    #[test]
    fn an_aborted_download_does_not_fall_back() {
        let mut d = download();
        assert_eq!(
            d.on_fetched(Fetched::Failed(Error::aborted()), ctx()),
            DownloadStep::Fail(Error::aborted())
        );
    }

    #[test]
    fn a_failed_fallback_says_why() {
        let fail = |fetched: Fetched<'_>| -> Error {
            let mut d = download();
            d.on_fetched(Fetched::Failed(Error::network("x")), ctx());
            match d.on_fetched(fetched, ctx()) {
                DownloadStep::Fail(e) => e,
                other => panic!("{other:?}"),
            }
        };
        let e = fail(Fetched::NotVideo {
            status: 401,
            text: Some(r#"{"code":1001,"message":"token expired"}"#),
        });
        assert_eq!(e.kind(), ErrorKind::TokenExpired);
        let e = fail(Fetched::NotVideo {
            status: 200,
            text: Some(r#"{"code":0,"data":{}}"#),
        });
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert_eq!(e.status(), Some(200));
        assert!(text_has(
            e.message(),
            "JSON reply instead of the video (HTTP 200)"
        ));
        let e = fail(Fetched::NotVideo {
            status: 502,
            text: None,
        });
        assert_eq!(e.status(), Some(502));
        assert!(text_has(e.message(), "the download failed with HTTP 502"));
        let e = fail(Fetched::Failed(Error::aborted()));
        assert_eq!(e.kind(), ErrorKind::Aborted);
        let e = fail(Fetched::Failed(Error::token_expired()));
        assert_eq!(e.kind(), ErrorKind::TokenExpired);
    }

    fn text_has(hay: &str, needle: &str) -> bool {
        crate::core::text::contains(hay, needle)
    }
}
