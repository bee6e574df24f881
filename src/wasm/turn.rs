//! One chat turn: POST `/run_sse`, read the `ReadableStream` straight into
//! the core SSE decoder, and turn agent events into what a UI shows.
//!
//! Recovery follows docs/protocol.md, "Recovery after a dropped stream": a
//! dropped stream that carried ids is resumed with `Last-Event-ID` (≥ 2 s
//! apart, at most 3 tries); otherwise the turn's outcome is read from
//! state, polled every 5 s until settled.
//! The message itself is never sent twice.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::core::api::{endpoints, ApiRequest};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::events::{self, AgentEvent, Display, TurnAssembler};
use crate::core::gui;
use crate::core::intent::{self, ChatIntent, Intent};
use crate::core::policy::{ResumePlan, ResumeStep, TurnTick, TurnWatch};
use crate::core::settle::StateSettle;
use crate::core::sse::{SseConfig, SseDecoder, SseItemRef};
use crate::core::timeline::{self, Timeline};

use super::client::NemoClient;
use super::convert::{error_to_js, get, str_array, Obj};
use super::glue::{self, AbortController, AbortSignal, EventQueue, StreamReader};
use super::http::{await_js, spawn_promise};
use super::session::Session;

/// What a finished turn produced.
#[derive(Clone, Debug, Default)]
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
    pub actions: Vec<String>,
    /// The timeline after the turn, when it was fetched.
    pub timeline: Option<Timeline>,
}

/// Emits each event to `onEvent` and to the `for await` queue.
struct Emitter {
    queue: EventQueue,
    on_event: JsValue,
}

impl Emitter {
    fn emit(&self, ev: Obj) {
        let ev = ev.into_js();
        if let Some(f) = self.on_event.dyn_ref::<js_sys::Function>() {
            // A throwing callback must not break the turn.
            let _ = f.call1(&JsValue::UNDEFINED, &ev);
        }
        self.queue.push(&ev);
    }
}

/// Starts a turn and returns the iterable `Turn` object for JS:
/// `for await (const ev of turn)`, `turn.result`, `turn.abort()`.
pub(crate) fn start(
    session: Session,
    text: String,
    resume_from: Option<String>,
    options: &JsValue,
) -> JsValue {
    let controller = AbortController::new();
    link_user_signal(options, &controller);
    let queue = glue::event_queue(&controller);
    let emitter = Emitter {
        queue: queue.clone(),
        on_event: get(options, "onEvent"),
    };
    let signal = controller.signal();
    let result = spawn_promise(async move {
        let r = run(&session, &text, resume_from, &signal, &emitter).await;
        session.turn_finished();
        match r {
            Ok(outcome) => {
                let js = outcome_to_js(&outcome);
                emitter.emit(Obj::new().str("type", "done").set("result", js.clone()));
                emitter.queue.end();
                Ok(js)
            }
            Err(e) => {
                // Stop whatever the failed turn still has in flight (a
                // request whose headers never came, a reader).
                controller.abort();
                let err = error_to_js(&e);
                if let Some(f) = emitter.on_event.dyn_ref::<js_sys::Function>() {
                    let ev = Obj::new()
                        .str("type", "error")
                        .set("error", err.clone())
                        .into_js();
                    let _ = f.call1(&JsValue::UNDEFINED, &ev);
                }
                emitter.queue.fail(&err);
                Err(err)
            }
        }
    });
    let q: JsValue = queue.into();
    let _ = js_sys::Reflect::set(&q, &"result".into(), &glue::quiet(&result));
    q
}

/// Aborting the caller's signal aborts the turn's own controller.
pub(crate) fn link_user_signal(options: &JsValue, controller: &AbortController) {
    let given = get(options, "signal");
    if let Some(sig) = given.dyn_ref::<js_sys::Object>() {
        let sig: &AbortSignal = sig.unchecked_ref();
        if sig.aborted() {
            controller.abort();
            return;
        }
        let c = controller.clone();
        let cb = Closure::once_into_js(move || c.abort());
        sig.add_event_listener(
            "abort",
            cb.unchecked_ref(),
            &Obj::new().bool("once", true).build(),
        );
    }
}

async fn run(
    session: &Session,
    text: &str,
    resume_from: Option<String>,
    signal: &AbortSignal,
    out: &Emitter,
) -> Result<TurnOutcome> {
    let client = session.client();
    let timing = client.config().timing;
    let before = session.cached_timeline_or_fetch(signal).await;

    let now = || glue::date_now() as u64;
    let mut watch = TurnWatch::new(&timing, now());
    let mut resume = ResumePlan::new(&timing).with_deadline_ms(watch.cap_deadline_ms());
    let mut decoder = SseDecoder::new(SseConfig::default());
    let mut asm = TurnAssembler::new();
    let mut last_id = resume_from.clone().unwrap_or_default();
    let mut saw_ids = !last_id.is_empty();

    session.turn_started(text, &last_id);
    let mut reconnect_id = resume_from;
    'stream: loop {
        let req = endpoints::run_sse(session.id(), text, reconnect_id.as_deref());
        let res = open_stream(client, req, signal, watch.headers_wait(now())).await;
        let res = match res {
            Ok(r) => r,
            // Before any event arrived a failure is the turn's outcome; once
            // events flowed, a failed reconnect counts as one resume try.
            Err(e) if reconnect_id.is_some() && is_transient(&e) => {
                match next_recovery(
                    &mut resume,
                    now(),
                    saw_ids,
                    (before.as_ref(), generates(text, &asm)),
                    out,
                    session,
                    signal,
                )
                .await?
                {
                    true => continue 'stream,
                    false => break 'stream,
                }
            }
            Err(e) => return Err(e),
        };
        let Some(body) = res.body() else {
            return Err(Error::protocol("the event stream has no body"));
        };
        if reconnect_id.is_some() {
            resume.on_resumed();
        }
        let reader = body.get_reader();
        let mut chunk = Vec::new();
        let mut pending_read = None;
        let dropped = loop {
            let tick = watch.poll(now());
            match tick {
                TurnTick::StillWorking { elapsed_ms, .. } => {
                    out.emit(
                        Obj::new()
                            .str("type", "still-working")
                            .num("elapsedMs", elapsed_ms as f64)
                            .str("message", &still_working_message(elapsed_ms)),
                    );
                    continue;
                }
                TurnTick::Stalled { .. } | TurnTick::Capped { .. } => {
                    release(&reader);
                    return Err(tick
                        .error()
                        .unwrap_or_else(|| Error::timeout("The turn ran out of time.")));
                }
                TurnTick::Idle {
                    next_deadline_ms: until_ms,
                } => {
                    let wait = until_ms.saturating_sub(now()).max(1);
                    match read_or_timeout(&reader, &mut pending_read, wait, signal).await {
                        Ok(Read::Timeout) => continue,
                        Ok(Read::Done) => break false,
                        Ok(Read::Chunk(c)) => {
                            glue::copy_bytes(&c, &mut chunk);
                            let mut agent_events = Vec::new();
                            let mut heartbeats = 0u32;
                            let r = decoder.push_with(&chunk, |item| match item {
                                SseItemRef::Comment(_) => heartbeats += 1,
                                SseItemRef::Event(ev) => {
                                    if let Some(id) = ev.id {
                                        if id != last_id {
                                            last_id = id.to_string();
                                        }
                                    }
                                    // Data that is not an agent event is skipped:
                                    // one bad event must not end a paid turn.
                                    let _ = events::decode_into(ev.data, &mut agent_events);
                                }
                            });
                            if let Err(e) = r {
                                out.emit(
                                    Obj::new()
                                        .str("type", "notice")
                                        .str("message", Error::from(e).message()),
                                );
                            }
                            if !last_id.is_empty() {
                                saw_ids = true;
                                session.set_last_event_id(&last_id);
                            }
                            for _ in 0..heartbeats {
                                watch.on_event(now(), true);
                                out.emit(Obj::new().str("type", "heartbeat"));
                            }
                            for ev in &agent_events {
                                watch.on_event(now(), matches!(ev, AgentEvent::Heartbeat));
                                emit_agent_event(ev, &mut asm, out);
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::Aborted => {
                            release(&reader);
                            return Err(e);
                        }
                        Err(_) => break true,
                    }
                }
            }
        };
        release(&reader);
        // A cut mid-event discards the partial event (spec) and keeps ids.
        let _ = decoder.finish(&mut Vec::new());
        if !dropped {
            break 'stream;
        }
        reconnect_id = Some(last_id.clone()).filter(|s| !s.is_empty());
        resume.set_server_retry_ms(decoder.retry().map(u64::from));
        match next_recovery(
            &mut resume,
            now(),
            saw_ids,
            (before.as_ref(), generates(text, &asm)),
            out,
            session,
            signal,
        )
        .await?
        {
            true => continue 'stream,
            false => break 'stream,
        }
    }

    // Stream over (or recovery fell back to state): settle the outcome.
    let mut displays = Vec::new();
    asm.finish(&mut displays);
    emit_displays(displays, out);
    if let Some(err) = asm.error() {
        return Err(Error::new(
            ErrorKind::Protocol,
            format!("The agent hit an error: {}", err.message),
        ));
    }
    let raw_text = asm.final_text();
    let translated = gui::translate(&raw_text);
    let mut outcome = TurnOutcome {
        text: translated.text.trim().to_string(),
        raw_text,
        tool_calls: asm.tool_calls().to_vec(),
        silent: asm.is_silent(),
        actions: translated
            .actions
            .iter()
            .map(|a| a.name().to_string())
            .collect(),
        ..TurnOutcome::default()
    };
    if asm.saw_state_delta() || outcome.silent || !outcome.tool_calls.is_empty() {
        if let Ok(after) = session.fetch_timeline(signal).await {
            let changes = before
                .as_ref()
                .map(|b| timeline::diff(b, &after))
                .unwrap_or_default();
            outcome.state_changed = asm.saw_state_delta() || !changes.is_empty();
            let diff_summary = timeline::summarize_changes(&changes);
            out.emit(
                Obj::new()
                    .str("type", "state")
                    .str("summary", &after.summary())
                    .set(
                        "changes",
                        str_array(
                            changes
                                .iter()
                                .map(|c| c.describe())
                                .collect::<Vec<_>>()
                                .iter()
                                .map(String::as_str),
                        ),
                    ),
            );
            outcome.summary = if outcome.silent || outcome.text.is_empty() {
                diff_summary
            } else {
                first_sentence(&outcome.text)
            };
            outcome.timeline = Some(after);
        }
    }
    if outcome.summary.is_empty() {
        outcome.summary = if outcome.text.is_empty() {
            "The agent finished without changes.".into()
        } else {
            first_sentence(&outcome.text)
        };
    }
    Ok(outcome)
}

/// Whether a turn generates a clip (then its outcome has two stages): its
/// message asks for one, or a generation tool ran before the drop.
fn generates(message: &str, asm: &TurnAssembler) -> bool {
    matches!(
        intent::route(message, false),
        Intent::Chat(ChatIntent::Generate)
    ) || asm
        .tool_calls()
        .iter()
        .any(|t| crate::core::text::contains(t, "generat"))
}

/// Decides what happens after a drop: reconnect with `Last-Event-ID`
/// (after the wait; returns `true`), or poll the state every few seconds
/// until [`StateSettle`] finds the outcome in it (changed from `before.0`,
/// the state when the turn began, and steady; for a generation, `before.1`,
/// both stages done), then end the turn from state (`false`). Until then
/// polling goes on up to the turn's deadline.
async fn next_recovery(
    plan: &mut ResumePlan,
    now_ms: u64,
    had_ids: bool,
    (before, generation): (Option<&Timeline>, bool),
    out: &Emitter,
    session: &Session,
    signal: &AbortSignal,
) -> Result<bool> {
    let client = session.client();
    let now = || glue::date_now() as u64;
    let mut step = plan.on_drop(now_ms, had_ids);
    let mut settle = StateSettle::new(&client.config().timing, generation);
    loop {
        if plan.should_notify(now()) {
            out.emit(Obj::new().str(
                "type",
                "notice",
            ).str(
                "message",
                "The connection dropped; recovering the agent's progress without sending your message again…",
            ));
        }
        match step {
            ResumeStep::ReconnectAt { at_ms, attempt } => {
                out.emit(
                    Obj::new()
                        .str("type", "reconnecting")
                        .num("attempt", f64::from(attempt)),
                );
                client.wait(at_ms.saturating_sub(now()), signal).await?;
                return Ok(true);
            }
            ResumeStep::PollStateAt { at_ms } => {
                client.wait(at_ms.saturating_sub(now()), signal).await?;
                let settled = match session.fetch_timeline(signal).await {
                    Ok(t) => settle.on_state(now(), before, t),
                    Err(e) if e.kind() == ErrorKind::Aborted => return Err(e),
                    Err(_) => false,
                };
                step = plan.on_state(now(), settled);
            }
            ResumeStep::Done => return Ok(false),
            ResumeStep::GiveUp => {
                return Err(Error::timeout(
                    "The connection to the agent was lost and its progress could not be recovered in time. The project state may still update.",
                ))
            }
        }
    }
}

/// Sends the chat request and waits `wait.0` ms for the response headers;
/// past that, the turn ends with `wait.1`. Without this a server that takes
/// the message and never answers would hang the turn: the stall timer and
/// the cap are checked between reads of the body. The request itself is
/// stopped when the turn ends ([`start`] aborts its controller on failure).
async fn open_stream(
    client: &NemoClient,
    req: ApiRequest,
    signal: &AbortSignal,
    wait: (u64, Error),
) -> Result<glue::Response> {
    let (ms, timeout) = wait;
    let opening = {
        let (client, signal) = (client.clone(), signal.clone());
        spawn_promise(async move {
            client
                .request_stream(&req, &signal)
                .await
                .map(JsValue::from)
                .map_err(|e| error_to_js(&e))
        })
    };
    let v = await_js(glue::race_timeout(&opening, ms as f64, signal)).await?;
    if get(&v, "timeout").as_bool() == Some(true) {
        return Err(timeout);
    }
    Ok(v.unchecked_into())
}

fn is_transient(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Network | ErrorKind::Protocol | ErrorKind::Timeout
    )
}

fn emit_agent_event(ev: &AgentEvent, asm: &mut TurnAssembler, out: &Emitter) {
    match ev {
        AgentEvent::Thought { text, partial } => out.emit(
            Obj::new()
                .str("type", "thought")
                .str("text", text)
                .bool("partial", *partial),
        ),
        AgentEvent::ToolResult { name, result, .. } => out.emit(
            Obj::new()
                .str("type", "tool")
                .str("phase", "result")
                .str("name", name)
                .str(
                    "label",
                    &format!(
                        "{} done",
                        events::tool_activity(name, result).trim_end_matches('…')
                    ),
                ),
        ),
        AgentEvent::ToolCall { name, args, .. } => out.emit(
            Obj::new()
                .str("type", "tool")
                .str("phase", "call")
                .str("name", name)
                .str("label", &events::tool_activity(name, args)),
        ),
        AgentEvent::StateDelta { delta } => out.emit(
            Obj::new()
                .str("type", "state-delta")
                .set("keys", str_array(delta.iter().map(|(k, _)| k))),
        ),
        AgentEvent::Heartbeat => out.emit(Obj::new().str("type", "heartbeat")),
        AgentEvent::Text { .. } | AgentEvent::StreamError { .. } => {}
    }
    let mut displays = Vec::new();
    asm.push(ev, &mut displays);
    emit_displays(displays, out);
}

fn emit_displays(displays: Vec<Display>, out: &Emitter) {
    for d in displays {
        match d {
            Display::Delta { text, author } => out.emit(
                Obj::new()
                    .str("type", "text-delta")
                    .str("text", &text)
                    .opt_str("author", author.as_deref()),
            ),
            Display::Final {
                text,
                replaced_deltas,
                author,
            } => {
                let t = gui::translate(&text);
                out.emit(
                    Obj::new()
                        .str("type", "text")
                        .str("text", t.text.trim())
                        .str("rawText", &text)
                        .bool("replacesDeltas", replaced_deltas)
                        .opt_str("author", author.as_deref())
                        .set("actions", str_array(t.actions.iter().map(|a| a.name()))),
                )
            }
            // Tool activity is emitted from the tool call itself.
            Display::Activity { .. } => {}
            Display::Error { message } => out.emit(Obj::new().str("type", "notice").str(
                "message",
                &format!("The agent reported an error: {message}"),
            )),
        }
    }
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

fn first_sentence(text: &str) -> String {
    let end = text
        .char_indices()
        .find(|(_, c)| matches!(c, '.' | '!' | '?' | '。' | '！' | '？' | '\n'))
        .map_or(text.len(), |(i, c)| i + c.len_utf8());
    text.get(..end).unwrap_or(text).trim().to_string()
}

enum Read {
    Chunk(Uint8Array),
    Done,
    Timeout,
}

/// Reads the next chunk, or reports a timeout after `wait_ms` so the watch
/// can tick. A read still pending at the timeout is kept in `pending` and
/// awaited by the next call, so no bytes are lost.
async fn read_or_timeout(
    reader: &StreamReader,
    pending: &mut Option<Promise>,
    wait_ms: u64,
    signal: &AbortSignal,
) -> Result<Read> {
    let read = pending.take().unwrap_or_else(|| reader.read());
    let v = await_js(glue::race_timeout(&read, wait_ms as f64, signal)).await?;
    if get(&v, "timeout").as_bool() == Some(true) {
        *pending = Some(read);
        return Ok(Read::Timeout);
    }
    if get(&v, "done").as_bool().unwrap_or(true) {
        return Ok(Read::Done);
    }
    Ok(Read::Chunk(get(&v, "value").unchecked_into()))
}

fn release(reader: &StreamReader) {
    // cancel() tells the server we are gone; errors mean it already closed.
    // Its promise rejects when the stream already failed (an abort errors
    // the fetch body): mark it handled, or Node treats the rejection as
    // unhandled and ends the process.
    let _ = glue::quiet(&reader.cancel());
    let _ = reader.release_lock();
}

/// The outcome as the `TurnResult` JS object.
pub(crate) fn outcome_to_js(o: &TurnOutcome) -> JsValue {
    let mut obj = Obj::new()
        .str("text", &o.text)
        .str("rawText", &o.raw_text)
        .set(
            "toolCalls",
            str_array(o.tool_calls.iter().map(String::as_str)),
        )
        .bool("stateChanged", o.state_changed)
        .str("summary", &o.summary)
        .bool("silent", o.silent)
        .set("actions", str_array(o.actions.iter().map(String::as_str)));
    if let Some(t) = &o.timeline {
        obj = obj.set("timeline", super::timeline::JsTimeline::from(t.clone()));
    }
    obj.into_js()
}
