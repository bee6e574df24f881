//! Fonts and text for titles and captions: font lookup, CJK detection, cleaning and wrapping.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use tokio::process::Command;

use super::FONT_BOLD;

/// How drawtext finds a font.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum FontRef {
    /// `fontfile=`.
    File(PathBuf),
    /// `font=` (fontconfig pattern).
    Name(String),
}

/// Fonts for titles.
#[derive(Clone, Debug)]
pub(super) struct Fonts {
    /// Bold Latin font.
    pub(super) latin: FontRef,
    /// A font with CJK glyphs, when the system has one.
    pub(super) cjk: Option<PathBuf>,
}

impl Fonts {
    /// The drawtext font option for one line of text: the CJK font when the line holds CJK
    /// and the system has one, else the Latin font (lines are drawn with a single font each).
    pub(super) fn drawtext_option(&self, line: &str) -> (&'static str, String) {
        if line.chars().any(is_cjk) {
            if let Some(p) = &self.cjk {
                return ("fontfile", p.to_string_lossy().into_owned());
            }
        }
        match &self.latin {
            FontRef::File(p) => ("fontfile", p.to_string_lossy().into_owned()),
            FontRef::Name(n) => ("font", n.clone()),
        }
    }
}

/// Fonts found on the system (looked up once per process).
pub(super) async fn fonts() -> Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    if let Some(f) = FONTS.get() {
        return f.clone();
    }
    let latin = if Path::new(FONT_BOLD).is_file() {
        FontRef::File(PathBuf::from(FONT_BOLD))
    } else {
        match first_font_file(&["fc-match", "-f", "%{file}", "Sans:bold"]).await {
            Some(p) => FontRef::File(p),
            None => FontRef::Name("Sans".to_string()),
        }
    };
    let mut cjk = None;
    for lang in [":lang=zh", ":lang=ja", ":lang=ko"] {
        if let Some(p) = first_font_file(&["fc-list", lang, "file"]).await {
            cjk = Some(p);
            break;
        }
    }
    let found = Fonts { latin, cjk };
    let _ = FONTS.set(found.clone());
    found
}

/// Runs a fontconfig tool and returns the first existing font file it prints.
async fn first_font_file(cmd: &[&str]) -> Option<PathBuf> {
    let (prog, args) = cmd.split_first()?;
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(10), out)
        .await
        .ok()?
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut files: Vec<PathBuf> = text
        .lines()
        .map(|l| l.trim().trim_end_matches(':').trim())
        .filter(|l| !l.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.into_iter().next()
}

/// True for characters DejaVu lacks and a CJK font has (Han, kana, Hangul, full-width forms).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7FF
        | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Rough advance width of a character in ems (bold sans).
fn char_em(c: char) -> f64 {
    if is_cjk(c) {
        1.0
    } else if c == ' ' {
        0.32
    } else if c.is_ascii_uppercase() || c == 'm' || c == 'w' || c == 'M' || c == 'W' {
        0.78
    } else {
        0.64
    }
}

/// Width of a string in ems.
pub(super) fn str_em(s: &str) -> f64 {
    s.chars().map(char_em).sum()
}

/// Cleans user text: tabs become spaces, other control characters go, length is capped.
pub(super) fn clean_text(text: &str, max_chars: usize) -> String {
    text.chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .filter(|c| *c == '\n' || !c.is_control())
        .take(max_chars)
        .collect()
}

/// Greedy word wrap to `max_em` per line; CJK characters may break anywhere; at most
/// `max_lines` lines (the last one ends with "…" when text was dropped).
pub(super) fn wrap_text(text: &str, max_em: f64, max_lines: usize) -> Vec<String> {
    let max_em = max_em.max(1.0);
    let mut lines: Vec<String> = Vec::new();
    for para in text.split('\n') {
        wrap_tokens(tokenize(para), max_em, &mut lines);
    }
    trim_blank_lines(&mut lines);
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            while !last.is_empty() && str_em(last) + 1.0 > max_em {
                last.pop();
            }
            last.push('…');
        }
    }
    lines
}

/// Splits a paragraph into wrap tokens: words, or single CJK characters (which may break
/// anywhere). The flag says whether whitespace came before the token.
fn tokenize(para: &str) -> Vec<(String, bool)> {
    let mut tokens: Vec<(String, bool)> = Vec::new();
    let mut cur = String::new();
    let mut space_before = false;
    for c in para.chars() {
        if c.is_whitespace() {
            if !cur.is_empty() {
                tokens.push((std::mem::take(&mut cur), space_before));
            }
            space_before = true;
        } else if is_cjk(c) {
            if !cur.is_empty() {
                tokens.push((std::mem::take(&mut cur), space_before));
                space_before = false;
            }
            tokens.push((c.to_string(), space_before));
            space_before = false;
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        tokens.push((cur, space_before));
    }
    tokens
}

/// Fills lines of at most `max_em` greedily with one paragraph's tokens and appends them to
/// `lines` (always at least one line, possibly empty, so blank paragraphs are kept).
fn wrap_tokens(tokens: Vec<(String, bool)>, max_em: f64, lines: &mut Vec<String>) {
    let mut line = String::new();
    for (tok, sp) in tokens {
        let sep = if sp && !line.is_empty() { " " } else { "" };
        if str_em(&line) + str_em(sep) + str_em(&tok) <= max_em {
            line.push_str(sep);
            line.push_str(&tok);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // A token wider than a line is broken by characters.
        for c in tok.chars() {
            if !line.is_empty() && str_em(&line) + char_em(c) > max_em {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    lines.push(line);
}

/// Drops blank lines at both ends.
fn trim_blank_lines(lines: &mut Vec<String>) {
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
}
