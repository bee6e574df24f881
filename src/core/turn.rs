//! One chat turn as a sans-IO state machine: what to send, read, wait for
//! and show, from the moment the message leaves until the turn's outcome.
//!
//! In the style of quinn-proto's `Connection` and h11's `Connection`, a
//! [`Turn`] owns no socket, no timer and no clock. The shell feeds it what
//! happened ([`Turn::on_opened`], [`Turn::on_chunk`], [`Turn::on_timer`], …,
//! each with `now_ms`) and performs what it asks for ([`Turn::poll_effect`]):
//! open the stream, read the next chunk, arm a timer, fetch the state, show
//! an event, finish. Every decision of a turn lives here, so each recovery
//! path is a native unit test that runs in microseconds.
//!
//! The rules (docs/protocol.md, "The event stream" and "Recovery after a
//! dropped stream"):
//! - the message is POSTed once and never again; a dropped stream that
//!   carried `id:`s is resumed with `Last-Event-ID` (≥ 2 s apart, at most 3
//!   tries), otherwise the state is polled every 5 s until the outcome is
//!   in it (for a generation, both stages), and the user hears of it only
//!   when recovery takes over 30 s;
//! - while the stream is open, "still working" every 2 minutes without a
//!   real event, a stall after 10 minutes of keep-alives only, and a hard
//!   cap of 15 minutes ([`TurnWatch`]);
//! - a turn that changed state (or wrote no text) reads the state at the
//!   end, to say what changed.
//!
//! The shell performs at most one exchange at a time for a turn (the
//! stream's opening, a read of it, or a state request) and keeps at most
//! one timer; [`TurnEffect::ArmTimer`] replaces the previous timer.

use std::collections::VecDeque;

use crate::core::api::{endpoints, ApiRequest};
use crate::core::error::{Error, ErrorKind};
use crate::core::events::{self, AgentEvent, Display, TurnAssembler};
use crate::core::gui;
use crate::core::intent::{self, ChatIntent, Intent};
use crate::core::policy::{ResumePlan, ResumeStep, Timing, TurnTick, TurnWatch};
use crate::core::settle::StateSettle;
use crate::core::sse::{SseConfig, SseDecoder, SseItemRef};
use crate::core::timeline::{self, Timeline};

/// What a finished turn produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TurnOutcome {
    /// The final text after GUI translation.
    pub text: String,
    /// The text as the agent wrote it.
    pub raw_text: String,
    /// Tools the agent called, in order.
    pub tool_calls: Vec<String>,
    /// Whether the session state changed.
    pub state_changed: bool,
    /// A plain-language summary (the state diff for a silent turn).
    pub summary: String,
    /// Whether the agent wrote no text at all.
    pub silent: bool,
    /// GUI actions the agent's text asked for, as API actions.
    pub actions: Vec<&'static str>,
    /// The timeline after the turn, when it was fetched.
    pub timeline: Option<Timeline>,
}

/// Whether a tool event is the call or its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolPhase {
    /// The agent called the tool.
    Call,
    /// The tool answered.
    Result,
}

impl ToolPhase {
    /// `"call"` or `"result"`, the JS event's `phase`.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolPhase::Call => "call",
            ToolPhase::Result => "result",
        }
    }
}

/// Something for the user to see while the turn runs (the JS `TurnEvent`s
/// but `done` and `error`, which the shell derives from the turn's end).
#[derive(Clone, Debug, PartialEq)]
pub enum TurnEvent {
    /// Append `text` to the message being streamed.
    TextDelta {
        /// The text to append.
        text: String,
        /// The agent writing it.
        author: Option<String>,
    },
    /// A complete message, after GUI translation.
    Text {
        /// The text to show.
        text: String,
        /// The text as the agent wrote it.
        raw_text: String,
        /// Whether it replaces the deltas shown for `author`.
        replaces_deltas: bool,
        /// The agent that wrote it.
        author: Option<String>,
        /// GUI actions the text asked for.
        actions: Vec<&'static str>,
    },
    /// The model's reasoning (not chat).
    Thought {
        /// The reasoning text.
        text: String,
        /// Whether it is a streaming delta.
        partial: bool,
    },
    /// Tool activity, as a status line.
    Tool {
        /// Call or result.
        phase: ToolPhase,
        /// The tool's name.
        name: String,
        /// A plain-language label ("Generating video…", "… done").
        label: String,
    },
    /// The stream carried a state delta with these keys.
    StateDelta {
        /// The changed keys.
        keys: Vec<String>,
    },
    /// A keep-alive arrived.
    Heartbeat,
    /// No progress for a while, but the agent is still working.
    StillWorking {
        /// Time since the turn began.
        elapsed_ms: u64,
        /// What to tell the user.
        message: String,
    },
    /// The stream dropped; reconnecting with `Last-Event-ID`.
    Reconnecting {
        /// 1 for the first try.
        attempt: u32,
    },
    /// Something the user should know that does not end the turn.
    Notice {
        /// What to tell the user.
        message: String,
    },
    /// The state read at the end of the turn.
    State {
        /// The timeline's one-line summary.
        summary: String,
        /// What changed since the turn began, one line each.
        changes: Vec<String>,
    },
}

impl TurnEvent {
    /// The JS event's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            TurnEvent::TextDelta { .. } => "text-delta",
            TurnEvent::Text { .. } => "text",
            TurnEvent::Thought { .. } => "thought",
            TurnEvent::Tool { .. } => "tool",
            TurnEvent::StateDelta { .. } => "state-delta",
            TurnEvent::Heartbeat => "heartbeat",
            TurnEvent::StillWorking { .. } => "still-working",
            TurnEvent::Reconnecting { .. } => "reconnecting",
            TurnEvent::Notice { .. } => "notice",
            TurnEvent::State { .. } => "state",
        }
    }
}

/// Every `type` of the JS `TurnEvent` union: each [`TurnEvent::type_name`],
/// then `"done"` (the outcome), which the shell derives from
/// [`TurnEffect::Finish`]. A failure ([`TurnEffect::Fail`]) is no event: the
/// iterator throws it and `result` rejects with it. The `.d.ts` is checked
/// against this list.
pub const TURN_EVENT_TYPES: [&str; 11] = [
    "text-delta",
    "text",
    "thought",
    "tool",
    "state-delta",
    "heartbeat",
    "still-working",
    "reconnecting",
    "notice",
    "state",
    "done",
];

/// What the shell does next for a [`Turn`].
#[derive(Clone, Debug, PartialEq)]
pub enum TurnEffect {
    /// Send this request (the chat POST, with `Last-Event-ID` when
    /// resuming) through the client's auth and retry rule, then report
    /// [`Turn::on_opened`] or [`Turn::on_open_failed`].
    OpenStream(ApiRequest),
    /// Read the next chunk of the open stream; report [`Turn::on_chunk`],
    /// [`Turn::on_stream_end`] or [`Turn::on_stream_failed`].
    ReadStream,
    /// Stop reading and release the stream (tells the server we left).
    CloseStream,
    /// Call [`Turn::on_timer`] at `at_ms` (replaces the previous timer).
    ArmTimer {
        /// When.
        at_ms: u64,
    },
    /// No timer is needed any more.
    CancelTimer,
    /// GET the session state; report [`Turn::on_state`].
    FetchState,
    /// GET the session state as it is before the turn, alongside the chat
    /// request (never before it: the message goes first); report
    /// [`Turn::on_snapshot`] whenever it answers.
    TakeSnapshot,
    /// Persist the stream's last event id (a reload can resume from it).
    RememberEventId(String),
    /// Show this to the user.
    Emit(TurnEvent),
    /// The turn is over with this outcome.
    Finish(TurnOutcome),
    /// The turn failed; stop whatever is still in flight.
    Fail(Error),
}

/// Where a turn is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The chat POST is in flight (`resuming`: with `Last-Event-ID`).
    Opening { resuming: bool },
    /// Reading the stream.
    Streaming,
    /// The stream dropped; waiting for the next recovery step's time.
    Recovering,
    /// A state request of the recovery is in flight.
    PollingState,
    /// The stream is over; the closing state request is in flight.
    Settling,
    /// Finished or failed: every input is ignored.
    Over,
}

/// The state before the turn, which a silent turn's summary is a diff
/// against.
#[derive(Clone, Debug, PartialEq)]
enum Snapshot {
    /// Known: given when the turn began (the last timeline the session
    /// read) or read alongside the chat request.
    Known(Timeline),
    /// Being read.
    Pending,
    /// The state could not be read: the state endpoint fails, so the turn's
    /// end does not ask it again.
    Unavailable,
}

/// How a turn starts.
#[derive(Clone, Debug)]
pub struct TurnStart<'a> {
    /// The session.
    pub session_id: &'a str,
    /// The user's message.
    pub message: &'a str,
    /// Reattach to a turn already sent (after a reload) from this event id.
    pub resume_from: Option<String>,
    /// The session's last known timeline; `None`: read it alongside the
    /// chat request.
    pub before: Option<Timeline>,
    /// Ask for token streaming (`"streaming": true`: partial text deltas).
    pub streaming: bool,
}

/// One chat turn; see the module documentation.
pub struct Turn {
    timing: Timing,
    session_id: String,
    message: String,
    /// The state when the turn began, to tell what it changed.
    snapshot: Snapshot,
    streaming: bool,
    /// The tools that answered, as activities ("Changing the aspect
    /// ratio"), in order, without repeats: what the turn did.
    tool_outcomes: Vec<String>,
    watch: TurnWatch,
    resume: ResumePlan,
    settle: StateSettle,
    decoder: SseDecoder,
    asm: TurnAssembler,
    last_id: String,
    saw_ids: bool,
    /// The id to resume from on the next opening, if any.
    reconnect_id: Option<String>,
    phase: Phase,
    /// A read of the stream is in flight (a timer may fire meanwhile).
    reading: bool,
    /// When the opening's wait for response headers runs out, and with
    /// what error.
    headers_deadline: Option<(u64, Error)>,
    /// The recovery attempt already announced (no repeat on a re-armed timer).
    announced_attempt: u32,
    /// The outcome waiting for the closing state request.
    pending: Option<TurnOutcome>,
    effects: VecDeque<TurnEffect>,
}

impl Turn {
    /// A turn that sends its message at `now_ms` (see [`TurnStart`]). The
    /// chat request is the first effect; the state snapshot, when one is
    /// needed, goes alongside it and never delays it.
    pub fn new(timing: &Timing, start: TurnStart<'_>, now_ms: u64) -> Self {
        let watch = TurnWatch::new(timing, now_ms);
        let resume = ResumePlan::new(timing).with_deadline_ms(watch.cap_deadline_ms());
        let resume_from = start.resume_from.filter(|id| !id.is_empty());
        let snapshot = match start.before {
            Some(t) => Snapshot::Known(t),
            None => Snapshot::Pending,
        };
        let mut turn = Turn {
            timing: *timing,
            session_id: start.session_id.into(),
            message: start.message.into(),
            snapshot,
            streaming: start.streaming,
            tool_outcomes: Vec::new(),
            watch,
            resume,
            settle: StateSettle::new(timing, false),
            decoder: SseDecoder::new(SseConfig::default()),
            asm: TurnAssembler::new(),
            last_id: resume_from.clone().unwrap_or_default(),
            saw_ids: resume_from.is_some(),
            reconnect_id: resume_from,
            phase: Phase::Over,
            reading: false,
            headers_deadline: None,
            announced_attempt: 0,
            pending: None,
            effects: VecDeque::new(),
        };
        turn.open(now_ms);
        if turn.snapshot == Snapshot::Pending {
            turn.push(TurnEffect::TakeSnapshot);
        }
        turn
    }

    /// The state snapshot taken alongside the chat request answered.
    pub fn on_snapshot(&mut self, state: Result<Timeline, Error>) {
        if self.snapshot == Snapshot::Pending {
            self.snapshot = match state {
                Ok(t) => Snapshot::Known(t),
                Err(_) => Snapshot::Unavailable,
            };
        }
    }

    fn before(&self) -> Option<&Timeline> {
        match &self.snapshot {
            Snapshot::Known(t) => Some(t),
            Snapshot::Pending | Snapshot::Unavailable => None,
        }
    }

    /// The next thing to do, in order; `None` when the turn waits for an
    /// input.
    pub fn poll_effect(&mut self) -> Option<TurnEffect> {
        self.effects.pop_front()
    }

    /// Whether the turn has finished or failed.
    pub fn is_over(&self) -> bool {
        self.phase == Phase::Over
    }

    /// The chat request was answered with a stream.
    pub fn on_opened(&mut self, now_ms: u64) {
        let Phase::Opening { resuming } = self.phase else {
            return;
        };
        self.headers_deadline = None;
        if resuming {
            self.resume.on_resumed();
        }
        self.phase = Phase::Streaming;
        self.reading = false;
        self.watch_stream(now_ms);
    }

    /// The chat request failed (after the client's own retries).
    pub fn on_open_failed(&mut self, now_ms: u64, error: Error) {
        let Phase::Opening { .. } = self.phase else {
            return;
        };
        self.headers_deadline = None;
        // Before any event arrived a failure is the turn's outcome; once
        // events flowed, a failed reconnect counts as one resume try, and a
        // server that refuses the resume outright (it does not know the
        // turn: a 4xx such as 409) sends the turn to the state instead.
        let resuming = self.reconnect_id.is_some();
        if resuming && refuses_resume(&error) {
            self.resume.on_drop(now_ms, self.saw_ids);
            self.resume.stop_resuming(now_ms);
            self.phase = Phase::Recovering;
            self.step_recovery(now_ms);
        } else if resuming && is_transient(&error) {
            self.recover(now_ms);
        } else {
            self.fail(error);
        }
    }

    /// A chunk of the stream arrived.
    pub fn on_chunk(&mut self, now_ms: u64, chunk: &[u8]) {
        if self.phase != Phase::Streaming {
            return;
        }
        self.reading = false;
        self.decode(now_ms, chunk);
        self.watch_stream(now_ms);
    }

    /// The stream closed normally: the turn is over (there is no "done"
    /// event).
    pub fn on_stream_end(&mut self, now_ms: u64) {
        if self.phase != Phase::Streaming {
            return;
        }
        self.close_stream();
        self.conclude(now_ms);
    }

    /// Reading the stream failed: it dropped before it closed.
    pub fn on_stream_failed(&mut self, now_ms: u64) {
        if self.phase != Phase::Streaming {
            return;
        }
        self.close_stream();
        self.reconnect_id = Some(self.last_id.clone()).filter(|s| !s.is_empty());
        self.resume.set_server_retry_ms(self.decoder.retry());
        self.recover(now_ms);
    }

    /// The timer armed last fell due (a timer firing early or late is
    /// harmless: every deadline is checked against `now_ms`).
    pub fn on_timer(&mut self, now_ms: u64) {
        match self.phase {
            Phase::Opening { .. } => match self.headers_deadline.take() {
                Some((at, err)) if now_ms >= at => self.fail(err),
                other => {
                    self.headers_deadline = other;
                    self.arm_headers_timer();
                }
            },
            Phase::Streaming => self.watch_stream(now_ms),
            Phase::Recovering => self.step_recovery(now_ms),
            Phase::PollingState | Phase::Settling | Phase::Over => {}
        }
    }

    /// The state request answered (or failed).
    pub fn on_state(&mut self, now_ms: u64, state: Result<Timeline, Error>) {
        match self.phase {
            Phase::PollingState => {
                let settled = match state {
                    Ok(t) => {
                        let before = self.before().cloned();
                        self.settle.on_state(now_ms, before.as_ref(), t)
                    }
                    Err(e) if e.kind() == ErrorKind::Aborted => return self.fail(e),
                    // A failed poll is just a poll that did not settle.
                    Err(_) => false,
                };
                self.resume.on_state(now_ms, settled);
                self.phase = Phase::Recovering;
                self.step_recovery(now_ms);
            }
            Phase::Settling => {
                let Some(mut outcome) = self.pending.take() else {
                    return;
                };
                // Without the state the outcome stands on the stream alone.
                match state {
                    Ok(after) => self.describe_state(&mut outcome, after),
                    Err(_) => self.describe_without_state(&mut outcome),
                }
                self.finish(outcome);
            }
            _ => {}
        }
    }

    /// The caller aborted: stop everything, fail with `Aborted`.
    pub fn on_abort(&mut self) {
        if self.phase == Phase::Over {
            return;
        }
        if self.phase == Phase::Streaming {
            self.close_stream();
        }
        self.fail(Error::aborted());
    }

    // ---- steps ---------------------------------------------------------

    fn push(&mut self, effect: TurnEffect) {
        self.effects.push_back(effect);
    }

    fn emit(&mut self, event: TurnEvent) {
        self.push(TurnEffect::Emit(event));
    }

    /// POSTs the chat body (with `Last-Event-ID` when resuming), bounded by
    /// the wait for response headers.
    fn open(&mut self, now_ms: u64) {
        let req = endpoints::run_sse(
            &self.session_id,
            &self.message,
            self.reconnect_id.as_deref(),
            self.streaming,
        );
        self.phase = Phase::Opening {
            resuming: self.reconnect_id.is_some(),
        };
        let (wait, err) = self.watch.headers_wait(now_ms);
        self.headers_deadline = Some((now_ms.saturating_add(wait), err));
        self.push(TurnEffect::OpenStream(req));
        self.arm_headers_timer();
    }

    fn arm_headers_timer(&mut self) {
        if let Some((at_ms, _)) = self.headers_deadline {
            self.push(TurnEffect::ArmTimer { at_ms });
        }
    }

    /// Asks the watch what is due while the stream is open: a "still
    /// working" notice, the stall or the cap; else the next read and the
    /// timer for the next deadline.
    fn watch_stream(&mut self, now_ms: u64) {
        loop {
            let tick = self.watch.poll(now_ms);
            match tick {
                TurnTick::StillWorking { elapsed_ms, .. } => self.emit(TurnEvent::StillWorking {
                    elapsed_ms,
                    message: still_working_message(elapsed_ms),
                }),
                TurnTick::Stalled { .. } | TurnTick::Capped { .. } => {
                    self.close_stream();
                    let err = tick
                        .error()
                        .unwrap_or_else(|| Error::timeout("The turn ran out of time."));
                    return self.fail(err);
                }
                TurnTick::Idle { next_deadline_ms } => {
                    if !self.reading {
                        self.reading = true;
                        self.push(TurnEffect::ReadStream);
                    }
                    return self.push(TurnEffect::ArmTimer {
                        at_ms: next_deadline_ms,
                    });
                }
            }
        }
    }

    /// Decodes one chunk: ids, keep-alives and agent events, shown in order.
    fn decode(&mut self, now_ms: u64, chunk: &[u8]) {
        let mut agent_events = Vec::new();
        let mut heartbeats = 0u32;
        let mut last_id = std::mem::take(&mut self.last_id);
        let mut id_changed = false;
        let r = self.decoder.push_with(chunk, |item| match item {
            SseItemRef::Comment(_) => heartbeats += 1,
            SseItemRef::Event(ev) => {
                if let Some(id) = ev.id {
                    if id != last_id {
                        last_id.clear();
                        last_id.push_str(id);
                        id_changed = true;
                    }
                }
                // Data that is not an agent event is skipped: one bad event
                // must not end a paid turn.
                let _ = events::decode_into(ev.data, &mut agent_events);
            }
        });
        self.last_id = last_id;
        if let Err(e) = r {
            self.emit(TurnEvent::Notice {
                message: Error::from(e).message().to_string(),
            });
        }
        if !self.last_id.is_empty() {
            self.saw_ids = true;
            if id_changed {
                self.push(TurnEffect::RememberEventId(self.last_id.clone()));
            }
        }
        for _ in 0..heartbeats {
            self.watch.on_event(now_ms, true);
            self.emit(TurnEvent::Heartbeat);
        }
        for ev in &agent_events {
            self.watch
                .on_event(now_ms, matches!(ev, AgentEvent::Heartbeat));
            self.show(ev);
        }
    }

    /// One agent event: its own event for the UI, then what the assembler
    /// makes of it (deltas never shown twice).
    fn show(&mut self, ev: &AgentEvent) {
        match ev {
            AgentEvent::Thought { text, partial } => self.emit(TurnEvent::Thought {
                text: text.clone(),
                partial: *partial,
            }),
            AgentEvent::ToolResult { name, result, .. } => {
                let activity = events::tool_activity(name, result);
                let mut label = activity.trim_end_matches('…').to_string();
                label.push_str(" done");
                let done = activity.trim_end_matches('…').trim();
                if !done.is_empty() && !self.tool_outcomes.iter().any(|d| d == done) {
                    self.tool_outcomes.push(done.to_string());
                }
                self.emit(TurnEvent::Tool {
                    phase: ToolPhase::Result,
                    name: name.clone(),
                    label,
                })
            }
            AgentEvent::ToolCall { name, args, .. } => self.emit(TurnEvent::Tool {
                phase: ToolPhase::Call,
                name: name.clone(),
                label: events::tool_activity(name, args),
            }),
            AgentEvent::StateDelta { delta } => self.emit(TurnEvent::StateDelta {
                keys: delta.iter().map(|(k, _)| k.to_string()).collect(),
            }),
            AgentEvent::Heartbeat => self.emit(TurnEvent::Heartbeat),
            AgentEvent::Text { .. }
            | AgentEvent::StreamError { .. }
            | AgentEvent::ArtifactDelta { .. } => {}
        }
        let mut displays = Vec::new();
        self.asm.push(ev, &mut displays);
        self.show_displays(displays);
    }

    fn show_displays(&mut self, displays: Vec<Display>) {
        for d in displays {
            match d {
                Display::Delta { text, author } => self.emit(TurnEvent::TextDelta { text, author }),
                Display::Final {
                    text,
                    replaced_deltas,
                    author,
                } => {
                    let t = gui::translate(&text);
                    self.emit(TurnEvent::Text {
                        text: t.text.trim().to_string(),
                        raw_text: text,
                        replaces_deltas: replaced_deltas,
                        author,
                        actions: t.actions.iter().map(|a| a.name()).collect(),
                    })
                }
                // Tool activity is shown from the tool call itself.
                Display::Activity { .. } => {}
                Display::Error { message } => {
                    let mut m = String::from("The agent reported an error: ");
                    m.push_str(&message);
                    self.emit(TurnEvent::Notice { message: m })
                }
            }
        }
    }

    fn close_stream(&mut self) {
        self.reading = false;
        // A cut mid-event discards the partial event (spec) and keeps ids.
        let _ = self.decoder.finish(&mut Vec::new());
        self.push(TurnEffect::CloseStream);
    }

    /// The stream dropped (or a reconnect failed) at `now_ms`: plan the
    /// next recovery step.
    fn recover(&mut self, now_ms: u64) {
        self.resume.on_drop(now_ms, self.saw_ids);
        let generation = self.generates();
        self.settle = StateSettle::new(&self.timing, generation);
        self.phase = Phase::Recovering;
        self.step_recovery(now_ms);
    }

    /// Takes the recovery step due at `now_ms`, or arms the timer for it.
    fn step_recovery(&mut self, now_ms: u64) {
        if self.resume.should_notify(now_ms) {
            self.emit(TurnEvent::Notice {
                message: "The connection dropped; recovering the agent's progress without sending your message again…".into(),
            });
        }
        match self.resume.step() {
            ResumeStep::ReconnectAt { at_ms, attempt } => {
                if self.announced_attempt != attempt {
                    self.announced_attempt = attempt;
                    self.emit(TurnEvent::Reconnecting { attempt });
                }
                if now_ms >= at_ms {
                    self.open(now_ms);
                } else {
                    self.push(TurnEffect::ArmTimer { at_ms });
                }
            }
            ResumeStep::PollStateAt { at_ms } => {
                if now_ms >= at_ms {
                    self.phase = Phase::PollingState;
                    self.push(TurnEffect::CancelTimer);
                    self.push(TurnEffect::FetchState);
                } else {
                    self.push(TurnEffect::ArmTimer { at_ms });
                }
            }
            ResumeStep::Done => {
                self.announced_attempt = 0;
                self.conclude(now_ms)
            }
            ResumeStep::GiveUp => {
                let cap = crate::core::error::LimitText(self.timing.turn_cap_ms);
                self.fail(Error::timeout(format!(
                    "The connection to the agent was lost and its progress could not be recovered within the turn time limit ({cap}). The project state may still update; ask for the status in a moment."
                )))
            }
        }
    }

    /// Whether this turn generates a clip (then its outcome has two
    /// stages): its message asks for one, or a generation tool ran.
    fn generates(&self) -> bool {
        matches!(
            intent::route(&self.message, false),
            Intent::Chat(ChatIntent::Generate)
        ) || self
            .asm
            .tool_calls()
            .iter()
            .any(|t| crate::core::text::contains(t, "generat"))
    }

    /// The stream is over (or recovery read the outcome from the state):
    /// the outcome from what the stream said, then the state if it changed.
    fn conclude(&mut self, _now_ms: u64) {
        let mut displays = Vec::new();
        self.asm.finish(&mut displays);
        self.show_displays(displays);
        if let Some(err) = self.asm.error() {
            let mut m = String::from("The agent hit an error: ");
            m.push_str(&err.message);
            return self.fail(Error::new(ErrorKind::Protocol, m));
        }
        let raw_text = self.asm.final_text();
        let translated = gui::translate(&raw_text);
        let mut outcome = TurnOutcome {
            text: translated.text.trim().to_string(),
            raw_text,
            tool_calls: self.asm.tool_calls().to_vec(),
            silent: self.asm.is_silent(),
            actions: translated.actions.iter().map(|a| a.name()).collect(),
            // What the stream said, whatever the state endpoint says later.
            state_changed: self.asm.changed_session(),
            ..TurnOutcome::default()
        };
        let wants_state =
            self.asm.changed_session() || outcome.silent || !outcome.tool_calls.is_empty();
        if wants_state && self.snapshot != Snapshot::Unavailable {
            self.pending = Some(outcome);
            self.phase = Phase::Settling;
            self.push(TurnEffect::CancelTimer);
            self.push(TurnEffect::FetchState);
        } else {
            if wants_state {
                self.describe_without_state(&mut outcome);
            }
            self.finish(outcome);
        }
    }

    /// What the turn did, from the stream alone: the tools' outcomes (what
    /// it did), else the lead of its final message (what it said last).
    fn stream_summary(&self) -> Option<String> {
        if !self.tool_outcomes.is_empty() {
            // "Done: changing the aspect ratio, adding music."
            let mut s = String::from("Done: ");
            for (i, d) in self.tool_outcomes.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                let mut chars = d.chars();
                // `text`'s case, not `std`'s: exact for the alphabets tool
                // names use, without `std`'s case tables (about 6 KB gzipped).
                let lower_next = d.chars().nth(1).is_some_and(crate::core::text::is_lower);
                match chars.next() {
                    Some(c) if lower_next => {
                        s.push(crate::core::text::lower(c));
                        s.push_str(chars.as_str());
                    }
                    _ => s.push_str(d),
                }
            }
            s.push('.');
            return Some(s);
        }
        let last = self.asm.messages().last().map(|m| gui::translate(m).text);
        last.map(|t| first_sentence(t.trim()))
            .filter(|s| !s.is_empty())
    }

    /// The closing state could not be read: say so where it would have
    /// given the summary.
    fn describe_without_state(&mut self, outcome: &mut TurnOutcome) {
        if outcome.silent && self.tool_outcomes.is_empty() {
            outcome.summary = STATE_UNAVAILABLE.into();
        }
    }

    /// What the closing state says: whether it changed, and a summary.
    fn describe_state(&mut self, outcome: &mut TurnOutcome, after: Timeline) {
        let changes = self
            .before()
            .map(|b| timeline::diff(b, &after))
            .unwrap_or_default();
        outcome.state_changed |= !changes.is_empty();
        self.emit(TurnEvent::State {
            summary: after.summary(),
            changes: changes.iter().map(|c| c.describe()).collect(),
        });
        // What changed in the project is what the turn did; a silent turn
        // is summed up by it even when nothing changed.
        if !changes.is_empty() {
            outcome.summary = timeline::summarize_changes(&changes);
        } else if outcome.silent || outcome.text.is_empty() {
            outcome.summary = match self.before() {
                Some(_) => timeline::summarize_changes(&changes),
                None => {
                    let mut s = String::from(
                        "The agent finished without writing anything. The project now: ",
                    );
                    s.push_str(&after.summary());
                    s
                }
            };
        }
        outcome.timeline = Some(after);
    }

    fn finish(&mut self, mut outcome: TurnOutcome) {
        if outcome.summary.is_empty() {
            outcome.summary = self
                .stream_summary()
                .unwrap_or_else(|| "The agent finished without changes.".into());
        }
        self.phase = Phase::Over;
        self.push(TurnEffect::CancelTimer);
        self.push(TurnEffect::Finish(outcome));
    }

    fn fail(&mut self, error: Error) {
        self.phase = Phase::Over;
        self.push(TurnEffect::CancelTimer);
        self.push(TurnEffect::Fail(error));
    }
}

/// The summary of a silent turn whose effect could not be read.
const STATE_UNAVAILABLE: &str = "The agent finished without writing anything, and the project state could not be read, so what changed is unknown. Ask for the status to see it.";

/// Whether the server answered a resume with a definite no (a 4xx other
/// than a time-out or a rate limit, and not about the account or session).
fn refuses_resume(e: &Error) -> bool {
    let client_error = e
        .status()
        .is_some_and(|s| (400..500).contains(&s) && s != 408 && s != 429);
    client_error && matches!(e.kind(), ErrorKind::Protocol | ErrorKind::InvalidInput)
}

/// Whether a failed opening of a resumed stream is worth another try.
fn is_transient(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Network | ErrorKind::Protocol | ErrorKind::Timeout
    )
}

fn still_working_message(elapsed_ms: u64) -> String {
    let minutes = elapsed_ms / 60_000;
    if minutes <= 1 {
        "Still working on it…".into()
    } else {
        format!(
            "Still working on it ({} min so far)…",
            crate::core::format::Int::from(minutes)
        )
    }
}

/// The text up to and including its first sentence end.
fn first_sentence(text: &str) -> String {
    let end = text
        .char_indices()
        .find(|(_, c)| matches!(c, '.' | '!' | '?' | '。' | '！' | '？' | '\n'))
        .map_or(text.len(), |(i, c)| i + c.len_utf8());
    text.get(..end).unwrap_or(text).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;

    const T0: u64 = 1_000_000;

    fn tl(draft: &str) -> Timeline {
        Timeline::parse(&json::parse(draft).expect("test draft").into_owned())
    }

    const EMPTY: &str = r#"{"t":[]}"#;
    const CLIP: &str = r#"{"t":[{"tt":0,"sg":[{"id":"v1","s":0,"d":5000,"src":"gen://a"}]}]}"#;
    const FINAL: &str = r#"{"t":[{"tt":0,"sg":[{"id":"v1","s":0,"d":5000,"src":"gen://a"}]},
        {"tt":1,"sg":[{"id":"a1","s":0,"d":5000,"src":"bgm://lofi","m":{"name":"Lo-fi","volume":30}}]},
        {"tt":7,"sg":[{"id":"t1","s":0,"d":3000,"m":{"name":"Title","text":"Kite"}}]}]}"#;

    /// One SSE event carrying ADK text, with an id.
    fn text_event(id: &str, text: &str) -> Vec<u8> {
        format!(
            "id: {id}\ndata: {{\"content\":{{\"parts\":[{{\"text\":\"{text}\"}}],\"role\":\"model\"}},\"author\":\"nemo_agent\"}}\n\n"
        )
        .into_bytes()
    }

    fn tool_call_event(name: &str) -> Vec<u8> {
        format!(
            "data: {{\"content\":{{\"parts\":[{{\"functionCall\":{{\"name\":\"{name}\",\"args\":{{}}}}}}],\"role\":\"model\"}}}}\n\n"
        )
        .into_bytes()
    }

    fn start(
        message: &str,
        resume_from: Option<String>,
        before: Option<Timeline>,
    ) -> TurnStart<'_> {
        TurnStart {
            session_id: "s1",
            message,
            resume_from,
            before,
            streaming: true,
        }
    }

    /// Everything the turn asked for so far.
    fn drain(t: &mut Turn) -> Vec<TurnEffect> {
        std::iter::from_fn(|| t.poll_effect()).collect()
    }

    fn opens(effects: &[TurnEffect]) -> Vec<&ApiRequest> {
        effects
            .iter()
            .filter_map(|e| match e {
                TurnEffect::OpenStream(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn last_event_id(req: &ApiRequest) -> Option<&str> {
        req.headers
            .iter()
            .find(|(k, _)| *k == "Last-Event-ID")
            .map(|(_, v)| v.as_str())
    }

    fn timer(effects: &[TurnEffect]) -> Option<u64> {
        effects.iter().rev().find_map(|e| match e {
            TurnEffect::ArmTimer { at_ms } => Some(*at_ms),
            _ => None,
        })
    }

    fn events(effects: &[TurnEffect]) -> Vec<&TurnEvent> {
        effects
            .iter()
            .filter_map(|e| match e {
                TurnEffect::Emit(ev) => Some(ev),
                _ => None,
            })
            .collect()
    }

    fn finished(effects: &[TurnEffect]) -> Option<&TurnOutcome> {
        effects.iter().find_map(|e| match e {
            TurnEffect::Finish(o) => Some(o),
            _ => None,
        })
    }

    fn failed(effects: &[TurnEffect]) -> Option<&Error> {
        effects.iter().find_map(|e| match e {
            TurnEffect::Fail(e) => Some(e),
            _ => None,
        })
    }

    fn fetches_state(effects: &[TurnEffect]) -> bool {
        effects.contains(&TurnEffect::FetchState)
    }

    /// A turn whose stream is open at `T0`.
    fn streaming(message: &str, before: Option<Timeline>) -> Turn {
        let mut t = Turn::new(&Timing::default(), start(message, None, before), T0);
        drain(&mut t);
        t.on_opened(T0);
        drain(&mut t);
        t
    }

    #[test]
    fn sends_the_message_once_and_bounds_the_wait_for_headers() {
        let mut t = Turn::new(&Timing::default(), start("slow zoom in", None, None), T0);
        let fx = drain(&mut t);
        let reqs = opens(&fx);
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].path, "/run_sse");
        assert!(reqs[0]
            .body
            .as_deref()
            .is_some_and(|b| b.contains("slow zoom in")));
        assert_eq!(last_event_id(reqs[0]), None);
        assert_eq!(timer(&fx), Some(T0 + 60_000));
        // An early timer changes nothing; the limit itself ends the turn.
        t.on_timer(T0 + 30_000);
        assert!(failed(&drain(&mut t)).is_none());
        t.on_timer(T0 + 60_000);
        let err = failed(&drain(&mut t)).cloned().expect("timed out");
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.message().contains("1 min") || err.message().contains("60"));
        assert!(t.is_over());
    }

    #[test]
    fn a_normal_turn_streams_text_and_finishes_without_reading_state() {
        let mut t = streaming("hello", None);
        t.on_chunk(T0 + 10, &text_event("e1", "Hello there. How are you?"));
        let fx = drain(&mut t);
        assert!(fx.contains(&TurnEffect::RememberEventId("e1".into())));
        assert!(fx.contains(&TurnEffect::ReadStream));
        assert!(events(&fx).iter().any(
            |e| matches!(e, TurnEvent::Text { text, .. } if text == "Hello there. How are you?")
        ));
        t.on_stream_end(T0 + 20);
        let fx = drain(&mut t);
        assert!(fx.contains(&TurnEffect::CloseStream));
        assert!(!fetches_state(&fx));
        let o = finished(&fx).expect("finished");
        assert_eq!(o.text, "Hello there. How are you?");
        assert_eq!(o.summary, "Hello there.");
        assert!(!o.silent && !o.state_changed);
    }

    #[test]
    fn a_read_in_flight_is_never_requested_twice() {
        let mut t = streaming("hello", None);
        // A still-working tick while the read is pending: no second read.
        t.on_timer(T0 + 120_000);
        let fx = drain(&mut t);
        assert!(!fx.contains(&TurnEffect::ReadStream));
        assert!(events(&fx)
            .iter()
            .any(|e| matches!(e, TurnEvent::StillWorking { .. })));
    }

    #[test]
    fn still_working_every_two_minutes_without_progress() {
        let mut t = streaming("hello", None);
        let mut ticks = Vec::new();
        for minute in 1..=9 {
            t.on_timer(T0 + minute * 60_000);
            for e in drain(&mut t) {
                if let TurnEffect::Emit(TurnEvent::StillWorking { elapsed_ms, .. }) = e {
                    ticks.push(elapsed_ms);
                }
            }
        }
        assert_eq!(ticks, vec![120_000, 240_000, 360_000, 480_000]);
        // A real event pushes the next notice two minutes past it.
        t.on_chunk(T0 + 500_000, &text_event("e1", "progress"));
        let fx = drain(&mut t);
        assert_eq!(timer(&fx), Some(T0 + 620_000));
    }

    #[test]
    fn keep_alives_alone_for_ten_minutes_stall_the_turn() {
        let mut t = streaming("hello", None);
        for minute in 1..10 {
            t.on_chunk(T0 + minute * 60_000, b": keep-alive\n\n");
            let fx = drain(&mut t);
            assert!(failed(&fx).is_none(), "minute {minute}");
            assert!(events(&fx).contains(&&TurnEvent::Heartbeat));
        }
        t.on_timer(T0 + 600_000);
        let fx = drain(&mut t);
        assert!(fx.contains(&TurnEffect::CloseStream));
        assert_eq!(failed(&fx).map(Error::kind), Some(ErrorKind::StreamStalled));
    }

    #[test]
    fn the_turn_is_capped_at_fifteen_minutes_whatever_arrives() {
        let mut t = streaming("hello", None);
        for minute in 1..15 {
            t.on_chunk(
                T0 + minute * 60_000,
                &text_event(&format!("e{minute}"), "more"),
            );
            assert!(failed(&drain(&mut t)).is_none());
        }
        t.on_timer(T0 + 15 * 60_000);
        let fx = drain(&mut t);
        assert!(fx.contains(&TurnEffect::CloseStream));
        assert_eq!(failed(&fx).map(Error::kind), Some(ErrorKind::Timeout));
    }

    #[test]
    fn a_drop_with_ids_resumes_with_last_event_id_after_two_seconds() {
        let mut t = streaming("hello", None);
        t.on_chunk(T0 + 10, &text_event("e7", "Part one."));
        drain(&mut t);
        t.on_stream_failed(T0 + 1_000);
        let fx = drain(&mut t);
        assert!(fx.contains(&TurnEffect::CloseStream));
        assert!(events(&fx).contains(&&TurnEvent::Reconnecting { attempt: 1 }));
        assert!(opens(&fx).is_empty(), "not before the wait");
        assert_eq!(timer(&fx), Some(T0 + 3_000));
        t.on_timer(T0 + 3_000);
        let fx = drain(&mut t);
        let reqs = opens(&fx);
        assert_eq!(reqs.len(), 1);
        assert_eq!(last_event_id(reqs[0]), Some("e7"));
        t.on_opened(T0 + 3_100);
        t.on_chunk(T0 + 3_200, &text_event("e8", " Part two."));
        t.on_stream_end(T0 + 3_300);
        let fx = drain(&mut t);
        let o = finished(&fx).expect("finished");
        assert!(o.text.contains("Part one."), "{}", o.text);
    }

    #[test]
    fn the_servers_retry_field_lengthens_the_wait() {
        let mut t = streaming("hello", None);
        t.on_chunk(
            T0,
            b"retry: 7000\nid: e1\ndata: {\"type\":\"text\",\"content\":\"hi\"}\n\n",
        );
        drain(&mut t);
        t.on_stream_failed(T0 + 100);
        assert_eq!(timer(&drain(&mut t)), Some(T0 + 7_100));
    }

    #[test]
    fn at_most_three_resumes_then_state_polling_every_five_seconds() {
        let mut t = streaming("hello", None);
        t.on_chunk(T0, &text_event("e1", "Working."));
        drain(&mut t);
        t.on_stream_failed(T0);
        let mut now = T0;
        let mut attempts = Vec::new();
        loop {
            let fx = drain(&mut t);
            for e in events(&fx) {
                if let TurnEvent::Reconnecting { attempt } = e {
                    attempts.push((*attempt, now));
                }
            }
            if fetches_state(&fx) {
                break;
            }
            let at = timer(&fx).expect("a timer");
            assert!(at >= now + 2_000 || !opens(&fx).is_empty());
            now = at;
            t.on_timer(now);
            let fx = drain(&mut t);
            if !opens(&fx).is_empty() {
                assert_eq!(last_event_id(opens(&fx)[0]), Some("e1"));
                t.on_open_failed(now, Error::new(ErrorKind::Network, "down"));
            } else if fetches_state(&fx) {
                break;
            }
        }
        let starts: Vec<u32> = attempts.iter().map(|a| a.0).collect();
        assert_eq!(starts, vec![1, 2, 3]);
        for w in attempts.windows(2) {
            assert!(w[1].1 - w[0].1 >= 2_000, "{attempts:?}");
        }
        // Only polls from now on: the message is never sent again.
        assert!(now - T0 >= 6_000);
    }

    #[test]
    fn a_drop_without_ids_polls_state_until_it_changes_and_holds() {
        let before = tl(EMPTY);
        let mut t = streaming("add a title", Some(before));
        t.on_chunk(
            T0,
            b"data: {\"type\":\"tool_call\",\"name\":\"add_title\",\"args\":{}}\n\n",
        );
        drain(&mut t);
        t.on_stream_failed(T0 + 100);
        let fx = drain(&mut t);
        assert!(events(&fx)
            .iter()
            .all(|e| !matches!(e, TurnEvent::Reconnecting { .. })));
        assert_eq!(timer(&fx), Some(T0 + 5_100));
        // Unchanged, changed, then the same again: settled.
        let polls = [(5_100, EMPTY), (10_100, CLIP), (15_100, CLIP)];
        let mut last = Vec::new();
        for (i, (at, state)) in polls.iter().enumerate() {
            t.on_timer(T0 + at);
            let fx = drain(&mut t);
            assert!(fetches_state(&fx), "poll {i}");
            assert!(opens(&fx).is_empty());
            t.on_state(T0 + at, Ok(tl(state)));
            last = drain(&mut t);
            if i < 2 {
                assert_eq!(timer(&last), Some(T0 + at + 5_000), "poll {i}");
            }
        }
        // Settled: the closing state read says what changed.
        assert!(fetches_state(&last));
        t.on_state(T0 + 15_200, Ok(tl(CLIP)));
        let fx = drain(&mut t);
        let o = finished(&fx).expect("finished");
        assert!(o.state_changed);
        assert!(o.silent);
        assert!(!o.summary.is_empty());
        assert!(events(&fx)
            .iter()
            .any(|e| matches!(e, TurnEvent::State { .. })));
    }

    #[test]
    fn a_generation_waits_for_both_stages() {
        let before = tl(EMPTY);
        let mut t = streaming(
            "animate this photo into a cinematic video clip with camera movement",
            Some(before),
        );
        t.on_stream_failed(T0);
        drain(&mut t);
        // The raw clip shows and holds still between the stages.
        let mut now = T0;
        for _ in 0..4 {
            now += 5_000;
            t.on_timer(now);
            assert!(fetches_state(&drain(&mut t)));
            t.on_state(now, Ok(tl(CLIP)));
            let fx = drain(&mut t);
            assert!(!fetches_state(&fx), "not settled on the raw clip");
        }
        // The second stage lands: BGM and a title.
        for _ in 0..2 {
            now += 5_000;
            t.on_timer(now);
            drain(&mut t);
            t.on_state(now, Ok(tl(FINAL)));
        }
        let fx = drain(&mut t);
        assert!(fetches_state(&fx), "settled after both stages");
        t.on_state(now + 1, Ok(tl(FINAL)));
        let o = finished(&drain(&mut t)).cloned().expect("finished");
        assert_eq!(o.timeline, Some(tl(FINAL)));
    }

    #[test]
    fn recovery_tells_the_user_only_after_thirty_seconds() {
        let mut t = streaming("edit", Some(tl(EMPTY)));
        t.on_stream_failed(T0);
        drain(&mut t);
        let mut notices = Vec::new();
        let mut now = T0;
        for _ in 0..8 {
            now += 5_000;
            t.on_timer(now);
            let mut fx = drain(&mut t);
            t.on_state(now, Ok(tl(EMPTY)));
            fx.extend(drain(&mut t));
            for e in fx {
                if let TurnEffect::Emit(TurnEvent::Notice { .. }) = e {
                    notices.push(now - T0);
                }
            }
        }
        assert_eq!(notices, vec![30_000]);
    }

    #[test]
    fn recovery_gives_up_at_the_turns_cap() {
        let mut t = streaming("edit", Some(tl(EMPTY)));
        t.on_stream_failed(T0 + 14 * 60_000);
        let mut now = T0 + 14 * 60_000;
        let mut fx = drain(&mut t);
        while failed(&fx).is_none() {
            now = timer(&fx).expect("a timer");
            t.on_timer(now);
            fx = drain(&mut t);
            if fetches_state(&fx) {
                t.on_state(now, Ok(tl(EMPTY)));
                fx = drain(&mut t);
            }
        }
        assert_eq!(failed(&fx).map(Error::kind), Some(ErrorKind::Timeout));
        assert!(now <= T0 + 15 * 60_000);
    }

    #[test]
    fn a_failed_opening_is_the_outcome_and_is_never_resent() {
        let mut t = Turn::new(&Timing::default(), start("hi", None, None), T0);
        drain(&mut t);
        t.on_open_failed(T0 + 5, Error::new(ErrorKind::Network, "connection refused"));
        let fx = drain(&mut t);
        assert!(opens(&fx).is_empty());
        assert_eq!(failed(&fx).map(Error::kind), Some(ErrorKind::Network));
    }

    #[test]
    fn a_reconnect_refused_for_good_ends_the_turn() {
        let mut t = streaming("hello", None);
        t.on_chunk(T0, &text_event("e1", "Working."));
        t.on_stream_failed(T0);
        t.on_timer(T0 + 2_000);
        drain(&mut t);
        t.on_open_failed(
            T0 + 2_100,
            Error::new(ErrorKind::OutOfCredits, "no credits"),
        );
        assert_eq!(
            failed(&drain(&mut t)).map(Error::kind),
            Some(ErrorKind::OutOfCredits)
        );
    }

    #[test]
    fn a_reload_resumes_from_the_persisted_event_id() {
        let mut t = Turn::new(&Timing::default(), start("hi", Some("e9".into()), None), T0);
        let fx = drain(&mut t);
        assert_eq!(last_event_id(opens(&fx)[0]), Some("e9"));
    }

    #[test]
    fn a_tool_turn_reads_the_state_and_survives_its_failure() {
        let mut t = streaming("add lo-fi BGM at 35%", Some(tl(EMPTY)));
        t.on_chunk(T0, &tool_call_event("add_bgm"));
        let fx = drain(&mut t);
        assert!(events(&fx).iter().any(|e| matches!(
            e,
            TurnEvent::Tool {
                phase: ToolPhase::Call,
                ..
            }
        )));
        t.on_chunk(T0 + 5, &text_event("e2", "Added the music. Enjoy!"));
        t.on_stream_end(T0 + 10);
        assert!(fetches_state(&drain(&mut t)));
        t.on_state(T0 + 20, Err(Error::new(ErrorKind::Network, "down")));
        let o = finished(&drain(&mut t)).cloned().expect("finished");
        assert_eq!(o.tool_calls, vec!["add_bgm".to_string()]);
        // No state to diff and no tool result: the final text's lead.
        assert_eq!(o.summary, "Added the music.");
        assert_eq!(o.timeline, None);
    }

    #[test]
    fn an_error_inside_the_stream_fails_the_turn_with_the_servers_reason() {
        let mut t = streaming("error", None);
        t.on_chunk(
            T0,
            include_bytes!("../../tests/fixtures/adk/run_sse_error_midstream.sse"),
        );
        t.on_stream_end(T0 + 5);
        let err = failed(&drain(&mut t)).cloned().expect("failed");
        assert!(
            err.message().contains("simulated agent failure"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn the_captured_adk_turn_plays_through() {
        let mut t = streaming("What is the weather in Paris?", Some(tl(EMPTY)));
        t.on_chunk(
            T0,
            include_bytes!("../../tests/fixtures/adk/run_sse_basic.sse"),
        );
        let fx = drain(&mut t);
        let evs = events(&fx);
        assert!(evs.iter().any(|e| matches!(e, TurnEvent::Thought { .. })));
        assert!(evs.iter().any(|e| matches!(e, TurnEvent::StateDelta { keys } if keys.contains(&"last_city".to_string()))));
        t.on_stream_end(T0 + 1);
        assert!(fetches_state(&drain(&mut t)));
        t.on_state(T0 + 2, Ok(tl(EMPTY)));
        let o = finished(&drain(&mut t)).cloned().expect("finished");
        assert!(o.state_changed, "the stream carried state deltas");
        assert!(o.tool_calls.contains(&"get_weather".to_string()));
    }

    #[test]
    fn abort_at_every_step_fails_once_and_stops_what_is_in_flight() {
        type Step = fn(&mut Turn);
        let steps: [(&str, Step); 5] = [
            ("opening", |_| {}),
            ("streaming", |t| t.on_opened(T0)),
            ("recovering", |t| {
                t.on_opened(T0);
                t.on_stream_failed(T0 + 1);
            }),
            ("polling state", |t| {
                t.on_opened(T0);
                t.on_stream_failed(T0 + 1);
                t.on_timer(T0 + 5_001);
            }),
            ("settling", |t| {
                t.on_opened(T0);
                t.on_chunk(T0, &tool_call_event("add_title"));
                t.on_stream_end(T0 + 1);
            }),
        ];
        for (name, step) in steps {
            let mut t = Turn::new(&Timing::default(), start("edit", None, Some(tl(EMPTY))), T0);
            step(&mut t);
            drain(&mut t);
            t.on_abort();
            let fx = drain(&mut t);
            assert_eq!(
                failed(&fx).map(Error::kind),
                Some(ErrorKind::Aborted),
                "{name}"
            );
            if name == "streaming" {
                assert!(fx.contains(&TurnEffect::CloseStream));
            }
            // Whatever arrives afterwards is ignored.
            t.on_chunk(T0 + 10, &text_event("e1", "late"));
            t.on_state(T0 + 10, Ok(tl(CLIP)));
            t.on_timer(T0 + 10_000);
            t.on_abort();
            assert!(drain(&mut t).is_empty(), "{name}");
        }
    }
    #[test]
    fn the_message_goes_first_and_the_snapshot_rides_alongside() {
        let mut t = Turn::new(&Timing::default(), start("slow zoom in", None, None), T0);
        let fx = drain(&mut t);
        let open = fx
            .iter()
            .position(|e| matches!(e, TurnEffect::OpenStream(_)));
        let snap = fx.iter().position(|e| *e == TurnEffect::TakeSnapshot);
        assert!(open.is_some() && snap.is_some(), "{fx:?}");
        assert!(open < snap, "the POST leaves first");
        assert!(!fetches_state(&fx), "no state read before the message");
        // With the last known timeline, no snapshot at all.
        let mut t = Turn::new(&Timing::default(), start("hi", None, Some(tl(EMPTY))), T0);
        assert!(!drain(&mut t).contains(&TurnEffect::TakeSnapshot));
    }

    #[test]
    fn a_failing_state_endpoint_never_fails_the_turn() {
        // The snapshot failed: the end of the turn does not ask again, and
        // the silent turn's summary says what is unknown.
        let mut t = Turn::new(&Timing::default(), start("trim", None, None), T0);
        drain(&mut t);
        t.on_snapshot(Err(Error::new(ErrorKind::Network, "down")));
        t.on_opened(T0 + 1);
        t.on_chunk(
            T0 + 2,
            b"data: {\"actions\":{\"stateDelta\":{\"draft\":1}}}\n\n",
        );
        t.on_stream_end(T0 + 3);
        let fx = drain(&mut t);
        assert!(!fetches_state(&fx));
        let o = finished(&fx).expect("finished, not failed");
        assert!(o.state_changed, "the stream carried a state delta");
        assert_eq!(o.summary, STATE_UNAVAILABLE);
        assert_eq!(o.timeline, None);
    }

    #[test]
    fn a_snapshot_that_never_answers_leaves_the_closing_read_to_decide() {
        let mut t = Turn::new(&Timing::default(), start("trim", None, None), T0);
        drain(&mut t);
        t.on_opened(T0 + 1);
        t.on_chunk(
            T0 + 2,
            b"data: {\"actions\":{\"stateDelta\":{\"draft\":1}}}\n\n",
        );
        t.on_stream_end(T0 + 3);
        assert!(fetches_state(&drain(&mut t)));
        // The closing read times out too: still an outcome, not an error.
        t.on_state(T0 + 60_000, Err(Error::request_timeout(60_000)));
        let o = finished(&drain(&mut t)).cloned().expect("finished");
        assert!(o.state_changed);
        assert_eq!(o.summary, STATE_UNAVAILABLE);
        // And when it answers, the summary says what the project holds now.
        let mut t = Turn::new(&Timing::default(), start("trim", None, None), T0);
        drain(&mut t);
        t.on_opened(T0 + 1);
        t.on_stream_end(T0 + 3);
        drain(&mut t);
        t.on_state(T0 + 4, Ok(tl(CLIP)));
        let o = finished(&drain(&mut t)).cloned().expect("finished");
        assert!(o.summary.contains("Timeline (1 track)"), "{}", o.summary);
    }

    #[test]
    fn a_saved_file_is_a_state_change() {
        let mut t = streaming("save a report", Some(tl(EMPTY)));
        t.on_chunk(
            T0,
            b"data: {\"actions\":{\"stateDelta\":{},\"artifactDelta\":{\"report.txt\":0}}}\n\n",
        );
        t.on_stream_end(T0 + 1);
        drain(&mut t);
        t.on_state(T0 + 2, Err(Error::new(ErrorKind::Network, "down")));
        let o = finished(&drain(&mut t)).cloned().expect("finished");
        assert!(o.state_changed);
    }

    #[test]
    fn the_summary_says_what_the_turn_did() {
        let mut t = streaming("What is the weather in Paris?", Some(tl(EMPTY)));
        t.on_chunk(
            T0,
            include_bytes!("../../tests/fixtures/adk/run_sse_basic.sse"),
        );
        t.on_stream_end(T0 + 1);
        drain(&mut t);
        t.on_state(T0 + 2, Ok(tl(EMPTY)));
        let o = finished(&drain(&mut t)).cloned().expect("finished");
        // The tool is what the turn did (its texts begin with a greeting).
        assert!(
            o.summary.to_lowercase().contains("weather"),
            "{}",
            o.summary
        );
        assert!(!o.summary.starts_with("Hello"), "{}", o.summary);
        // A text-only turn: the lead of its final text, not its first.
        let mut t = streaming("hi", None);
        t.on_chunk(T0, &text_event("e1", "Hello there."));
        t.on_chunk(
            T0,
            &text_event("e2", "I trimmed the clip to 5 s. Anything else?"),
        );
        t.on_stream_end(T0 + 1);
        let o = finished(&drain(&mut t)).cloned().expect("finished");
        assert_eq!(o.summary, "I trimmed the clip to 5 s.");
        // No text at all, but a tool ran: its outcome.
        let mut t = streaming("make it 9:16", Some(tl(EMPTY)));
        t.on_chunk(T0, b"data: {\"type\":\"tool_call\",\"name\":\"set_aspect_ratio\",\"args\":{}}\n\ndata: {\"type\":\"tool_result\",\"name\":\"set_aspect_ratio\",\"result\":{}}\n\n");
        t.on_stream_end(T0 + 1);
        drain(&mut t);
        t.on_state(T0 + 2, Err(Error::new(ErrorKind::Network, "down")));
        let o = finished(&drain(&mut t)).cloned().expect("finished");
        assert_eq!(o.summary, "Done: changing the aspect ratio.");
    }

    #[test]
    fn token_streaming_is_asked_for_when_on() {
        let body = |streaming: bool| {
            let mut t = Turn::new(
                &Timing::default(),
                TurnStart {
                    streaming,
                    ..start("hi", None, None)
                },
                T0,
            );
            let fx = drain(&mut t);
            opens(&fx)[0].body.clone().unwrap_or_default()
        };
        assert!(body(true).contains("\"streaming\":true"));
        assert!(!body(false).contains("streaming"));
    }

    #[test]
    fn a_resume_the_server_refuses_goes_straight_to_the_state() {
        let mut t = streaming("make a video", Some(tl(EMPTY)));
        t.on_chunk(T0, &text_event("e1", "Working."));
        t.on_stream_failed(T0 + 10);
        drain(&mut t);
        t.on_timer(T0 + 2_010);
        assert_eq!(opens(&drain(&mut t)).len(), 1);
        let refused = crate::core::api::read_envelope(
            409,
            r#"{"code":409,"msg":"Cannot resume turn e-1: this server does not know it. The message was not run again."}"#,
            crate::core::api::ErrorContext { web_url: "https://w", user_id: None },
        )
        .expect_err("refused");
        t.on_open_failed(T0 + 2_050, refused);
        let fx = drain(&mut t);
        assert!(failed(&fx).is_none(), "{fx:?}");
        assert!(
            opens(&fx).is_empty(),
            "no second resume of a turn the server does not know"
        );
        assert_eq!(
            timer(&fx),
            Some(T0 + 2_050 + 5_000),
            "polls the state instead"
        );
    }
}
