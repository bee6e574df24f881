//! The events of a Server-Sent Events stream packed chunk by chunk for
//! JavaScript: what the wasm `SseDecoder` hands to JS once per chunk.
//!
//! # Layout
//!
//! Every string of a chunk's events goes to one of two buffers
//! ([`crate::packed`]): the all-ASCII ones as bytes, the others as UTF-16.
//! Each event is one row of [`ROW`] numbers: flags, then the UTF-16 lengths
//! of its type, data and id, then its `retry` as low and high 32 bits. Its
//! strings sit in that order in their buffers. JS decodes each buffer once
//! (`TextDecoder`: ASCII at memory speed, UTF-16 by copying) and slices it.
//!
//! # Why not one UTF-8 string
//!
//! It was one UTF-8 string, checked with `from_utf8` and measured with a
//! UTF-16 count in wasm, then decoded by JS. An engine decodes UTF-8 with
//! any non-ASCII byte in it at about 0.6 GB/s, byte by byte, and with one
//! text in five in Chinese nearly every chunk had one: that decode was half
//! of the decoder's time, more than eventsource-parser's whole framing.

use crate::error::DecodeError;
use crate::packed::{Packed, PackedTexts};
use crate::sse::{RawEmit, RawEvent, SseConfig, SseDecoder};

/// Numbers per event row: flags, type length, data length, id length,
/// retry's low and high 32 bits. Lengths are in UTF-16 code units, the unit
/// of `String#slice`.
pub const ROW: usize = 6;

/// The flags of a row (its first number).
pub mod flag {
    /// The event has a type other than "message"; its string comes first.
    pub const HAS_TYPE: u32 = 1;
    /// The event carries an `id`; its string comes after the data.
    pub const HAS_ID: u32 = 2;
    /// The event carries a `retry`, stored in the row itself.
    pub const HAS_RETRY: u32 = 4;
    /// The type's string is in the wide (UTF-16) buffer.
    pub const TYPE_WIDE: u32 = 8;
    /// The data's string is in the wide buffer.
    pub const DATA_WIDE: u32 = 16;
    /// The id's string is in the wide buffer.
    pub const ID_WIDE: u32 = 32;
    /// The id is the previous row's (in this batch): no string is packed,
    /// JS reuses the one it made. Set with [`HAS_ID`].
    pub const SAME_ID: u32 = 64;
}

/// The largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
/// The spec's `retry` is any decimal integer; a longer wait than this (about
/// 285,000 years) is given as this, which means the same thing: never.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// An [`SseDecoder`] whose output is packed for JS; see the module docs.
#[derive(Debug)]
pub struct SseBatch {
    sse: SseDecoder,
    out: Packer,
}

impl SseBatch {
    /// A decoder at the start of a stream. Comments are kept (for
    /// [`comments`](Self::comments)) only when `keep_comments`.
    pub fn new(cfg: SseConfig, keep_comments: bool) -> Self {
        SseBatch {
            sse: SseDecoder::new(cfg),
            out: Packer {
                texts: PackedTexts::default(),
                table: Vec::new(),
                comments: Vec::new(),
                keep_comments,
                last_id: None,
            },
        }
    }

    /// Decodes one chunk, replacing the batch with the events and comments
    /// it completed.
    ///
    /// # Errors
    ///
    /// As [`SseDecoder::push`]: the batch then holds every other event of
    /// the chunk.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), DecodeError> {
        self.out.clear();
        self.sse.push_raw(chunk, &mut self.out)
    }

    /// Ends the stream (see [`SseDecoder::finish`]); it never yields events.
    pub fn finish(&mut self) {
        self.sse.end();
        self.out.clear();
    }

    /// The decoder, for its last event ID and retry.
    pub fn decoder(&self) -> &SseDecoder {
        &self.sse
    }

    /// The all-ASCII strings of the last push's events, back to back.
    pub fn ascii(&self) -> &[u8] {
        self.out.texts.ascii()
    }

    /// The other strings of the last push's events, as UTF-16LE (two bytes a unit).
    pub fn wide(&self) -> &[u8] {
        self.out.texts.wide()
    }

    /// [`ROW`] numbers per event of the last push.
    pub fn table(&self) -> &[u32] {
        &self.out.table
    }

    /// The comments of the last push, in order (when kept).
    pub fn comments(&self) -> &[String] {
        &self.out.comments
    }

    /// Releases buffers that one large chunk grew past `limit` bytes.
    pub fn shrink(&mut self, limit: usize) {
        self.out.texts.shrink(limit);
        if self.out.table.capacity() * 4 > limit {
            self.out.table = Vec::new();
        }
        if self.out.comments.capacity() > 64 {
            self.out.comments = Vec::new();
        }
    }

    /// The last push's events unpacked as `(type, data, id, retry)`, the way
    /// JS cuts them, for tests. Panics if the table does not cut the
    /// buffers exactly.
    pub fn unpacked(&self) -> Vec<(String, String, Option<String>, Option<u64>)> {
        let mut cut = crate::packed::Cutter::new(self.ascii(), self.wide());
        let mut id = None;
        let rows = self
            .table()
            .chunks_exact(ROW)
            .map(|r| {
                let f = r[0];
                let ty = if f & flag::HAS_TYPE != 0 {
                    cut.next(r[1], f & flag::TYPE_WIDE != 0)
                } else {
                    "message".to_owned()
                };
                let data = cut.next(r[2], f & flag::DATA_WIDE != 0);
                if f & flag::HAS_ID != 0 && f & flag::SAME_ID == 0 {
                    id = Some(cut.next(r[3], f & flag::ID_WIDE != 0));
                }
                let this_id = if f & flag::HAS_ID != 0 {
                    id.clone()
                } else {
                    None
                };
                let retry =
                    (f & flag::HAS_RETRY != 0).then(|| u64::from(r[5]) << 32 | u64::from(r[4]));
                (ty, data, this_id, retry)
            })
            .collect();
        cut.assert_done();
        rows
    }
}

/// Where the decoder sends what it completes, packed.
#[derive(Debug)]
struct Packer {
    texts: PackedTexts,
    table: Vec<u32>,
    comments: Vec<String>,
    keep_comments: bool,
    /// The [`RawEvent::id_seq`] of the last row of this batch that packed
    /// an id, to spot a repeat (an id persists across events until the
    /// server changes it).
    last_id: Option<u32>,
}

impl Packer {
    fn clear(&mut self) {
        self.texts.clear();
        self.table.clear();
        self.comments.clear();
        self.last_id = None;
    }
}

impl RawEmit for Packer {
    fn comment(&mut self, text: &[u8]) {
        if self.keep_comments {
            self.comments
                .push(String::from_utf8_lossy(text).into_owned());
        }
    }

    fn event(&mut self, event: RawEvent<'_>) {
        let RawEvent {
            event_type,
            data,
            id,
            id_seq,
            retry,
        } = event;
        let mut flags = 0;
        let mut type_units = 0;
        if !event_type.is_empty() && event_type != b"message" {
            let p = self.texts.push_lossy(event_type);
            flags |= flag::HAS_TYPE | if p.wide { flag::TYPE_WIDE } else { 0 };
            type_units = p.units;
        }
        let p = self.texts.push_lossy(data);
        flags |= if p.wide { flag::DATA_WIDE } else { 0 };
        let data_units = p.units;
        let mut id_units = 0;
        if let Some(id) = id {
            flags |= flag::HAS_ID;
            if self.last_id == Some(id_seq) {
                flags |= flag::SAME_ID;
            } else {
                let p: Packed = self.texts.push_str(id);
                flags |= if p.wide { flag::ID_WIDE } else { 0 };
                id_units = p.units;
                self.last_id = Some(id_seq);
            }
        }
        let mut ms = 0;
        if let Some(retry) = retry {
            flags |= flag::HAS_RETRY;
            ms = retry.min(MAX_SAFE_INTEGER);
        }
        self.table.extend_from_slice(&[
            flags,
            type_units,
            data_units,
            id_units,
            ms as u32,
            (ms >> 32) as u32,
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::SseItem;

    type Ev = (String, String, Option<String>, Option<u64>);

    /// What the item decoder makes of the same chunks, as rows.
    fn reference(chunks: &[&[u8]]) -> (Vec<Ev>, Vec<String>) {
        let mut d = SseDecoder::default();
        let (mut evs, mut comments) = (Vec::new(), Vec::new());
        for c in chunks {
            let _ = d.push_with(c, |item| match item.to_owned_item() {
                SseItem::Event(e) => evs.push((
                    e.event_type,
                    e.data,
                    e.id,
                    e.retry.map(|ms| ms.min(MAX_SAFE_INTEGER)),
                )),
                SseItem::Comment(c) => comments.push(c),
            });
        }
        (evs, comments)
    }

    fn batched(chunks: &[&[u8]]) -> (Vec<Ev>, Vec<String>) {
        let mut b = SseBatch::new(SseConfig::default(), true);
        let (mut evs, mut comments) = (Vec::new(), Vec::new());
        for c in chunks {
            let _ = b.push(c);
            evs.extend(b.unpacked());
            comments.extend(b.comments().iter().cloned());
        }
        (evs, comments)
    }

    #[test]
    fn rows_match_the_item_decoder() {
        let input: &[u8] = b": hi\n\ndata: a\ndata: b\n\nevent: custom\nid: 7\nretry: 1500\ndata: \xC3\xA9\xF0\x9F\x8E\xAC\n\n\
            data: same id\n\nid: \xE4\xB8\xAD\nevent: \xE4\xB8\xAD\ndata: x\xFFy\n\ndata: \xEF\xBB\xBFbom\n\n\
            event: message\ndata: m\n\nretry: 99999999999999999999\ndata: r\n\n: \xFF\n";
        let want = reference(&[input]);
        assert_eq!(want.0.len(), 7);
        for size in [1, 2, 3, 5, 7, 16, input.len()] {
            let chunks: Vec<&[u8]> = input.chunks(size).collect();
            assert_eq!(batched(&chunks), want, "chunks of {size}");
        }
        // The saturated retry is JS's largest exact integer.
        assert_eq!(batched(&[input]).0[6].3, Some(MAX_SAFE_INTEGER));
    }

    #[test]
    fn a_repeated_id_is_packed_once() {
        let mut b = SseBatch::new(SseConfig::default(), false);
        b.push(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n")
            .unwrap();
        let flags: Vec<u32> = b.table().chunks_exact(ROW).map(|r| r[0]).collect();
        assert_eq!(
            flags,
            [flag::HAS_ID, flag::HAS_ID | flag::SAME_ID, flag::HAS_ID]
        );
        assert_eq!(b.ascii(), b"a1bc2");
        // Each batch stands alone: the first row of the next names its id.
        b.push(b"data: d\n\n").unwrap();
        assert_eq!(b.table()[0], flag::HAS_ID);
        assert_eq!(b.ascii(), b"d2");
        assert!(b.comments().is_empty());
    }

    #[test]
    fn non_ascii_strings_go_to_the_wide_buffer() {
        let mut b = SseBatch::new(SseConfig::default(), false);
        b.push("data: 你好\n\ndata: plain\n\n".as_bytes()).unwrap();
        assert_eq!(
            String::from_utf16(&crate::packed::units(b.wide())).unwrap(),
            "你好"
        );
        assert_eq!(b.ascii(), b"plain");
        assert_eq!(b.table()[0], flag::DATA_WIDE);
        assert_eq!(b.table()[2], 2);
    }

    #[test]
    fn an_oversized_event_is_an_error_and_the_others_stay() {
        let mut b = SseBatch::new(
            SseConfig {
                max_event_bytes: 10,
            },
            false,
        );
        let err = b
            .push(b"data: ok\n\ndata: far too long\n\ndata: end\n\n")
            .unwrap_err();
        assert_eq!(err, DecodeError::Oversized { limit: 10 });
        let data: Vec<String> = b.unpacked().into_iter().map(|e| e.1).collect();
        assert_eq!(data, ["ok", "end"]);
    }

    #[test]
    fn finish_keeps_the_id_for_a_reconnection() {
        let mut b = SseBatch::new(SseConfig::default(), false);
        b.push(b"id: 5\ndata: a\n\ndata: cut").unwrap();
        b.finish();
        assert!(b.table().is_empty());
        assert_eq!(b.decoder().last_event_id(), "5");
        b.push(b"data: b\n\n").unwrap();
        assert_eq!(b.unpacked()[0].2.as_deref(), Some("5"));
    }
}
