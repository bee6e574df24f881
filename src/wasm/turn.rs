//! One chat turn in the shell: drives the sans-IO [`Turn`] machine
//! (`core::turn`, where every decision of a turn is made and tested) with
//! fetch, the body's `ReadableStream`, timers and the turn's `AbortSignal`,
//! and hands its events to `onEvent` and the `for await` queue.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::core::error::{Error, ErrorKind, Result};
use crate::core::timeline::Timeline;
use crate::core::turn::{Turn, TurnEffect, TurnEvent, TurnOutcome, TurnStart};

use super::convert::{await_js, error_to_js, get, str_array, Obj};
use super::glue::{self, AbortSignal, EventQueue, ReadableStreamDefaultReader as StreamReader};
use super::http::spawn_promise;
use super::session::Session;
use super::signal::link_user_signal;

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
    let controller = glue::new_abort_controller();
    link_user_signal(options, &controller);
    let queue = glue::event_queue(&controller);
    let emitter = Emitter {
        queue: queue.clone(),
        on_event: get(options, "onEvent"),
    };
    let signal = controller.signal();
    // `send(text, { streaming })`, else the client's default (on).
    let streaming = get(options, "streaming")
        .as_bool()
        .unwrap_or(session.client().config().streaming);
    let result = spawn_promise(async move {
        let r = run(&session, &text, resume_from, streaming, &signal, &emitter).await;
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
                // A failure is not an event: `for await` throws it and
                // `result` rejects with it (`onEvent` sees no event for it).
                let err = error_to_js(&e);
                emitter.queue.fail(&err);
                Err(err)
            }
        }
    });
    let q: JsValue = queue.into();
    let _ = js_sys::Reflect::set(&q, &"result".into(), &glue::quiet(&result));
    q
}

/// Where a state request leaves its answer.
type Slot = Rc<RefCell<Option<Result<Timeline>>>>;

/// Reads the state into `slot` (the promise itself always resolves): the
/// one future of both a turn's state requests, the recovery's and the
/// snapshot taken alongside the message.
fn read_state(session: &Session, signal: &AbortSignal, slot: &Slot) -> Promise {
    let (session, signal, slot) = (session.clone(), signal.clone(), slot.clone());
    spawn_promise(async move {
        let answer = session.fetch_timeline(&signal).await;
        *slot.borrow_mut() = Some(answer);
        Ok(JsValue::UNDEFINED)
    })
}

/// The exchange a turn has in flight: at most one at a time.
enum Io {
    /// The chat POST (resolves to the `Response`).
    Open(Promise),
    /// A read of the stream (resolves to `{ done, value }`).
    Read(Promise),
    /// A state request (resolves when `slot` holds its answer).
    State(Promise, Slot),
}

impl Io {
    fn promise(&self) -> &Promise {
        match self {
            Io::Open(p) | Io::Read(p) | Io::State(p, _) => p,
        }
    }
}

/// The longest single wait handed to `setTimeout` (larger delays overflow
/// to 0 in browsers); a turn re-checks its timers after it anyway.
const MAX_WAIT_MS: u64 = 1 << 30;

/// Drives a [`Turn`]: performs each effect it asks for with fetch, the
/// stream reader and timers, and feeds back what happened. It decides
/// nothing: every decision is the machine's.
async fn run(
    session: &Session,
    text: &str,
    resume_from: Option<String>,
    streaming: bool,
    signal: &AbortSignal,
    out: &Emitter,
) -> Result<TurnOutcome> {
    let client = session.client();
    let now = || js_sys::Date::now() as u64;
    session.turn_started(text, resume_from.as_deref().unwrap_or(""));
    let start = TurnStart {
        session_id: session.id(),
        message: text,
        resume_from,
        // The last timeline this session read; without one, the machine
        // asks for a snapshot alongside the message (never before it).
        before: session.previous_timeline(),
        streaming,
    };
    let mut turn = Turn::new(&client.config().timing, start, now());
    // The snapshot's answer, whenever it comes (read between steps).
    let snapshot: Slot = Rc::new(RefCell::new(None));
    let mut io: Option<Io> = None;
    let mut reader: Option<StreamReader> = None;
    let mut timer_at: Option<u64> = None;
    let mut chunk = Vec::new();
    loop {
        if let Some(answer) = snapshot.borrow_mut().take() {
            turn.on_snapshot(answer);
        }
        while let Some(effect) = turn.poll_effect() {
            match effect {
                TurnEffect::OpenStream(req) => {
                    let (client, signal) = (client.clone(), signal.clone());
                    io = Some(Io::Open(spawn_promise(async move {
                        client
                            .request_stream(&req, &signal)
                            .await
                            .map(JsValue::from)
                            .map_err(|e| error_to_js(&e))
                    })));
                }
                TurnEffect::ReadStream => {
                    if let Some(r) = &reader {
                        io = Some(Io::Read(r.read()));
                    }
                }
                TurnEffect::CloseStream => {
                    if let Some(r) = reader.take() {
                        release(&r);
                    }
                    io = None;
                }
                TurnEffect::ArmTimer { at_ms } => timer_at = Some(at_ms),
                TurnEffect::CancelTimer => timer_at = None,
                TurnEffect::FetchState => {
                    let slot = Rc::new(RefCell::new(None));
                    io = Some(Io::State(read_state(session, signal, &slot), slot));
                }
                TurnEffect::TakeSnapshot => {
                    // Its answer is read between steps, whenever it comes.
                    let _ = glue::quiet(&read_state(session, signal, &snapshot));
                }
                TurnEffect::RememberEventId(id) => session.set_last_event_id(&id),
                TurnEffect::Emit(ev) => out.emit(event_to_js(&ev)),
                TurnEffect::Finish(outcome) => return Ok(outcome),
                TurnEffect::Fail(e) => {
                    if let Some(r) = reader.take() {
                        release(&r);
                    }
                    return Err(e);
                }
            }
        }
        let wait = timer_at.map_or(MAX_WAIT_MS, |at| {
            at.saturating_sub(now()).clamp(1, MAX_WAIT_MS)
        });
        let Some(pending) = io.as_ref() else {
            // Nothing in flight: wait for the timer alone.
            match await_js(glue::sleep(wait as f64, Some(signal))).await {
                Ok(_) if timer_at.take().is_some() => turn.on_timer(now()),
                Ok(_) => {}
                Err(_) => turn.on_abort(),
            }
            continue;
        };
        let settled = await_js(glue::race_timeout(pending.promise(), wait as f64, signal)).await;
        if let Ok(v) = &settled {
            if get(v, "timeout").as_bool() == Some(true) {
                // The exchange stays in flight; no bytes are lost.
                if timer_at.take().is_some() {
                    turn.on_timer(now());
                }
                continue;
            }
        }
        let Some(done) = io.take() else { continue };
        match (done, settled) {
            (Io::State(_, slot), r) => {
                let state = r.and_then(|_| {
                    slot.borrow_mut().take().unwrap_or_else(|| {
                        Err(Error::protocol("the state request returned nothing"))
                    })
                });
                match state {
                    Err(e) if e.kind() == ErrorKind::Aborted && signal.aborted() => turn.on_abort(),
                    state => turn.on_state(now(), state),
                }
            }
            (_, Err(e)) if e.kind() == ErrorKind::Aborted && signal.aborted() => turn.on_abort(),
            (Io::Open(_), Ok(v)) => {
                let res: glue::Response = v.unchecked_into();
                match res.body() {
                    Some(body) => {
                        reader = Some(body.get_reader().unchecked_into());
                        turn.on_opened(now());
                    }
                    None => {
                        turn.on_open_failed(now(), Error::protocol("the event stream has no body"))
                    }
                }
            }
            (Io::Open(_), Err(e)) => turn.on_open_failed(now(), e),
            (Io::Read(_), Ok(v)) => {
                if get(&v, "done").as_bool().unwrap_or(true) {
                    turn.on_stream_end(now());
                } else {
                    glue::copy_bytes(&get(&v, "value").unchecked_into(), &mut chunk);
                    turn.on_chunk(now(), &chunk);
                }
            }
            (Io::Read(_), Err(_)) => turn.on_stream_failed(now()),
        }
    }
}

/// A turn event as the JS `TurnEvent` object.
fn event_to_js(ev: &TurnEvent) -> Obj {
    let o = Obj::new().str("type", ev.type_name());
    match ev {
        TurnEvent::TextDelta { text, author } => {
            o.str("text", text).opt_str("author", author.as_deref())
        }
        TurnEvent::Text {
            text,
            raw_text,
            replaces_deltas,
            author,
            actions,
        } => o
            .str("text", text)
            .str("rawText", raw_text)
            .bool("replacesDeltas", *replaces_deltas)
            .opt_str("author", author.as_deref())
            .set("actions", str_array(actions.iter().copied())),
        TurnEvent::Thought { text, partial } => o.str("text", text).bool("partial", *partial),
        TurnEvent::Tool { phase, name, label } => o
            .str("phase", phase.as_str())
            .str("name", name)
            .str("label", label),
        TurnEvent::StateDelta { keys } => o.set("keys", str_array(keys.iter().map(String::as_str))),
        TurnEvent::Heartbeat => o,
        TurnEvent::StillWorking {
            elapsed_ms,
            message,
        } => o
            .num("elapsedMs", *elapsed_ms as f64)
            .str("message", message),
        TurnEvent::Reconnecting { attempt } => o.num("attempt", f64::from(*attempt)),
        TurnEvent::Notice { message } => o.str("message", message),
        TurnEvent::State { summary, changes } => o
            .str("summary", summary)
            .set("changes", str_array(changes.iter().map(String::as_str))),
    }
}

fn release(reader: &StreamReader) {
    // cancel() tells the server we are gone; errors mean it already closed.
    // Its promise rejects when the stream already failed (an abort errors
    // the fetch body): mark it handled, or Node treats the rejection as
    // unhandled and ends the process.
    let _ = glue::quiet(&reader.cancel());
    reader.release_lock();
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
        .set("actions", str_array(o.actions.iter().copied()));
    if let Some(t) = &o.timeline {
        obj = obj.set("timeline", super::timeline::JsTimeline::from(t.clone()));
    }
    obj.into_js()
}
