//! Eight bytes at a time in a `u64` ("SIMD within a register"): the byte
//! searches of the hot decode path, for targets where `memchr` has no SIMD
//! to lean on (wasm32 without `simd128`, where it steps four bytes at a
//! time through a 32-bit `usize`).
//!
//! Each mask function returns the matching bytes of a little-endian word as
//! their high bits. A bit above the lowest set one may be a false alarm (a
//! borrow runs on into the next byte), but the lowest is always exact, and
//! [`first`] reads only that one.

/// `0x01` in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte.
pub const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `at`, as a little-endian word, if there are eight.
#[inline(always)]
pub fn load(bytes: &[u8], at: usize) -> Option<u64> {
    // An array conversion (not eight indexed bytes) so the size-optimised
    // wasm build emits one 8-byte load.
    let chunk = bytes.get(at..at.checked_add(8)?)?;
    <[u8; 8]>::try_from(chunk).ok().map(u64::from_le_bytes)
}

/// The bytes of `w` equal to `byte`.
#[inline(always)]
pub fn eq(w: u64, byte: u8) -> u64 {
    let v = w ^ (ONES * u64::from(byte));
    v.wrapping_sub(ONES) & !v & HIGHS
}

/// The bytes of `w` below `limit` (which must be at most 0x80).
#[inline(always)]
pub fn below(w: u64, limit: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(limit)) & !w & HIGHS
}

/// The index of the first matching byte of a non-zero mask.
#[inline(always)]
pub fn first(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// The index of the first CR or LF in `bytes`.
///
/// The word test is one comparison, not two: bytes below 0x0E (CR is 0x0D,
/// LF 0x0A) are candidates, and the rare other control byte among them
/// (a tab, say) is stepped over. Event data is JSON or text, where control
/// bytes other than line ends almost never appear unescaped.
pub fn find_line_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(w) = load(bytes, at) {
        let low = below(w, 0x0E);
        if low != 0 {
            let hit = at + first(low);
            if let Some(b'\r' | b'\n') = bytes.get(hit) {
                return Some(hit);
            }
            at = hit + 1;
            continue;
        }
        at += 8;
    }
    let tail = bytes.get(at..)?;
    tail.iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map(|p| at + p)
}

/// The bytes of `w` equal to `byte`, exactly: no false alarm above a
/// match (each byte's test cannot carry into the next), so the highest set
/// bit can be read too. A few more operations than [`eq`].
#[inline(always)]
pub fn eq_exact(w: u64, byte: u8) -> u64 {
    const LOWS: u64 = !HIGHS;
    let v = w ^ (ONES * u64::from(byte));
    !(((v & LOWS) + LOWS) | v | LOWS)
}

/// The index of the last `\n\n` in `bytes`, searched from the end eight
/// bytes at a time.
pub fn rfind_blank_line(bytes: &[u8]) -> Option<usize> {
    let mut end = bytes.len();
    while end >= 8 {
        let at = end - 8;
        let mut lfs = load(bytes, at).map_or(0, |w| eq_exact(w, b'\n'));
        while lfs != 0 {
            let last = (63 - lfs.leading_zeros() as usize) / 8;
            let lf = at + last;
            if lf > 0 && bytes.get(lf - 1) == Some(&b'\n') {
                return Some(lf - 1);
            }
            lfs &= !(0x80 << (8 * last));
        }
        end = at;
    }
    bytes
        .get(..end + 1)
        .unwrap_or(bytes)
        .windows(2)
        .rposition(|pair| pair == b"\n\n")
}

/// Whether every byte is ASCII: the high bits of all words, OR-ed (no early
/// exit: the strings this checks are short, and nearly all are ASCII).
pub fn is_ascii(bytes: &[u8]) -> bool {
    let mut at = 0;
    let mut seen = 0;
    while let Some(w) = load(bytes, at) {
        seen |= w;
        at += 8;
    }
    seen & HIGHS == 0 && bytes.get(at..).is_none_or(|tail| tail.is_ascii())
}

/// The length of `s` in UTF-16 code units (what JavaScript's `length` and
/// `slice` count): one per character, two for those outside the Basic
/// Multilingual Plane. Every byte counts one, minus each continuation byte
/// (`10xxxxxx`), plus each 4-byte lead (`11110xxx`); ASCII words are
/// skipped whole.
pub fn utf16_len(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut units = b.len();
    let mut at = 0;
    while let Some(w) = load(b, at) {
        at += 8;
        if w & HIGHS == 0 {
            continue; // all ASCII
        }
        // Bit 7 of each byte: set for a continuation byte, for a 4-byte lead.
        let cont = w & !(w << 1) & HIGHS;
        let four = w & (w << 1) & (w << 2) & (w << 3) & !(w << 4) & HIGHS;
        units -= cont.count_ones() as usize;
        units += four.count_ones() as usize;
    }
    for &c in b.get(at..).unwrap_or_default() {
        units -= usize::from(c & 0xC0 == 0x80);
        units += usize::from(c >= 0xF0);
    }
    u32::try_from(units).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn masks_find_the_first_match_exactly() {
        // A borrow from a match may flag the byte after it; `first` must
        // still name the match.
        let w = u64::from_le_bytes(*b"ab\"\x01c\\\n\x7f");
        assert_eq!(first(eq(w, b'"')), 2);
        assert_eq!(first(eq(w, b'\\')), 5);
        assert_eq!(first(below(w, 0x20)), 3);
        assert_eq!(eq(u64::from_le_bytes(*b"abcdefgh"), b'"'), 0);
        assert_eq!(
            below(
                u64::from_le_bytes([0x20, 0x80, 0xff, 0x9f, 0x7f, 0x30, 0xa0, 0xc3]),
                0x20
            ),
            0
        );
    }

    #[test]
    fn load_needs_eight_bytes() {
        assert_eq!(load(b"1234567", 0), None);
        assert_eq!(load(b"12345678", 1), None);
        assert_eq!(load(b"12345678", usize::MAX), None);
        assert!(load(b"12345678", 0).is_some());
    }

    #[test]
    fn utf16_length_counts_code_units() {
        for s in [
            "",
            "abc",
            "héllo wörld, long enough",
            "三把我把街导",
            "𝄞 and 😀😀",
            "a€𝄞b€𝄞c€𝄞d€𝄞",
        ] {
            assert_eq!(utf16_len(s) as usize, s.encode_utf16().count(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn line_end_agrees_with_memchr(bytes in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), Just(0x0au8 ^ 0x80), Just(b'\t'), Just(0u8), any::<u8>()], 0..64)) {
            for start in 0..bytes.len().min(9) {
                let rest = &bytes[start..];
                prop_assert_eq!(find_line_end(rest), memchr::memchr2(b'\r', b'\n', rest));
            }
        }

        #[test]
        fn rfind_blank_line_agrees_with_a_byte_search(bytes in proptest::collection::vec(
            prop_oneof![3 => Just(b'\n'), 1 => Just(b'\n' ^ 0x80), 1 => Just(b'\r'), 2 => any::<u8>()], 0..40)) {
            let want = bytes.windows(2).rposition(|p| p == b"\n\n");
            prop_assert_eq!(rfind_blank_line(&bytes), want);
            for byte in [b'\n', 0, 0x80, 0xFF] {
                for at in 0..bytes.len().saturating_sub(7) {
                    let w = load(&bytes, at).unwrap_or(0);
                    let got = eq_exact(w, byte);
                    for k in 0..8 {
                        prop_assert_eq!(got >> (8 * k + 7) & 1 == 1, bytes[at + k] == byte);
                    }
                }
            }
        }

        #[test]
        fn is_ascii_agrees_with_std(bytes in proptest::collection::vec(
            prop_oneof![4 => 0u8..0x80, 1 => any::<u8>()], 0..40)) {
            for start in 0..bytes.len().min(9) {
                prop_assert_eq!(is_ascii(&bytes[start..]), bytes[start..].is_ascii());
            }
        }

        #[test]
        fn utf16_len_agrees_with_encode_utf16(s in "\\PC{0,40}") {
            prop_assert_eq!(utf16_len(&s) as usize, s.encode_utf16().count());
        }
    }
}
