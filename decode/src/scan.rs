//! The agent-event scan: one SSE event's `data` (an ADK event or a typed
//! `{"type": …}` event) walked once by a small validating JSON scanner that
//! hands what a client reads to an [`EventSink`].
//!
//! # Why a hand-written scanner
//!
//! An ADK event is mostly bookkeeping the client never reads (`invocationId`,
//! `usageMetadata`, `nodeInfo`, four empty `actions` maps…). Building a JSON
//! tree for each would allocate a dozen vectors per event, so the scanner
//! checks the syntax of the fields it does not need and skips them without
//! building anything. Strings are scanned eight bytes at a time
//! ([`crate::swar`]), keys are classified by length and first byte, and text
//! is handed over undecoded ([`JsonStr`]) so a sink copies it once, straight
//! to where it keeps it.

use std::borrow::Cow;

use crate::error::DecodeError;
use crate::swar;

/// The deepest nesting accepted, as in the client's JSON parser: deeper is
/// an error, never a stack overflow.
pub const MAX_DEPTH: usize = 128;

/// Scans one SSE event's `data` and hands what it carries to `sink`, in
/// order: the content parts first, then the state delta, then a stream
/// error. Empty data is a heartbeat; an event that carries nothing a client
/// uses (only an `artifactDelta`, an unknown `{"type":…}`) yields nothing.
/// The client's `core::events::decode_into` and its `core::event_batch` are
/// both sinks: one validating scan, two ways of keeping the result.
///
/// `data` is raw bytes (the SSE decoder's data-only path skips its UTF-8
/// check): invalid UTF-8 inside a string the sink reads becomes U+FFFD, as
/// decoding the whole text first would make it, and anywhere else it is a
/// syntax error either way.
///
/// # Errors
///
/// [`DecodeError::InvalidEvent`] when `data` is neither empty nor one JSON
/// object; the sink is then rolled back to where it was.
pub fn scan<'a>(data: &'a [u8], sink: &mut dyn EventSink<'a>) -> Result<(), DecodeError> {
    let start = sink.mark();
    let mut s = Scan::new(data);
    let scanned = scan_event(&mut s, sink, start);
    scanned.map_err(|bad| {
        sink.rollback(start);
        DecodeError::InvalidEvent {
            reason: bad.reason(),
            pos: s.pos,
        }
    })
}

/// The agent batch's fastest path (see `RawEmit::whole_event` in
/// [`crate::sse`]): `rest` is what follows an event's `data:` to the end of
/// the chunk. When it begins with one valid event (as [`scan`] reads it),
/// ending at a line end followed by a blank line (`\n\n`), hands it to
/// `sink` and returns the data's length. Otherwise returns `None` with
/// `sink` as it was: the caller then finds the line's end and calls
/// [`scan`], which reads (or rejects) the line as usual. So the line's end
/// need not be searched for before the event is read.
///
/// CR and LF end the line here, never count as JSON whitespace, and cannot
/// be inside a string (control characters are an error), so whatever this
/// accepts is exactly a line that [`scan`] accepts the same way.
pub fn scan_line<'a>(rest: &'a [u8], sink: &mut dyn EventSink<'a>) -> Option<usize> {
    let start = sink.mark();
    let mut s = Scan::new(rest);
    s.line = true;
    match scan_event(&mut s, sink, start) {
        Ok(()) => Some(s.pos),
        Err(_) => {
            sink.rollback(start);
            None
        }
    }
}

/// A JSON string as it sits in the event text: what lies between its quotes,
/// and whether that contains escapes to decode. Handing this over (instead
/// of a decoded `String`) lets a sink copy the text once, straight to where
/// it keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonStr<'a> {
    pub(crate) raw: &'a [u8],
    pub(crate) escaped: bool,
}

impl<'a> JsonStr<'a> {
    /// Whether the decoded string is empty (an escape always yields a
    /// character, so only an empty literal is).
    pub fn is_empty(self) -> bool {
        self.raw.is_empty()
    }

    /// Appends the decoded string to `out`.
    pub fn push_to(self, out: &mut String) {
        if self.escaped {
            unescape_into(self.raw, out);
        } else {
            push_lossy(out, self.raw);
        }
    }

    /// The decoded string, borrowed when it had no escapes.
    pub fn decoded(self) -> Cow<'a, str> {
        if self.escaped {
            let mut out = String::with_capacity(self.raw.len());
            unescape_into(self.raw, &mut out);
            Cow::Owned(out)
        } else {
            match std::str::from_utf8(self.raw) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(self.raw),
            }
        }
    }

    /// The decoded bytes, using `buf` only when there are escapes (for keys
    /// and type names, which almost never have any). Invalid UTF-8 is left
    /// as it is: a name is only compared, never shown.
    #[inline(always)]
    fn name<'b>(self, buf: &'b mut String) -> &'b [u8]
    where
        'a: 'b,
    {
        if !self.escaped {
            return self.raw;
        }
        buf.clear();
        unescape_into(self.raw, buf);
        buf.as_bytes()
    }
}

/// A sink's position, for rolling back an event that turned out to be
/// invalid or typed: its count of events and, for a sink that packs text,
/// the lengths of its buffers. Each sink fills in what it uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    /// Events held.
    pub events: usize,
    /// Bytes of packed text held.
    pub bytes: usize,
    /// Length of a second packed buffer, for a sink that keeps one (the
    /// batch keeps non-ASCII texts apart, as UTF-16).
    pub wide: usize,
}

/// A tool call or tool result found in an event.
#[derive(Clone, Copy, Debug)]
pub struct ToolPart<'a> {
    /// `true` for a result (`functionResponse`, `{"type":"tool_result"}`).
    pub result: bool,
    /// The call id, when given as a string.
    pub id: Option<JsonStr<'a>>,
    /// The tool name, when given as a string.
    pub name: Option<JsonStr<'a>>,
    /// The arguments or result, as JSON text, unless missing or `null`.
    pub payload: Option<&'a [u8]>,
}

/// The message of a stream error, as found.
#[derive(Clone, Copy, Debug)]
pub enum ErrorText<'a> {
    /// A string field (`message`, `errorMessage`, a string `content`).
    Str(JsonStr<'a>),
    /// The JSON text of an `error` value: a string literal is its text,
    /// anything else is shown as compact JSON.
    Value(&'a [u8]),
    /// No message was given.
    Empty,
}

impl<'a> ErrorText<'a> {
    /// The message when it is text (empty when none was given); `None` for
    /// an `error` value that is not a string, which the caller shows as
    /// compact JSON.
    pub fn text(self) -> Option<Cow<'a, str>> {
        match self {
            ErrorText::Str(s) => Some(s.decoded()),
            ErrorText::Value(span) => {
                let raw = span.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
                let escaped = raw.contains(&b'\\');
                Some(JsonStr { raw, escaped }.decoded())
            }
            ErrorText::Empty => Some(Cow::Borrowed("")),
        }
    }
}

/// The details of a stream error.
#[derive(Clone, Copy, Debug)]
pub enum ErrorDetails<'a> {
    /// `error_details` as JSON text.
    Json(&'a [u8]),
    /// ADK's `errorCode`, kept as `{"errorCode": …}`.
    Code(JsonStr<'a>),
}

/// Receives what [`scan`] finds in one event, in order. A trait object, so
/// the scanner is compiled once however many sinks there are.
pub trait EventSink<'a> {
    /// Where the sink is now.
    fn mark(&self) -> Mark;
    /// Drops everything received since `to`.
    fn rollback(&mut self, to: Mark);
    /// A non-empty text (`thought: false`) or reasoning part.
    fn text(&mut self, text: JsonStr<'a>, thought: bool);
    /// A tool call or result.
    fn tool(&mut self, tool: ToolPart<'a>);
    /// A non-empty `stateDelta` object, as JSON text.
    fn state_delta(&mut self, delta: &'a [u8]);
    /// A non-empty `artifactDelta` object (files the agent saved), as JSON
    /// text. Ignored unless the sink wants it.
    fn artifact_delta(&mut self, delta: &'a [u8]) {
        let _ = delta;
    }
    /// The agent reported a failure.
    fn stream_error(&mut self, message: ErrorText<'a>, details: Option<ErrorDetails<'a>>);
    /// A keep-alive.
    fn heartbeat(&mut self);
    /// `partial` and `author` arrive after the parts in ADK output: applies
    /// them to the texts and thoughts received since `since`.
    fn flags(&mut self, since: Mark, partial: bool, author: Option<JsonStr<'a>>);
}

/// The top-level fields of an event, gathered before any event is built
/// because their order is not fixed (`partial` and `author` come after
/// `content` in ADK output).
#[derive(Default)]
struct Fields<'a> {
    ty: Option<JsonStr<'a>>,
    content_str: Option<JsonStr<'a>>,
    text: Option<JsonStr<'a>>,
    partial: bool,
    author: Option<JsonStr<'a>>,
    state_delta: Option<&'a [u8]>,
    artifact_delta: Option<&'a [u8]>,
    error: Option<&'a [u8]>,
    error_details: Option<&'a [u8]>,
    error_code: Option<JsonStr<'a>>,
    error_message: Option<JsonStr<'a>>,
    message: Option<JsonStr<'a>>,
    name: Option<JsonStr<'a>>,
    id: Option<JsonStr<'a>>,
    args: Option<&'a [u8]>,
    result: Option<&'a [u8]>,
}

fn scan_event<'a>(s: &mut Scan<'a>, sink: &mut dyn EventSink<'a>, start: Mark) -> Res<()> {
    s.ws();
    if s.at_data_end() {
        sink.heartbeat();
        return Ok(());
    }
    if s.peek() != Some(b'{') {
        return Err(Bad::NotAnObject);
    }
    let mut f = Fields::default();
    // Only used for a key with escapes in it; `String::new` allocates nothing.
    let mut key_buf = String::new();
    s.begin(b'{')?;
    let mut first = true;
    while let Some(key) = s.next_key(&mut first)? {
        match Key::of(key.name(&mut key_buf)) {
            Key::Content => match s.peek() {
                Some(b'{') => s.content(sink)?,
                Some(b'"') => f.content_str = Some(s.string()?),
                _ => s.skip_value()?,
            },
            Key::Partial => f.partial = s.opt_bool()? == Some(true),
            Key::Author => f.author = s.opt_string()?,
            Key::Actions => s.actions(&mut f)?,
            Key::Type => f.ty = s.opt_string()?,
            Key::Text => f.text = s.opt_string()?,
            Key::Name => f.name = s.opt_string()?,
            Key::Id => f.id = s.opt_string()?,
            Key::Args => f.args = s.non_null_span()?,
            Key::Result | Key::Response => f.result = s.non_null_span()?,
            Key::Error => f.error = s.non_null_span()?,
            Key::ErrorDetails => f.error_details = s.non_null_span()?,
            Key::ErrorCode => f.error_code = s.opt_string()?,
            Key::ErrorMessage => f.error_message = s.opt_string()?,
            Key::Message => f.message = s.opt_string()?,
            _ => s.skip_value()?,
        }
    }
    s.ws();
    if !s.at_data_end() {
        return Err(Bad::Trailing);
    }

    if let Some(ty) = f.ty.take() {
        // A typed event: whatever ADK-shaped content it also had is ignored.
        sink.rollback(start);
        typed(ty.name(&mut key_buf), f, sink);
        return Ok(());
    }
    if f.partial || f.author.is_some() {
        sink.flags(start, f.partial, f.author);
    }
    if let Some(span) = f.state_delta {
        sink.state_delta(span);
    }
    if let Some(span) = f.artifact_delta {
        sink.artifact_delta(span);
    }
    if let Some(span) = f.error {
        sink.stream_error(
            ErrorText::Value(span),
            f.error_details.map(ErrorDetails::Json),
        );
    } else if f.error_code.is_some() || f.error_message.is_some() {
        // ADK's LlmResponse failure fields (e.g. SAFETY, MALFORMED_FUNCTION_CALL).
        let message = match f.error_message.or(f.error_code) {
            Some(m) => ErrorText::Str(m),
            None => ErrorText::Empty,
        };
        sink.stream_error(message, f.error_code.map(ErrorDetails::Code));
    }
    Ok(())
}

/// Hands over the event of a `{"type": …}` payload. Unknown types yield
/// nothing so a server adding a new kind of event never breaks an older
/// client.
fn typed<'a>(ty: &[u8], f: Fields<'a>, sink: &mut dyn EventSink<'a>) {
    match ty {
        b"text" | b"message" | b"thought" | b"thinking" => {
            let Some(text) = f.content_str.or(f.text) else {
                return;
            };
            if text.is_empty() {
                return;
            }
            let mark = sink.mark();
            sink.text(text, ty.starts_with(b"th"));
            sink.flags(mark, f.partial, f.author);
        }
        b"tool_call" | b"function_call" => sink.tool(ToolPart {
            result: false,
            id: f.id,
            name: f.name,
            payload: f.args,
        }),
        b"tool_result" | b"function_response" | b"tool_response" => sink.tool(ToolPart {
            result: true,
            id: f.id,
            name: f.name,
            payload: f.result,
        }),
        b"heartbeat" | b"ping" | b"keepalive" => sink.heartbeat(),
        b"error" => {
            let message = match (f.message.or(f.content_str), f.error) {
                (Some(m), _) => ErrorText::Str(m),
                (None, Some(span)) => ErrorText::Value(span),
                (None, None) => ErrorText::Empty,
            };
            sink.stream_error(message, f.error_details.map(ErrorDetails::Json));
        }
        _ => {}
    }
}

/// Where [`unescape`] puts a JSON string's pieces, in order. Each method
/// returns `false` to stop (the output cannot hold what came).
pub(crate) trait Unescaped {
    /// Raw bytes between escapes (not checked as UTF-8 yet).
    fn bytes(&mut self, raw: &[u8]) -> bool;
    /// The character an escape stands for.
    fn char(&mut self, c: char) -> bool;
}

/// Decodes the contents of a JSON string literal the scanner has checked
/// (every escape is one of JSON's, `\u` has four hex digits) into `out`. A
/// lone surrogate becomes U+FFFD, as in the client's JSON parser. Returns
/// `false` when `out` stopped it.
pub(crate) fn unescape(raw: &[u8], out: &mut impl Unescaped) -> bool {
    let b = raw;
    let mut from = 0;
    let mut i = 0;
    while let Some(off) = b.get(i..).and_then(|rest| memchr::memchr(b'\\', rest)) {
        let at = i + off;
        if !out.bytes(raw.get(from..at).unwrap_or_default()) {
            return false;
        }
        i = at + 2;
        let ch = match b.get(at + 1).copied().unwrap_or(b'\\') {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(b, at + 2);
                i = at + 6;
                match hi {
                    Some(hi @ 0xD800..=0xDBFF) if b.get(i..i + 2) == Some(b"\\u") => {
                        match hex4(b, i + 2) {
                            Some(lo @ 0xDC00..=0xDFFF) => {
                                i += 6;
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            }
                            // Not a pair: the high half alone is replaced and
                            // the next escape is read on its own.
                            _ => None,
                        }
                    }
                    Some(code) => char::from_u32(code),
                    None => None,
                }
                .unwrap_or('\u{FFFD}')
            }
            // `"`, `\` and `/` stand for themselves.
            other => char::from(other),
        };
        if !out.char(ch) {
            return false;
        }
        from = i;
    }
    out.bytes(raw.get(from..).unwrap_or_default())
}

/// A `String` takes every piece, invalid UTF-8 replaced by U+FFFD.
impl Unescaped for String {
    fn bytes(&mut self, raw: &[u8]) -> bool {
        push_lossy(self, raw);
        true
    }

    fn char(&mut self, c: char) -> bool {
        self.push(c);
        true
    }
}

fn unescape_into(raw: &[u8], out: &mut String) {
    unescape(raw, out);
}

/// Appends `bytes` as UTF-8, invalid sequences replaced by U+FFFD; the
/// strict check first, because it has a word-at-a-time ASCII fast path.
fn push_lossy(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// The four hex digits at `at`, if there are four.
fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let digits = b.get(at..at + 4)?;
    digits.iter().try_fold(0u32, |n, &d| {
        let v = char::from(d).to_digit(16)?;
        Some(n << 4 | v)
    })
}

/// The keys the scanner acts on, wherever they appear in an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Actions,
    Args,
    Author,
    Content,
    Error,
    ErrorCode,
    ErrorDetails,
    ErrorMessage,
    FunctionCall,
    FunctionResponse,
    Id,
    Message,
    Name,
    Partial,
    Parts,
    Response,
    Result,
    StateDelta,
    ArtifactDelta,
    Text,
    Thought,
    Type,
    /// Anything else: skipped.
    Other,
}

impl Key {
    /// Classifies a key. Its length and first byte pick the one candidate,
    /// so a key that is skipped (most of an ADK event: `invocationId`,
    /// `timestamp`, …) costs one comparison at most.
    ///
    /// Compiled once, not inlined: at opt-level 3 the five places that
    /// classify keys each had a copy of this match, about 1.1 KB of the
    /// gzipped wasm, for about 3 % of the agent decoder's speed.
    #[inline(never)]
    fn of(name: &[u8]) -> Key {
        use Key::*;
        let (key, word): (Key, &[u8]) = match (name.len(), name.first()) {
            (2, Some(b'i')) => (Id, b"id"),
            (4, Some(b't')) if name.get(1) == Some(&b'e') => (Text, b"text"),
            (4, Some(b't')) => (Type, b"type"),
            (4, Some(b'n')) => (Name, b"name"),
            (4, Some(b'a')) => (Args, b"args"),
            (5, Some(b'p')) => (Parts, b"parts"),
            (5, Some(b'e')) => (Error, b"error"),
            (6, Some(b'a')) => (Author, b"author"),
            (6, Some(b'r')) => (Result, b"result"),
            (7, Some(b'c')) => (Content, b"content"),
            (7, Some(b'p')) => (Partial, b"partial"),
            (7, Some(b'a')) => (Actions, b"actions"),
            (7, Some(b't')) => (Thought, b"thought"),
            (7, Some(b'm')) => (Message, b"message"),
            (8, Some(b'r')) => (Response, b"response"),
            (9, Some(b'e')) => (ErrorCode, b"errorCode"),
            (10, Some(b's')) => (StateDelta, b"stateDelta"),
            (11, Some(b's')) => (StateDelta, b"state_delta"),
            (12, Some(b'f')) => (FunctionCall, b"functionCall"),
            (13, Some(b'a')) => (ArtifactDelta, b"artifactDelta"),
            (14, Some(b'a')) => (ArtifactDelta, b"artifact_delta"),
            (12, Some(b'e')) if name.get(5) == Some(&b'D') => (ErrorDetails, b"errorDetails"),
            (12, Some(b'e')) => (ErrorMessage, b"errorMessage"),
            (13, Some(b'f')) => (FunctionCall, b"function_call"),
            (13, Some(b'e')) => (ErrorDetails, b"error_details"),
            (16, Some(b'f')) => (FunctionResponse, b"functionResponse"),
            (17, Some(b'f')) => (FunctionResponse, b"function_response"),
            _ => return Other,
        };
        if same_bytes(name, word) {
            key
        } else {
            Other
        }
    }
}

/// `a == b` for two slices of the same length (checked by the caller),
/// without a call to `memcmp`: in wasm a slice comparison is one, made for
/// every key of every event. With `b` a constant, its words are constants.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    if n >= 8 {
        // Whole words, the last one overlapping the one before it.
        let mut at = 0;
        while at + 8 < n {
            if swar::load(a, at) != swar::load(b, at) {
                return false;
            }
            at += 8;
        }
        return swar::load(a, n - 8) == swar::load(b, n - 8);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// Why a scan failed. One byte, not a [`DecodeError`]: it is threaded
/// through every step of the hot scanning loop, and a `Result<(), Bad>`
/// returns in a register where a wider error would go through memory.
/// Where it failed is the scanner's position, which no step moves after an
/// error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bad {
    NotAnObject,
    Trailing,
    UnexpectedChar,
    TooDeep,
    ExpectedCommaOrBrace,
    ExpectedKey,
    ExpectedColon,
    ExpectedCommaOrBracket,
    Unterminated,
    UnicodeEscape,
    Escape,
    ControlChar,
    UnknownLiteral,
    ExpectedDigit,
    ExpectedFraction,
    ExpectedExponent,
    UnexpectedEnd,
    Span,
}

type Res<T> = Result<T, Bad>;

impl Bad {
    fn reason(self) -> &'static str {
        match self {
            Bad::NotAnObject => "not a JSON object",
            Bad::Trailing => "trailing characters after the event",
            Bad::UnexpectedChar => "unexpected character",
            Bad::TooDeep => "nested too deeply",
            Bad::ExpectedCommaOrBrace => "expected ',' or '}'",
            Bad::ExpectedKey => "expected a string key",
            Bad::ExpectedColon => "expected ':'",
            Bad::ExpectedCommaOrBracket => "expected ',' or ']'",
            Bad::Unterminated => "unterminated string",
            Bad::UnicodeEscape => "invalid \\u escape",
            Bad::Escape => "invalid escape",
            Bad::ControlChar => "control character in string",
            Bad::UnknownLiteral => "unknown literal",
            Bad::ExpectedDigit => "expected a digit",
            Bad::ExpectedFraction => "expected a digit after '.'",
            Bad::ExpectedExponent => "expected a digit in the exponent",
            Bad::UnexpectedEnd => "unexpected end of input",
            Bad::Span => "bad span",
        }
    }
}

/// The bytes that end the fast path of a string scan: `"`, `\` and
/// control bytes (see [`swar`] for how the mask is read).
#[inline(always)]
fn special_bytes(w: u64) -> u64 {
    swar::eq(w, b'"') | swar::eq(w, b'\\') | swar::below(w, 0x20)
}

/// A validating forward-only JSON scanner over one event's text.
struct Scan<'a> {
    b: &'a [u8],
    pos: usize,
    depth: usize,
    /// `b` runs on past the event's line (see [`scan_line`]): CR and LF are
    /// not whitespace, and the data ends at `\n\n`.
    line: bool,
}

impl<'a> Scan<'a> {
    fn new(b: &'a [u8]) -> Self {
        Scan {
            b,
            pos: 0,
            depth: 0,
            line: false,
        }
    }

    /// Whether the event's data ends here.
    #[inline(always)]
    fn at_data_end(&self) -> bool {
        if self.line {
            matches!(self.b.get(self.pos..), Some([b'\n', b'\n', ..]))
        } else {
            self.pos >= self.b.len()
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.pos) {
            match c {
                b' ' | b'\t' => {}
                b'\n' | b'\r' if !self.line => {}
                _ => break,
            }
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn slice(&self, from: usize, to: usize) -> Res<&'a [u8]> {
        // Both ends sit on ASCII structure bytes, so this never fails in
        // practice; `get` keeps it panic-free regardless.
        self.b.get(from..to).ok_or(Bad::Span)
    }

    /// Consumes the opening `{` or `[` and counts the nesting depth.
    #[inline(always)]
    fn begin(&mut self, open: u8) -> Res<()> {
        if self.peek() != Some(open) {
            return Err(Bad::UnexpectedChar);
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bad::TooDeep);
        }
        self.pos += 1;
        Ok(())
    }

    /// The next key of an object opened with `begin(b'{')`, positioned on
    /// its value; `None` after the closing `}`.
    #[inline(always)]
    fn next_key(&mut self, first: &mut bool) -> Res<Option<JsonStr<'a>>> {
        self.ws();
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                self.depth -= 1;
                return Ok(None);
            }
            Some(b',') if !*first => {
                self.pos += 1;
                self.ws();
            }
            _ if *first => {}
            _ => return Err(Bad::ExpectedCommaOrBrace),
        }
        *first = false;
        if self.peek() != Some(b'"') {
            return Err(Bad::ExpectedKey);
        }
        let key = self.string()?;
        self.ws();
        if self.peek() != Some(b':') {
            return Err(Bad::ExpectedColon);
        }
        self.pos += 1;
        self.ws();
        Ok(Some(key))
    }

    /// Whether another array element follows (consuming `,`), or `]` closed it.
    #[inline(always)]
    fn next_elem(&mut self, first: &mut bool) -> Res<bool> {
        self.ws();
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                self.depth -= 1;
                return Ok(false);
            }
            Some(b',') if !*first => self.pos += 1,
            _ if *first => {}
            _ => return Err(Bad::ExpectedCommaOrBracket),
        }
        *first = false;
        self.ws();
        Ok(true)
    }

    /// Scans a string literal from its opening quote to just past its
    /// closing one; returns whether it had escapes. (Positions, not a
    /// slice: a `bool` result comes back in a register, a slice through
    /// memory.)
    fn string_end(&mut self) -> Res<bool> {
        // In locals, not `self`: stores to `self.pos` stayed in the loop
        // (one per word), and the byte read after it waited on them.
        let b = self.b;
        let mut pos = self.pos + 1; // past the opening quote
        let mut escaped = false;
        let result = loop {
            // Fast path: eight bytes at a time, jumping straight to the
            // first special byte (not stepping to it byte by byte, which made
            // the end of every string cost more than its body).
            while let Some(w) = swar::load(b, pos) {
                let special = special_bytes(w);
                if special != 0 {
                    pos += swar::first(special);
                    break;
                }
                pos += 8;
            }
            match b.get(pos) {
                None => break Err(Bad::Unterminated),
                Some(b'"') => {
                    pos += 1;
                    break Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    pos += 1;
                    match b.get(pos) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => pos += 1,
                        Some(b'u') => {
                            let hex = b.get(pos + 1..pos + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                break Err(Bad::UnicodeEscape);
                            }
                            pos += 5;
                        }
                        _ => break Err(Bad::Escape),
                    }
                }
                Some(c) if *c < 0x20 => break Err(Bad::ControlChar),
                Some(_) => pos += 1,
            }
        };
        self.pos = pos;
        result
    }

    /// A string value, left undecoded.
    #[inline(always)]
    fn string(&mut self) -> Res<JsonStr<'a>> {
        let start = self.pos + 1;
        let escaped = self.string_end()?;
        // Both ends sit inside the text: never empty unless it is.
        let raw = self.b.get(start..self.pos - 1).unwrap_or_default();
        Ok(JsonStr { raw, escaped })
    }

    /// A string, or `None` (skipping the value) for any other type.
    #[inline(always)]
    fn opt_string(&mut self) -> Res<Option<JsonStr<'a>>> {
        if self.peek() == Some(b'"') {
            self.string().map(Some)
        } else {
            self.skip_value().map(|_| None)
        }
    }

    /// A boolean, or `None` (skipping the value) for any other type.
    fn opt_bool(&mut self) -> Res<Option<bool>> {
        if self.b[self.pos..].starts_with(b"true") {
            self.pos += 4;
            Ok(Some(true))
        } else if self.b[self.pos..].starts_with(b"false") {
            self.pos += 5;
            Ok(Some(false))
        } else {
            self.skip_value().map(|_| None)
        }
    }

    /// Skips a value, returning its text unless it is `null`.
    fn non_null_span(&mut self) -> Res<Option<&'a [u8]>> {
        let from = self.pos;
        self.skip_value()?;
        let span = self.slice(from, self.pos)?;
        Ok((span != b"null").then_some(span))
    }

    /// Checks one value's syntax and moves past it without building it.
    fn skip_value(&mut self) -> Res<()> {
        match self.peek() {
            Some(b'"') => self.string_end().map(|_| ()),
            Some(b'{') => {
                self.begin(b'{')?;
                let mut first = true;
                while self.next_key(&mut first)?.is_some() {
                    self.skip_value()?;
                }
                Ok(())
            }
            Some(b'[') => {
                self.begin(b'[')?;
                let mut first = true;
                while self.next_elem(&mut first)? {
                    self.skip_value()?;
                }
                Ok(())
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(Bad::UnexpectedChar),
            None => Err(Bad::UnexpectedEnd),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Res<()> {
        if self.b[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Bad::UnknownLiteral)
        }
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - from
    }

    fn number(&mut self) -> Res<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(Bad::ExpectedDigit),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(Bad::ExpectedFraction);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(Bad::ExpectedExponent);
            }
        }
        Ok(())
    }

    /// ADK `content`: hands over one event per useful part, with `partial`
    /// and `author` left for the caller to apply.
    fn content(&mut self, sink: &mut dyn EventSink<'a>) -> Res<()> {
        self.begin(b'{')?;
        let mut first = true;
        let mut key_buf = String::new();
        while let Some(key) = self.next_key(&mut first)? {
            if Key::of(key.name(&mut key_buf)) == Key::Parts && self.peek() == Some(b'[') {
                self.begin(b'[')?;
                let mut first_part = true;
                while self.next_elem(&mut first_part)? {
                    if self.peek() == Some(b'{') {
                        self.part(sink)?;
                    } else {
                        self.skip_value()?;
                    }
                }
            } else {
                self.skip_value()?;
            }
        }
        Ok(())
    }

    /// One ADK part. Unknown kinds (`inlineData`, `executableCode`, …) and
    /// empty texts yield nothing.
    fn part(&mut self, sink: &mut dyn EventSink<'a>) -> Res<()> {
        self.begin(b'{')?;
        let mut text = None;
        let mut thought = false;
        let mut first = true;
        let mut key_buf = String::new();
        while let Some(key) = self.next_key(&mut first)? {
            match Key::of(key.name(&mut key_buf)) {
                Key::Text => text = self.opt_string()?,
                Key::Thought => thought = self.opt_bool()? == Some(true),
                Key::FunctionCall if self.peek() == Some(b'{') => {
                    sink.tool(self.call(false)?);
                }
                Key::FunctionResponse if self.peek() == Some(b'{') => {
                    sink.tool(self.call(true)?);
                }
                _ => self.skip_value()?,
            }
        }
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            sink.text(t, thought);
        }
        Ok(())
    }

    /// `functionCall` / `functionResponse`.
    fn call(&mut self, result: bool) -> Res<ToolPart<'a>> {
        self.begin(b'{')?;
        let mut tool = ToolPart {
            result,
            id: None,
            name: None,
            payload: None,
        };
        let mut first = true;
        let mut key_buf = String::new();
        while let Some(key) = self.next_key(&mut first)? {
            match Key::of(key.name(&mut key_buf)) {
                Key::Id => tool.id = self.opt_string()?,
                Key::Name => tool.name = self.opt_string()?,
                Key::Args | Key::Response => tool.payload = self.non_null_span()?,
                _ => self.skip_value()?,
            }
        }
        Ok(tool)
    }

    /// ADK `actions`: keeps `stateDelta` and `artifactDelta` only when they
    /// are non-empty objects (ADK sends four empty maps with every event).
    fn actions(&mut self, f: &mut Fields<'a>) -> Res<()> {
        if self.peek() != Some(b'{') {
            return self.skip_value();
        }
        self.begin(b'{')?;
        let mut first = true;
        let mut key_buf = String::new();
        while let Some(key) = self.next_key(&mut first)? {
            match Key::of(key.name(&mut key_buf)) {
                Key::StateDelta => f.state_delta = self.non_empty_object()?,
                Key::ArtifactDelta => f.artifact_delta = self.non_empty_object()?,
                _ => self.skip_value()?,
            }
        }
        Ok(())
    }

    /// Skips a value; its text when it is an object with at least one key.
    fn non_empty_object(&mut self) -> Res<Option<&'a [u8]>> {
        let from = self.pos;
        let is_object = self.peek() == Some(b'{');
        self.skip_value()?;
        let span = self.slice(from, self.pos)?;
        let empty = span
            .get(1..)
            .unwrap_or_default()
            .trim_ascii_start()
            .starts_with(b"}");
        Ok((is_object && !empty).then_some(span))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_key_is_classified_and_near_misses_are_not() {
        let known: &[(&str, Key)] = &[
            ("id", Key::Id),
            ("text", Key::Text),
            ("type", Key::Type),
            ("name", Key::Name),
            ("args", Key::Args),
            ("parts", Key::Parts),
            ("error", Key::Error),
            ("author", Key::Author),
            ("result", Key::Result),
            ("content", Key::Content),
            ("partial", Key::Partial),
            ("actions", Key::Actions),
            ("thought", Key::Thought),
            ("message", Key::Message),
            ("response", Key::Response),
            ("errorCode", Key::ErrorCode),
            ("stateDelta", Key::StateDelta),
            ("state_delta", Key::StateDelta),
            ("artifactDelta", Key::ArtifactDelta),
            ("artifact_delta", Key::ArtifactDelta),
            ("functionCall", Key::FunctionCall),
            ("errorMessage", Key::ErrorMessage),
            ("function_call", Key::FunctionCall),
            ("error_details", Key::ErrorDetails),
            ("errorDetails", Key::ErrorDetails),
            ("functionResponse", Key::FunctionResponse),
            ("function_response", Key::FunctionResponse),
        ];
        for &(name, key) in known {
            assert_eq!(Key::of(name.as_bytes()), key, "{name}");
            // Same length and first byte, one byte off: not the key.
            let mut near = name.as_bytes().to_vec();
            let last = near.len() - 1;
            near[last] ^= 0x20;
            assert_eq!(Key::of(&near), Key::Other, "{name} near miss");
        }
        for other in [
            "",
            "i",
            "tex",
            "texts",
            "invocationId",
            "timestamp",
            "nodeInfo",
            "role",
            "Text",
        ] {
            assert_eq!(Key::of(other.as_bytes()), Key::Other, "{other}");
        }
    }
}
