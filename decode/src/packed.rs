//! Texts packed for JavaScript in two buffers: the all-ASCII ones as bytes,
//! the others as UTF-16. The batch decoder (`core::event_batch` in the
//! client) keeps every string of a chunk's events here, and JS turns each
//! buffer into one string with one `TextDecoder` call, then slices it.
//!
//! # Why two buffers
//!
//! - In JS: an engine makes a string of an all-ASCII UTF-8 buffer at memory
//!   speed, but one non-ASCII character sends the whole buffer through a
//!   per-byte UTF-8 decoder and makes every slice of it a two-byte string.
//!   With one agent text in five in Chinese, nearly every chunk had one.
//!   UTF-16 needs no decoding (`TextDecoder("utf-16le")` copies it).
//! - Here: an ASCII string needs no UTF-8 check (the SSE decoder's data-only
//!   path skipped it, see `scan`), so it is copied as it is, escapes decoded
//!   in place. Only the other strings are checked and converted.

use crate::scan::{unescape, JsonStr, Unescaped};
use crate::swar;

/// The two buffers, and a scratch string for the slow path.
#[derive(Debug, Default)]
pub struct PackedTexts {
    ascii: Vec<u8>,
    wide: Vec<u16>,
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

    /// The other strings, back to back, as UTF-16.
    pub fn wide(&self) -> &[u16] {
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
        if self.wide.capacity() > limit / 2 {
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
        self.wide.reserve(s.len());
        self.wide.extend(s.encode_utf16());
        Packed {
            units: len_u32(self.wide.len() - before),
            wide: true,
        }
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
            return Packed {
                units: len_u32(self.wide.len() - wide_before),
                wide: true,
            };
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
struct Utf16<'a>(&'a mut Vec<u16>);

impl Unescaped for Utf16<'_> {
    fn bytes(&mut self, raw: &[u8]) -> bool {
        utf8_to_utf16(raw, self.0)
    }

    fn char(&mut self, c: char) -> bool {
        let mut units = [0; 2];
        self.0.extend_from_slice(c.encode_utf16(&mut units));
        true
    }
}

/// Appends the UTF-16 of `bytes` to `out` when they are valid UTF-8; else
/// leaves `out` as it was and returns `false` (the caller then replaces the
/// bad sequences exactly as `String::from_utf8_lossy` does). One pass
/// instead of `from_utf8` then `encode_utf16`, which walk the text twice.
fn utf8_to_utf16(bytes: &[u8], out: &mut Vec<u16>) -> bool {
    let start = out.len();
    out.reserve(bytes.len());
    let cont = |at: usize| match bytes.get(at) {
        Some(&b) if b & 0xC0 == 0x80 => Some(u32::from(b & 0x3F)),
        _ => None,
    };
    let mut i = 0;
    while let Some(&lead) = bytes.get(i) {
        let lead32 = u32::from(lead);
        // Each arm yields the code point and the sequence length, or fails
        // on a bad continuation, an overlong form, a surrogate or a code
        // point past U+10FFFF: what `from_utf8` rejects.
        let decoded = match lead {
            0x00..=0x7F => Some((lead32, 1)),
            0xC2..=0xDF => cont(i + 1).map(|c1| ((lead32 & 0x1F) << 6 | c1, 2)),
            0xE0..=0xEF => cont(i + 1)
                .zip(cont(i + 2))
                .map(|(c1, c2)| ((lead32 & 0x0F) << 12 | c1 << 6 | c2, 3))
                .filter(|&(c, _)| c >= 0x800 && !(0xD800..=0xDFFF).contains(&c)),
            0xF0..=0xF4 => cont(i + 1)
                .zip(cont(i + 2))
                .zip(cont(i + 3))
                .map(|((c1, c2), c3)| ((lead32 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3, 4))
                .filter(|&(c, _)| (0x1_0000..=0x10_FFFF).contains(&c)),
            _ => None,
        };
        let Some((c, len)) = decoded else {
            out.truncate(start);
            return false;
        };
        if c < 0x1_0000 {
            out.push(c as u16);
        } else {
            let c = c - 0x1_0000;
            out.push(0xD800 | (c >> 10) as u16);
            out.push(0xDC00 | (c & 0x3FF) as u16);
        }
        i += len;
    }
    true
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
            assert_eq!(String::from_utf16(p.wide()).unwrap(), want);
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
        assert_eq!(String::from_utf16(p.wide()).unwrap(), "你\u{FFFD}!");
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
            String::from_utf16(p.wide()).unwrap(),
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
            let mut out = vec![7];
            let ok = utf8_to_utf16(&bytes, &mut out);
            match std::str::from_utf8(&bytes) {
                Ok(s) => {
                    proptest::prop_assert!(ok);
                    proptest::prop_assert_eq!(&out[1..], &s.encode_utf16().collect::<Vec<_>>()[..]);
                }
                Err(_) => proptest::prop_assert!(!ok && out == [7]),
            }
            let mut out = Vec::new();
            proptest::prop_assert!(utf8_to_utf16(text.as_bytes(), &mut out));
            proptest::prop_assert_eq!(out, text.encode_utf16().collect::<Vec<_>>());
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
        ] {
            assert!(std::str::from_utf8(bad).is_err());
            assert!(!utf8_to_utf16(bad, &mut Vec::new()), "{bad:?}");
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
