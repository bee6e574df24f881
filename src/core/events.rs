//! Agent events: one SSE event's `data` decoded into [`AgentEvent`]s, and a
//! [`TurnAssembler`] that turns those events into what a chat UI shows.
//!
//! Two payload shapes arrive on the same stream (see docs/protocol.md, "The
//! event stream"): Google ADK events (`{"content":{"parts":[…]},"partial",…}`) and
//! typed events (`{"type":"text","content":…}`). Both decode into one enum.
//!
//! The JSON is walked once by the validating scan of the `nemo-decode`
//! crate ([`scan`], re-exported here with its sink types): the fields a
//! client does not need are checked and skipped without building anything,
//! and only the sub-values an [`AgentEvent`] carries (tool arguments and
//! results, state deltas, error details) go through [`json::parse`].

use crate::core::error::Error;
use crate::core::json::{self, Object, Value};
use crate::core::text::{self, Words};
pub use nemo_decode::scan::{
    scan, ErrorDetails, ErrorText, EventSink, JsonStr, Mark, ToolPart, MAX_DEPTH,
};
use nemo_decode::DecodeError;

/// One thing the agent said or did, decoded from an SSE event's `data`.
#[derive(Clone, Debug, PartialEq)]
pub enum AgentEvent {
    /// Text for the user. With `partial: true` it is a delta of a message
    /// still being written; the complete event that follows repeats the
    /// whole text (see [`TurnAssembler`]).
    Text {
        /// The text (a delta when `partial`).
        text: String,
        /// Whether this is a streaming delta.
        partial: bool,
        /// The agent that wrote it (ADK `author`), when given.
        author: Option<String>,
    },
    /// The model's reasoning (`thought: true` parts); not shown as chat.
    Thought {
        /// The reasoning text (a delta when `partial`).
        text: String,
        /// Whether this is a streaming delta.
        partial: bool,
    },
    /// The agent called a tool; processed internally, shown as activity.
    /// Emitted as received: a call inside a `partial` event is not filtered.
    ToolCall {
        /// The call id, when the server sent one.
        id: Option<String>,
        /// The tool name.
        name: String,
        /// The arguments (an empty object when missing).
        args: Value<'static>,
    },
    /// A tool answered.
    ToolResult {
        /// The call id this answers, when the server sent one.
        id: Option<String>,
        /// The tool name.
        name: String,
        /// The result (`null` when missing).
        result: Value<'static>,
    },
    /// The session state changed (a non-empty ADK `actions.stateDelta`).
    StateDelta {
        /// The changed keys and their new values.
        delta: Object<'static>,
    },
    /// The agent saved files (a non-empty ADK `actions.artifactDelta`: file
    /// name → version). A change of the session, like a state delta.
    ArtifactDelta {
        /// The saved files and their versions.
        delta: Object<'static>,
    },
    /// A keep-alive: `{"type":"heartbeat"}` or an empty `data:`.
    Heartbeat,
    /// The turn failed after the stream had begun (ADK's last event
    /// `{"error": "…", "error_details": {…}}`, an ADK `errorCode` /
    /// `errorMessage`, or a typed `{"type":"error"}`).
    StreamError {
        /// The error text as the server gave it.
        message: String,
        /// `error_details`, when present.
        details: Option<Value<'static>>,
    },
}

/// Decodes one SSE event's `data` into the events it carries, in order:
/// the content parts first, then the state delta, then a stream error.
///
/// An event that carries nothing the client uses (an ADK event with only an
/// `artifactDelta`, an unknown `{"type":…}`) yields an empty vector. Empty
/// data is a [`AgentEvent::Heartbeat`]. Text that is not a JSON object is an
/// [`Error::protocol`]; the caller decides whether to skip it or fail.
pub fn decode(data: &str) -> Result<Vec<AgentEvent>, Error> {
    let mut out = Vec::new();
    decode_into(data, &mut out)?;
    Ok(out)
}

/// Like [`decode`], but appends to `out` so a caller decoding a whole stream
/// reuses one vector. On error `out` is left as it was.
pub fn decode_into(data: &str, out: &mut Vec<AgentEvent>) -> Result<(), Error> {
    let start = out.len();
    let mut sink = Collect { out, failed: None };
    let scanned = scan(data.as_bytes(), &mut sink);
    let failed = sink.failed.take();
    match (scanned, failed) {
        (Ok(()), None) => Ok(()),
        (Err(e), _) => Err(e.into()),
        (Ok(()), Some(bad)) => {
            out.truncate(start);
            Err(bad.into())
        }
    }
}

/// The message of a stream error as the user sees it: its text, or an
/// `error` value that is not a string as compact JSON.
pub fn error_message(message: ErrorText<'_>) -> String {
    match message.text() {
        Some(text) => text.into_owned(),
        None => match message {
            ErrorText::Value(span) => json::parse(&String::from_utf8_lossy(span))
                .map(|v| v.to_json())
                .unwrap_or_default(),
            _ => String::new(),
        },
    }
}

/// The sink behind [`decode_into`]: builds [`AgentEvent`]s.
struct Collect<'o> {
    out: &'o mut Vec<AgentEvent>,
    /// A sub-value that did not parse (the scanner checks syntax only
    /// lightly: escape values, surrogates); the whole event then fails.
    failed: Option<DecodeError>,
}

impl Collect<'_> {
    fn parse(&mut self, span: &[u8]) -> Option<Value<'static>> {
        match json::parse(&String::from_utf8_lossy(span)) {
            Ok(v) => Some(v.into_owned()),
            Err(e) => {
                self.failed.get_or_insert(DecodeError::InvalidEvent {
                    reason: e.reason,
                    pos: e.offset,
                });
                None
            }
        }
    }
}

impl<'a> EventSink<'a> for Collect<'_> {
    fn mark(&self) -> Mark {
        Mark {
            events: self.out.len(),
            ..Mark::default()
        }
    }

    fn rollback(&mut self, to: Mark) {
        self.out.truncate(to.events);
    }

    fn text(&mut self, text: JsonStr<'a>, thought: bool) {
        let text = text.decoded().into_owned();
        self.out.push(if thought {
            AgentEvent::Thought {
                text,
                partial: false,
            }
        } else {
            AgentEvent::Text {
                text,
                partial: false,
                author: None,
            }
        });
    }

    fn tool(&mut self, tool: ToolPart<'a>) {
        let id = tool.id.map(|s| s.decoded().into_owned());
        let name = tool
            .name
            .map(|s| s.decoded().into_owned())
            .unwrap_or_default();
        let payload = match tool.payload {
            Some(span) => match self.parse(span) {
                Some(v) => v,
                None => return,
            },
            None if tool.result => Value::Null,
            None => Value::Object(Object::new()),
        };
        self.out.push(if tool.result {
            AgentEvent::ToolResult {
                id,
                name,
                result: payload,
            }
        } else {
            AgentEvent::ToolCall {
                id,
                name,
                args: payload,
            }
        });
    }

    fn state_delta(&mut self, delta: &'a [u8]) {
        if let Some(Value::Object(delta)) = self.parse(delta) {
            self.out.push(AgentEvent::StateDelta { delta });
        }
    }

    fn artifact_delta(&mut self, delta: &'a [u8]) {
        if let Some(Value::Object(delta)) = self.parse(delta) {
            self.out.push(AgentEvent::ArtifactDelta { delta });
        }
    }

    fn stream_error(&mut self, message: ErrorText<'a>, details: Option<ErrorDetails<'a>>) {
        let details = match details {
            None => None,
            Some(ErrorDetails::Json(span)) => match self.parse(span) {
                Some(v) => Some(v),
                None => return,
            },
            Some(ErrorDetails::Code(code)) => Some(Value::object([(
                "errorCode",
                Value::str(code.decoded().into_owned()),
            )])),
        };
        self.out.push(AgentEvent::StreamError {
            message: error_message(message),
            details,
        });
    }

    fn heartbeat(&mut self) {
        self.out.push(AgentEvent::Heartbeat);
    }

    fn flags(&mut self, since: Mark, partial: bool, author: Option<JsonStr<'a>>) {
        let author = author.map(|a| a.decoded());
        for ev in self.out.iter_mut().skip(since.events) {
            match ev {
                AgentEvent::Text {
                    partial: p,
                    author: a,
                    ..
                } => {
                    *p = partial;
                    *a = author.as_deref().map(str::to_owned);
                }
                AgentEvent::Thought { partial: p, .. } => *p = partial,
                _ => {}
            }
        }
    }
}

// ---- Tool activity labels -------------------------------------------------

/// A plain-language label for a tool call, for an activity line in the UI
/// ("Generating video…"). Never shows raw JSON: known editing tools map to
/// fixed phrases, anything else becomes its humanised name
/// (`get_weather` → "Get weather…"), and a missing name "Working on it…".
///
/// `args` only refines a label (the ratio in "Changing the aspect ratio to
/// 9:16…"); it is never printed wholesale.
pub fn tool_activity(name: &str, args: &Value<'_>) -> String {
    let n = name.to_ascii_lowercase();
    let has = |words: Words| words.iter().any(|w| text::contains(&n, w));
    let fixed = if has(Words("aspect|ratio|canvas|resize|resolution")) {
        let ratio = ["aspect_ratio", "ratio", "aspectRatio"]
            .iter()
            .find_map(|k| args.get(k).and_then(Value::as_str))
            .filter(|r| r.len() <= 12 && r.bytes().all(|b| b.is_ascii_digit() || b == b':'));
        if let Some(r) = ratio {
            let mut s = String::from("Changing the aspect ratio to ");
            s.push_str(r);
            s.push('…');
            return s;
        }
        "Changing the aspect ratio…"
    } else if has(Words("bgm|music|song|soundtrack")) {
        "Adding music…"
    } else if has(Words("subtitle|caption")) {
        "Adding subtitles…"
    } else if has(Words("title|text|overlay")) {
        "Adding a title…"
    } else if has(Words("voice|narrat|tts|speech")) {
        "Adding a voice-over…"
    } else if has(Words("audio|sound|volume")) {
        "Adjusting the audio…"
    } else if has(Words("video|clip|animate|i2v|t2v"))
        && has(Words("gen|create|make|animate|i2v|t2v|to_video"))
    {
        "Generating video…"
    } else if has(Words("image|photo|picture")) && has(Words("gen|create|make")) {
        "Generating an image…"
    } else if has(Words("trim|cut|split|crop")) {
        "Trimming…"
    } else if has(Words("transition")) {
        "Adding a transition…"
    } else if has(Words("camera|zoom|pan")) {
        "Adjusting the camera movement…"
    } else if has(Words("speed|slow|fast")) {
        "Changing the speed…"
    } else if has(Words("export|render")) {
        "Exporting…"
    } else if has(Words("upload|import")) {
        "Importing media…"
    } else if has(Words("analy|understand|describe|caption_video")) {
        "Analysing the video…"
    } else if has(Words("draft|timeline|state")) && has(Words("get|read|load|fetch")) {
        "Checking the timeline…"
    } else if has(Words("edit|update|modify|set_|apply|adjust|filter")) {
        "Editing…"
    } else if n.starts_with("transfer_to") || n.is_empty() {
        "Working on it…"
    } else {
        return humanize(name);
    };
    fixed.to_string()
}

/// `get_weather` / `getWeather` / `get-weather` → "Get weather…".
fn humanize(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for ch in name.chars() {
        if ch == '_' || ch == '-' || ch == '.' || ch.is_whitespace() {
            if !s.is_empty() && !s.ends_with(' ') {
                s.push(' ');
            }
            prev_lower = false;
            continue;
        }
        // ASCII case only: tool names are identifiers, and the Unicode case
        // tables behind `char::to_uppercase` & co. would cost the wasm about
        // 28 KB. Other letters are kept as they are.
        if ch.is_ascii_uppercase() && prev_lower {
            s.push(' ');
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        s.push(if s.is_empty() {
            text::upper(ch)
        } else {
            ch.to_ascii_lowercase()
        });
    }
    // `trim_end` in place, without `truncate`'s char-boundary panic.
    while s.chars().next_back().is_some_and(char::is_whitespace) {
        s.pop();
    }
    if s.is_empty() {
        return "Working on it…".to_string();
    }
    s.push('…');
    s
}

// ---- Turn assembly --------------------------------------------------------

/// What a chat UI should do in response to one [`AgentEvent`].
#[derive(Clone, Debug, PartialEq)]
pub enum Display {
    /// Append `text` to the message being streamed for `author`.
    Delta {
        /// The agent writing the message.
        author: Option<String>,
        /// The text to append.
        text: String,
    },
    /// A complete message. When `replaced_deltas` is true the UI must
    /// replace the deltas it showed for `author` with `text` (which repeats
    /// them); otherwise it is a new message.
    Final {
        /// The agent that wrote the message.
        author: Option<String>,
        /// The whole message.
        text: String,
        /// Whether this replaces deltas already shown.
        replaced_deltas: bool,
    },
    /// A tool is running: show `label` (from [`tool_activity`]) as status,
    /// not as chat.
    Activity {
        /// The plain-language label.
        label: String,
    },
    /// The turn failed mid-stream.
    Error {
        /// The server's error text.
        message: String,
    },
}

/// A failure reported inside the stream (see [`AgentEvent::StreamError`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TurnError {
    /// The server's error text.
    pub message: String,
    /// `error_details`, when present.
    pub details: Option<Value<'static>>,
}

/// The stock message the backend sometimes appends to an otherwise good
/// turn; it is ignored when it trails a normal turn (docs/protocol.md,
/// "The event stream").
const TEMPORARY_ISSUE: &str = "I encountered a temporary issue";

/// Whether `text` is (or, while still streaming, could become) the
/// temporary-issue message. ASCII case-insensitive; the marker is ASCII.
fn may_be_temporary_issue(text: &str) -> bool {
    let t = text.trim_start().as_bytes();
    let m = TEMPORARY_ISSUE.as_bytes();
    // The common prefix (zip stops at the shorter), without slicing.
    t.iter().zip(m).all(|(a, b)| a.eq_ignore_ascii_case(b))
}

fn is_temporary_issue(text: &str) -> bool {
    let t = text.trim_start().as_bytes();
    t.len() >= TEMPORARY_ISSUE.len() && may_be_temporary_issue(text)
}

/// A message being streamed by one author.
#[derive(Debug)]
struct Pending {
    author: Option<String>,
    buf: String,
    /// Bytes of `buf` already sent as [`Display::Delta`].
    shown: usize,
}

/// Consumes one turn's [`AgentEvent`]s in order and decides what to show,
/// so that a streamed message is never shown twice.
///
/// - `partial` texts append to the current message of their author
///   ([`Display::Delta`]); the complete text that follows repeats the whole
///   message and replaces them ([`Display::Final`] with `replaced_deltas`).
///   A complete text with no deltas before it is a new message.
/// - Nothing is de-duplicated by event id: ADK reuses ids across distinct
///   events, so two events with one id are two events.
/// - A complete message starting "I encountered a temporary issue" is held
///   back. If more text follows it is shown in place; if it is last and the
///   turn was otherwise normal (other text, a tool call or a state change,
///   and no stream error) it is dropped at [`TurnAssembler::finish`];
///   otherwise it is the turn's real outcome and is shown then. Its deltas
///   are held back the same way while the text could still become it.
///
/// Thoughts, tool results and heartbeats show nothing; a tool call shows a
/// [`Display::Activity`] label, a stream error a [`Display::Error`].
///
/// It also gathers the turn's outcome: [`final_text`](Self::final_text),
/// [`tool_calls`](Self::tool_calls), [`saw_state_delta`](Self::saw_state_delta)
/// and [`error`](Self::error).
#[derive(Debug, Default)]
pub struct TurnAssembler {
    pending: Vec<Pending>,
    messages: Vec<String>,
    held: Option<(Option<String>, String)>,
    tool_calls: Vec<String>,
    state_delta: bool,
    artifact_delta: bool,
    error: Option<TurnError>,
    ignored_issue: bool,
    finished: bool,
}

impl TurnAssembler {
    /// An assembler for a new turn.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one event; appends what to show to `out`.
    pub fn push(&mut self, event: &AgentEvent, out: &mut Vec<Display>) {
        match event {
            AgentEvent::Text {
                text,
                partial,
                author,
            } => {
                if text.is_empty() {
                    return;
                }
                // More text follows: a held temporary-issue message is not
                // trailing after all.
                self.release_held(out);
                if *partial {
                    self.delta(author, text, out);
                } else {
                    let shown = self.take_pending(author).map_or(0, |p| p.shown);
                    self.complete(author.clone(), text.clone(), shown > 0, out);
                }
            }
            AgentEvent::ToolCall { name, args, .. } => {
                self.tool_calls.push(name.clone());
                out.push(Display::Activity {
                    label: tool_activity(name, args),
                });
            }
            AgentEvent::StateDelta { .. } => self.state_delta = true,
            AgentEvent::ArtifactDelta { .. } => self.artifact_delta = true,
            AgentEvent::StreamError { message, details } => {
                self.error = Some(TurnError {
                    message: message.clone(),
                    details: details.clone(),
                });
                out.push(Display::Error {
                    message: message.clone(),
                });
            }
            AgentEvent::Thought { .. } | AgentEvent::ToolResult { .. } | AgentEvent::Heartbeat => {}
        }
    }

    /// Ends the turn (the stream closed): completes messages whose final
    /// event never came and settles a held temporary-issue message.
    /// Calling it again does nothing.
    pub fn finish(&mut self, out: &mut Vec<Display>) {
        if self.finished {
            return;
        }
        self.finished = true;
        for p in std::mem::take(&mut self.pending) {
            if !p.buf.is_empty() {
                let shown = p.shown > 0;
                self.complete(p.author, p.buf, shown, out);
            }
        }
        if let Some((author, text)) = self.held.take() {
            let normal = self.error.is_none()
                && (!self.messages.is_empty()
                    || !self.tool_calls.is_empty()
                    || self.changed_session());
            if normal {
                self.ignored_issue = true;
            } else {
                self.emit_final(author, text, false, out);
            }
        }
    }

    /// The turn's text: every complete message, in order, joined with a
    /// blank line. Empty for a silent turn.
    pub fn final_text(&self) -> String {
        text::join(&self.messages, "\n\n")
    }

    /// The complete messages shown so far, in order.
    pub fn messages(&self) -> &[String] {
        &self.messages
    }

    /// The names of the tools called, in order (repeats kept).
    pub fn tool_calls(&self) -> &[String] {
        &self.tool_calls
    }

    /// Whether any event changed the session state.
    pub fn saw_state_delta(&self) -> bool {
        self.state_delta
    }

    /// Whether the stream said the session changed: a state delta or an
    /// artifact delta (a saved file).
    pub fn changed_session(&self) -> bool {
        self.state_delta || self.artifact_delta
    }

    /// The stream error, if the turn failed mid-stream.
    pub fn error(&self) -> Option<&TurnError> {
        self.error.as_ref()
    }

    /// Whether a trailing "I encountered a temporary issue" was dropped.
    pub fn ignored_temporary_issue(&self) -> bool {
        self.ignored_issue
    }

    /// Whether the turn ended without text or error: the caller should fetch
    /// the state and describe the change (see `timeline::diff`).
    pub fn is_silent(&self) -> bool {
        self.messages.is_empty() && self.error.is_none() && self.held.is_none()
    }

    fn take_pending(&mut self, author: &Option<String>) -> Option<Pending> {
        let i = self.pending.iter().position(|p| &p.author == author)?;
        Some(self.pending.swap_remove(i))
    }

    fn delta(&mut self, author: &Option<String>, text: &str, out: &mut Vec<Display>) {
        let i = match self.pending.iter().position(|p| &p.author == author) {
            Some(i) => i,
            None => {
                self.pending.push(Pending {
                    author: author.clone(),
                    buf: String::new(),
                    shown: 0,
                });
                self.pending.len() - 1
            }
        };
        let Some(p) = self.pending.get_mut(i) else {
            return;
        };
        p.buf.push_str(text);
        // Withhold while nothing is shown and the text could still turn out
        // to be the temporary-issue message.
        if p.shown == 0 && may_be_temporary_issue(&p.buf) {
            return;
        }
        if let Some(new) = p.buf.get(p.shown..) {
            out.push(Display::Delta {
                author: p.author.clone(),
                text: new.to_string(),
            });
        }
        p.shown = p.buf.len();
    }

    fn complete(
        &mut self,
        author: Option<String>,
        text: String,
        replaced: bool,
        out: &mut Vec<Display>,
    ) {
        if !replaced && is_temporary_issue(&text) {
            if let Some((a, t)) = self.held.replace((author, text)) {
                self.emit_final(a, t, false, out);
            }
            return;
        }
        self.emit_final(author, text, replaced, out);
    }

    fn emit_final(
        &mut self,
        author: Option<String>,
        text: String,
        replaced_deltas: bool,
        out: &mut Vec<Display>,
    ) {
        self.messages.push(text.clone());
        out.push(Display::Final {
            author,
            text,
            replaced_deltas,
        });
    }

    fn release_held(&mut self, out: &mut Vec<Display>) {
        if let Some((author, text)) = self.held.take() {
            self.emit_final(author, text, false, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/adk");

    /// A tiny SSE splitter for the captures (blank-line separated `data: `
    /// lines), so these tests do not depend on `core::sse`.
    fn fixture_events(name: &str) -> Vec<String> {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap();
        text.split("\n\n")
            .filter(|b| !b.trim().is_empty())
            .map(|block| {
                block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|l| l.strip_prefix(' ').unwrap_or(l))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect()
    }

    fn decode_fixture(name: &str) -> Vec<Vec<AgentEvent>> {
        fixture_events(name)
            .iter()
            .map(|d| decode(d).unwrap())
            .collect()
    }

    fn text(t: &str, partial: bool) -> AgentEvent {
        AgentEvent::Text {
            text: t.into(),
            partial,
            author: Some("nemo_agent".into()),
        }
    }

    fn obj(json_text: &str) -> Value<'static> {
        json::parse(json_text).unwrap().into_owned()
    }

    fn delta(json_text: &str) -> AgentEvent {
        match obj(json_text) {
            Value::Object(delta) => AgentEvent::StateDelta { delta },
            _ => unreachable!(),
        }
    }

    const LINES: &str = "Line 1: plain ASCII.\nLine 2: 中文测试 —— 你好，世界！\nLine 3: emoji 🚀👍🏽👩‍💻 (astral, skin tone, ZWJ)\n\nLine 5 after a blank line: quotes \" and backslash \\ and tab \t end\nLine 6: looks like SSE inside the payload -> data: {\"fake\":1}\n\nLine 8: CRLF follows\r\nLine 9: U+2028 [\u{2028}] U+2029 [\u{2029}] NEL [\u{85}] are not SSE line breaks\nLine 10: end.";
    const WEATHER: &str = "The weather in Paris is 21.5°C and sunny ☀️.";

    /// The events both captures share; `saved` is report.txt's artifact version.
    fn head(saved: u32) -> Vec<Vec<AgentEvent>> {
        vec![
            vec![text(
                "Hello from nemo_agent. You said: What is the weather in Paris?",
                false,
            )],
            vec![AgentEvent::Thought {
                text: "I should call get_weather.".into(),
                partial: false,
            }],
            vec![AgentEvent::ToolCall {
                id: Some("adk-call-weather-1".into()),
                name: "get_weather".into(),
                args: obj(r#"{"city":"Paris","unit":"celsius"}"#),
            }],
            vec![
                AgentEvent::ToolResult {
                    id: Some("adk-call-weather-1".into()),
                    name: "get_weather".into(),
                    result: obj(r#"{"city":"Paris","temperature_c":21.5,"conditions":"sunny"}"#),
                },
                delta(r#"{"last_city":"Paris"}"#),
            ],
            vec![delta(r#"{"step":"weather_done"}"#)],
            vec![text("Saved report.txt.", false)],
            // The artifact half of the content + artifact pair (one id).
            vec![AgentEvent::ArtifactDelta {
                delta: match obj(&format!(r#"{{"report.txt":{saved}}}"#)) {
                    Value::Object(delta) => delta,
                    _ => unreachable!(),
                },
            }],
        ]
    }

    #[test]
    fn basic_fixture_decodes_exactly() {
        let mut want = head(0);
        want.extend([
            vec![text(WEATHER, false)],
            vec![text(LINES, false)],
            vec![text("Working... (sleeping 3s)", false)],
            vec![text("Done after 3s.", false)],
        ]);
        assert_eq!(decode_fixture("run_sse_basic.sse"), want);
    }

    #[test]
    fn streaming_fixture_decodes_exactly() {
        let mut want = head(1);
        want.extend([
            vec![text("The weather ", true)],
            vec![text("in Paris is ", true)],
            vec![text("21.5°C ", true)],
            vec![text("and sunny ☀️.", true)],
            vec![text(WEATHER, false)],
            vec![text(LINES, false)],
            vec![text("Working... (sleeping 3s)", false)],
            vec![text("Done after 3s.", false)],
        ]);
        assert_eq!(decode_fixture("run_sse_streaming.sse"), want);
    }

    #[test]
    fn error_midstream_fixture_decodes_to_a_stream_error() {
        let got = decode_fixture("run_sse_error_midstream.sse");
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            vec![text("Hello from nemo_agent. You said: error", false)]
        );
        match &got[1][..] {
            [AgentEvent::StreamError { message, details }] => {
                assert_eq!(
                    message,
                    "RuntimeError: simulated agent failure (message was 'error')"
                );
                let d = details.as_ref().unwrap();
                assert_eq!(
                    d.get("error_type").and_then(Value::as_str),
                    Some("RuntimeError")
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        let mut asm = TurnAssembler::new();
        let mut out = Vec::new();
        for ev in got.iter().flatten() {
            asm.push(ev, &mut out);
        }
        asm.finish(&mut out);
        assert!(asm.error().is_some());
        assert!(matches!(out.last(), Some(Display::Error { .. })));
        assert!(!asm.is_silent());
    }

    fn assemble(events: &[AgentEvent]) -> (TurnAssembler, Vec<Display>) {
        let mut asm = TurnAssembler::new();
        let mut out = Vec::new();
        for ev in events {
            asm.push(ev, &mut out);
        }
        asm.finish(&mut out);
        (asm, out)
    }

    fn final_(t: &str, replaced: bool) -> Display {
        Display::Final {
            author: Some("nemo_agent".into()),
            text: t.into(),
            replaced_deltas: replaced,
        }
    }

    fn delta_d(t: &str) -> Display {
        Display::Delta {
            author: Some("nemo_agent".into()),
            text: t.into(),
        }
    }

    #[test]
    fn streaming_fixture_shows_the_weather_exactly_once() {
        let events: Vec<_> = decode_fixture("run_sse_streaming.sse")
            .into_iter()
            .flatten()
            .collect();
        let (asm, out) = assemble(&events);
        assert_eq!(
            out,
            vec![
                final_(
                    "Hello from nemo_agent. You said: What is the weather in Paris?",
                    false
                ),
                Display::Activity {
                    label: "Get weather…".into()
                },
                final_("Saved report.txt.", false),
                delta_d("The weather "),
                delta_d("in Paris is "),
                delta_d("21.5°C "),
                delta_d("and sunny ☀️."),
                final_(WEATHER, true),
                final_(LINES, false),
                final_("Working... (sleeping 3s)", false),
                final_("Done after 3s.", false),
            ]
        );
        assert_eq!(asm.final_text().matches(WEATHER).count(), 1);
        assert_eq!(asm.messages().len(), 6);
        assert_eq!(asm.tool_calls(), ["get_weather"]);
        assert!(asm.saw_state_delta());
        assert!(asm.error().is_none());
        assert!(!asm.is_silent());
        let finals: Vec<_> = out
            .iter()
            .filter(|d| matches!(d, Display::Final { text, .. } if text == WEATHER))
            .collect();
        assert_eq!(finals.len(), 1);
    }

    #[test]
    fn events_sharing_an_id_are_never_merged() {
        let datas = fixture_events("run_sse_basic.sse");
        let shared: Vec<_> = datas
            .iter()
            .filter(|d| d.contains("\"id\":\"a9e019ca-d5be-40ed-be4f-07bf4061938d\""))
            .collect();
        assert_eq!(shared.len(), 2);
        assert_eq!(
            decode(shared[0]).unwrap(),
            vec![text("Saved report.txt.", false)]
        );
        // The second carries only the saved file: a change of the session,
        // not a second message.
        let saved = decode(shared[1]).unwrap();
        assert!(
            matches!(saved.as_slice(), [AgentEvent::ArtifactDelta { .. }]),
            "{saved:?}"
        );
        // Two text events with one id are two messages.
        let a = r#"{"content":{"parts":[{"text":"One."}]},"author":"x","id":"same"}"#;
        let b = r#"{"content":{"parts":[{"text":"Two."}]},"author":"x","id":"same"}"#;
        let events: Vec<_> = [a, b].iter().flat_map(|d| decode(d).unwrap()).collect();
        let (asm, out) = assemble(&events);
        assert_eq!(out.len(), 2);
        assert_eq!(asm.final_text(), "One.\n\nTwo.");
        // The whole basic fixture keeps every message.
        let all: Vec<_> = datas.iter().flat_map(|d| decode(d).unwrap()).collect();
        let (asm, _) = assemble(&all);
        assert_eq!(asm.messages().len(), 6);
        assert!(asm
            .final_text()
            .contains("Saved report.txt.\n\nThe weather"));
    }

    #[test]
    fn typed_events() {
        assert_eq!(
            decode(r#"{"type":"text","content":"Hi"}"#).unwrap(),
            vec![AgentEvent::Text {
                text: "Hi".into(),
                partial: false,
                author: None
            }]
        );
        assert_eq!(
            decode(r#"{"type":"text","text":"Hi","partial":true}"#).unwrap(),
            vec![AgentEvent::Text {
                text: "Hi".into(),
                partial: true,
                author: None
            }]
        );
        assert_eq!(
            decode(r#"{"type":"tool_call","name":"add_bgm","args":{"volume":35}}"#).unwrap(),
            vec![AgentEvent::ToolCall {
                id: None,
                name: "add_bgm".into(),
                args: obj(r#"{"volume":35}"#)
            }]
        );
        assert_eq!(
            decode(r#"{"type":"tool_call","name":"x"}"#).unwrap(),
            vec![AgentEvent::ToolCall {
                id: None,
                name: "x".into(),
                args: obj("{}")
            }]
        );
        assert_eq!(
            decode(r#"{"type":"tool_result","name":"add_bgm","result":{"ok":true}}"#).unwrap(),
            vec![AgentEvent::ToolResult {
                id: None,
                name: "add_bgm".into(),
                result: obj(r#"{"ok":true}"#)
            }]
        );
        assert_eq!(
            decode(r#"{"type":"heartbeat"}"#).unwrap(),
            vec![AgentEvent::Heartbeat]
        );
        assert_eq!(
            decode(r#"{"type":"something_new","x":[1,2]}"#).unwrap(),
            vec![]
        );
        assert_eq!(
            decode(r#"{"type":"error","message":"boom"}"#).unwrap(),
            vec![AgentEvent::StreamError {
                message: "boom".into(),
                details: None
            }]
        );
    }

    #[test]
    fn empty_data_is_a_heartbeat() {
        assert_eq!(decode("").unwrap(), vec![AgentEvent::Heartbeat]);
        assert_eq!(decode(" \n").unwrap(), vec![AgentEvent::Heartbeat]);
    }

    #[test]
    fn unknown_fields_and_part_kinds_are_skipped() {
        let data = r#"{"future":{"deep":[1,{"a":null}],"s":"x\"y"},"content":{"role":"model","parts":[
            {"inlineData":{"mimeType":"image/png","data":"AAAA"}},
            {"text":"","thoughtSignature":"abc"},
            {"executableCode":{"code":"print(1)"}},
            42,
            {"text":"visible","thoughtSignature":"zzz"}
        ]},"usageMetadata":{"totalTokenCount":-1.5e3},"author":"a","partial":false}"#;
        assert_eq!(
            decode(data).unwrap(),
            vec![AgentEvent::Text {
                text: "visible".into(),
                partial: false,
                author: Some("a".into())
            }]
        );
        // Garbage types in known fields are tolerated.
        let data = r#"{"content":{"parts":"nope"},"author":7,"partial":"yes","actions":[]}"#;
        assert_eq!(decode(data).unwrap(), vec![]);
    }

    #[test]
    fn the_scan_and_the_json_parser_accept_the_same_depth() {
        // A sub-value the scan accepted is parsed again by `json::parse`;
        // a different limit would turn a valid event into a failed one.
        assert_eq!(MAX_DEPTH, json::MAX_DEPTH);
    }

    #[test]
    fn escapes_in_text_and_keys() {
        let data = r#"{"content":{"parts":[{"te\u0078t":"a\nb \u00e9 \ud83d\ude00"}]}}"#;
        assert_eq!(
            decode(data).unwrap(),
            vec![AgentEvent::Text {
                text: "a\nb é 😀".into(),
                partial: false,
                author: None
            }]
        );
    }

    #[test]
    fn malformed_data_is_a_protocol_error() {
        use crate::core::error::ErrorKind;
        let bad = [
            "not json",
            "<html>",
            "{",
            r#"{"content":"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":01}"#,
            r#"{"a":"\x"}"#,
            "{\"a\":\"tab\tin string\"}",
            r#"{"a":tru}"#,
            r#"{"a":1} x"#,
            "[1]",
            "\"str\"",
            r#"{"content":{"parts":[{"text":"x"}]},"#,
            r#"{"content":{"parts":[{"functionCall":{"args":{"x":}}}]}}"#,
        ];
        for b in bad {
            let e = decode(b).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Protocol, "{b}");
        }
        let deep = format!("{{\"a\":{}", "[".repeat(10_000));
        assert!(decode(&deep).is_err());
        // On error, decode_into leaves the vector as it was.
        let mut out = vec![AgentEvent::Heartbeat];
        assert!(decode_into(r#"{"content":{"parts":[{"text":"x"}]},"bad"#, &mut out).is_err());
        assert_eq!(out, vec![AgentEvent::Heartbeat]);
    }

    #[test]
    fn adk_error_fields_become_stream_errors() {
        let got =
            decode(r#"{"errorCode":"SAFETY","errorMessage":"blocked","author":"a"}"#).unwrap();
        assert_eq!(
            got,
            vec![AgentEvent::StreamError {
                message: "blocked".into(),
                details: Some(obj(r#"{"errorCode":"SAFETY"}"#))
            }]
        );
        // `error: null` is not an error.
        assert_eq!(decode(r#"{"error":null}"#).unwrap(), vec![]);
    }

    #[test]
    fn parts_come_before_the_state_delta_and_the_error() {
        let data = r#"{"actions":{"stateDelta":{"draft":{"t":[]}}},"error":"late","content":{"parts":[{"text":"a"},{"functionCall":{"name":"trim","args":{}}}]}}"#;
        let got = decode(data).unwrap();
        assert!(matches!(got[0], AgentEvent::Text { .. }));
        assert!(matches!(got[1], AgentEvent::ToolCall { .. }));
        assert!(matches!(got[2], AgentEvent::StateDelta { .. }));
        assert!(matches!(got[3], AgentEvent::StreamError { .. }));
        assert_eq!(got.len(), 4);
        assert_eq!(decode(r#"{"actions":{"stateDelta":{ }}}"#).unwrap(), vec![]);
    }

    #[test]
    fn partial_thoughts_carry_the_flag() {
        let got = decode(r#"{"content":{"parts":[{"thought":true,"text":"hm"}]},"partial":true}"#)
            .unwrap();
        assert_eq!(
            got,
            vec![AgentEvent::Thought {
                text: "hm".into(),
                partial: true
            }]
        );
    }

    fn t(author: &str, s: &str, partial: bool) -> AgentEvent {
        AgentEvent::Text {
            text: s.into(),
            partial,
            author: Some(author.into()),
        }
    }

    #[test]
    fn deltas_are_tracked_per_author() {
        let events = [
            t("a", "Hel", true),
            t("b", "Wor", true),
            t("a", "lo", true),
            t("b", "ld", true),
            t("b", "World", false),
            t("a", "Hello", false),
            t("a", "Again", false),
        ];
        let (asm, out) = assemble(&events);
        let d = |a: &str, s: &str| Display::Delta {
            author: Some(a.into()),
            text: s.into(),
        };
        let f = |a: &str, s: &str, r| Display::Final {
            author: Some(a.into()),
            text: s.into(),
            replaced_deltas: r,
        };
        assert_eq!(
            out,
            vec![
                d("a", "Hel"),
                d("b", "Wor"),
                d("a", "lo"),
                d("b", "ld"),
                f("b", "World", true),
                f("a", "Hello", true),
                f("a", "Again", false),
            ]
        );
        assert_eq!(asm.final_text(), "World\n\nHello\n\nAgain");
    }

    #[test]
    fn deltas_without_a_final_are_completed_at_finish() {
        let (asm, out) = assemble(&[t("a", "Half ", true), t("a", "done", true)]);
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[2],
            Display::Final {
                author: Some("a".into()),
                text: "Half done".into(),
                replaced_deltas: true
            }
        );
        assert_eq!(asm.final_text(), "Half done");
    }

    const ISSUE: &str = "I encountered a temporary issue. Please try again.";

    #[test]
    fn trailing_temporary_issue_is_ignored_after_a_normal_turn() {
        let (asm, out) = assemble(&[
            AgentEvent::ToolCall {
                id: None,
                name: "add_bgm".into(),
                args: obj("{}"),
            },
            t("a", "Added lo-fi music.", false),
            t("a", ISSUE, false),
        ]);
        assert_eq!(asm.final_text(), "Added lo-fi music.");
        assert!(asm.ignored_temporary_issue());
        assert!(!out
            .iter()
            .any(|d| matches!(d, Display::Final { text, .. } if text == ISSUE)));
        // Streamed too: its deltas are never shown.
        let (asm, out) = assemble(&[
            t("a", "Done.", false),
            t("a", "I encountered ", true),
            t("a", "a temporary issue.", true),
            t("a", "I encountered a temporary issue.", false),
        ]);
        assert_eq!(
            out,
            vec![Display::Final {
                author: Some("a".into()),
                text: "Done.".into(),
                replaced_deltas: false
            }]
        );
        assert_eq!(asm.final_text(), "Done.");
    }

    #[test]
    fn temporary_issue_is_kept_when_it_is_the_whole_turn_or_not_trailing() {
        let (asm, out) = assemble(&[t("a", ISSUE, false)]);
        assert_eq!(asm.final_text(), ISSUE);
        assert_eq!(out.len(), 1);
        assert!(!asm.ignored_temporary_issue());
        // Followed by more text: shown in place.
        let (asm, _) = assemble(&[
            t("a", "One.", false),
            t("a", ISSUE, false),
            t("a", "Two.", false),
        ]);
        let mut want = String::from("One.\n\n");
        want.push_str(ISSUE);
        want.push_str("\n\nTwo.");
        assert_eq!(asm.final_text(), want);
        // With a stream error the turn was not normal: keep it.
        let (asm, _) = assemble(&[
            t("a", "One.", false),
            t("a", ISSUE, false),
            AgentEvent::StreamError {
                message: "x".into(),
                details: None,
            },
        ]);
        assert!(asm.final_text().ends_with(ISSUE));
        // Deltas that diverge from the marker are shown once they diverge.
        let (_, out) = assemble(&[
            t("a", "I ", true),
            t("a", "think so", true),
            t("a", "I think so", false),
        ]);
        assert_eq!(
            out,
            vec![
                Display::Delta {
                    author: Some("a".into()),
                    text: "I think so".into()
                },
                Display::Final {
                    author: Some("a".into()),
                    text: "I think so".into(),
                    replaced_deltas: true
                }
            ]
        );
    }

    #[test]
    fn silent_turn() {
        let (asm, out) = assemble(&[AgentEvent::Heartbeat, delta(r#"{"draft":{}}"#)]);
        assert!(out.is_empty());
        assert!(asm.is_silent());
        assert!(asm.saw_state_delta());
        assert_eq!(asm.final_text(), "");
    }

    #[test]
    fn tool_activity_labels() {
        let none = Value::Null;
        let cases = [
            ("generate_video", "Generating video…"),
            ("image_to_video", "Generating video…"),
            ("add_bgm", "Adding music…"),
            ("add_title", "Adding a title…"),
            ("add_text", "Adding a title…"),
            ("set_aspect_ratio", "Changing the aspect ratio…"),
            ("trim", "Trimming…"),
            ("trim_clip", "Trimming…"),
            ("update_draft", "Editing…"),
            ("get_weather", "Get weather…"),
            ("getWeather", "Get weather…"),
            ("transfer_to_agent", "Working on it…"),
            ("", "Working on it…"),
            ("__", "Working on it…"),
        ];
        for (name, want) in cases {
            assert_eq!(tool_activity(name, &none), want, "{name}");
        }
        assert_eq!(
            tool_activity("set_aspect_ratio", &obj(r#"{"aspect_ratio":"9:16"}"#)),
            "Changing the aspect ratio to 9:16…"
        );
        // Never raw JSON, even for odd args.
        assert_eq!(
            tool_activity("set_aspect_ratio", &obj(r#"{"ratio":"{\"x\":1}"}"#)),
            "Changing the aspect ratio…"
        );
    }
}
