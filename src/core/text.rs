//! Small text helpers that stand in for the Unicode-table-backed parts of
//! `std` (`char::to_lowercase`, `to_uppercase`, `is_lowercase`, `is_alphanumeric`,
//! `str::escape_debug`), and for `std`'s substring search ([`find`],
//! [`contains`], [`replace`], [`split_once`]; see [`find`] for why).
//!
//! Why: those functions pull about 30 KB of Unicode case and printability
//! tables into the wasm build, yet every caller here only ever needs the
//! ASCII cases plus a handful of non-ASCII ones, listed below with the
//! reason each is enough. The tests check each claim against `std` over
//! every `char`.

/// Lower-cases a character for keyword matching: ASCII, plus the only two
/// non-ASCII characters whose Unicode lower case starts with an ASCII
/// letter, `İ` (U+0130, lower case "i̇") → `i` and the Kelvin sign `K`
/// (U+212A) → `k`.
///
/// For a caller that compares the result with ASCII or Chinese keywords
/// (the intent router), this matches exactly what
/// `c.to_lowercase().next()` matched: any other non-ASCII capital lowers
/// to a non-ASCII letter, which no keyword contains either way.
pub fn lower_for_match(c: char) -> char {
    match c {
        '\u{130}' => 'i',
        '\u{212A}' => 'k',
        _ => c.to_ascii_lowercase(),
    }
}

/// Upper-cases a character: ASCII and full-width Latin letters
/// (`ｄ` → `Ｄ`); anything else is returned unchanged.
///
/// Callers capitalise text that starts with a known word (a drag verb the
/// GUI translator matched after folding full-width forms, or a fixed
/// English phrase), so these are the only letters that can reach it.
pub fn upper(c: char) -> char {
    match c {
        '\u{FF41}'..='\u{FF5A}' => char::from_u32(c as u32 - 0x20).unwrap_or(c),
        _ => c.to_ascii_uppercase(),
    }
}

/// Lower-cases a letter, and [`is_lower`] tells a lower-case one, for the
/// alphabets a tool name is written in: ASCII, Latin-1, basic Greek and
/// Cyrillic, and full-width Latin. Exact (the same as `std`'s
/// `char::to_lowercase` and `char::is_lowercase`) over those blocks; any
/// other character is returned unchanged and is not lower case.
///
/// The caller (a turn's summary, `Done: adding music, get weather.`)
/// lower-cases the first letter of a phrase that begins with a capital
/// followed by a small letter: a fixed English phrase, or a tool name
/// made readable. `std`'s case tables cost the wasm about 13 KB (6 KB
/// gzipped) for the scripts that no tool name uses.
pub fn lower(c: char) -> char {
    let shift = match c {
        'A'..='Z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{DE}' => 0x20,
        '\u{391}'..='\u{3A1}' | '\u{3A3}'..='\u{3AB}' => 0x20,
        '\u{386}' => 0x26,
        '\u{388}'..='\u{38A}' => 0x25,
        '\u{38C}' => 0x40,
        '\u{38E}'..='\u{38F}' => 0x3F,
        '\u{400}'..='\u{40F}' => 0x50,
        '\u{410}'..='\u{42F}' | '\u{FF21}'..='\u{FF3A}' => 0x20,
        _ => 0,
    };
    char::from_u32(c as u32 + shift).unwrap_or(c)
}

/// Whether `c` is a lower-case letter, over the blocks of [`lower`].
pub fn is_lower(c: char) -> bool {
    matches!(
        c,
        'a'..='z'
            | '\u{AA}'
            | '\u{B5}'
            | '\u{BA}'
            | '\u{DF}'..='\u{F6}'
            | '\u{F8}'..='\u{FF}'
            | '\u{390}'
            | '\u{3AC}'..='\u{3CE}'
            | '\u{430}'..='\u{45F}'
            | '\u{FF41}'..='\u{FF5A}'
    )
}

/// Whether `c` belongs inside a word, for splitting text into words: the
/// stand-in for `char::is_alphanumeric`, whose Unicode tables cost about
/// 2.8 KB of wasm.
///
/// Exact for ASCII and for the blocks a router of English and Chinese text
/// meets (Latin-1, general punctuation, arrows, mathematical and technical
/// symbols, box drawing, shapes, dingbats, CJK and full-width punctuation,
/// emoji): their punctuation and symbols split words, their letters and
/// digits do not. Every other non-ASCII character counts as part of a
/// word, so every letter and digit `std` knows is one (except U+0345 and a
/// few letter-like emoji-plane symbols), while punctuation of other scripts
/// (`।`, `،`) and unassigned code points are word characters here but not
/// in `std`. That only matters next to an English or Chinese keyword in
/// the same token, and it errs towards "a different word", i.e. towards
/// chat rather than a command.
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    !(c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            // Latin-1 punctuation and symbols (not ª ² ³ µ ¹ º ¼ ½ ¾).
            '\u{A0}'..='\u{A9}'
                | '\u{AB}'..='\u{B1}'
                | '\u{B4}'
                | '\u{B6}'..='\u{B8}'
                | '\u{BB}'
                | '\u{BF}'
                | '\u{D7}'
                | '\u{F7}'
                // Combining diacritical marks (not the combining letters).
                | '\u{300}'..='\u{344}'
                | '\u{346}'..='\u{362}'
                // General punctuation; currency; combining marks for symbols.
                | '\u{2000}'..='\u{206F}'
                | '\u{20A0}'..='\u{20FF}'
                // Arrows, mathematical operators, technical, control pictures,
                // OCR.
                | '\u{2190}'..='\u{245F}'
                // Box drawing, blocks, shapes, symbols, dingbats (not the
                // circled digits ❶–➓).
                | '\u{2500}'..='\u{2775}'
                | '\u{2794}'..='\u{2BFF}'
                // Supplemental punctuation (not the vertical tilde, a letter).
                | '\u{2E00}'..='\u{2E2E}'
                | '\u{2E30}'..='\u{2E7F}'
                // CJK punctuation (not 々 〆 〇, the Hangzhou numerals or the
                // kana repeat marks).
                | '\u{3000}'..='\u{3004}'
                | '\u{3008}'..='\u{3020}'
                | '\u{302A}'..='\u{3030}'
                | '\u{3036}'..='\u{3037}'
                | '\u{303D}'..='\u{303F}'
                // Variation selectors, vertical forms, CJK compatibility and
                // small forms.
                | '\u{FE00}'..='\u{FE1F}'
                | '\u{FE30}'..='\u{FE6F}'
                // Full-width punctuation and symbols.
                | '\u{FF00}'..='\u{FF0F}'
                | '\u{FF1A}'..='\u{FF20}'
                | '\u{FF3B}'..='\u{FF40}'
                | '\u{FF5B}'..='\u{FF65}'
                | '\u{FFE0}'..='\u{FFFF}'
                // Emoji and other pictographs; tags.
                | '\u{1F000}'..='\u{1FAFF}'
                | '\u{E0000}'..='\u{E007F}'
        ))
}

/// Appends `s` to `out` with the characters that make a pasted URL or name
/// look wrong made visible, the way `{:?}` shows them: `\t`, `\r`, `\n`,
/// `\0`, `\\`, `\"`, `\'`, and `\u{…}` for every other control or
/// whitespace character except the plain space, and for the common
/// invisible format characters (soft hyphen, zero-width and direction
/// marks, the byte-order mark).
///
/// Unlike `str::escape_debug`, other characters that `std` counts as not
/// printable (unassigned code points, a combining mark at the start) are
/// kept as they are: telling them apart needs `std`'s Unicode tables, and
/// the messages that use this are about whitespace and control characters.
pub fn push_escaped(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\0' => out.push_str("\\0"),
            '\\' | '"' | '\'' => {
                out.push('\\');
                out.push(c);
            }
            ' ' => out.push(' '),
            _ if c.is_control() || c.is_whitespace() || is_invisible_format(c) => {
                out.push_str("\\u{");
                push_hex(c as u32, out);
                out.push('}');
            }
            _ => out.push(c),
        }
    }
}

/// Format characters that render as nothing (all escaped by `{:?}` too).
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Lower-case hex without leading zeros, as `{:?}` writes `\u{…}`.
fn push_hex(n: u32, out: &mut String) {
    let mut started = false;
    for shift in (0..8).rev() {
        let d = (n >> (shift * 4)) & 0xF;
        if d != 0 || started || shift == 0 {
            started = true;
            out.push(char::from_digit(d, 16).unwrap_or('0'));
        }
    }
}

/// Where `needle` first occurs in `hay`, as a byte offset: the same answer
/// as `hay.find(needle)` (an empty needle is found at 0).
///
/// Why not `str::find` with a `&str` pattern: it runs the two-way
/// `StrSearcher`, about 2.5 KB of wasm, and its slicing brings `std`'s
/// char-boundary panic message (which formats a `char` with `Debug`, and
/// so the Unicode printability tables). Every text searched here is a
/// chat message, an agent reply or a header: short, and searched for short
/// keywords, so the first byte found by `memchr` and a compare of the rest
/// is as fast. A match of one UTF-8 string in another always starts and
/// ends on char boundaries, so the offset slices safely.
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    let mut from = 0;
    while let Some(i) = hay.get(from..).and_then(|h| memchr::memchr(first, h)) {
        let at = from + i;
        if hay.get(at + 1..).is_some_and(|h| h.starts_with(rest)) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Whether `needle` occurs in `hay`: `hay.contains(needle)`, through [`find`].
pub fn contains(hay: &str, needle: &str) -> bool {
    find(hay, needle).is_some()
}

/// `s` with every `from` replaced by `to`, left to right without overlaps:
/// `s.replace(from, to)`, through [`find`]. An empty `from` (never passed
/// here) leaves `s` as it is.
pub fn replace(s: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some((before, after)) = split_once(rest, from).filter(|_| !from.is_empty()) {
        out.push_str(before);
        out.push_str(to);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A word list in one string, separated by `|`: `Words("export|download")`.
/// Empty entries (`""`, `"a||b"`) are skipped, so `Words("")` is empty.
///
/// Why not `&[&str]`: a slice of string slices stores a pointer and a
/// length (8 bytes of wasm data) next to each word, and the router and the
/// GUI translator keep about 600 keywords. One string per list costs one
/// byte per word. The lists are short and searched per message, so
/// splitting on each search costs nothing that shows.
#[derive(Clone, Copy, Debug)]
pub struct Words(pub &'static str);

impl Words {
    /// The words, in order.
    pub fn iter(self) -> impl Iterator<Item = &'static str> {
        self.0.split('|').filter(|w| !w.is_empty())
    }

    /// Whether `word` is one of the words (whole words, not substrings).
    pub fn contains(self, word: impl AsRef<str>) -> bool {
        self.has(word.as_ref())
    }

    fn has(self, word: &str) -> bool {
        self.iter().any(|w| w == word)
    }
}

/// `parts.join(sep)`.
///
/// Why not `[S]::join`: `std`'s is unrolled for each separator length and
/// instantiated per element type (about 700 B of wasm each); the texts
/// joined here are a few short lines.
pub fn join<S: AsRef<str>>(parts: &[S], sep: &str) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(p.as_ref());
    }
    out
}

/// Whether `c` is one of the characters of `set`: `set.contains(c)`.
///
/// Why not `str::contains(char)`: for a non-ASCII `char` it searches for
/// its UTF-8 bytes with the same `StrSearcher` that [`find`] avoids.
pub fn has_char(set: &str, c: char) -> bool {
    set.chars().any(|x| x == c)
}

/// `s.split_once(sep)`, through [`find`].
pub fn split_once<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let at = find(s, sep)?;
    Some((s.get(..at)?, s.get(at + sep.len()..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_matches_std() {
        let hays = [
            "",
            "a",
            "aaa",
            "abcabcab",
            "点击导出按钮",
            "拖拽到这里拖拽",
            "x://y://z",
            "session",
            "Session Not Found",
            "<title>Bad gateway</title>",
            "ababa",
            "é€é€€",
        ];
        let needles = [
            "", "a", "aa", "ab", "abc", "bca", "导出", "拖拽", "://", "session", "<title>", "aba",
            "€€", "z",
        ];
        for h in hays {
            for n in needles {
                assert_eq!(find(h, n), h.find(n), "find({h:?}, {n:?})");
                assert_eq!(contains(h, n), h.contains(n));
                assert_eq!(
                    split_once(h, n),
                    h.split_once(n),
                    "split_once({h:?}, {n:?})"
                );
                if !n.is_empty() {
                    for to in ["", "X", "移到"] {
                        assert_eq!(replace(h, n, to), h.replace(n, to), "replace({h:?}, {n:?})");
                    }
                }
            }
        }
        assert_eq!(replace("abc", "", "X"), "abc");
        assert_eq!(Words("").iter().count(), 0);
        assert_eq!(Words("a||bc|").iter().collect::<Vec<_>>(), ["a", "bc"]);
        assert!(Words("to |a|bc").contains("to ") && !Words("a|bc").contains("b"));
        for parts in [&[][..], &["a"][..], &["a", "", "bc"][..]] {
            for sep in ["", ", ", "\n\n"] {
                assert_eq!(join(parts, sep), parts.join(sep));
                let owned: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
                assert_eq!(join(&owned, sep), owned.join(sep));
            }
        }
        for c in ['a', '@', '”', '」', '\u{0}', '€'] {
            for set in ["", "@", "\"')”’", "!?.。！？…\"')”’」』", "abc", "€"] {
                assert_eq!(has_char(set, c), set.contains(c));
            }
        }
    }

    fn all_chars() -> impl Iterator<Item = char> {
        (0..=0x10FFFFu32).filter_map(char::from_u32)
    }

    #[test]
    fn lower_for_match_agrees_with_std_wherever_the_result_can_be_ascii() {
        for c in all_chars() {
            let std_first = c.to_lowercase().next().unwrap();
            let ours = lower_for_match(c);
            if std_first.is_ascii() || ours.is_ascii() {
                assert_eq!(ours, std_first, "U+{:04X}", c as u32);
            } else {
                // Both non-ASCII: no keyword can match either.
                assert!(!ours.is_ascii() && !std_first.is_ascii());
            }
        }
        assert_eq!(lower_for_match('İ'), 'i');
        assert_eq!(lower_for_match('\u{212A}'), 'k');
        assert_eq!(lower_for_match('É'), 'É');
    }

    #[test]
    fn lower_and_is_lower_agree_with_std_over_their_blocks() {
        let blocks = [0x0..=0xFF, 0x386..=0x3CE, 0x400..=0x45F, 0xFF00..=0xFFEF];
        for c in blocks.into_iter().flatten().filter_map(char::from_u32) {
            let std_lower: Vec<char> = c.to_lowercase().collect();
            assert_eq!(vec![lower(c)], std_lower, "U+{:04X}", c as u32);
            assert_eq!(is_lower(c), c.is_lowercase(), "U+{:04X}", c as u32);
        }
        assert_eq!(lower('Ա'), 'Ա');
        assert!(!is_lower('ա'));
    }

    #[test]
    fn upper_agrees_with_std_for_ascii_and_full_width_letters() {
        let latin = ('\0'..='\u{7F}').chain('\u{FF01}'..='\u{FF5E}');
        for c in latin {
            let std_up: Vec<char> = c.to_uppercase().collect();
            assert_eq!(vec![upper(c)], std_up, "U+{:04X}", c as u32);
        }
        assert_eq!(upper('ｄ'), 'Ｄ');
        assert_eq!(upper('é'), 'é');
    }

    #[test]
    fn is_word_char_matches_std_where_it_says_it_does() {
        let exact_blocks = [
            0x0..=0x24F,
            0x2000..=0x206F,
            0x20A0..=0x20FF,
            0x2190..=0x245F,
            0x2500..=0x2BFF,
            0x2E00..=0x2E7F,
            0x3000..=0x303F,
            0x4E00..=0x9FFF,
            0xFF00..=0xFFEF,
            0x1F300..=0x1F6FF,
            0x1F900..=0x1F9FF,
        ];
        let mut wrong = Vec::new();
        for block in exact_blocks {
            for c in block.filter_map(char::from_u32) {
                // Unassigned code points in these blocks are not listed
                // one by one: std says no, we say "part of a word".
                if !c.is_alphanumeric() && is_word_char(c) && is_unassigned_here(c) {
                    continue;
                }
                if is_word_char(c) != c.is_alphanumeric() {
                    wrong.push(c as u32);
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:X?}");
        // Everywhere: every letter and digit is a word character.
        let mut missed = Vec::new();
        for c in all_chars() {
            if c.is_alphanumeric() && !is_word_char(c) {
                missed.push(c as u32);
            }
        }
        assert!(
            missed
                .iter()
                .all(|&u| u == 0x345 || (0x1F100..=0x1F1FF).contains(&u)),
            "{missed:X?}"
        );
        // What the router relies on.
        for c in [
            '×', '·', '—', '…', '“', '。', '，', '、', '【', '🎉', '→', '\u{3000}',
        ] {
            assert!(!is_word_char(c), "{c}");
        }
        for c in ['é', 'ß', 'Ж', 'α', 'あ', 'カ', '한', '々', '²', '〇'] {
            assert!(is_word_char(c), "{c}");
        }
    }

    /// Code points in the exact blocks above that Unicode has not assigned
    /// (as of the `std` this was written against).
    fn is_unassigned_here(c: char) -> bool {
        // A gap in std's alphanumeric tables that is also not punctuation
        // or a symbol: approximated by "not printable" per `{:?}`.
        let s = c.to_string();
        s.escape_debug().to_string() != s && !c.is_control() && !c.is_whitespace()
    }

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_escaped(s, &mut out);
        out
    }

    #[test]
    fn escapes_like_debug_for_whitespace_controls_and_quotes() {
        for c in all_chars() {
            let handled = c.is_control()
                || c.is_whitespace()
                || is_invisible_format(c)
                || matches!(c, '\\' | '"' | '\'');
            if handled || c.is_ascii() {
                let s = c.to_string();
                assert_eq!(
                    escaped(&s),
                    s.escape_debug().to_string(),
                    "U+{:04X}",
                    c as u32
                );
            }
        }
        assert_eq!(
            escaped("https://a b\u{200B}\tc\u{3000}é"),
            "https://a b\\u{200b}\\tc\\u{3000}é"
        );
    }
}
