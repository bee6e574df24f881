//! Small text helpers that stand in for the Unicode-table-backed parts of
//! `std` (`char::to_lowercase`, `to_uppercase`, `str::escape_debug`).
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn upper_agrees_with_std_for_ascii_and_full_width_letters() {
        let latin = ('\0'..='\u{7F}').chain('\u{FF01}'..='\u{FF5E}');
        for c in latin {
            let std_up: Vec<char> = c.to_uppercase().collect();
            assert_eq!(vec![upper(c)], std_up, "U+{:04X}", c as u32);
        }
        assert_eq!(upper('ｄ'), 'Ｄ');
        assert_eq!(upper('é'), 'é');
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
