//! Texts packed for JavaScript in two buffers: the all-ASCII ones as bytes,
//! the others as UTF-16 (little-endian, as bytes). The batches
//! ([`crate::batch`], [`crate::sse_batch`]) keep every string of a chunk's
//! events here, and JS turns each buffer into one string with one call,
//! then slices it.
//!
//! # Why two buffers
//!
//! - In JS: an engine makes a string of an all-ASCII UTF-8 buffer at memory
//!   speed, but one non-ASCII character sends the whole buffer through a
//!   per-byte UTF-8 decoder and makes every slice of it a two-byte string.
//!   With one agent text in five in Chinese, nearly every chunk had one.
//!   UTF-16 needs no decoding: Node's `Buffer` copies it into a string, and
//!   `TextDecoder("utf-16le")` only checks its surrogates.
//! - Here: an ASCII string needs no UTF-8 check (the SSE decoder's data-only
//!   path skipped it, see `scan`), so it is copied as it is, escapes decoded
//!   in place. Only the other strings are checked and converted.
//!
//! The UTF-16 buffer holds bytes, not `u16`s, so that a run of ASCII is
//! widened eight bytes at a time with two 8-byte stores (safe Rust cannot
//! view `u16`s as bytes); wasm memory is little-endian, like "utf-16le".

use crate::scan::{unescape, JsonStr, Unescaped};
use crate::swar;

/// The two buffers, and a scratch string for the slow path.
#[derive(Debug, Default)]
pub struct PackedTexts {
    ascii: Vec<u8>,
    /// UTF-16LE code units, two bytes each.
    wide: Vec<u8>,
    scratch: String,
}

/// Where [`PackedTexts`] put a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packed {
    /// Its length in UTF-16 code units (what JavaScript's `slice` counts),
    /// which for an ASCII string is its length in bytes.
    pub units: u32,
    /// `true` when it went to [`PackedTexts::wide`].
    pub wide: bool,
}

impl PackedTexts {
    /// The ASCII strings, back to back.
    pub fn ascii(&self) -> &[u8] {
        &self.ascii
    }

    /// The other strings, back to back, as UTF-16LE (two bytes a unit).
    pub fn wide(&self) -> &[u8] {
        &self.wide
    }

    /// The buffers' lengths, for [`truncate`](Self::truncate).
    pub fn lens(&self) -> (usize, usize) {
        (self.ascii.len(), self.wide.len())
    }

    /// Drops what was pushed after [`lens`](Self::lens) returned `lens`.
    pub fn truncate(&mut self, (ascii, wide): (usize, usize)) {
        self.ascii.truncate(ascii);
        self.wide.truncate(wide);
    }

    /// Empties both buffers, keeping their allocations.
    pub fn clear(&mut self) {
        self.truncate((0, 0));
    }

    /// Releases buffers that grew past `limit` bytes.
    pub fn shrink(&mut self, limit: usize) {
        if self.ascii.capacity() > limit {
            self.ascii = Vec::new();
        }
        if self.wide.capacity() > limit {
            self.wide = Vec::new();
        }
        if self.scratch.capacity() > limit {
            self.scratch = String::new();
        }
    }

    /// Appends `s` to the buffer it belongs in.
    pub fn push_str(&mut self, s: &str) -> Packed {
        if swar::is_ascii(s.as_bytes()) {
            self.ascii.extend_from_slice(s.as_bytes());
            return Packed {
                units: len_u32(s.len()),
                wide: false,
            };
        }
        self.push_wide(s)
    }

    fn push_wide(&mut self, s: &str) -> Packed {
        let before = self.wide.len();
        // Never more units than bytes; reserving first keeps the capacity
        // check out of the loop.
        self.wide.reserve(2 * s.len());
        for unit in s.encode_utf16() {
            self.wide.extend_from_slice(&unit.to_le_bytes());
        }
        self.wide_packed(before)
    }

    /// What was pushed to the wide buffer since it was `before` bytes long.
    fn wide_packed(&self, before: usize) -> Packed {
        Packed {
            units: len_u32((self.wide.len() - before) / 2),
            wide: true,
        }
    }

    /// Appends `bytes` as text, invalid UTF-8 replaced by U+FFFD exactly as
    /// `String::from_utf8_lossy` (and the WHATWG decoder) does: what the SSE
    /// spec makes of a field's bytes. (A JSON string without escapes is
    /// just that.)
    pub fn push_lossy(&mut self, bytes: &[u8]) -> Packed {
        self.push_json(JsonStr {
            raw: bytes,
            escaped: false,
        })
    }

    /// Appends a JSON string, decoded (invalid UTF-8 replaced by U+FFFD).
    pub fn push_json(&mut self, s: JsonStr<'_>) -> Packed {
        let (ascii_before, wide_before) = self.lens();
        // The fast path: ASCII in, ASCII out, no check and no conversion.
        if swar::is_ascii(s.raw) {
            let done = if s.escaped {
                unescape(s.raw, &mut AsciiOnly(&mut self.ascii))
            } else {
                self.ascii.extend_from_slice(s.raw);
                true
            };
            if done {
                return Packed {
                    units: len_u32(self.ascii.len() - ascii_before),
                    wide: false,
                };
            }
            // An escape stood for a non-ASCII character.
            self.ascii.truncate(ascii_before);
        }
        // Checked and converted to UTF-16 in one pass.
        let done = if s.escaped {
            unescape(s.raw, &mut Utf16(&mut self.wide))
        } else {
            utf8_to_utf16(s.raw, &mut self.wide)
        };
        if done {
            return self.wide_packed(wide_before);
        }
        // Invalid UTF-8: the general path replaces it exactly as
        // `String::from_utf8_lossy` does.
        self.wide.truncate(wide_before);
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        s.push_to(&mut scratch);
        let packed = self.push_str(&scratch);
        self.scratch = scratch;
        packed
    }
}

/// Unescapes into the ASCII buffer; stops at a non-ASCII character. The
/// raw bytes it is given were checked to be ASCII.
struct AsciiOnly<'a>(&'a mut Vec<u8>);

impl Unescaped for AsciiOnly<'_> {
    fn bytes(&mut self, raw: &[u8]) -> bool {
        self.0.extend_from_slice(raw);
        true
    }

    fn char(&mut self, c: char) -> bool {
        let ascii = c.is_ascii();
        if ascii {
            self.0.push(c as u8);
        }
        ascii
    }
}

/// Unescapes into the UTF-16 buffer; stops at invalid UTF-8.
struct Utf16<'a>(&'a mut Vec<u8>);

impl Unescaped for Utf16<'_> {
    fn bytes(&mut self, raw: &[u8]) -> bool {
        utf8_to_utf16(raw, self.0)
    }

    fn char(&mut self, c: char) -> bool {
        let mut units = [0; 2];
        for unit in c.encode_utf16(&mut units) {
            self.0.extend_from_slice(&unit.to_le_bytes());
        }
        true
    }
}

/// Appends the UTF-16LE of `bytes` to `out` when they are valid UTF-8;
/// else leaves `out` as it was and returns `false` (the caller then
/// replaces the bad sequences exactly as `String::from_utf8_lossy` does).
/// One pass instead of `from_utf8` then `encode_utf16`, which walk the text
/// twice.
///
/// The output is written into room made up front (never more units than
/// bytes), so the loop has no capacity checks; runs of ASCII are widened
/// eight bytes at a time into two 8-byte stores. Texts that are mostly
/// ASCII with one emoji, or JSON around a Chinese sentence, are mostly such
/// runs.
fn utf8_to_utf16(bytes: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    out.resize(start + 2 * bytes.len(), 0);
    let units = out
        .get_mut(start..)
        .and_then(|dst| utf8_to_utf16_into(bytes, dst));
    match units {
        Some(units) => {
            out.truncate(start + 2 * units);
            true
        }
        None => {
            out.truncate(start);
            false
        }
    }
}

/// Four bytes (the low half of `w`) spread to four 16-bit lanes.
#[inline(always)]
fn widen4(w: u64) -> u64 {
    let x = w & 0xFFFF_FFFF;
    let x = (x | x << 16) & 0x0000_FFFF_0000_FFFF;
    (x | x << 8) & 0x00FF_00FF_00FF_00FF
}

/// Writes one UTF-16 unit at unit index `o`.
#[inline(always)]
fn put(dst: &mut [u8], o: usize, unit: u16) -> Option<()> {
    dst.get_mut(2 * o..2 * o + 2)?
        .copy_from_slice(&unit.to_le_bytes());
    Some(())
}

/// The loop of [`utf8_to_utf16`]: writes into `dst` (at least twice as long
/// as `bytes`) and returns the number of units, or `None` on invalid UTF-8.
#[inline(always)]
fn utf8_to_utf16_into(bytes: &[u8], dst: &mut [u8]) -> Option<usize> {
    let cont = |at: usize| match bytes.get(at) {
        Some(&b) if b & 0xC0 == 0x80 => Some(u32::from(b & 0x3F)),
        _ => None,
    };
    let mut i = 0;
    let mut o = 0;
    loop {
        let Some(&lead) = bytes.get(i) else {
            return Some(o);
        };
        if lead < 0x80 {
            // A run of ASCII, widened a word at a time (16 bytes written,
            // which the room made up front always has); a word that ends
            // the run advances only to its first non-ASCII byte, and what
            // was written past that is overwritten next.
            while let Some(w) = swar::load(bytes, i) {
                let d: &mut [u8; 16] = dst.get_mut(2 * o..2 * o + 16)?.try_into().ok()?;
                d[..8].copy_from_slice(&widen4(w).to_le_bytes());
                d[8..].copy_from_slice(&widen4(w >> 32).to_le_bytes());
                let high = w & swar::HIGHS;
                if high != 0 {
                    let k = swar::first(high);
                    i += k;
                    o += k;
                    break;
                }
                i += 8;
                o += 8;
            }
            // Fewer than eight bytes left: one at a time.
            while let Some(&b) = bytes.get(i).filter(|&&b| b < 0x80) {
                put(dst, o, u16::from(b))?;
                i += 1;
                o += 1;
            }
            continue;
        }
        // A run of three-byte characters (Chinese, Japanese, most symbols),
        // four bytes read at once: the lead is 1110xxxx, then two
        // continuation bytes 10xxxxxx.
        while let Some(x) = bytes
            .get(i..i + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
        {
            let x = u32::from_le_bytes(x);
            if x & 0x00C0_C0F0 != 0x0080_80E0 {
                break;
            }
            let c = (x & 0x0F) << 12 | (x >> 8 & 0x3F) << 6 | (x >> 16 & 0x3F);
            if c < 0x800 || (0xD800..=0xDFFF).contains(&c) {
                return None;
            }
            put(dst, o, c as u16)?;
            i += 3;
            o += 1;
        }
        let Some(&lead) = bytes.get(i) else {
            return Some(o);
        };
        if lead < 0x80 {
            continue;
        }
        let lead32 = u32::from(lead);
        // Each arm yields the code point and the sequence length, or fails
        // on a bad continuation, an overlong form, a surrogate or a code
        // point past U+10FFFF: what `from_utf8` rejects.
        let (c, len) = match lead {
            0xC2..=0xDF => ((lead32 & 0x1F) << 6 | cont(i + 1)?, 2),
            0xE0..=0xEF => {
                let c = (lead32 & 0x0F) << 12 | cont(i + 1)? << 6 | cont(i + 2)?;
                if c < 0x800 || (0xD800..=0xDFFF).contains(&c) {
                    return None;
                }
                (c, 3)
            }
            0xF0..=0xF4 => {
                let c =
                    (lead32 & 0x07) << 18 | cont(i + 1)? << 12 | cont(i + 2)? << 6 | cont(i + 3)?;
                if !(0x1_0000..=0x10_FFFF).contains(&c) {
                    return None;
                }
                (c, 4)
            }
            _ => return None,
        };
        if c < 0x1_0000 {
            put(dst, o, c as u16)?;
            o += 1;
        } else {
            let c = c - 0x1_0000;
            put(dst, o, 0xD800 | (c >> 10) as u16)?;
            put(dst, o + 1, 0xDC00 | (c & 0x3FF) as u16)?;
            o += 2;
        }
        i += len;
    }
}

/// UTF-16LE bytes as `u16` code units, for tests.
pub fn units(wide: &[u8]) -> Vec<u16> {
    wide.chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect()
}

/// Cuts the two buffers back into strings, row by row, as the JS builders
/// do: for the unit tests and the fuzz targets.
pub(crate) struct Cutter<'a> {
    ascii: &'a [u8],
    wide: Vec<u16>,
    at: usize,
    at_wide: usize,
}

impl<'a> Cutter<'a> {
    pub(crate) fn new(ascii: &'a [u8], wide: &[u8]) -> Self {
        assert_eq!(wide.len() % 2, 0, "whole UTF-16 units");
        Cutter {
            ascii,
            wide: units(wide),
            at: 0,
            at_wide: 0,
        }
    }

    /// The next `units` of the buffer `wide` names. Panics unless they are
    /// there and cut on character boundaries.
    pub(crate) fn next(&mut self, units: u32, wide: bool) -> String {
        let len = units as usize;
        if wide {
            let s = String::from_utf16(&self.wide[self.at_wide..self.at_wide + len])
                .expect("rows cut on character boundaries");
            self.at_wide += len;
            s
        } else {
            let bytes = &self.ascii[self.at..self.at + len];
            assert!(bytes.is_ascii(), "the ASCII buffer holds ASCII");
            self.at += len;
            String::from_utf8(bytes.to_vec()).expect("ASCII")
        }
    }

    /// Panics unless every unit of both buffers was cut.
    pub(crate) fn assert_done(&self) {
        assert_eq!(self.at, self.ascii.len(), "the table covers the whole text");
        assert_eq!(self.at_wide, self.wide.len(), "and the whole wide text");
    }
}

/// Lengths are bounded by the SSE decoder's event limit, far below 4 GiB.
fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(raw: &str, escaped: bool) -> (PackedTexts, Packed) {
        let mut p = PackedTexts::default();
        let got = p.push_json(JsonStr {
            raw: raw.as_bytes(),
            escaped,
        });
        (p, got)
    }

    #[test]
    fn ascii_strings_are_copied_with_their_escapes_decoded() {
        let (p, got) = packed(r#"a\"b\\c\/d\n\t\r\b\f\u0041\u007f"#, true);
        assert_eq!(p.ascii(), b"a\"b\\c/d\n\t\r\x08\x0cA\x7f");
        assert_eq!(
            got,
            Packed {
                units: 14,
                wide: false
            }
        );
        assert!(p.wide().is_empty());
    }

    #[test]
    fn an_escape_for_a_non_ascii_character_takes_the_general_path() {
        for (raw, want) in [
            (r#"caf\u00e9 \n"#, "café \n"),
            (r#"\ud83d\ude00!"#, "😀!"),
            (r#"lone \ud800 half"#, "lone \u{FFFD} half"),
        ] {
            let (p, got) = packed(raw, true);
            assert!(p.ascii().is_empty(), "{raw}: nothing left behind");
            assert_eq!(String::from_utf16(&units(p.wide())).unwrap(), want);
            assert_eq!(got.units as usize, want.encode_utf16().count());
            assert!(got.wide);
        }
    }

    #[test]
    fn non_ascii_bytes_are_checked_and_converted() {
        let mut p = PackedTexts::default();
        let got = p.push_json(JsonStr {
            raw: b"\xe4\xbd\xa0\xff!",
            escaped: false,
        });
        assert_eq!(String::from_utf16(&units(p.wide())).unwrap(), "你\u{FFFD}!");
        assert_eq!(
            got,
            Packed {
                units: 3,
                wide: true
            }
        );
        // Escaped, valid and invalid.
        let got = p.push_json(JsonStr {
            raw: b"\xe4\xbd\xa0\\n\\u4e16",
            escaped: true,
        });
        assert_eq!(
            got,
            Packed {
                units: 3,
                wide: true
            }
        );
        let got = p.push_json(JsonStr {
            raw: b"\\t\xff\xe4\xbd\xa0",
            escaped: true,
        });
        assert_eq!(
            got,
            Packed {
                units: 3,
                wide: true
            }
        );
        assert_eq!(
            String::from_utf16(&units(p.wide())).unwrap(),
            "你\u{FFFD}!你\n世\t\u{FFFD}你"
        );
        // An escaped ASCII string after it still takes the fast path.
        let got = p.push_json(JsonStr {
            raw: br"x\ty",
            escaped: true,
        });
        assert_eq!((p.ascii(), got.wide), (&b"x\ty"[..], false));
    }

    proptest::proptest! {
        #[test]
        fn utf8_to_utf16_agrees_with_std(bytes in proptest::collection::vec(
            proptest::prop_oneof![
                2 => 0u8..0x80,
                2 => 0x80u8..0xC0,
                1 => proptest::prelude::any::<u8>(),
            ],
            0..24,
        ), text in "\\PC{0,12}") {
            let mut out = vec![7, 7];
            let ok = utf8_to_utf16(&bytes, &mut out);
            match std::str::from_utf8(&bytes) {
                Ok(s) => {
                    proptest::prop_assert!(ok);
                    proptest::prop_assert_eq!(units(&out[2..]), s.encode_utf16().collect::<Vec<_>>());
                }
                Err(_) => proptest::prop_assert!(!ok && out == [7, 7]),
            }
            let mut out = Vec::new();
            proptest::prop_assert!(utf8_to_utf16(text.as_bytes(), &mut out));
            proptest::prop_assert_eq!(units(&out), text.encode_utf16().collect::<Vec<_>>());
        }
    }

    #[test]
    fn utf8_to_utf16_rejects_what_from_utf8_rejects() {
        for bad in [
            &b"\xC0\x80"[..],    // overlong
            b"\xE0\x80\x80",     // overlong
            b"\xED\xA0\x80",     // surrogate
            b"\xF4\x90\x80\x80", // past U+10FFFF
            b"\xF0\x9F\x98",     // cut short
            b"\x80",             // lone continuation
            // The same inside a run of three-byte characters (read four
            // bytes at a time).
            b"\xE4\xB8\xAD\xED\xA0\x80\xE4\xB8\xAD",
            b"\xE4\xB8\xAD\xE0\x80\x80x",
            b"\xE4\xB8\xAD\xE4\xB8x\xAD",
        ] {
            assert!(std::str::from_utf8(bad).is_err());
            assert!(!utf8_to_utf16(bad, &mut Vec::new()), "{bad:?}");
        }
    }

    #[test]
    fn runs_of_three_byte_characters_convert_like_std() {
        for text in [
            "中文",
            "中文\u{FFFF}",
            "x中文y",
            "中文😀中",
            "ab中\u{800}\u{FFFD}",
        ] {
            let mut out = Vec::new();
            assert!(utf8_to_utf16(text.as_bytes(), &mut out), "{text}");
            assert_eq!(units(&out), text.encode_utf16().collect::<Vec<_>>());
        }
    }

    #[test]
    fn truncate_undoes_pushes_in_both_buffers() {
        let mut p = PackedTexts::default();
        p.push_str("keep");
        let mark = p.lens();
        p.push_str("drop");
        p.push_str("丢");
        p.truncate(mark);
        assert_eq!((p.ascii(), p.wide()), (&b"keep"[..], &[][..]));
    }
}
