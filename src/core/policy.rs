//! Retry, poll and timeout policies as pure state machines of an injected
//! clock.
//!
//! Nothing here sleeps, spawns or reads a clock: every method takes
//! `now_ms` (any monotonic millisecond clock; only differences matter) and
//! returns a *decision*, including the time at which the shell should call
//! again. The shell owns the timers; the policies own the rules. So a
//! 15-minute turn cap or a 10-poll render schedule is tested in
//! microseconds by passing made-up times.
//!
//! | rule (docs/protocol.md) | machine |
//! |---|---|
//! | 429: wait 30 s, retry once; 1001: re-authenticate once | [`RetryBudget`] |
//! | \[convention\] no answer to a small request within 60 s → `timeout`; an idempotent GET is sent once more, a POST never | [`RetryBudget::for_request`] |
//! | \[convention\] a file upload: no bytes taken by the transport for 60 s → `timeout`; once sent, the reply within the request limit; never re-sent | [`Timing::upload_stall_ms`] (the shell's timer; see `glue.js` `UploadWatch`) |
//! | "still working" every 2 min; 10 min of heartbeats only → stalled; 15-min cap | [`TurnWatch`] |
//! | after a drop: resume (≥ 2 s, 3 tries) if ids, else poll state every 5 s; tell the user after 30 s | [`ResumePlan`] |
//! | a polled state is the outcome once changed and steady, and for a generation once both stages show | [`StateSettle`](crate::core::settle::StateSettle) |
//! | render: poll every 30 s, at most 10 polls, retry once with a new id | [`RenderPoller`] |
//!
//! All durations live in [`Timing`], whose `Default` is the protocol's
//! values (docs/protocol.md; the 60 s limits and the stage-two wait are
//! ours, see its "Conventions we chose") and which [`Timing::scaled`]
//! shrinks for tests and emulators.

use crate::core::api::RenderState;
use crate::core::error::{Error, ErrorKind};

/// Every duration and count the policies use. `Default` is the protocol
/// (docs/protocol.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// HTTP 429: how long to wait before the retry (30 s).
    pub rate_limit_wait_ms: u64,
    /// HTTP 429: how many retries (1).
    pub rate_limit_retries: u32,
    /// API code 1001: how many re-authentications (1).
    pub reauth_retries: u32,
    /// After a dropped stream: the least wait before each resume (2 s).
    pub resume_delay_ms: u64,
    /// After a dropped stream: how many resume tries (3).
    pub resume_tries: u32,
    /// Fallback after failed resumes: state poll interval (5 s).
    pub state_poll_ms: u64,
    /// Tell the user about a recovery only once it takes this long (30 s).
    pub notify_after_ms: u64,
    /// **\[convention\]** State recovery after a generation's raw clip
    /// showed: how long the state must hold still before it is taken as
    /// final without the second stage's BGM and title (60 s; see
    /// [`StateSettle`](crate::core::settle::StateSettle)).
    pub stage_two_wait_ms: u64,
    /// A "still working" notice after this long without progress (2 min).
    pub still_working_ms: u64,
    /// Only heartbeats for this long → the turn is stalled (10 min).
    pub stall_ms: u64,
    /// The hard cap of one turn (15 min).
    pub turn_cap_ms: u64,
    /// Render: the poll interval (30 s).
    pub render_poll_ms: u64,
    /// Render: the most polls per render job (10).
    pub render_max_polls: u32,
    /// Render: how many resubmissions with a new id (1).
    pub render_retries: u32,
    /// **\[convention\]** The time limit of one small-reply exchange (token,
    /// session, state, credits, claim, render submit/poll/cancel, URL
    /// import): from sending the request to the end of its body (60 s);
    /// `0` = no limit. For the agent stream it bounds the wait for the
    /// response headers ([`TurnWatch::headers_wait`]); downloads and the
    /// stream's body are not bound by it (they have their own limits, or
    /// may legitimately take long), nor is the sending of a file upload. Not changed by [`Timing::scaled`]: it guards against a server
    /// that stopped answering, not a protocol schedule, and a scaled
    /// 60 ms would fail healthy requests. A file upload's wait for its
    /// reply, once the last byte is sent, is bound by it
    /// ([`upload_stall_ms`](Self::upload_stall_ms) covers the sending).
    pub request_timeout_ms: u64,
    /// **\[convention\]** A file upload's stall limit: while the body is
    /// being sent, the longest time without a single byte taken by the
    /// transport (60 s); `0` = no limit. Past it the upload is stopped and
    /// fails with [`Error::upload_stalled`]; after the last byte the wait
    /// for the reply is bound by
    /// [`request_timeout_ms`](Self::request_timeout_ms)
    /// ([`Error::upload_no_reply`]). An upload is a POST, so neither is
    /// ever re-sent. A limit on progress rather than on the whole upload,
    /// because a 200 MB file on a slow link may rightly take an hour.
    /// Not changed by [`Timing::scaled`], for the same reason as the
    /// request limit: it guards against a dead network, not a protocol
    /// schedule.
    pub upload_stall_ms: u64,
    /// How many times a timed-out *idempotent* request (a GET) is sent
    /// again (1). A timed-out POST is never re-sent: it may have been
    /// processed (never charge twice: docs/protocol.md, "Recovery after a
    /// dropped stream").
    pub timeout_retries: u32,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            rate_limit_wait_ms: 30_000,
            rate_limit_retries: 1,
            reauth_retries: 1,
            resume_delay_ms: 2_000,
            resume_tries: 3,
            state_poll_ms: 5_000,
            notify_after_ms: 30_000,
            stage_two_wait_ms: 60_000,
            still_working_ms: 2 * 60_000,
            stall_ms: 10 * 60_000,
            turn_cap_ms: 15 * 60_000,
            render_poll_ms: 30_000,
            render_max_polls: 10,
            render_retries: 1,
            request_timeout_ms: 60_000,
            upload_stall_ms: 60_000,
            timeout_retries: 1,
        }
    }
}

impl Timing {
    /// Multiplies every duration by `factor`, leaving the counts (and
    /// [`request_timeout_ms`](Self::request_timeout_ms) and
    /// [`upload_stall_ms`](Self::upload_stall_ms)) alone:
    /// `Timing::default().scaled(0.001)` runs the whole protocol 1000×
    /// faster (a 15-min cap becomes 900 ms) with the same number of
    /// retries and polls. A float, because JavaScript passes one.
    ///
    /// A duration never scales below 1 ms, so no schedule degenerates into
    /// a busy loop; a factor that is not a positive finite number leaves
    /// the timing unchanged.
    pub fn scaled(self, factor: f64) -> Self {
        if !(factor.is_finite() && factor > 0.0) {
            return self;
        }
        // `as` saturates for out-of-range floats, which is what we want.
        let scale = |ms: u64| -> u64 { ((ms as f64) * factor).round().max(1.0) as u64 };
        Timing {
            rate_limit_wait_ms: scale(self.rate_limit_wait_ms),
            resume_delay_ms: scale(self.resume_delay_ms),
            state_poll_ms: scale(self.state_poll_ms),
            notify_after_ms: scale(self.notify_after_ms),
            stage_two_wait_ms: scale(self.stage_two_wait_ms),
            still_working_ms: scale(self.still_working_ms),
            stall_ms: scale(self.stall_ms),
            turn_cap_ms: scale(self.turn_cap_ms),
            render_poll_ms: scale(self.render_poll_ms),
            ..self
        }
    }
}

// ---- Request retries ------------------------------------------------------

/// What to do after a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Send the same request again at `at_ms`.
    RetryAt {
        /// When to resend (`now_ms` + the wait).
        at_ms: u64,
    },
    /// Get a new anonymous token for the same client id, then resend.
    Reauthenticate,
    /// Surface the error; its [`Recovery`](crate::core::error::Recovery)
    /// says what the user can do.
    GiveUp,
}

/// The automatic retries allowed for one logical request.
///
/// Create one per call (token, upload, chat POST, …) and feed it every
/// failure. Only two failures are retried automatically, each once:
/// HTTP 429 (after 30 s) and API code 1001 (after a new token). They are
/// counted separately, so "1001, re-auth, 429, wait, success" works, but a
/// second 1001 or a second 429 gives up.
///
/// A third is retried only for an *idempotent* request (see
/// [`for_request`](Self::for_request)): a request that ran into the
/// per-request time limit ([`Timing::request_timeout_ms`]) is sent once
/// more, at once (the wait already happened). A GET only reads, so sending
/// it again can neither duplicate work nor charge; a POST that timed out
/// may have been processed (a session created, a render submitted, URLs
/// imported), so it is never re-sent and the timeout is the answer.
///
/// Everything else gives up at once, on purpose: a network error during a
/// chat POST may have reached the server, and re-sending a message
/// "duplicates work and charges twice"; 1002 (session gone) needs a new
/// session, which only the app may decide, since the old state is lost.
#[derive(Clone, Debug)]
pub struct RetryBudget {
    timing: Timing,
    idempotent: bool,
    rate_limit_retries_used: u32,
    reauths_used: u32,
    timeout_retries_used: u32,
}

impl RetryBudget {
    /// A fresh budget for one request that must not be sent twice after a
    /// timeout (the safe default: treated like a POST).
    pub fn new(timing: &Timing) -> Self {
        Self::for_request(timing, false)
    }

    /// A fresh budget for one request; `idempotent` (a GET: see
    /// [`ApiRequest::is_idempotent`](crate::core::api::ApiRequest::is_idempotent))
    /// allows [`Timing::timeout_retries`] re-sends after a timeout.
    pub fn for_request(timing: &Timing, idempotent: bool) -> Self {
        RetryBudget {
            timing: *timing,
            idempotent,
            rate_limit_retries_used: 0,
            reauths_used: 0,
            timeout_retries_used: 0,
        }
    }

    /// Decides what to do about a failure of kind `kind` at `now_ms`, and
    /// spends budget when it retries.
    pub fn on_error(&mut self, now_ms: u64, kind: ErrorKind) -> RetryDecision {
        match kind {
            ErrorKind::RateLimited
                if self.rate_limit_retries_used < self.timing.rate_limit_retries =>
            {
                self.rate_limit_retries_used += 1;
                RetryDecision::RetryAt {
                    at_ms: now_ms.saturating_add(self.timing.rate_limit_wait_ms),
                }
            }
            ErrorKind::TokenExpired if self.reauths_used < self.timing.reauth_retries => {
                self.reauths_used += 1;
                RetryDecision::Reauthenticate
            }
            ErrorKind::Timeout
                if self.idempotent && self.timeout_retries_used < self.timing.timeout_retries =>
            {
                self.timeout_retries_used += 1;
                RetryDecision::RetryAt { at_ms: now_ms }
            }
            _ => RetryDecision::GiveUp,
        }
    }

    /// How many automatic retries (of any kind) were made so far.
    pub fn attempts(&self) -> u32 {
        self.rate_limit_retries_used + self.reauths_used + self.timeout_retries_used
    }
}

// ---- One agent turn -------------------------------------------------------

/// What a [`TurnWatch`] says at a point in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnTick {
    /// Nothing to do; call [`TurnWatch::poll`] again at `next_deadline_ms`
    /// (or at the next event, whichever comes first).
    Idle {
        /// When the next notice or limit falls due.
        next_deadline_ms: u64,
    },
    /// Tell the user the agent is still working, then wait for
    /// `next_deadline_ms`.
    StillWorking {
        /// Time since the turn began, for "still working (4 min)…".
        elapsed_ms: u64,
        /// When the next notice or limit falls due.
        next_deadline_ms: u64,
    },
    /// Only heartbeats (or nothing) for the stall limit: abort the stream
    /// and fail with [`ErrorKind::StreamStalled`].
    Stalled {
        /// Time since the last real event.
        idle_ms: u64,
        /// The stall limit that tripped ([`Timing::stall_ms`]).
        limit_ms: u64,
        /// Whether any keep-alive arrived since the last real event: the
        /// server was there and the agent stuck, or nothing came at all.
        keepalives: bool,
    },
    /// The turn hit its hard cap: abort and fail with
    /// [`ErrorKind::Timeout`].
    Capped {
        /// Time since the turn began.
        elapsed_ms: u64,
        /// The cap that tripped ([`Timing::turn_cap_ms`]).
        limit_ms: u64,
    },
}

impl TurnTick {
    /// The error to surface for a terminal tick (`Stalled`, `Capped`).
    pub fn error(&self) -> Option<Error> {
        match *self {
            TurnTick::Stalled {
                idle_ms,
                limit_ms,
                keepalives,
            } => Some(Error::stream_stalled(idle_ms, limit_ms, keepalives)),
            TurnTick::Capped {
                elapsed_ms,
                limit_ms,
            } => Some(Error::turn_capped(elapsed_ms, limit_ms)),
            TurnTick::Idle { .. } | TurnTick::StillWorking { .. } => None,
        }
    }
}

/// Watches one agent turn (one `/run_sse` stream, including any resume) for
/// the "still working" notice, the heartbeat stall and the hard cap.
///
/// Feed it every event with [`on_event`](Self::on_event) and call
/// [`poll`](Self::poll) after each event and whenever the timer set to the
/// last reported deadline fires.
///
/// - The "still working" notice comes after `still_working_ms` with
///   no *real* event, then again every interval: while text streams in,
///   the user can see progress and a notice would be noise.
/// - Stall: no real event for `stall_ms`. Heartbeats prove the
///   connection lives, not that work progresses, so they do not reset it.
/// - Cap: `turn_cap_ms` after the start, whatever arrives.
///
/// Once stalled or capped the watch stays so.
#[derive(Clone, Debug)]
pub struct TurnWatch {
    timing: Timing,
    started_ms: u64,
    last_progress_ms: u64,
    /// A heartbeat arrived since the last real event.
    keepalives: bool,
    next_notice_ms: u64,
    ended: Option<TurnTick>,
}

impl TurnWatch {
    /// Starts watching a turn whose request was sent at `now_ms`.
    pub fn new(timing: &Timing, now_ms: u64) -> Self {
        TurnWatch {
            timing: *timing,
            started_ms: now_ms,
            last_progress_ms: now_ms,
            keepalives: false,
            next_notice_ms: now_ms.saturating_add(timing.still_working_ms),
            ended: None,
        }
    }

    /// Records an event. Real events (text, tool calls, tool results,
    /// errors) reset the stall timer and the notice timer; heartbeats
    /// (`{"type":"heartbeat"}`, empty `data:`, `:` comments) do not; they
    /// are only noted, so a stall can say whether any came.
    pub fn on_event(&mut self, now_ms: u64, is_heartbeat: bool) {
        if self.ended.is_some() {
            return;
        }
        if is_heartbeat {
            self.keepalives = true;
            return;
        }
        self.keepalives = false;
        self.last_progress_ms = self.last_progress_ms.max(now_ms);
        self.next_notice_ms = self
            .last_progress_ms
            .saturating_add(self.timing.still_working_ms);
    }

    /// When the turn began.
    pub fn started_ms(&self) -> u64 {
        self.started_ms
    }

    /// When the hard cap falls due; a [`ResumePlan`] for this turn should
    /// give up by then too.
    pub fn cap_deadline_ms(&self) -> u64 {
        self.started_ms.saturating_add(self.timing.turn_cap_ms)
    }

    /// How long to wait at `now_ms` for the stream's response headers, and
    /// the error if none come: the per-request time limit (a server that
    /// takes the message and never answers is not streaming; the stall and
    /// notice timers only run once the body is being read), and never past
    /// the hard cap.
    pub fn headers_wait(&self, now_ms: u64) -> (u64, Error) {
        let cap_left = self.cap_deadline_ms().saturating_sub(now_ms);
        let limit = self.timing.request_timeout_ms;
        if limit != 0 && limit < cap_left {
            (limit, Error::request_timeout(limit))
        } else {
            (
                cap_left,
                Error::turn_capped_unanswered(self.timing.turn_cap_ms),
            )
        }
    }

    fn stall_deadline_ms(&self) -> u64 {
        self.last_progress_ms.saturating_add(self.timing.stall_ms)
    }

    /// The earliest time something can change without a new event.
    pub fn next_deadline_ms(&self) -> u64 {
        self.next_notice_ms
            .min(self.stall_deadline_ms())
            .min(self.cap_deadline_ms())
    }

    /// What to do at `now_ms`. Returns `StillWorking` at most once per
    /// interval, however late the shell calls (no burst of notices after a
    /// suspended laptop wakes up).
    pub fn poll(&mut self, now_ms: u64) -> TurnTick {
        if let Some(end) = self.ended {
            return end;
        }
        let stall_at = self.stall_deadline_ms();
        let cap_at = self.cap_deadline_ms();
        if now_ms >= stall_at || now_ms >= cap_at {
            // Both may have passed if the shell polled late: report the
            // one that fell due first, which is what actually happened.
            let end = if now_ms >= stall_at && stall_at < cap_at {
                TurnTick::Stalled {
                    idle_ms: now_ms - self.last_progress_ms,
                    limit_ms: self.timing.stall_ms,
                    keepalives: self.keepalives,
                }
            } else {
                TurnTick::Capped {
                    elapsed_ms: now_ms.saturating_sub(self.started_ms),
                    limit_ms: self.timing.turn_cap_ms,
                }
            };
            self.ended = Some(end);
            return end;
        }
        if now_ms >= self.next_notice_ms {
            let every = self.timing.still_working_ms.max(1);
            let behind = (now_ms - self.next_notice_ms) / every + 1;
            self.next_notice_ms = self
                .next_notice_ms
                .saturating_add(behind.saturating_mul(every));
            return TurnTick::StillWorking {
                elapsed_ms: now_ms.saturating_sub(self.started_ms),
                next_deadline_ms: self.next_deadline_ms(),
            };
        }
        TurnTick::Idle {
            next_deadline_ms: self.next_deadline_ms(),
        }
    }
}

// ---- Recovery after a dropped stream --------------------------------------

/// The next step of a [`ResumePlan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumeStep {
    /// At `at_ms`, POST the same chat body again with `Last-Event-ID` set
    /// to the last id seen: the server replays what was missed without
    /// running or charging again. Report a failure as another
    /// [`ResumePlan::on_drop`], success with [`ResumePlan::on_resumed`].
    ReconnectAt {
        /// When to reconnect.
        at_ms: u64,
        /// 1 for the first try.
        attempt: u32,
    },
    /// At `at_ms`, GET the session state and report whether the turn has
    /// settled with [`ResumePlan::on_state`].
    PollStateAt {
        /// When to poll.
        at_ms: u64,
    },
    /// Recovered: the stream resumed or the state settled.
    Done,
    /// The turn's deadline passed before recovery: fail the turn with
    /// [`ErrorKind::Timeout`].
    GiveUp,
}

/// Recovery after the event stream dropped before it closed normally.
///
/// One plan per turn: create it with the turn, and report each drop (and
/// each failed reconnect, which is just another drop) with
/// [`on_drop`](Self::on_drop). The protocol forbids re-sending the message
/// (it would run and charge twice; docs/protocol.md, "Recovery after a
/// dropped stream"). Instead:
/// 1. if the stream carried `id:`s, resume up to `resume_tries` times,
///    each at least `resume_delay_ms` (or the server's `retry:` hint, if
///    longer) after the drop or the previous failure;
/// 2. otherwise, or when all resumes failed, poll the state every
///    `state_poll_ms` until the shell reports it settled;
/// 3. tell the user once, only when recovery takes more than
///    `notify_after_ms` ([`should_notify`](Self::should_notify));
///    quick recoveries stay invisible.
///
/// After a successful resume ([`on_resumed`](Self::on_resumed)) a later
/// drop starts afresh with new tries. Every step is bounded by the
/// deadline ([`with_deadline_ms`](Self::with_deadline_ms), normally the
/// turn's [`TurnWatch::cap_deadline_ms`]): past it, the step is `GiveUp`.
#[derive(Clone, Debug)]
pub struct ResumePlan {
    timing: Timing,
    dropped_ms: u64,
    deadline_ms: u64,
    server_retry_ms: Option<u64>,
    tries: u32,
    step: ResumeStep,
    notified: bool,
}

impl ResumePlan {
    /// A plan for a turn with nothing dropped yet (its step is `Done`) and
    /// no deadline.
    pub fn new(timing: &Timing) -> Self {
        ResumePlan {
            timing: *timing,
            dropped_ms: 0,
            deadline_ms: u64::MAX,
            server_retry_ms: None,
            tries: 0,
            step: ResumeStep::Done,
            notified: false,
        }
    }

    /// Bounds every step by `deadline_ms` (the turn's cap).
    pub fn with_deadline_ms(mut self, deadline_ms: u64) -> Self {
        self.deadline_ms = deadline_ms;
        self
    }

    /// Records the stream's last SSE `retry:` value. It lengthens the wait
    /// before a reconnect, but never beyond `notify_after_ms`, so a hostile
    /// or mistaken value cannot stall recovery.
    pub fn set_server_retry_ms(&mut self, retry_ms: Option<u64>) {
        self.server_retry_ms = retry_ms;
    }

    fn reconnect_wait_ms(&self) -> u64 {
        self.server_retry_ms
            .map_or(0, |ms| ms.min(self.timing.notify_after_ms))
            .max(self.timing.resume_delay_ms)
    }

    /// The stream dropped at `now_ms` (or a reconnect attempt failed);
    /// `had_ids`: whether any event so far carried an `id:`. Returns what
    /// to do next.
    pub fn on_drop(&mut self, now_ms: u64, had_ids: bool) -> ResumeStep {
        self.step = match self.step {
            // A failed reconnect: try again, or fall back after the last.
            ResumeStep::ReconnectAt { .. } if self.tries < self.timing.resume_tries => {
                self.reconnect_after(now_ms)
            }
            ResumeStep::ReconnectAt { .. } => self.poll_after(now_ms),
            // Already polling: keep the schedule.
            ResumeStep::PollStateAt { .. } | ResumeStep::GiveUp => self.step,
            ResumeStep::Done => {
                self.dropped_ms = now_ms;
                self.notified = false;
                self.tries = 0;
                if had_ids && self.timing.resume_tries > 0 {
                    self.reconnect_after(now_ms)
                } else {
                    self.poll_after(now_ms)
                }
            }
        };
        self.step
    }

    fn bounded(&self, step: ResumeStep) -> ResumeStep {
        match step {
            ResumeStep::ReconnectAt { at_ms, .. } | ResumeStep::PollStateAt { at_ms }
                if at_ms > self.deadline_ms =>
            {
                ResumeStep::GiveUp
            }
            other => other,
        }
    }

    fn reconnect_after(&mut self, now_ms: u64) -> ResumeStep {
        self.tries += 1;
        self.bounded(ResumeStep::ReconnectAt {
            at_ms: now_ms.saturating_add(self.reconnect_wait_ms()),
            attempt: self.tries,
        })
    }

    fn poll_after(&self, now_ms: u64) -> ResumeStep {
        self.bounded(ResumeStep::PollStateAt {
            at_ms: now_ms.saturating_add(self.timing.state_poll_ms),
        })
    }

    /// The server refused the resume for good (it does not know the turn):
    /// stop reconnecting and read the outcome from the state instead.
    pub fn stop_resuming(&mut self, now_ms: u64) -> ResumeStep {
        if matches!(self.step, ResumeStep::ReconnectAt { .. }) {
            self.step = self.poll_after(now_ms);
        }
        self.step
    }

    /// The current step.
    pub fn step(&self) -> ResumeStep {
        self.step
    }

    /// The resumed stream is flowing again; a later drop starts afresh.
    pub fn on_resumed(&mut self) -> ResumeStep {
        self.step = ResumeStep::Done;
        self.step
    }

    /// A state poll answered at `now_ms`; `settled` is the shell's verdict
    /// (no job running, both generation stages done). A failed poll is
    /// reported as `settled: false`.
    pub fn on_state(&mut self, now_ms: u64, settled: bool) -> ResumeStep {
        if matches!(self.step, ResumeStep::PollStateAt { .. }) {
            self.step = if settled {
                ResumeStep::Done
            } else {
                self.poll_after(now_ms)
            };
        }
        self.step
    }

    /// When the user notice falls due, unless it was given or recovery is
    /// over: the shell can set a timer for it alongside the step's.
    pub fn notice_at_ms(&self) -> Option<u64> {
        let open = !matches!(self.step, ResumeStep::Done | ResumeStep::GiveUp);
        (open && !self.notified)
            .then(|| self.dropped_ms.saturating_add(self.timing.notify_after_ms))
    }

    /// True exactly once: the first call at or after the notice time while
    /// recovery is still going on.
    pub fn should_notify(&mut self, now_ms: u64) -> bool {
        match self.notice_at_ms() {
            Some(at) if now_ms >= at => {
                self.notified = true;
                true
            }
            _ => false,
        }
    }

    /// How long recovery has taken at `now_ms`.
    pub fn elapsed_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.dropped_ms)
    }
}

// ---- Export render --------------------------------------------------------

/// What the shell does next for an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderStep {
    /// GET the job's status at `at_ms`.
    PollAt {
        /// When to poll.
        at_ms: u64,
        /// 1-based poll number for this job (for progress logs).
        poll: u32,
    },
    /// Submit the render again with a **new** id (a new `render_<ts>`),
    /// then call [`RenderPoller::on_resubmitted`]. When `cancel_previous`
    /// is set the old job may still be running: cancel it first, since
    /// the service allows one active export per session.
    Resubmit {
        /// Cancel the old job before submitting the new one.
        cancel_previous: bool,
    },
    /// The render completed: download from its URL.
    Download,
    /// Give up with this kind: [`ErrorKind::RenderFailed`] when the retry
    /// failed too, [`ErrorKind::Timeout`] when it ran out of polls too,
    /// [`ErrorKind::Aborted`] when someone cancelled the job.
    Fail(ErrorKind),
}

impl RenderStep {
    /// The error for a `Fail` step, in plain language.
    pub fn error(&self, timing: &Timing) -> Option<Error> {
        match *self {
            RenderStep::Fail(ErrorKind::Timeout) => Some(Error::timeout(format!(
                "The export did not finish after {} status checks, also after one retry. Try exporting again later.",
                crate::core::format::Int::from(timing.render_max_polls)
            ))),
            RenderStep::Fail(ErrorKind::Aborted) => Some(Error::aborted()),
            RenderStep::Fail(kind) => Some(Error::new(
                kind,
                "The export render failed twice on the server. Try again later.",
            )),
            _ => None,
        }
    }
}

/// The export schedule: poll every `render_poll_ms`, at most
/// `render_max_polls` times per job; when a job fails or runs out of polls,
/// resubmit once with a new id; after that, fail.
#[derive(Clone, Debug)]
pub struct RenderPoller {
    timing: Timing,
    polls: u32,
    retries_used: u32,
    step: RenderStep,
}

impl RenderPoller {
    /// A job was submitted at `now_ms`.
    pub fn new(timing: &Timing, now_ms: u64) -> Self {
        let mut poller = RenderPoller {
            timing: *timing,
            polls: 0,
            retries_used: 0,
            step: RenderStep::Download,
        };
        poller.step = poller.schedule(now_ms);
        poller
    }

    fn schedule(&mut self, now_ms: u64) -> RenderStep {
        if self.polls < self.timing.render_max_polls {
            self.polls += 1;
            RenderStep::PollAt {
                at_ms: now_ms.saturating_add(self.timing.render_poll_ms),
                poll: self.polls,
            }
        } else {
            self.retry_or(ErrorKind::Timeout, true)
        }
    }

    fn retry_or(&mut self, kind: ErrorKind, cancel_previous: bool) -> RenderStep {
        if self.retries_used < self.timing.render_retries {
            self.retries_used += 1;
            RenderStep::Resubmit { cancel_previous }
        } else {
            RenderStep::Fail(kind)
        }
    }

    /// The current step.
    pub fn step(&self) -> RenderStep {
        self.step
    }

    /// How many resubmissions were made.
    pub fn retries_used(&self) -> u32 {
        self.retries_used
    }

    /// A status arrived at `now_ms` (from the submit reply or a poll).
    pub fn on_status(&mut self, now_ms: u64, state: RenderState) -> RenderStep {
        if matches!(self.step, RenderStep::Download | RenderStep::Fail(_)) {
            return self.step;
        }
        self.step = match state {
            RenderState::Completed => RenderStep::Download,
            RenderState::Failed => self.retry_or(ErrorKind::RenderFailed, false),
            // Cancelled by someone else (another tab, the user): retrying
            // would override their decision.
            RenderState::Cancelled => RenderStep::Fail(ErrorKind::Aborted),
            RenderState::Pending | RenderState::Processing => self.schedule(now_ms),
        };
        self.step
    }

    /// A poll request itself failed (network, 5xx): it still counts as a
    /// poll, so a dead status endpoint cannot keep the export waiting
    /// forever.
    pub fn on_poll_error(&mut self, now_ms: u64) -> RenderStep {
        if let RenderStep::PollAt { .. } = self.step {
            self.step = self.schedule(now_ms);
        }
        self.step
    }

    /// The job was resubmitted with a new id at `now_ms`: its polls start
    /// over.
    pub fn on_resubmitted(&mut self, now_ms: u64) -> RenderStep {
        if let RenderStep::Resubmit { .. } = self.step {
            self.polls = 0;
            self.step = self.schedule(now_ms);
        }
        self.step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;

    /// A retry script: (now, error, expected decision) per step.
    type RetrySteps<'a> = &'a [(u64, ErrorKind, RetryDecision)];
    /// A turn script: (now, `Some(is_heartbeat)` or `None` to just poll).
    type TurnScript<'a> = &'a [(u64, Option<bool>)];
    /// The non-idle ticks a turn script should produce, with their times.
    type Ticks<'a> = &'a [(u64, TurnTick)];
    /// Render statuses to play (`None` = a failed poll request).
    type Statuses = Vec<Option<RenderState>>;

    #[test]
    fn default_timing_is_the_protocol() {
        let t = Timing::default();
        assert_eq!(
            (t.rate_limit_wait_ms, t.rate_limit_retries, t.reauth_retries),
            (30_000, 1, 1)
        );
        assert_eq!((t.resume_delay_ms, t.resume_tries), (2_000, 3));
        assert_eq!((t.state_poll_ms, t.notify_after_ms), (5_000, 30_000));
        assert_eq!(t.stage_two_wait_ms, MIN);
        assert_eq!(
            (t.still_working_ms, t.stall_ms, t.turn_cap_ms),
            (2 * MIN, 10 * MIN, 15 * MIN)
        );
        assert_eq!(
            (t.render_poll_ms, t.render_max_polls, t.render_retries),
            (30_000, 10, 1)
        );
        assert_eq!((t.request_timeout_ms, t.timeout_retries), (MIN, 1));
        assert_eq!(t.upload_stall_ms, MIN);
    }

    #[test]
    fn stream_headers_wait_for_the_request_limit_within_the_cap() {
        let t = Timing::default();
        let w = TurnWatch::new(&t, 1_000);
        let (ms, e) = w.headers_wait(1_000);
        assert_eq!(ms, 60_000);
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(e.message().contains("60 s"), "{}", e.message());
        // Near the cap (a late reconnect), the cap's remainder wins.
        let (ms, e) = w.headers_wait(1_000 + t.turn_cap_ms - 5_000);
        assert_eq!(ms, 5_000);
        assert!(
            e.message()
                .contains("before the turn reached its time limit (15 min)"),
            "{}",
            e.message()
        );
        // No request limit: only the cap.
        let off = Timing {
            request_timeout_ms: 0,
            ..t
        };
        let w = TurnWatch::new(&off, 0);
        assert_eq!(w.headers_wait(0).0, off.turn_cap_ms);
    }

    #[test]
    fn scaling_leaves_the_request_time_limit_alone() {
        let t = Timing::default().scaled(0.001);
        assert_eq!(t.request_timeout_ms, MIN);
        assert_eq!(t.turn_cap_ms, 900);
        let off = Timing {
            request_timeout_ms: 0,
            ..Timing::default()
        };
        assert_eq!(off.scaled(10.0).request_timeout_ms, 0, "no limit stays off");
    }

    #[test]
    fn scaling_leaves_the_upload_stall_limit_alone() {
        assert_eq!(Timing::default().scaled(0.001).upload_stall_ms, MIN);
        let off = Timing {
            upload_stall_ms: 0,
            ..Timing::default()
        };
        assert_eq!(off.scaled(10.0).upload_stall_ms, 0, "no limit stays off");
    }

    #[test]
    fn a_timed_out_get_is_sent_once_more_at_once() {
        use ErrorKind::*;
        use RetryDecision::*;
        let t = Timing::default();
        let mut get = RetryBudget::for_request(&t, true);
        assert_eq!(get.on_error(70_000, Timeout), RetryAt { at_ms: 70_000 });
        assert_eq!(get.on_error(140_000, Timeout), GiveUp, "only once");
        assert_eq!(get.attempts(), 1);
        // The timeout budget is separate from the others.
        let mut get = RetryBudget::for_request(&t, true);
        assert_eq!(get.on_error(0, Timeout), RetryAt { at_ms: 0 });
        assert_eq!(get.on_error(10, TokenExpired), Reauthenticate);
        assert_eq!(get.on_error(20, RateLimited), RetryAt { at_ms: 30_020 });
        assert_eq!(get.on_error(30_030, Timeout), GiveUp);
        // A GET is still not retried after a network error (it may be a
        // real outage; the caller decides).
        assert_eq!(
            RetryBudget::for_request(&t, true).on_error(0, Network),
            GiveUp
        );
    }

    #[test]
    fn a_timed_out_post_is_never_sent_again() {
        use ErrorKind::*;
        let t = Timing::default();
        for mut budget in [RetryBudget::new(&t), RetryBudget::for_request(&t, false)] {
            assert_eq!(budget.on_error(60_000, Timeout), RetryDecision::GiveUp);
            assert_eq!(budget.attempts(), 0);
            // …while its 429 and 1001 recoveries are unchanged (those
            // replies say the request was not processed).
            assert_eq!(
                budget.on_error(0, TokenExpired),
                RetryDecision::Reauthenticate
            );
        }
        let none = Timing {
            timeout_retries: 0,
            ..t
        };
        assert_eq!(
            RetryBudget::for_request(&none, true).on_error(0, Timeout),
            RetryDecision::GiveUp,
            "timeout_retries 0 turns the re-send off"
        );
    }

    #[test]
    fn scaled_shrinks_durations_but_not_counts() {
        let t = Timing::default().scaled(0.001);
        assert_eq!(t.rate_limit_wait_ms, 30);
        assert_eq!(t.turn_cap_ms, 900);
        assert_eq!(t.resume_delay_ms, 2);
        assert_eq!(t.render_max_polls, 10);
        assert_eq!(t.resume_tries, 3);
        let tiny = Timing::default().scaled(1e-12);
        assert_eq!(tiny.resume_delay_ms, 1, "never below 1 ms");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(Timing::default().scaled(bad), Timing::default(), "{bad}");
        }
        assert_eq!(Timing::default().scaled(2.0).turn_cap_ms, 30 * MIN);
        assert_eq!(Timing::default().scaled(1e300).turn_cap_ms, u64::MAX);
    }

    #[test]
    fn retry_budget_table() {
        use ErrorKind::*;
        use RetryDecision::*;
        // Each row: a sequence of (now, error) and the decisions expected.
        let cases: &[(&str, RetrySteps<'_>)] = &[
            (
                "429 once",
                &[(1_000, RateLimited, RetryAt { at_ms: 31_000 })],
            ),
            (
                "429 twice gives up",
                &[
                    (0, RateLimited, RetryAt { at_ms: 30_000 }),
                    (30_500, RateLimited, GiveUp),
                ],
            ),
            ("1001 once", &[(0, TokenExpired, Reauthenticate)]),
            (
                "1001 twice gives up",
                &[
                    (0, TokenExpired, Reauthenticate),
                    (10, TokenExpired, GiveUp),
                ],
            ),
            (
                "budgets are separate",
                &[
                    (0, TokenExpired, Reauthenticate),
                    (5, RateLimited, RetryAt { at_ms: 30_005 }),
                    (30_010, TokenExpired, GiveUp),
                ],
            ),
            ("network never retried", &[(0, Network, GiveUp)]),
            (
                "session gone is the app's call",
                &[(0, SessionNotFound, GiveUp)],
            ),
            ("out of credits", &[(0, OutOfCredits, GiveUp)]),
            ("export blocked", &[(0, ExportBlocked, GiveUp)]),
            ("protocol", &[(0, Protocol, GiveUp)]),
        ];
        for (label, steps) in cases {
            let mut budget = RetryBudget::new(&Timing::default());
            for (i, &(now, kind, want)) in steps.iter().enumerate() {
                assert_eq!(budget.on_error(now, kind), want, "{label} step {i}");
            }
        }
        let mut b = RetryBudget::new(&Timing::default());
        b.on_error(0, TokenExpired);
        b.on_error(0, RateLimited);
        assert_eq!(b.attempts(), 2);
    }

    /// Drives a watch through a script of (time, event) where event is
    /// `Some(is_heartbeat)` or `None` for "just poll", collecting the
    /// non-idle ticks.
    fn run_turn(timing: &Timing, script: &[(u64, Option<bool>)]) -> Vec<(u64, TurnTick)> {
        let mut watch = TurnWatch::new(timing, 0);
        let mut out = Vec::new();
        for &(now, event) in script {
            if let Some(hb) = event {
                watch.on_event(now, hb);
            }
            let tick = watch.poll(now);
            if !matches!(tick, TurnTick::Idle { .. }) {
                out.push((now, tick));
            }
        }
        out
    }

    /// Simulates the shell: a heartbeat every `every` ms plus the given
    /// real events, polling at every event and every reported deadline,
    /// until the watch ends or `until`.
    fn simulate(timing: &Timing, every: u64, real: &[u64], until: u64) -> Vec<(u64, TurnTick)> {
        let mut watch = TurnWatch::new(timing, 0);
        let mut out = Vec::new();
        let mut now = 0;
        let mut next_hb = every;
        let mut real = real.iter().copied().peekable();
        let mut deadline = watch.next_deadline_ms();
        while now <= until {
            let next_real = real.peek().copied().unwrap_or(u64::MAX);
            now = deadline.min(next_hb).min(next_real);
            if now > until {
                break;
            }
            if now == next_hb {
                watch.on_event(now, true);
                next_hb += every;
            }
            if now == next_real {
                watch.on_event(now, false);
                real.next();
            }
            match watch.poll(now) {
                TurnTick::Idle { next_deadline_ms } => deadline = next_deadline_ms,
                tick @ TurnTick::StillWorking {
                    next_deadline_ms, ..
                } => {
                    deadline = next_deadline_ms;
                    out.push((now, tick));
                }
                tick => {
                    out.push((now, tick));
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn heartbeats_only_stall_after_ten_minutes_with_notices_every_two() {
        let t = Timing::default();
        let ticks = simulate(&t, 15_000, &[], 20 * MIN);
        let notices: Vec<u64> = ticks
            .iter()
            .filter(|(_, tk)| matches!(tk, TurnTick::StillWorking { .. }))
            .map(|(at, _)| *at)
            .collect();
        assert_eq!(notices, vec![2 * MIN, 4 * MIN, 6 * MIN, 8 * MIN]);
        assert_eq!(
            ticks.last(),
            Some(&(
                10 * MIN,
                TurnTick::Stalled {
                    idle_ms: 10 * MIN,
                    limit_ms: 10 * MIN,
                    keepalives: true,
                }
            ))
        );
    }

    #[test]
    fn real_events_reset_the_stall_but_not_the_cap() {
        let t = Timing::default();
        // A real event every 9 minutes never stalls; the cap ends it.
        let ticks = simulate(&t, 15_000, &[9 * MIN, 18 * MIN], 20 * MIN);
        assert_eq!(
            ticks.last(),
            Some(&(
                15 * MIN,
                TurnTick::Capped {
                    elapsed_ms: 15 * MIN,
                    limit_ms: 15 * MIN,
                }
            ))
        );
        // The notice restarts from the last real event.
        let notices: Vec<u64> = ticks
            .iter()
            .filter(|(_, tk)| matches!(tk, TurnTick::StillWorking { .. }))
            .map(|(at, _)| *at)
            .collect();
        assert_eq!(
            notices,
            vec![2 * MIN, 4 * MIN, 6 * MIN, 8 * MIN, 11 * MIN, 13 * MIN]
        );
    }

    #[test]
    fn turn_watch_table() {
        const STALLED_SILENT: TurnTick = TurnTick::Stalled {
            idle_ms: 10 * MIN,
            limit_ms: 10 * MIN,
            keepalives: false,
        };
        let t = Timing::default();
        let cases: &[(&str, TurnScript<'_>, Ticks<'_>)] = &[
            ("quiet start", &[(1_000, Some(false)), (60_000, None)], &[]),
            (
                "late poll gives one notice, not a burst",
                &[(7 * MIN, None), (7 * MIN + 1, None)],
                &[(
                    7 * MIN,
                    TurnTick::StillWorking {
                        elapsed_ms: 7 * MIN,
                        next_deadline_ms: 8 * MIN,
                    },
                )],
            ),
            (
                "stall reported once then sticky",
                &[(10 * MIN, None), (10 * MIN + 5, Some(false))],
                &[(10 * MIN, STALLED_SILENT), (10 * MIN + 5, STALLED_SILENT)],
            ),
            (
                "very late poll reports whichever came first: stall",
                &[(30 * MIN, None)],
                &[(
                    30 * MIN,
                    TurnTick::Stalled {
                        idle_ms: 30 * MIN,
                        limit_ms: 10 * MIN,
                        keepalives: false,
                    },
                )],
            ),
            (
                "very late poll after progress: cap came first",
                &[(8 * MIN, Some(false)), (30 * MIN, None)],
                &[(
                    30 * MIN,
                    TurnTick::Capped {
                        elapsed_ms: 30 * MIN,
                        limit_ms: 15 * MIN,
                    },
                )],
            ),
        ];
        for (label, script, want) in cases {
            assert_eq!(run_turn(&t, script), *want, "{label}");
        }
    }

    #[test]
    fn a_stall_says_whether_keep_alives_came_since_the_last_progress() {
        let t = Timing::default();
        let stall_of = |script: TurnScript<'_>| match run_turn(&t, script).last() {
            Some(&(_, TurnTick::Stalled { keepalives, .. })) => keepalives,
            other => panic!("no stall: {other:?}"),
        };
        assert!(!stall_of(&[(10 * MIN, None)]), "nothing at all");
        assert!(stall_of(&[(MIN, Some(true)), (10 * MIN, None)]));
        // Keep-alives before the last real event do not count.
        assert!(!stall_of(&[
            (MIN, Some(true)),
            (2 * MIN, Some(false)),
            (12 * MIN, None)
        ]));
        assert!(stall_of(&[
            (MIN, Some(false)),
            (2 * MIN, Some(true)),
            (11 * MIN, None)
        ]));
    }

    #[test]
    fn idle_reports_the_next_deadline() {
        let t = Timing::default();
        let mut w = TurnWatch::new(&t, 1_000);
        assert_eq!(
            w.poll(1_000),
            TurnTick::Idle {
                next_deadline_ms: 1_000 + 2 * MIN
            }
        );
        w.on_event(90_000, false);
        assert_eq!(w.next_deadline_ms(), 90_000 + 2 * MIN);
        assert_eq!(w.cap_deadline_ms(), 1_000 + 15 * MIN);
        // Near the cap, the cap is the next deadline.
        w.on_event(14 * MIN, false);
        assert_eq!(w.next_deadline_ms(), 1_000 + 15 * MIN);
    }

    #[test]
    fn terminal_ticks_map_to_errors() {
        use crate::core::error::Recovery;
        let stalled = |idle_ms, limit_ms, keepalives| {
            TurnTick::Stalled {
                idle_ms,
                limit_ms,
                keepalives,
            }
            .error()
            .unwrap()
        };
        // (tick, exact message, recovery)
        let cases = [
            (
                stalled(10 * MIN, 10 * MIN, true),
                "The agent sent only keep-alives and no progress for 10 min (the stall limit), so the turn was stopped. The server is still there but the agent seems stuck. Your project is safe; try again.",
                Recovery::Retry,
            ),
            (
                // A 1-second limit and a silent server: no "0 minutes", no
                // keep-alives that never came.
                stalled(1_000, 1_000, false),
                "Nothing came from the agent for 1 s (the stall limit), not even a keep-alive, so the turn was stopped. The connection may have dropped; check it and try again.",
                Recovery::CheckConnection,
            ),
            (
                // Checked late (a laptop woke up): both durations.
                stalled(30 * MIN, 10 * MIN, true),
                "The agent sent only keep-alives and no progress for 30 min (the stall limit is 10 min), so the turn was stopped. The server is still there but the agent seems stuck. Your project is safe; try again.",
                Recovery::Retry,
            ),
            (
                stalled(90_000, 90_000, false),
                "Nothing came from the agent for 90 s (the stall limit), not even a keep-alive, so the turn was stopped. The connection may have dropped; check it and try again.",
                Recovery::CheckConnection,
            ),
            (
                TurnTick::Capped {
                    elapsed_ms: 15 * MIN,
                    limit_ms: 15 * MIN,
                }
                .error()
                .unwrap(),
                "The agent did not finish within 15 min (the turn time limit), so the turn was stopped. Your project is safe; check its state or try again.",
                Recovery::Retry,
            ),
            (
                TurnTick::Capped {
                    elapsed_ms: 900,
                    limit_ms: 900,
                }
                .error()
                .unwrap(),
                "The agent did not finish within 900 ms (the turn time limit), so the turn was stopped. Your project is safe; check its state or try again.",
                Recovery::Retry,
            ),
        ];
        for (i, (e, message, recovery)) in cases.into_iter().enumerate() {
            assert_eq!(e.message(), message, "case {i}");
            assert_eq!(e.recovery(), &recovery, "case {i}");
        }
        assert_eq!(
            stalled(10 * MIN, 10 * MIN, true).kind(),
            ErrorKind::StreamStalled
        );
        assert_eq!(
            TurnTick::Capped {
                elapsed_ms: 15 * MIN,
                limit_ms: 15 * MIN,
            }
            .error()
            .unwrap()
            .kind(),
            ErrorKind::Timeout
        );
        assert!(TurnTick::Idle {
            next_deadline_ms: 0
        }
        .error()
        .is_none());
    }

    #[test]
    fn scaled_timing_runs_the_same_schedule_faster() {
        let t = Timing::default().scaled(0.001);
        let ticks = simulate(&t, 15, &[], 20_000);
        assert_eq!(
            ticks.last(),
            Some(&(
                600,
                TurnTick::Stalled {
                    idle_ms: 600,
                    limit_ms: 600,
                    keepalives: true,
                }
            ))
        );
        assert_eq!(ticks.len(), 5, "4 notices and the stall");
    }

    #[test]
    fn resume_with_ids_tries_three_times_then_polls() {
        let t = Timing::default();
        let mut plan = ResumePlan::new(&t).with_deadline_ms(15 * MIN);
        assert_eq!(plan.step(), ResumeStep::Done, "nothing dropped yet");
        assert_eq!(
            plan.on_drop(10_000, true),
            ResumeStep::ReconnectAt {
                at_ms: 12_000,
                attempt: 1
            }
        );
        assert_eq!(
            plan.on_drop(12_500, true),
            ResumeStep::ReconnectAt {
                at_ms: 14_500,
                attempt: 2
            }
        );
        assert_eq!(
            plan.on_drop(15_000, true),
            ResumeStep::ReconnectAt {
                at_ms: 17_000,
                attempt: 3
            }
        );
        assert_eq!(
            plan.on_drop(17_100, true),
            ResumeStep::PollStateAt { at_ms: 22_100 }
        );
        assert_eq!(
            plan.on_state(22_200, false),
            ResumeStep::PollStateAt { at_ms: 27_200 }
        );
        // A drop while polling keeps the polling schedule.
        assert_eq!(
            plan.on_drop(27_250, true),
            ResumeStep::PollStateAt { at_ms: 27_200 }
        );
        assert_eq!(plan.on_state(27_300, true), ResumeStep::Done);
        // Inputs that do not fit the step are ignored.
        assert_eq!(plan.on_state(28_000, false), ResumeStep::Done);
        assert_eq!(plan.on_resumed(), ResumeStep::Done);
    }

    #[test]
    fn a_drop_after_a_successful_resume_gets_fresh_tries() {
        let t = Timing::default();
        let mut plan = ResumePlan::new(&t);
        plan.on_drop(0, true);
        plan.on_drop(2_000, true);
        plan.on_resumed();
        assert_eq!(
            plan.on_drop(60_000, true),
            ResumeStep::ReconnectAt {
                at_ms: 62_000,
                attempt: 1
            }
        );
        assert_eq!(plan.notice_at_ms(), Some(90_000));
    }

    #[test]
    fn resume_table() {
        let t = Timing::default();
        // (label, had_ids, retry hint, deadline, first step)
        let cases: &[(&str, bool, Option<u64>, u64, ResumeStep)] = &[
            (
                "ids",
                true,
                None,
                15 * MIN,
                ResumeStep::ReconnectAt {
                    at_ms: 2_000,
                    attempt: 1,
                },
            ),
            (
                "no ids polls",
                false,
                None,
                15 * MIN,
                ResumeStep::PollStateAt { at_ms: 5_000 },
            ),
            (
                "retry hint longer",
                true,
                Some(7_000),
                15 * MIN,
                ResumeStep::ReconnectAt {
                    at_ms: 7_000,
                    attempt: 1,
                },
            ),
            (
                "retry hint shorter than 2 s",
                true,
                Some(100),
                15 * MIN,
                ResumeStep::ReconnectAt {
                    at_ms: 2_000,
                    attempt: 1,
                },
            ),
            (
                "absurd retry hint capped",
                true,
                Some(u64::MAX),
                15 * MIN,
                ResumeStep::ReconnectAt {
                    at_ms: 30_000,
                    attempt: 1,
                },
            ),
            (
                "deadline already close",
                true,
                None,
                1_000,
                ResumeStep::GiveUp,
            ),
            (
                "deadline close, polling",
                false,
                None,
                4_999,
                ResumeStep::GiveUp,
            ),
        ];
        for &(label, ids, hint, deadline, want) in cases {
            let mut plan = ResumePlan::new(&t).with_deadline_ms(deadline);
            plan.set_server_retry_ms(hint);
            assert_eq!(plan.on_drop(0, ids), want, "{label}");
        }
    }

    #[test]
    fn resume_polls_until_the_deadline_then_gives_up() {
        let t = Timing::default();
        let mut plan = ResumePlan::new(&t).with_deadline_ms(60_000);
        plan.on_drop(0, false);
        let mut now = 0;
        let mut polls = 0;
        while let ResumeStep::PollStateAt { at_ms } = plan.step() {
            now = at_ms;
            polls += 1;
            plan.on_state(now, false);
        }
        assert_eq!(plan.step(), ResumeStep::GiveUp);
        assert_eq!((polls, now), (12, 60_000));
    }

    #[test]
    fn user_is_told_only_when_recovery_takes_over_30_s() {
        let t = Timing::default();
        let mut quick = ResumePlan::new(&t);
        quick.on_drop(0, true);
        assert!(!quick.should_notify(2_000));
        quick.on_resumed();
        assert!(!quick.should_notify(40_000), "recovered: nothing to tell");
        assert_eq!(quick.notice_at_ms(), None);

        let mut slow = ResumePlan::new(&t);
        assert_eq!(slow.notice_at_ms(), None, "nothing to recover yet");
        slow.on_drop(1_000, false);
        assert_eq!(slow.notice_at_ms(), Some(31_000));
        assert!(!slow.should_notify(30_999));
        assert!(slow.should_notify(31_000));
        assert!(!slow.should_notify(40_000), "only once");
        assert_eq!(slow.elapsed_ms(40_000), 39_000);
    }

    /// Plays a render against a list of statuses (`None` = poll error) and
    /// returns every step taken.
    fn play_render(t: &Timing, statuses: &[Option<RenderState>]) -> Vec<RenderStep> {
        let mut poller = RenderPoller::new(t, 0);
        let mut steps = vec![poller.step()];
        let mut statuses = statuses.iter();
        let mut now = 0;
        loop {
            let step = match poller.step() {
                RenderStep::PollAt { at_ms, .. } => {
                    now = at_ms;
                    match statuses.next() {
                        Some(Some(state)) => poller.on_status(now, *state),
                        Some(None) => poller.on_poll_error(now),
                        None => break,
                    }
                }
                RenderStep::Resubmit { .. } => poller.on_resubmitted(now),
                RenderStep::Download | RenderStep::Fail(_) => break,
            };
            steps.push(step);
        }
        steps
    }

    #[test]
    fn render_table() {
        use RenderState::*;
        let t = Timing::default();
        let poll = |at_ms, poll| RenderStep::PollAt { at_ms, poll };
        let cases: Vec<(&str, Statuses, Vec<RenderStep>)> = vec![
            (
                "completes on the second poll",
                vec![Some(Processing), Some(Completed)],
                vec![poll(30_000, 1), poll(60_000, 2), RenderStep::Download],
            ),
            (
                "fails once, retry succeeds",
                vec![Some(Failed), Some(Completed)],
                vec![
                    poll(30_000, 1),
                    RenderStep::Resubmit {
                        cancel_previous: false,
                    },
                    poll(60_000, 1),
                    RenderStep::Download,
                ],
            ),
            (
                "fails twice",
                vec![Some(Pending), Some(Failed), Some(Failed)],
                vec![
                    poll(30_000, 1),
                    poll(60_000, 2),
                    RenderStep::Resubmit {
                        cancel_previous: false,
                    },
                    poll(90_000, 1),
                    RenderStep::Fail(ErrorKind::RenderFailed),
                ],
            ),
            (
                "cancelled elsewhere is not retried",
                vec![Some(Cancelled)],
                vec![poll(30_000, 1), RenderStep::Fail(ErrorKind::Aborted)],
            ),
            (
                "poll errors count as polls",
                vec![None, None, Some(Completed)],
                vec![
                    poll(30_000, 1),
                    poll(60_000, 2),
                    poll(90_000, 3),
                    RenderStep::Download,
                ],
            ),
        ];
        for (label, statuses, want) in cases {
            assert_eq!(play_render(&t, &statuses), want, "{label}");
        }
    }

    #[test]
    fn render_runs_out_of_polls_twice_then_times_out() {
        let t = Timing::default();
        let steps = play_render(&t, &[Some(RenderState::Processing); 40]);
        let polls = steps
            .iter()
            .filter(|s| matches!(s, RenderStep::PollAt { .. }))
            .count();
        assert_eq!(polls, 20, "10 per job");
        assert!(steps.contains(&RenderStep::Resubmit {
            cancel_previous: true
        }));
        assert_eq!(steps.last(), Some(&RenderStep::Fail(ErrorKind::Timeout)));
        // The 10th poll of the first job falls at 5 minutes.
        assert_eq!(
            steps[9],
            RenderStep::PollAt {
                at_ms: 300_000,
                poll: 10
            }
        );
        let err = steps.last().unwrap().error(&t).unwrap();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.message().contains("10 status checks"));
    }

    #[test]
    fn render_steps_after_the_end_are_sticky() {
        let t = Timing::default();
        let mut p = RenderPoller::new(&t, 0);
        assert_eq!(
            p.on_status(10, RenderState::Completed),
            RenderStep::Download
        );
        assert_eq!(p.on_status(20, RenderState::Failed), RenderStep::Download);
        assert_eq!(p.on_poll_error(30), RenderStep::Download);
        assert_eq!(p.on_resubmitted(40), RenderStep::Download);
        assert_eq!(p.retries_used(), 0);
        let e = RenderStep::Fail(ErrorKind::RenderFailed).error(&t).unwrap();
        assert_eq!(e.kind(), ErrorKind::RenderFailed);
        assert!(RenderStep::Download.error(&t).is_none());
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever the event pattern, the watch ends by the cap, never
            /// reports a deadline in the past, and stalls only after the
            /// stall limit without real events.
            #[test]
            fn turn_watch_invariants(events in proptest::collection::vec((1u64..120_000, any::<bool>()), 0..60)) {
                let t = Timing::default();
                let mut w = TurnWatch::new(&t, 0);
                let mut now = 0;
                let mut last_real = 0;
                for (gap, heartbeat) in events {
                    now += gap;
                    match w.poll(now) {
                        TurnTick::Idle { next_deadline_ms } | TurnTick::StillWorking { next_deadline_ms, .. } => {
                            prop_assert!(next_deadline_ms > now);
                            prop_assert!(now < t.turn_cap_ms);
                        }
                        TurnTick::Stalled { idle_ms, limit_ms, .. } => {
                            prop_assert_eq!(limit_ms, t.stall_ms);
                            prop_assert!(idle_ms >= t.stall_ms);
                            prop_assert_eq!(idle_ms, now - last_real);
                            break;
                        }
                        TurnTick::Capped { .. } => {
                            prop_assert!(now >= t.turn_cap_ms);
                            break;
                        }
                    }
                    w.on_event(now, heartbeat);
                    if !heartbeat { last_real = now; }
                }
            }
        }
    }
}
