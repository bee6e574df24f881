//! An incremental Server-Sent Events decoder that follows WHATWG HTML
//! §9.2.6 "Interpreting an event stream" exactly, fed with raw bytes.
//!
//! The agent streams its turn as `text/event-stream`; the network hands us
//! arbitrary slices of that stream (a UTF-8 sequence, a CRLF pair or even the
//! BOM may be cut between two chunks), so the decoder keeps just enough state
//! to make the result independent of how the bytes were chunked.
//!
//! # Why bytes, not text
//!
//! The spec decodes the whole stream as UTF-8 (with U+FFFD replacement) and
//! then splits it into lines. Every byte the framing looks at (CR, LF, `:`,
//! space) is ASCII, and ASCII bytes can never sit inside a multi-byte UTF-8
//! sequence, so splitting the raw bytes first and decoding each piece later
//! gives exactly the same characters. Decoding late means a whole line that
//! arrived inside one chunk is never copied (the fast path), and a data
//! buffer is validated once, when its event is dispatched.
//!
//! # Memory bound
//!
//! [`SseConfig::max_event_bytes`] caps both one line (without its line end)
//! and one event's data. A server that exceeds it gets a
//! [`DecodeError::Oversized`] error instead of an out-of-memory abort. What happens then is fixed: the
//! oversized event is dropped (its buffered data released, the rest of its
//! lines ignored up to the next blank line), decoding goes on after it, and
//! [`SseDecoder::push`] still delivers every other item of the chunk before it
//! returns the error. The caller decides whether to keep reading or to stop.

use std::borrow::Cow;

use crate::error::DecodeError;
use crate::swar;

/// The default cap on one line or one event's data: 16 MiB, far above any
/// agent event yet small enough that a broken server cannot exhaust memory.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// The UTF-8 byte order mark, which the spec's "UTF-8 decode" strips once at
/// the very start of the stream.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Settings for an [`SseDecoder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SseConfig {
    /// The largest line (without its line end) and the largest event data
    /// (in bytes, as received) the decoder accepts; see the module docs for
    /// what happens to a larger one.
    pub max_event_bytes: usize,
}

impl Default for SseConfig {
    fn default() -> Self {
        SseConfig {
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

/// One thing decoded from the stream, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SseItem {
    /// A dispatched event.
    Event(SseEvent),
    /// A comment line (`:` …), which servers send as a keep-alive. The text
    /// after the colon, with one leading space removed (like a field value).
    Comment(String),
}

/// A dispatched event, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, or `"message"` when it was missing or empty.
    pub event_type: String,
    /// The `data:` lines joined with `\n` (without a trailing `\n`).
    pub data: String,
    /// The last event ID in effect when the event was dispatched (it persists
    /// across events until the server sets a new one); `None` when empty.
    pub id: Option<String>,
    /// The reconnection time in milliseconds in effect at dispatch, if the
    /// server ever sent a valid `retry:`: the field's integer, saturated at
    /// `u64::MAX` (see [`SseDecoder::retry`]).
    pub retry: Option<u64>,
}

/// One thing decoded from the stream, borrowed from the decoder (or from the
/// chunk) for the duration of a [`SseDecoder::push_with`] callback, so the
/// common case allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SseItemRef<'a> {
    /// A dispatched event.
    Event(SseEventRef<'a>),
    /// A comment; see [`SseItem::Comment`].
    Comment(&'a str),
}

/// A dispatched event, borrowed; the fields mean the same as in [`SseEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SseEventRef<'a> {
    /// See [`SseEvent::event_type`].
    pub event_type: &'a str,
    /// See [`SseEvent::data`].
    pub data: &'a str,
    /// See [`SseEvent::id`].
    pub id: Option<&'a str>,
    /// See [`SseEvent::retry`].
    pub retry: Option<u64>,
}

impl SseItemRef<'_> {
    /// Copies the item into an owned [`SseItem`].
    pub fn to_owned_item(&self) -> SseItem {
        match *self {
            SseItemRef::Event(e) => SseItem::Event(SseEvent {
                event_type: e.event_type.to_owned(),
                data: e.data.to_owned(),
                id: e.id.map(str::to_owned),
                retry: e.retry,
            }),
            SseItemRef::Comment(c) => SseItem::Comment(c.to_owned()),
        }
    }
}

/// Where the decoder is in checking for a leading byte order mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BomState {
    /// At stream start, this many bytes of the BOM have matched so far (they
    /// are held back because the BOM itself may be split across chunks).
    Matching(u8),
    /// The start of the stream is behind us; no BOM is stripped any more.
    Done,
}

/// The incremental decoder. Feed it chunks with [`push`](Self::push) (or
/// [`push_with`](Self::push_with)) and call [`finish`](Self::finish) at end
/// of stream. Cost is linear in the input however it is chunked.
#[derive(Clone, Debug)]
pub struct SseDecoder {
    cfg: SseConfig,
    bom: BomState,
    /// The previous line ended with CR, so an LF that comes next (maybe in
    /// the next chunk) is the second half of a CRLF and ends no line.
    after_cr: bool,
    /// The start of a line whose end has not arrived yet.
    line: Vec<u8>,
    /// The current line went over the limit: drop its bytes up to its end.
    skip_line: bool,
    /// The current event went over the limit: ignore its lines up to the next
    /// blank line.
    skip_event: bool,
    /// A limit was exceeded during the current `push`.
    overflowed: bool,
    /// The spec's data buffer: each `data` value followed by LF, raw bytes.
    data: Vec<u8>,
    /// The spec's event type buffer, raw bytes.
    event_type: Vec<u8>,
    /// The spec's last event ID buffer, raw bytes.
    id_buffer: Vec<u8>,
    /// `id_buffer` changed since it was last copied to `last_event_id`; lets
    /// a dispatch skip re-decoding an unchanged ID (which would make a long
    /// ID followed by many blank lines quadratic).
    id_dirty: bool,
    /// The spec's "last event ID string", set from the buffer at dispatch.
    last_event_id: String,
    /// Counts the times `last_event_id` was set (see [`RawEvent::id_seq`]).
    id_seq: u32,
    /// A decoder for event data alone (see [`data_only`](Self::data_only)).
    data_only: bool,
    /// In a `data_only` decoder, during a push: the length of the chunk's
    /// tail after its last blank line (`\n\n`). A line that begins there
    /// cannot be a whole event, so it is not offered as one (at 1 KiB
    /// chunks, half the events are cut by the chunk's end, and scanning
    /// each twice cost more than looking for line ends first).
    cut_tail: usize,
    /// The reconnection time in effect, in milliseconds.
    retry: Option<u64>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder::new(SseConfig::default())
    }
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new(cfg: SseConfig) -> Self {
        SseDecoder {
            cfg,
            bom: BomState::Matching(0),
            after_cr: false,
            line: Vec::new(),
            skip_line: false,
            skip_event: false,
            overflowed: false,
            data: Vec::new(),
            event_type: Vec::new(),
            id_buffer: Vec::new(),
            id_dirty: false,
            last_event_id: String::new(),
            id_seq: 0,
            retry: None,
            data_only: false,
            cut_tail: 0,
        }
    }

    /// A decoder for a [`RawEmit`] that reads only event data (the agent
    /// batch, which owns its decoder):
    /// - it skips `id:` lines instead of checking and decoding each one
    ///   (every agent event has one), so [`RawEvent::id`] is always `None`
    ///   and [`last_event_id`](Self::last_event_id) stays empty;
    /// - it offers each `data:` line that starts a clean event to
    ///   [`RawEmit::whole_event`] before looking for its end.
    pub(crate) fn data_only(cfg: SseConfig) -> Self {
        SseDecoder {
            data_only: true,
            ..SseDecoder::new(cfg)
        }
    }

    /// The settings this decoder was made with.
    pub fn config(&self) -> SseConfig {
        self.cfg
    }

    /// Decodes `chunk` and appends every item it completes to `out`.
    ///
    /// # Errors
    ///
    /// A protocol error when a line or an event's data exceeded
    /// [`SseConfig::max_event_bytes`]. Even then the whole chunk was
    /// consumed: `out` holds every other item, the oversized event was
    /// dropped, and the decoder can keep going.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<SseItem>) -> Result<(), DecodeError> {
        self.push_with(chunk, |item| out.push(item.to_owned_item()))
    }

    /// Like [`push`](Self::push), but hands each item to `on_item` borrowed,
    /// which avoids allocating for lines that arrived whole in one chunk
    /// and for data that is valid UTF-8.
    ///
    /// # Errors
    ///
    /// As for [`push`](Self::push).
    pub fn push_with<F>(&mut self, chunk: &[u8], on_item: F) -> Result<(), DecodeError>
    where
        F: FnMut(SseItemRef<'_>),
    {
        let mut on_item = on_item;
        self.push_items(chunk, &mut on_item)
    }

    /// [`push_with`](Self::push_with) through a trait object: one compiled
    /// copy of the line machinery (the one for `dyn RawEmit`) serves every
    /// caller's closure and [`push_raw`](Self::push_raw) (each copy is about
    /// 1.5 KB of wasm), and, not being generic, it is compiled in this
    /// crate, at this crate's opt-level, whoever calls it. The only other
    /// copy is the data-only path's, for the agent batch.
    fn push_items(
        &mut self,
        chunk: &[u8],
        on_item: &mut dyn FnMut(SseItemRef<'_>),
    ) -> Result<(), DecodeError> {
        self.push_raw(chunk, &mut Items(on_item))
    }

    /// The general form of the `push` methods: hands `out` each comment and
    /// each event as the stream's raw bytes. The spec decodes them as UTF-8
    /// with U+FFFD for invalid bytes; that is left to `out`, which may do it
    /// its own way (the same characters) or not at all.
    ///
    /// # Errors
    ///
    /// As for [`push`](Self::push).
    pub fn push_raw(&mut self, chunk: &[u8], out: &mut dyn RawEmit) -> Result<(), DecodeError> {
        self.push_to(chunk, out)
    }

    fn push_to<E: RawEmit + ?Sized>(
        &mut self,
        chunk: &[u8],
        on_item: &mut E,
    ) -> Result<(), DecodeError> {
        let mut rest = chunk;
        if self.data_only {
            self.cut_tail = after_last_blank_line(chunk);
        }
        if let BomState::Matching(matched) = self.bom {
            rest = self.strip_bom(matched, rest, on_item);
        }
        self.feed(rest, on_item);
        if self.overflowed {
            self.overflowed = false;
            return Err(DecodeError::Oversized {
                limit: self.cfg.max_event_bytes,
            });
        }
        Ok(())
    }

    /// Ends the stream. Per the spec, a line without its line end and an
    /// event without its closing blank line are discarded (a stream cut
    /// mid-event must not deliver half an event), so nothing is ever
    /// appended to `out`; the parameter keeps the call shape of `push`.
    ///
    /// The decoder is then reset to the start of a new stream (so a BOM is
    /// stripped again), keeping [`last_event_id`](Self::last_event_id) and
    /// [`retry`](Self::retry): exactly what a reconnection needs.
    ///
    /// # Errors
    ///
    /// None today; the `Result` matches `push` so callers handle both alike.
    pub fn finish(&mut self, out: &mut Vec<SseItem>) -> Result<(), DecodeError> {
        let _ = out;
        self.end();
        Ok(())
    }

    /// [`finish`](Self::finish), for a caller with no item vector to hand
    /// it (the batches).
    pub fn end(&mut self) {
        self.bom = BomState::Matching(0);
        self.after_cr = false;
        self.line.clear();
        self.skip_line = false;
        self.skip_event = false;
        self.overflowed = false;
        self.data.clear();
        self.event_type.clear();
        // The ID buffer keeps its value, as in a browser's EventSource, but
        // an `id:` of the discarded event never reached the ID string.
        self.id_buffer.clear();
        self.id_buffer
            .extend_from_slice(self.last_event_id.as_bytes());
        self.id_dirty = false;
    }

    /// The last event ID string: what to send as `Last-Event-ID` when
    /// reconnecting. Empty when the server never set one (or reset it).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time in milliseconds the server asked for, if any.
    ///
    /// The spec sets the reconnection time to the `retry:` field's integer,
    /// whatever its size; this is that integer up to `u64::MAX` ms (584
    /// million years), and `u64::MAX` for anything longer. A JavaScript
    /// number holds integers exactly only up to 2^53 − 1 (285 000 years):
    /// code handing this to JS should saturate there.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Consumes the bytes of a leading BOM (possibly the rest of one begun in
    /// an earlier chunk) and returns what follows it.
    fn strip_bom<'c, E: RawEmit + ?Sized>(
        &mut self,
        mut matched: u8,
        chunk: &'c [u8],
        on_item: &mut E,
    ) -> &'c [u8] {
        let mut rest = chunk;
        while let Some((&byte, tail)) = rest.split_first() {
            if byte != BOM[usize::from(matched)] {
                // Not a BOM after all: the held bytes are ordinary input.
                self.bom = BomState::Done;
                let held = &BOM[..usize::from(matched)];
                self.feed(held, on_item);
                return rest;
            }
            matched += 1;
            rest = tail;
            if usize::from(matched) == BOM.len() {
                self.bom = BomState::Done;
                return rest;
            }
        }
        self.bom = BomState::Matching(matched);
        rest
    }

    /// Splits `bytes` into lines and interprets each one.
    fn feed<E: RawEmit + ?Sized>(&mut self, bytes: &[u8], on_item: &mut E) {
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.after_cr {
                self.after_cr = false;
                if let Some(tail) = rest.strip_prefix(b"\n") {
                    rest = tail;
                    continue;
                }
            }
            if self.data_only && rest.len() > self.cut_tail {
                if let Some(after) = self.whole_event(rest, on_item) {
                    rest = after;
                    continue;
                }
            }
            let Some(end) = line_end(rest) else {
                // No line end in the chunk: keep the start of the line.
                self.buffer_partial_line(rest);
                return;
            };
            let (body, tail) = rest.split_at(end);
            if let Some(after) = self.single_data_line_event(body, tail, on_item) {
                rest = after;
                continue;
            }
            self.after_cr = tail.first() == Some(&b'\r');
            rest = tail.get(1..).unwrap_or_default();
            if self.line.is_empty() && !self.skip_line {
                self.whole_line_fast_path(body, on_item);
            } else {
                self.finish_buffered_line(body, on_item);
            }
        }
    }

    /// The fastest path of a [`data_only`](Self::data_only) decoder, for
    /// the shape nearly every agent event has, `data: {…}` then the blank
    /// line (see [`single_data_line_event`](Self::single_data_line_event)):
    /// the emitter reads the event straight from the chunk, and finds where
    /// its data ends itself ([`RawEmit::whole_event`]), so the line's end is
    /// not searched for first. Returns the input after the blank line.
    #[inline(always)]
    fn whole_event<'c, E: RawEmit + ?Sized>(
        &mut self,
        rest: &'c [u8],
        on_item: &mut E,
    ) -> Option<&'c [u8]> {
        // The whole rest of the chunk within the limit: so is the line.
        if !self.line.is_empty()
            || self.skip_line
            || self.skip_event
            || !self.data.is_empty()
            || rest.len() > self.cfg.max_event_bytes
        {
            return None;
        }
        let value = strip_data_colon(rest)?;
        let value = value.strip_prefix(b" ").unwrap_or(value);
        let len = on_item.whole_event(value)?;
        // The steps of a dispatch (the ID is not tracked here).
        self.event_type.clear();
        value.get(len + 2..)
    }

    /// The fastest path, for the shape nearly every agent event has:
    /// `data: {…}` followed at once by the blank line that ends its event,
    /// both inside this chunk, with nothing of the event before it. The
    /// event is dispatched straight from the chunk, without copying the data
    /// into the event buffer; the spec's steps are the same. Returns the
    /// input after the blank line, or `None` to take the general path.
    fn single_data_line_event<'c, E: RawEmit + ?Sized>(
        &mut self,
        body: &[u8],
        tail: &'c [u8],
        on_item: &mut E,
    ) -> Option<&'c [u8]> {
        let after = tail.strip_prefix(b"\n\n")?;
        if !self.line.is_empty()
            || self.skip_line
            || self.skip_event
            || !self.data.is_empty()
            || body.len() > self.cfg.max_event_bytes
        {
            return None;
        }
        let value = strip_data_colon(body)?;
        let value = value.strip_prefix(b" ").unwrap_or(value);
        self.set_last_event_id();
        on_item.event(RawEvent {
            event_type: &self.event_type,
            data: value,
            id: self.event_id(),
            id_seq: self.id_seq,
            retry: self.retry,
        });
        self.event_type.clear();
        Some(after)
    }

    /// The fast path: the whole line arrived inside this chunk, so it is
    /// interpreted straight from the chunk without copying.
    fn whole_line_fast_path<E: RawEmit + ?Sized>(&mut self, line: &[u8], on_item: &mut E) {
        if line.len() > self.cfg.max_event_bytes {
            self.overflow();
        } else {
            self.process_line(line, on_item);
        }
    }

    /// The slow path: the line began in an earlier chunk; `tail` completes it.
    fn finish_buffered_line<E: RawEmit + ?Sized>(&mut self, tail: &[u8], on_item: &mut E) {
        self.buffer_partial_line(tail);
        if self.skip_line {
            self.skip_line = false;
            return;
        }
        // Taken out so the line can be read while `self` is updated; put
        // back afterwards to keep its capacity for the next long line.
        let mut line = std::mem::take(&mut self.line);
        self.process_line(&line, on_item);
        line.clear();
        self.line = line;
    }

    /// Appends to the pending line, enforcing the line limit.
    fn buffer_partial_line(&mut self, bytes: &[u8]) {
        if self.skip_line {
            return;
        }
        if self.line.len() + bytes.len() > self.cfg.max_event_bytes {
            // Release the memory rather than just clearing it.
            self.line = Vec::new();
            self.skip_line = true;
            self.overflow();
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    /// Records a limit violation and drops the current event.
    fn overflow(&mut self) {
        self.overflowed = true;
        self.skip_event = true;
        self.data = Vec::new();
        self.event_type.clear();
    }

    /// Interprets one complete line (without its line end), per the spec.
    fn process_line<E: RawEmit + ?Sized>(&mut self, line: &[u8], on_item: &mut E) {
        if line.is_empty() {
            self.skip_event = false;
            self.dispatch(on_item);
            return;
        }
        if self.skip_event {
            return;
        }
        if let Some(comment) = line.strip_prefix(b":") {
            let comment = comment.strip_prefix(b" ").unwrap_or(comment);
            on_item.comment(comment);
            return;
        }
        // The names acted on have at most five bytes, so the colon is only
        // looked for in the first six: a longer name is ignored whatever
        // follows it (and a long data line is not searched end to end).
        let (name, value) = match line.iter().take(6).position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None if line.len() <= 5 => (line, &b""[..]),
            None => return,
        };
        match Field::of(name) {
            Field::Event => {
                self.event_type.clear();
                self.event_type.extend_from_slice(value);
            }
            Field::Data => {
                if self.data.len() + value.len() > self.cfg.max_event_bytes {
                    self.overflow();
                    return;
                }
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            // U+0000 is only ever encoded as the byte 0x00, and invalid bytes
            // decode to U+FFFD, so a byte check is the spec's check.
            Field::Id if !self.data_only && !value.contains(&0) => {
                self.id_buffer.clear();
                self.id_buffer.extend_from_slice(value);
                self.id_dirty = true;
            }
            // The spec sets the reconnection time to the integer, any size.
            // Past u64::MAX ms (21+ digits) it saturates rather than being
            // ignored or wrapping: the server asked for a wait longer than
            // any clock here can count, and u64::MAX is the nearest value
            // that keeps that meaning (no later value is ever shorter). Only
            // a `retry:` line's digits are folded, never other bytes.
            Field::Retry if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms = value.iter().fold(0u64, |acc, d| {
                    acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
                self.retry = Some(ms);
            }
            _ => {}
        }
    }

    /// Dispatch step 1, which happens even when no event follows: the last
    /// event ID string is set from the buffer (reusing its allocation).
    fn set_last_event_id(&mut self) {
        if self.id_dirty {
            self.id_dirty = false;
            self.id_seq = self.id_seq.wrapping_add(1);
            let id = utf8_lossy(&self.id_buffer);
            self.last_event_id.clear();
            self.last_event_id.push_str(&id);
        }
    }

    /// The ID an event carries: `None` when empty.
    fn event_id(&self) -> Option<&str> {
        (!self.last_event_id.is_empty()).then_some(self.last_event_id.as_str())
    }

    /// The spec's "dispatch the event", run at each blank line.
    fn dispatch<E: RawEmit + ?Sized>(&mut self, on_item: &mut E) {
        self.set_last_event_id();
        if let Some((&b'\n', data)) = self.data.split_last() {
            on_item.event(RawEvent {
                event_type: &self.event_type,
                data,
                id: self.event_id(),
                id_seq: self.id_seq,
                retry: self.retry,
            });
        }
        self.data.clear();
        self.event_type.clear();
    }
}

/// The field names the spec acts on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Event,
    Data,
    Id,
    Retry,
    /// Any other name: the line is ignored.
    Other,
}

impl Field {
    /// Classifies a field name byte by byte: a slice comparison is a call
    /// to `memcmp` in wasm, made for every line.
    #[inline(always)]
    fn of(name: &[u8]) -> Field {
        match *name {
            [b'd', b'a', b't', b'a'] => Field::Data,
            [b'i', b'd'] => Field::Id,
            [b'e', b'v', b'e', b'n', b't'] => Field::Event,
            [b'r', b'e', b't', b'r', b'y'] => Field::Retry,
            _ => Field::Other,
        }
    }
}

/// The value part of a line that begins `data:` (see [`Field::of`]).
#[inline(always)]
fn strip_data_colon(line: &[u8]) -> Option<&[u8]> {
    match *line {
        [b'd', b'a', b't', b'a', b':', ref rest @ ..] => Some(rest),
        _ => None,
    }
}

/// How many bytes of `chunk` follow its last `\n\n` (all of them when it
/// has none).
fn after_last_blank_line(chunk: &[u8]) -> usize {
    swar::rfind_blank_line(chunk).map_or(chunk.len(), |at| chunk.len() - (at + 2))
}

/// The first CR or LF: `memchr2` where it has SIMD; in wasm, where it
/// steps through 4-byte words, the 8-byte [`swar`] search is faster.
#[inline(always)]
fn line_end(bytes: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "wasm32")]
    return swar::find_line_end(bytes);
    #[cfg(not(target_arch = "wasm32"))]
    return memchr::memchr2(b'\r', b'\n', bytes);
}

/// A dispatched event as the stream's bytes, for a [`RawEmit`].
#[derive(Clone, Copy, Debug)]
pub struct RawEvent<'a> {
    /// The `event:` field's bytes; empty for the default ("message").
    pub event_type: &'a [u8],
    /// The `data:` lines joined with LF, as bytes.
    pub data: &'a [u8],
    /// The last event ID in effect; `None` when empty.
    pub id: Option<&'a str>,
    /// Changes each time the decoder sets its last event ID (so two events
    /// with the same number carry the same ID, without comparing it).
    pub id_seq: u32,
    /// See [`SseEvent::retry`].
    pub retry: Option<u64>,
}

/// Where the decoder sends what it completes, as the stream's raw bytes
/// (see [`SseDecoder::push_raw`]): the item collector behind
/// [`SseDecoder::push_with`], the data-only fast path, the JS batch
/// ([`crate::sse_batch`]).
pub trait RawEmit {
    /// A comment line, after the colon and one optional space.
    fn comment(&mut self, text: &[u8]);
    /// A dispatched event.
    fn event(&mut self, event: RawEvent<'_>);
    /// Offered by a data-only decoder: `rest`
    /// is what follows a clean event's `data:` (and its space) to the end
    /// of the chunk. When it begins with the event's data, its line end and
    /// the blank line (`\n\n`), take the event and return the data's length:
    /// the decoder goes on after the blank line. Otherwise (the default)
    /// return `None`, having taken nothing: the decoder goes the general way
    /// and calls [`event`](Self::event) for it.
    fn whole_event(&mut self, rest: &[u8]) -> Option<usize> {
        let _ = rest;
        None
    }
}

/// Decodes items as UTF-8 (invalid bytes become U+FFFD, per the spec).
struct Items<F>(F);

impl<F: FnMut(SseItemRef<'_>)> RawEmit for Items<F> {
    fn comment(&mut self, text: &[u8]) {
        (self.0)(SseItemRef::Comment(&utf8_lossy(text)));
    }

    fn event(&mut self, event: RawEvent<'_>) {
        let data: Cow<'_, str> = utf8_lossy(event.data);
        let event_type: Cow<'_, str> = if event.event_type.is_empty() {
            Cow::Borrowed("message")
        } else {
            utf8_lossy(event.event_type)
        };
        (self.0)(SseItemRef::Event(SseEventRef {
            event_type: &event_type,
            data: &data,
            id: event.id,
            retry: event.retry,
        }));
    }
}

/// `String::from_utf8_lossy`, with the common case (valid UTF-8) checked by
/// `str::from_utf8` first: the same result, but the strict validator has a
/// word-at-a-time ASCII fast path that the lossy iterator lacks, and this
/// check runs over every byte of every event.
fn utf8_lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse_reference::reference;
    use proptest::prelude::*;

    fn decode_with(cfg: SseConfig, chunks: &[&[u8]]) -> (Vec<SseItem>, usize, SseDecoder) {
        let mut d = SseDecoder::new(cfg);
        let mut out = Vec::new();
        let mut errors = 0;
        for c in chunks {
            if d.push(c, &mut out).is_err() {
                errors += 1;
            }
        }
        d.finish(&mut out).expect("finish never fails");
        (out, errors, d)
    }

    fn decode(chunks: &[&[u8]]) -> Vec<SseItem> {
        let (items, errors, _) = decode_with(SseConfig::default(), chunks);
        assert_eq!(errors, 0);
        items
    }

    fn ev(event_type: &str, data: &str, id: Option<&str>, retry: Option<u64>) -> SseItem {
        SseItem::Event(SseEvent {
            event_type: event_type.into(),
            data: data.into(),
            id: id.map(Into::into),
            retry,
        })
    }

    fn msg(data: &str) -> SseItem {
        ev("message", data, None, None)
    }

    fn events_only(items: &[SseItem]) -> Vec<&SseEvent> {
        items
            .iter()
            .filter_map(|i| match i {
                SseItem::Event(e) => Some(e),
                SseItem::Comment(_) => None,
            })
            .collect()
    }

    const BASIC: &[u8] = include_bytes!("../../tests/fixtures/adk/run_sse_basic.sse");
    const STREAMING: &[u8] = include_bytes!("../../tests/fixtures/adk/run_sse_streaming.sse");
    const ERROR_MIDSTREAM: &[u8] =
        include_bytes!("../../tests/fixtures/adk/run_sse_error_midstream.sse");

    #[test]
    fn adk_fixtures_decode_to_one_event_per_data_line() {
        for (bytes, n) in [(BASIC, 11), (STREAMING, 15), (ERROR_MIDSTREAM, 2)] {
            let items = decode(&[bytes]);
            assert_eq!(items.len(), n);
            for e in events_only(&items) {
                assert_eq!(e.event_type, "message");
                assert!(
                    e.data.starts_with('{') && e.data.ends_with('}'),
                    "{}",
                    e.data
                );
                assert_eq!(e.id, None);
                assert_eq!(e.retry, None);
            }
            // The same bytes one at a time give the same events.
            let singles: Vec<&[u8]> = bytes.chunks(1).collect();
            assert_eq!(decode(&singles), items);
            assert_eq!(reference(bytes).0, items);
        }
        let items = decode(&[ERROR_MIDSTREAM]);
        let last = events_only(&items)[1];
        assert!(last.data.starts_with("{\"error\": \"RuntimeError"));
    }

    #[test]
    fn whatwg_examples() {
        // "stock ticker" style: two data lines join with LF.
        assert_eq!(
            decode(&[b"data: YHOO\ndata: +2\ndata: 10\n\n"]),
            vec![msg("YHOO\n+2\n10")]
        );
        // The four-block example: comment, id carries over, empty data.
        let items = decode(&[
            b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
        ]);
        assert_eq!(
            items,
            vec![
                SseItem::Comment("test stream".into()),
                ev("message", "first event", Some("1"), None),
                msg("second event"),
                msg(" third event"),
            ]
        );
        // Two events: an empty one and one with a single LF.
        assert_eq!(
            decode(&[b"data\n\ndata\ndata\n\ndata:"]),
            vec![msg(""), msg("\n")]
        );
        // These two lines are identical: one leading space is stripped.
        assert_eq!(
            decode(&[b"data:test\n\ndata: test\n\n"]),
            vec![msg("test"), msg("test")]
        );
    }

    #[test]
    fn utf8_sequence_split_across_chunks() {
        let bytes = "data: héllo €𝄞\n\n".as_bytes();
        for split in 0..bytes.len() {
            let (a, b) = bytes.split_at(split);
            assert_eq!(decode(&[a, b]), vec![msg("héllo €𝄞")], "split at {split}");
        }
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        assert_eq!(
            decode(&[b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"]),
            vec![msg("a"), msg("b")]
        );
        // A lone CR and a lone LF each end a line; CR CR is two line ends.
        assert_eq!(
            decode(&[b"data: a\r\rdata: b\n\n"]),
            vec![msg("a"), msg("b")]
        );
        assert_eq!(
            decode(&[b"data: a\r", b"\r", b"data: b\n\n"]),
            vec![msg("a"), msg("b")]
        );
        // LF CR is two line ends too.
        assert_eq!(
            decode(&[b"data: a\n\rdata: b\n\n"]),
            vec![msg("a"), msg("b")]
        );
    }

    #[test]
    fn bom_stripped_only_at_stream_start_even_when_split() {
        let bom_event = b"\xEF\xBB\xBFdata: x\n\n";
        for split in 0..bom_event.len() {
            let (a, b) = bom_event.split_at(split);
            assert_eq!(decode(&[a, b]), vec![msg("x")], "split at {split}");
        }
        let singles: Vec<&[u8]> = bom_event.chunks(1).collect();
        assert_eq!(decode(&singles), vec![msg("x")]);
        // A second BOM is content: here it makes the field name unknown.
        assert_eq!(decode(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"]), vec![]);
        // A BOM later in the stream is kept inside data.
        assert_eq!(
            decode(&[
                b"data: x\n\n",
                b"\xEF\xBB\xBFdata: y\n\ndata: \xEF\xBB\xBF\n\n"
            ]),
            vec![msg("x"), msg("\u{FEFF}")]
        );
        // A BOM prefix that turns out not to be one is decoded as U+FFFD.
        assert_eq!(
            decode(&[b"\xEF", b"\xBB:c\n"]),
            vec![] as Vec<SseItem>,
            "the line's field name is the bad bytes, an unknown field"
        );
        assert_eq!(
            decode(&[b"\xEF\xBB", b"\n: c\n"]),
            vec![SseItem::Comment("c".into())]
        );
    }

    #[test]
    fn data_lines_join_and_trailing_lf_is_removed() {
        assert_eq!(decode(&[b"data: a\ndata: b\n\n"]), vec![msg("a\nb")]);
        assert_eq!(decode(&[b"data: a\ndata:\n\n"]), vec![msg("a\n")]);
    }

    #[test]
    fn block_without_data_dispatches_nothing_but_sets_the_id() {
        let (items, _, d) = decode_with(SseConfig::default(), &[b"id: 7\nevent: x\n\n"]);
        assert_eq!(items, vec![]);
        assert_eq!(d.last_event_id(), "7");
        // And the event type does not leak into the next event.
        let items = decode(&[b"id: 7\nevent: x\n\ndata: d\n\n"]);
        assert_eq!(items, vec![ev("message", "d", Some("7"), None)]);
        // An empty `id` resets the last event ID.
        let (items, _, d) = decode_with(
            SseConfig::default(),
            &[b"id: 7\ndata: a\n\nid\ndata: b\n\n"],
        );
        assert_eq!(items, vec![ev("message", "a", Some("7"), None), msg("b")]);
        assert_eq!(d.last_event_id(), "");
    }

    #[test]
    fn id_with_null_is_ignored() {
        let (items, _, d) = decode_with(SseConfig::default(), &[b"id: 1\n\nid: a\0b\ndata: x\n\n"]);
        assert_eq!(items, vec![ev("message", "x", Some("1"), None)]);
        assert_eq!(d.last_event_id(), "1");
    }

    #[test]
    fn id_of_an_undispatched_trailing_event_is_not_committed() {
        let (_, _, mut d) = decode_with(SseConfig::default(), &[b"id: 1\n\nid: 2\ndata: x\n"]);
        assert_eq!(d.last_event_id(), "1");
        // After finish the decoder starts a new stream with the same ID.
        let mut out = Vec::new();
        d.push(b"\xEF\xBB\xBFdata: y\n\n", &mut out).expect("ok");
        assert_eq!(out, vec![ev("message", "y", Some("1"), None)]);
    }

    #[test]
    fn retry_is_the_fields_integer_past_32_bits_and_saturates_past_64() {
        let retry_of = |chunks: &[&[u8]]| decode_with(SseConfig::default(), chunks).2.retry();
        for (line, want) in [
            (&b"retry: 0\n"[..], 0),
            (b"retry: 4294967295\n", u64::from(u32::MAX)),
            // Above 32 bits: the integer itself, not a clamp.
            (b"retry: 4294967296\n", 1 << 32),
            (b"retry: 9007199254740993\n", (1 << 53) + 1),
            (b"retry: 18446744073709551615\n", u64::MAX),
            (b"retry: 0000000000000000000000000000042\n", 42),
            // Beyond u64: saturated, never wrapped nor ignored.
            (b"retry: 18446744073709551616\n", u64::MAX),
            (b"retry: 99999999999999999999999999999999999999\n", u64::MAX),
        ] {
            assert_eq!(
                retry_of(&[line]),
                Some(want),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        // Split anywhere, the same value; events carry it.
        let bytes = b"retry: 12345678901234\ndata: x\n\n";
        for cut in 0..bytes.len() {
            let (items, _, d) = decode_with(SseConfig::default(), &[&bytes[..cut], &bytes[cut..]]);
            assert_eq!(d.retry(), Some(12_345_678_901_234), "cut {cut}");
            assert_eq!(
                items,
                vec![ev("message", "x", None, Some(12_345_678_901_234))]
            );
        }
        // A later, smaller value replaces a saturated one.
        assert_eq!(
            retry_of(&[b"retry: 99999999999999999999999\nretry: 5\n"]),
            Some(5)
        );
    }

    #[test]
    fn retry_takes_only_ascii_digits() {
        let (items, _, d) = decode_with(
            SseConfig::default(),
            &[b"retry: 3000\ndata: a\n\nretry: 12a\nretry:\nretry: -1\nretry: 1.5\nretry: \xD9\xA3\ndata: b\n\n"],
        );
        assert_eq!(
            items,
            vec![
                ev("message", "a", None, Some(3000)),
                ev("message", "b", None, Some(3000))
            ]
        );
        assert_eq!(d.retry(), Some(3000));
        // Applied when processed, even without a dispatch.
        let (_, _, d) = decode_with(SseConfig::default(), &[b"retry: 99999999999999\n"]);
        assert_eq!(d.retry(), Some(99_999_999_999_999));
        // "retry: 5" with two spaces: value " 5" is not all digits.
        let (_, _, d) = decode_with(SseConfig::default(), &[b"retry:  5\n"]);
        assert_eq!(d.retry(), None);
    }

    #[test]
    fn lines_split_only_on_cr_and_lf() {
        let nel_ls = "data: a\u{2028}b\u{85}c\u{2029}d\x0Be\x0Cf\n\n";
        assert_eq!(
            decode(&[nel_ls.as_bytes()]),
            vec![msg("a\u{2028}b\u{85}c\u{2029}d\x0Be\x0Cf")]
        );
    }

    #[test]
    fn field_parsing() {
        let items = decode(&[
            b":comment\n: with space\n:\ndata\n\nevent: custom\ndata:x:y\n\nfoo: bar\ndata : no\nDATA: no\nevent\ndata: z\n\n",
        ]);
        assert_eq!(
            items,
            vec![
                SseItem::Comment("comment".into()),
                SseItem::Comment("with space".into()),
                SseItem::Comment(String::new()),
                msg(""),
                ev("custom", "x:y", None, None),
                msg("z"),
            ]
        );
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let items = decode(&[
            b"data: a\xFFb\xE2\x82\n\nevent: \xC0\ndata: \xF0\x9F\x98\n\n: \xED\xA0\x80\n",
        ]);
        assert_eq!(
            items,
            vec![
                msg("a\u{FFFD}b\u{FFFD}"),
                ev("\u{FFFD}", "\u{FFFD}", None, None),
                SseItem::Comment("\u{FFFD}\u{FFFD}\u{FFFD}".into()),
            ]
        );
    }

    #[test]
    fn unterminated_final_event_is_discarded() {
        assert_eq!(decode(&[b"data: a\n\ndata: b\n"]), vec![msg("a")]);
        assert_eq!(decode(&[b"data: a\n\ndata: b"]), vec![msg("a")]);
        // Even a trailing CR ends only the line, not the event.
        assert_eq!(decode(&[b"data: a\r"]), vec![]);
    }

    #[test]
    fn comments_surface_as_items_in_order() {
        let items = decode(&[b": ping\n\ndata: a\n: inside\n\n:keepalive\n"]);
        assert_eq!(
            items,
            vec![
                SseItem::Comment("ping".into()),
                SseItem::Comment("inside".into()),
                msg("a"),
                SseItem::Comment("keepalive".into()),
            ]
        );
    }

    #[test]
    fn oversized_line_is_a_protocol_error_and_decoding_continues() {
        let cfg = SseConfig {
            max_event_bytes: 16,
        };
        let input: &[u8] = b"data: ok\n\ndata: 0123456789abcdef\ndata: tail\n\ndata: next\n\n";
        for chunking in [input.chunks(input.len()), input.chunks(1), input.chunks(5)] {
            let chunks: Vec<&[u8]> = chunking.collect();
            let mut d = SseDecoder::new(cfg);
            let mut out = Vec::new();
            let mut errs = Vec::new();
            for c in &chunks {
                if let Err(e) = d.push(c, &mut out) {
                    errs.push(e);
                }
            }
            assert_eq!(errs.len(), 1);
            assert_eq!(errs[0], DecodeError::Oversized { limit: 16 });
            assert!(errs[0].message().contains("16 bytes"));
            assert_eq!(out, vec![msg("ok"), msg("next")]);
            assert!(d.line.capacity() <= 16 && d.data.capacity() <= 32);
        }
    }

    #[test]
    fn oversized_event_data_is_dropped_with_an_error() {
        let cfg = SseConfig {
            max_event_bytes: 10,
        };
        let mut d = SseDecoder::new(cfg);
        let mut out = Vec::new();
        // Three short lines whose joined data is 11 bytes (over 10).
        let err = d
            .push(
                b"data:abc\ndata:def\ndata:ghi\nid: 5\n\ndata: ok\n\n",
                &mut out,
            )
            .expect_err("over the limit");
        assert_eq!(err, DecodeError::Oversized { limit: 10 });
        // The `id` after the overflow belonged to the dropped event.
        assert_eq!(out, vec![msg("ok")]);
        // The limit is inclusive: exactly 10 bytes of data pass.
        d.push(b"data:abcd\ndata:efghi\n\n", &mut out)
            .expect("fits");
        assert_eq!(out.last(), Some(&msg("abcd\nefghi")));
        // A huge unterminated line never grows the buffer past the limit.
        let big = vec![b'x'; 1000];
        assert!(d.push(&big, &mut out).is_err());
        assert!(d.push(&big, &mut out).is_ok(), "reported once per overflow");
        assert!(d.line.capacity() <= 16);
        d.push(b"\n\ndata:after\n\n", &mut out).expect("ok");
        assert_eq!(out.last(), Some(&msg("after")));
    }

    #[test]
    fn default_limit_is_16_mib() {
        assert_eq!(SseConfig::default().max_event_bytes, 16 * 1024 * 1024);
        assert_eq!(SseDecoder::default().config(), SseConfig::default());
    }

    #[test]
    fn push_with_borrows_and_matches_push() {
        let mut d = SseDecoder::default();
        let mut seen = Vec::new();
        d.push_with(b"event: e\nid: 1\nretry: 5\ndata: x\n\n: c\n", |item| {
            seen.push(item.to_owned_item())
        })
        .expect("ok");
        assert_eq!(
            seen,
            vec![
                ev("e", "x", Some("1"), Some(5)),
                SseItem::Comment("c".into())
            ]
        );
    }

    #[test]
    fn one_megabyte_byte_at_a_time_is_linear() {
        // Long lines (slow path growth), many short events and long ids:
        // each is a way a quadratic decoder would show.
        let mut input = Vec::new();
        input.extend_from_slice(b"id: ");
        input.extend(std::iter::repeat_n(b'i', 100_000));
        input.extend_from_slice(b"\ndata: ");
        input.extend(std::iter::repeat_n(b'd', 300_000));
        input.extend_from_slice(b"\n\n");
        while input.len() < 1_000_000 {
            input.extend_from_slice(b"\n\r\n: hb\r\n");
        }
        let start = std::time::Instant::now();
        let mut d = SseDecoder::default();
        let mut events = 0usize;
        for b in input.chunks(1) {
            d.push_with(b, |_| events += 1).expect("ok");
        }
        let elapsed = start.elapsed();
        assert!(events > 55_000);
        // Linear takes a few ms in release and well under a second in debug;
        // a quadratic decoder would take minutes.
        assert!(elapsed.as_secs() < 5, "took {elapsed:?}");
    }

    /// Byte strings that exercise every branch, glued at random.
    fn fragments() -> impl Strategy<Value = Vec<u8>> {
        let pieces: Vec<&'static [u8]> = vec![
            b"data",
            b"data:",
            b"data: ",
            b"event:",
            b"id:",
            b"id",
            b"retry:",
            b"retry",
            b":",
            b" ",
            b"x",
            b"12",
            b"\r",
            b"\n",
            b"\r\n",
            b"\0",
            b"\xEF\xBB\xBF",
            b"\xEF",
            b"\xBB",
            b"\xFF",
            b"\xE2\x82",
            b"\xAC",
            "é".as_bytes(),
            "\u{2028}".as_bytes(),
            "\u{85}".as_bytes(),
            b"ping",
            b"message",
        ];
        prop::collection::vec(prop::sample::select(pieces), 0..60).prop_map(|v| v.concat())
    }

    fn chunk_at(bytes: &[u8], mut cuts: Vec<usize>) -> Vec<&[u8]> {
        cuts.iter_mut().for_each(|c| *c %= bytes.len() + 1);
        cuts.sort_unstable();
        let mut out = Vec::new();
        let mut prev = 0;
        for c in cuts {
            out.push(&bytes[prev..c]);
            prev = c;
        }
        out.push(&bytes[prev..]);
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn chunking_never_changes_the_items(
            bytes in fragments(),
            cuts in prop::collection::vec(any::<usize>(), 0..20),
        ) {
            let whole = decode_with(SseConfig::default(), &[&bytes]);
            let chunked = decode_with(SseConfig::default(), &chunk_at(&bytes, cuts));
            let singles: Vec<&[u8]> = bytes.chunks(1).collect();
            let single = decode_with(SseConfig::default(), &singles);
            prop_assert_eq!(&whole.0, &chunked.0);
            prop_assert_eq!(&whole.0, &single.0);
            prop_assert_eq!(chunked.2.last_event_id(), whole.2.last_event_id());
            prop_assert_eq!(single.2.retry(), whole.2.retry());
            // And the whole matches a literal reading of the spec.
            let (items, last_id, retry) = reference(&bytes);
            prop_assert_eq!(&whole.0, &items);
            prop_assert_eq!(whole.2.last_event_id(), last_id.as_str());
            prop_assert_eq!(whole.2.retry(), retry);
        }

        #[test]
        fn chunking_never_changes_overflow_handling(
            bytes in fragments(),
            cuts in prop::collection::vec(any::<usize>(), 0..20),
            max in 0usize..24,
        ) {
            let cfg = SseConfig { max_event_bytes: max };
            let whole = decode_with(cfg, &[&bytes]);
            let chunked = decode_with(cfg, &chunk_at(&bytes, cuts));
            prop_assert_eq!(&whole.0, &chunked.0);
            prop_assert_eq!(whole.1 > 0, chunked.1 > 0);
            for e in events_only(&whole.0) {
                prop_assert!(e.data.len() <= 3 * max);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let whole = decode_with(SseConfig::default(), &[&bytes]);
            prop_assert_eq!(&whole.0, &reference(&bytes).0);
        }
    }
}
