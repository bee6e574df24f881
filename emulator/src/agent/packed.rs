//! The compact form of a finished turn's event log, kept for `Last-Event-ID` replay.
//!
//! A live log is a `Vec<LoggedEvent>`: every event owns a few `String`s and, for tool calls,
//! results and state deltas, a `serde_json::Value` tree (with `preserve_order`, one
//! `IndexMap` per object plus one `String` per key). That is dozens of small allocations
//! per turn, and thousands of finished turns kept that way both cost memory and fragment
//! the heap. Once a turn is done its log never changes, so it is packed into two
//! allocations: one string holding every text (JSON values as their JSON text) and one
//! slice of fixed-size records pointing into it. A replay unpacks the events it sends.

use serde_json::Value;

use super::turn::{AgentEvent, LoggedEvent};

/// A byte range of [`PackedLog::text`].
#[derive(Clone, Copy, Default)]
struct Span {
    start: u32,
    end: u32,
}

/// Which [`AgentEvent`] a record holds; what its spans `a`, `b`, `c` mean is noted per kind.
#[derive(Clone, Copy)]
enum Kind {
    /// `a`: the text.
    Thought,
    /// `a`: the text.
    Text { partial: bool, streamed: bool },
    /// `a`: call id, `b`: name, `c`: the arguments' JSON.
    ToolCall,
    /// `a`: call id, `b`: name, `c`: the response's JSON.
    ToolResult,
    /// `c`: the delta's JSON.
    StateDelta,
    /// `a`: error type, `b`: message.
    Error,
}

#[derive(Clone, Copy)]
struct Record {
    timestamp: f64,
    event_id: Span,
    kind: Kind,
    a: Span,
    b: Span,
    c: Span,
}

/// A finished turn's events: one text buffer and one record per event. The seq of record
/// `i` is `i + 1` (the live log numbers its events the same way).
pub struct PackedLog {
    text: Box<str>,
    records: Box<[Record]>,
}

impl PackedLog {
    /// Packs `events`; `None` if their text does not fit 32-bit offsets (4 GiB), in which
    /// case the caller keeps the live form.
    pub fn pack(events: &[LoggedEvent]) -> Option<PackedLog> {
        let mut text = String::new();
        let mut records = Vec::with_capacity(events.len());
        let mut put = |s: &str| -> Option<Span> {
            let start = u32::try_from(text.len()).ok()?;
            text.push_str(s);
            let end = u32::try_from(text.len()).ok()?;
            Some(Span { start, end })
        };
        for e in events {
            let event_id = put(&e.event_id)?;
            let none = Span::default();
            let (kind, a, b, c) = match &e.ev {
                AgentEvent::Thought(t) => (Kind::Thought, put(t)?, none, none),
                AgentEvent::Text {
                    text,
                    partial,
                    streamed,
                } => (
                    Kind::Text {
                        partial: *partial,
                        streamed: *streamed,
                    },
                    put(text)?,
                    none,
                    none,
                ),
                AgentEvent::ToolCall {
                    call_id,
                    name,
                    args,
                } => (
                    Kind::ToolCall,
                    put(call_id)?,
                    put(name)?,
                    put(&args.to_string())?,
                ),
                AgentEvent::ToolResult {
                    call_id,
                    name,
                    response,
                } => (
                    Kind::ToolResult,
                    put(call_id)?,
                    put(name)?,
                    put(&response.to_string())?,
                ),
                AgentEvent::StateDelta(d) => (Kind::StateDelta, none, none, put(&d.to_string())?),
                AgentEvent::Error {
                    error_type,
                    message,
                } => (Kind::Error, put(error_type)?, put(message)?, none),
            };
            records.push(Record {
                timestamp: e.timestamp,
                event_id,
                kind,
                a,
                b,
                c,
            });
        }
        Some(PackedLog {
            text: text.into_boxed_str(),
            records: records.into_boxed_slice(),
        })
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Heap bytes this log holds (its text and its records).
    pub fn heap_bytes(&self) -> usize {
        self.text.len() + std::mem::size_of_val::<[Record]>(&self.records)
    }

    /// The events from index `from` (0-based) on, unpacked.
    pub fn read_from(&self, from: usize) -> Vec<LoggedEvent> {
        self.records
            .get(from..)
            .unwrap_or_default()
            .iter()
            .zip(from as u64 + 1..)
            .map(|(r, seq)| self.unpack(r, seq))
            .collect()
    }

    fn str(&self, s: Span) -> &str {
        self.text
            .get(s.start as usize..s.end as usize)
            .unwrap_or_default()
    }

    fn string(&self, s: Span) -> String {
        self.str(s).to_string()
    }

    /// The JSON text was written by `Value::to_string`, so it parses back to the same value
    /// (keys in the same order, numbers bit for bit); `Null` would only mark a bug.
    fn json(&self, s: Span) -> Value {
        serde_json::from_str(self.str(s)).unwrap_or(Value::Null)
    }

    fn unpack(&self, r: &Record, seq: u64) -> LoggedEvent {
        let ev = match r.kind {
            Kind::Thought => AgentEvent::Thought(self.string(r.a)),
            Kind::Text { partial, streamed } => AgentEvent::Text {
                text: self.string(r.a),
                partial,
                streamed,
            },
            Kind::ToolCall => AgentEvent::ToolCall {
                call_id: self.string(r.a),
                name: self.string(r.b),
                args: self.json(r.c),
            },
            Kind::ToolResult => AgentEvent::ToolResult {
                call_id: self.string(r.a),
                name: self.string(r.b),
                response: self.json(r.c),
            },
            Kind::StateDelta => AgentEvent::StateDelta(self.json(r.c)),
            Kind::Error => AgentEvent::Error {
                error_type: self.string(r.a),
                message: self.string(r.b),
            },
        };
        LoggedEvent {
            seq,
            event_id: self.string(r.event_id),
            timestamp: r.timestamp,
            ev,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ev(seq: u64, id: &str, ev: AgentEvent) -> LoggedEvent {
        LoggedEvent {
            seq,
            event_id: id.into(),
            timestamp: 1_700_000_000.123_456 + seq as f64,
            ev,
        }
    }

    fn sample() -> Vec<LoggedEvent> {
        vec![
            ev(1, "id-1", AgentEvent::Thought("thinking…".into())),
            ev(
                2,
                "id-2",
                AgentEvent::ToolCall {
                    call_id: "call_1".into(),
                    name: "edit_timeline".into(),
                    args: json!({"operations": [{"op": "trim", "duration_s": 4.5}], "z": 1, "a": null}),
                },
            ),
            ev(
                3,
                "id-3",
                AgentEvent::ToolResult {
                    call_id: "call_1".into(),
                    name: "edit_timeline".into(),
                    response: json!({"status": "success", "applied": 1}),
                },
            ),
            ev(
                3 + 1,
                "id-3",
                AgentEvent::StateDelta(json!({"draft": {"t": [], "d": 0.1}})),
            ),
            ev(
                5,
                "id-5",
                AgentEvent::Text {
                    text: "Done, 剪到4秒".into(),
                    partial: true,
                    streamed: false,
                },
            ),
            ev(
                6,
                "id-6",
                AgentEvent::Text {
                    text: "Done, 剪到4秒.".into(),
                    partial: false,
                    streamed: true,
                },
            ),
            ev(
                7,
                "id-7",
                AgentEvent::Error {
                    error_type: "Boom".into(),
                    message: "it broke".into(),
                },
            ),
        ]
    }

    /// The events as the SSE writer sees them (`Debug` covers every field, JSON key order
    /// included).
    fn show(evs: &[LoggedEvent]) -> Vec<String> {
        evs.iter().map(|e| format!("{e:?}")).collect()
    }

    #[test]
    fn unpacks_to_the_same_events() {
        let evs = sample();
        let p = PackedLog::pack(&evs).unwrap();
        assert_eq!(p.len(), evs.len());
        assert_eq!(show(&p.read_from(0)), show(&evs));
        assert_eq!(show(&p.read_from(4)), show(&evs[4..]));
        assert!(p.read_from(7).is_empty());
        assert!(p.read_from(100).is_empty());
    }

    #[test]
    fn an_empty_log_packs() {
        let p = PackedLog::pack(&[]).unwrap();
        assert!(p.is_empty());
        assert!(p.read_from(0).is_empty());
        assert_eq!(p.heap_bytes(), 0);
    }
}
