//! GUI translation: the agent writes as if the user had the web app open
//! ("click the Export button", "打开文字面板"); this client has no such
//! buttons, so those instructions are stripped from the text and turned
//! into [`GuiAction`]s the shell performs through the API instead.
//!
//! Mapping (docs/protocol.md, "GUI translation"):
//!
//! | the agent says | action |
//! |---|---|
//! | "click \[button\]" / 点击 | the button's action, or [`GuiAction::Click`] |
//! | "open \[panel\]" / 打开 | [`GuiAction::ShowState`] |
//! | "drag/drop" / 拖拽 | [`GuiAction::SendEdit`] with the edit as a chat message |
//! | "preview in timeline" | [`GuiAction::ShowTrackSummary`] |
//! | "Export button" / 导出 | [`GuiAction::Export`] |
//! | "check account/billing" | [`GuiAction::Credits`] |
//!
//! Work is sentence by sentence (split on `. ! ? 。！？` and newlines), then
//! clause by clause (`, ; ，；`), so "The title is gold, and you can open
//! the Text panel to restyle it." keeps "The title is gold." A sentence
//! without a GUI instruction is never touched: content descriptions ("A
//! slow zoom into the city skyline at dusk.") survive verbatim. Verbs
//! count as GUI instructions only in imperative position ("Click …", "you
//! can click …"), so "the click of a shutter" or "Open on a wide shot" stay.
//!
//! The returned text holds no replacement phrase: a shell may perform the
//! actions itself (the natural choice for Export) or offer them, and only
//! it knows which. For a chat-only shell, [`GuiAction::hint`] gives the
//! phrase to append ("Say \"export\" to download it.").

use crate::core::intent::{fold_char, is_cjk};
use crate::core::text::{self, is_word_char, Words};

/// What the stripped GUI instruction asked for, to be done through the API.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GuiAction {
    /// Export the project (the Export / Download button, 导出).
    Export,
    /// Show the project state (an "open the … panel" instruction).
    ShowState,
    /// Show the track summary ("preview it in the timeline").
    ShowTrackSummary,
    /// Show the credit balance ("check your account / billing").
    Credits,
    /// Ask the user for a file ("drag your photo here to upload").
    Upload,
    /// Send this edit to the agent as a chat message (a drag-and-drop
    /// instruction rewritten as words: "Move the music to start at 5 s").
    SendEdit(String),
    /// Press a button the client has no mapping for; the label as written
    /// ("Apply Filter"). A shell can send it as a chat message.
    Click(String),
}

/// The language of a hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// English.
    English,
    /// Chinese.
    Chinese,
}

/// The language of a text: Chinese when its CJK characters outweigh its
/// Latin letters (one character counting as three letters).
pub fn language_of(text: &str) -> Language {
    let cjk = text.chars().filter(|&c| is_cjk(c)).count();
    let latin = text.chars().filter(char::is_ascii_alphabetic).count();
    // One CJK character carries about a word, three Latin letters' worth.
    if cjk > 0 && cjk * 3 >= latin {
        Language::Chinese
    } else {
        Language::English
    }
}

impl GuiAction {
    /// A stable, machine-readable name: `"export"`, `"show_state"`,
    /// `"show_track_summary"`, `"credits"`, `"upload"`, `"send_edit"` or
    /// `"click"` (for JavaScript and `--json` output).
    pub fn name(&self) -> &'static str {
        match self {
            GuiAction::Export => "export",
            GuiAction::ShowState => "show_state",
            GuiAction::ShowTrackSummary => "show_track_summary",
            GuiAction::Credits => "credits",
            GuiAction::Upload => "upload",
            GuiAction::SendEdit(_) => "send_edit",
            GuiAction::Click(_) => "click",
        }
    }

    /// A phrase telling a chat-only user how to do this here, in
    /// `language`.
    pub fn hint(&self, language: Language) -> String {
        let zh = language == Language::Chinese;
        match (self, zh) {
            (GuiAction::Export, false) => "Say \"export\" to download it.".into(),
            (GuiAction::Export, true) => "说“导出”即可下载。".into(),
            (GuiAction::ShowState, false) => "Say \"status\" to see the project.".into(),
            (GuiAction::ShowState, true) => "说“状态”查看项目。".into(),
            (GuiAction::ShowTrackSummary, false) => {
                "Say \"show tracks\" to see the timeline.".into()
            }
            (GuiAction::ShowTrackSummary, true) => "说“状态”查看时间线。".into(),
            (GuiAction::Credits, false) => "Say \"credits\" to see your balance.".into(),
            (GuiAction::Credits, true) => "说“积分”查看余额。".into(),
            (GuiAction::Upload, false) => "Attach a file to upload it.".into(),
            (GuiAction::Upload, true) => "附上文件即可上传。".into(),
            (GuiAction::SendEdit(edit), false) => format!("Say \"{edit}\" to make this change."),
            (GuiAction::SendEdit(edit), true) => format!("说“{edit}”即可修改。"),
            (GuiAction::Click(label), false) => format!("Say \"{label}\" to do this."),
            (GuiAction::Click(label), true) => format!("说“{label}”即可。"),
        }
    }
}

/// Agent text with its GUI instructions stripped and mapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translated {
    /// The text to show: everything but the GUI instructions.
    pub text: String,
    /// The actions, in order of appearance, without duplicates.
    pub actions: Vec<GuiAction>,
}

/// Strips GUI instructions from agent text and maps them to actions.
pub fn translate(text: &str) -> Translated {
    let mut actions: Vec<GuiAction> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for raw_line in text.split('\n') {
        let line = raw_line.trim_end_matches('\r');
        let (marker, body) = split_list_marker(line);
        let mut kept = String::new();
        let mut changed = false;
        for sentence in sentences(body) {
            let (content, found) = translate_sentence(sentence);
            for action in found {
                if !actions.contains(&action) {
                    actions.push(action);
                }
            }
            match content {
                Some(c) if c == sentence => kept.push_str(sentence),
                Some(c) => {
                    changed = true;
                    let body = sentence.trim_start();
                    let lead = sentence.strip_suffix(body).unwrap_or("");
                    kept.push_str(lead);
                    kept.push_str(&c);
                }
                None => changed = true,
            }
        }
        if !changed {
            lines.push(line.to_string());
        } else if !kept.trim().is_empty() {
            lines.push(format!("{marker}{}", kept.trim()));
        }
        // A line emptied by stripping disappears entirely.
    }
    // Collapse blank runs left behind and trim the ends.
    let mut out: Vec<String> = Vec::new();
    for line in lines {
        if line.trim().is_empty() && out.last().is_none_or(|l| l.trim().is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    Translated {
        text: text::join(&out, "\n"),
        actions,
    }
}

/// Splits a Markdown list marker ("- ", "* ", "• ", "1. ") off a line.
fn split_list_marker(line: &str) -> (&str, &str) {
    let body = line.trim_start();
    let indent = line.len() - body.len();
    let marker_len = if body.starts_with("- ") || body.starts_with("* ") || body.starts_with("• ")
    {
        body.find(' ').map_or(0, |i| i + 1)
    } else {
        let digits = body.bytes().take_while(u8::is_ascii_digit).count();
        match body.as_bytes().get(digits..digits + 2) {
            Some([b'.' | b')', b' ']) if digits > 0 => digits + 2,
            _ => 0,
        }
    };
    line.split_at_checked(indent + marker_len)
        .unwrap_or(("", line))
}

/// Splits a line into sentences, each keeping its leading whitespace and
/// its terminator. A `.` ends a sentence only before whitespace, a quote,
/// a CJK character or the end, so "1.5 s" and "nemovideo.com" stay whole.
fn sentences(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = line.char_indices().peekable();
    while let Some((i, raw)) = chars.next() {
        let c = fold_char(raw);
        let ends = match c {
            '!' | '?' | '。' | '…' => true,
            '.' => chars.peek().is_none_or(|&(_, n)| {
                n.is_whitespace() || is_cjk(n) || text::has_char("\"')”’", n)
            }),
            _ => false,
        };
        if !ends {
            continue;
        }
        // The original character's length: a folded full-width `！` is 3 bytes.
        let mut end = i + raw.len_utf8();
        // Take repeated terminators and closing quotes with the sentence.
        while let Some(&(j, n)) = chars.peek() {
            if text::has_char("!?.。！？…\"')”’」』", n) {
                end = j + n.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        out.push(line.get(start..end).unwrap_or(""));
        start = end;
    }
    let rest = line.get(start..).unwrap_or("");
    if !rest.trim().is_empty() {
        out.push(rest);
    }
    out
}

/// Returns the sentence's content without GUI clauses (`None` when nothing
/// is left) and the actions found.
fn translate_sentence(sentence: &str) -> (Option<String>, Vec<GuiAction>) {
    let body = sentence.trim();
    let term_len = body
        .char_indices()
        .rev()
        .take_while(|&(_, c)| text::has_char("!?.。！？…\"')”’」』", c))
        .last()
        .map_or(0, |(i, _)| body.len() - i);
    let (core, terminator) = body
        .split_at_checked(body.len() - term_len)
        .unwrap_or((body, ""));
    let clauses = clauses(core);
    let mut actions = Vec::new();
    let mut kept: Vec<(&str, &str)> = Vec::new();
    let mut dropped = false;
    for &(clause, sep) in &clauses {
        match detect(clause) {
            Some((action, cue_start)) => {
                actions.push(action);
                dropped = true;
                let prefix = content_before(clause, cue_start);
                if !prefix.is_empty() {
                    kept.push((prefix, sep));
                }
            }
            None => kept.push((clause, sep)),
        }
    }
    if !dropped {
        return (Some(sentence.to_string()), actions);
    }
    // "To download it, click Export": the purpose clause goes with the
    // instruction it introduced.
    kept.retain(|(clause, _)| !is_subordinate(clause));
    if kept.is_empty() {
        return (None, actions);
    }
    let mut text = String::new();
    for (i, (clause, sep)) in kept.iter().enumerate() {
        text.push_str(clause.trim());
        if i + 1 < kept.len() {
            text.push_str(sep);
        }
    }
    let text = text.trim_end_matches(|c: char| c.is_whitespace() || text::has_char(",;，；", c));
    let chinese = language_of(text) == Language::Chinese;
    let terminator = if terminator.is_empty() || terminator.contains(['?', '？']) {
        if chinese {
            "。"
        } else {
            "."
        }
    } else {
        terminator
    };
    (Some(format!("{text}{terminator}")), actions)
}

/// Clauses and the separator that followed each (", ", "，", …).
fn clauses(core: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in core.char_indices() {
        if matches!(c, ',' | ';' | '，' | '；' | '：' | ':') {
            let after = core.get(i + c.len_utf8()..).unwrap_or("");
            let next = core.len() - after.trim_start().len();
            let clause = core.get(start..i).unwrap_or("");
            if !clause.trim().is_empty() {
                out.push((clause, core.get(i..next).unwrap_or("")));
            }
            start = next;
        }
    }
    let rest = core.get(start..).unwrap_or("");
    if !rest.trim().is_empty() {
        out.push((rest, ""));
    }
    out
}

/// Words that may precede an imperative without making it a statement:
/// "you can click", "simply drag", "然后点击".
const LEAD: Words = Words(concat!(
    "you|can|could|may|might|just|simply|now|then|and|so|please|also|first|",
    "next|finally|feel|free|to|you'll|need|should|will|go|ahead|try|easily|",
    "quickly|once|when|if|done|ready|you're|happy|i|recommend|suggest|or",
));
const LEAD_ZH: Words =
    Words("您可以|你可以|可以|然后|并|再|请|只需|直接|您|你|接着|最后|随后|即可|就");

/// The content before a GUI cue, with connectors ("and you can") removed:
/// "The title is gold and you can open the Text panel" → "The title is gold".
fn content_before(clause: &str, cue_start: usize) -> &str {
    let mut prefix = clause.get(..cue_start).unwrap_or("").trim_end();
    loop {
        let before = prefix;
        for lead in LEAD.iter().chain(LEAD_ZH.iter()) {
            if let Some(rest) = strip_suffix_word(prefix, lead) {
                prefix = rest.trim_end();
            }
        }
        if prefix == before {
            break;
        }
    }
    prefix
}

fn strip_suffix_word<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(word.len())?;
    let tail = s.get(cut..)?;
    if !tail.eq_ignore_ascii_case(word) {
        return None;
    }
    let head = s.get(..cut)?;
    // English words must stand alone; Chinese has no spaces.
    let ok =
        word.chars().all(is_cjk) || head.is_empty() || head.ends_with(|c: char| !is_word_char(c));
    ok.then_some(head)
}

fn is_subordinate(clause: &str) -> bool {
    // Every prefix is ASCII or Chinese, so ASCII lower case matches the
    // same clauses as Unicode lower case, without its tables.
    let lower = clause.trim().to_ascii_lowercase();
    const EN: Words =
        Words("to |once |when |if |after |before |whenever |as soon as |for |in order to ");
    const ZH: Words = Words("如果|当|要|如需|若|想要|如要|为了");
    // Chinese marks time clauses at the end: 完成后 ("when done"), 导出时.
    const ZH_END: Words = Words("后|时|之后|以后");
    EN.iter().any(|p| lower.starts_with(p))
        || ZH.iter().any(|p| lower.starts_with(p))
        || ZH_END.iter().any(|p| lower.ends_with(p))
}

// ---- Detection ------------------------------------------------------------

/// A word of a clause: lower-cased, with its byte range.
struct Word {
    lower: String,
    start: usize,
    end: usize,
}

fn words(clause: &str) -> Vec<Word> {
    let mut ranges = Vec::new();
    let mut start = None;
    for (i, c) in clause.char_indices() {
        let c = fold_char(c);
        let part = (is_word_char(c) && !is_cjk(c)) || c == '\'' || c == '-';
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                ranges.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        ranges.push((s, clause.len()));
    }
    ranges
        .into_iter()
        .map(|(start, end)| {
            let raw = clause.get(start..end).unwrap_or("");
            Word {
                lower: raw
                    .chars()
                    .map(|c| fold_char(c).to_ascii_lowercase())
                    .collect(),
                start,
                end,
            }
        })
        .collect()
}

/// Finds the GUI instruction in a clause: the action and where its cue
/// starts (so any content before it can be kept).
fn detect(clause: &str) -> Option<(GuiAction, usize)> {
    if clause.chars().any(is_cjk) {
        if let Some(found) = detect_zh(clause) {
            return Some(found);
        }
    }
    detect_en(clause)
}

fn imperative_at(ws: &[Word], i: usize) -> bool {
    ws.iter().take(i).all(|w| LEAD.contains(w.lower.as_str()))
        // "…, and you can click", "…, then drag": a connector right before.
        || word_before(ws, i, 1).is_some_and(|w| matches!(w.lower.as_str(), "and" | "then" | "can" | "just" | "simply" | "or" | "please"))
}

/// The word `back` places before word `i`, if there is one.
fn word_before(ws: &[Word], i: usize, back: usize) -> Option<&Word> {
    ws.get(i.checked_sub(back)?)
}

fn has_any(ws: &[Word], set: Words) -> bool {
    ws.iter().any(|w| set.contains(w.lower.as_str()))
}

const CREDIT_WORDS: Words =
    Words("account|billing|credits|credit|balance|subscription|plan|pricing|wallet");
const PANEL_WORDS: Words = Words(concat!(
    "panel|tab|menu|sidebar|settings|page|editor|library|window|dialog|",
    "section|dashboard|inspector|toolbar|drawer|view|workspace",
));

fn detect_en(clause: &str) -> Option<(GuiAction, usize)> {
    let ws = words(clause);
    for (i, w) in ws.iter().enumerate() {
        let at = w.start;
        let imperative = imperative_at(&ws, i);
        let rest = ws.get(i + 1..).unwrap_or(&[]);
        let before = |back: usize| word_before(&ws, i, back).map(|w| w.lower.as_str());
        match w.lower.as_str() {
            "click" | "tap" | "press" | "hit" | "clicking" | "tapping" | "pressing"
                if imperative && !rest.is_empty() =>
            {
                return Some((button_action(clause, rest), at));
            }
            "select" | "choose" if imperative && has_any(rest, Words("button|option")) => {
                return Some((button_action(clause, rest), at));
            }
            "drag" | "dragging" | "drag-and-drop" | "drop"
                if imperative || (w.lower == "dragging" && before(1) == Some("by")) =>
            {
                let upload = has_any(rest, Words("upload|here|uploader"));
                return Some(if upload {
                    (GuiAction::Upload, at)
                } else {
                    let instruction = clause.get(at..).unwrap_or("");
                    (GuiAction::SendEdit(rewrite_drag_en(instruction)), at)
                });
            }
            "open" | "navigate" | "visit" | "go" | "head" | "switch" | "check" | "view" | "see"
            | "look" | "review"
                if imperative =>
            {
                if has_any(rest, CREDIT_WORDS) || has_phrase(rest, Words("top|up")) {
                    return Some((GuiAction::Credits, at));
                }
                if has_any(rest, Words("timeline")) {
                    return Some((GuiAction::ShowTrackSummary, at));
                }
                let opens = matches!(
                    w.lower.as_str(),
                    "open" | "navigate" | "go" | "head" | "switch"
                );
                if opens && has_any(rest, PANEL_WORDS) {
                    return Some((GuiAction::ShowState, at));
                }
            }
            "preview" | "previewing" if imperative || has_any(rest, Words("timeline")) => {
                return Some((GuiAction::ShowTrackSummary, at));
            }
            "top" if imperative && rest.first().is_some_and(|n| n.lower == "up") => {
                return Some((GuiAction::Credits, at));
            }
            "export" | "download" | "exporting" => {
                const NOT_OBJECT: Words = Words(concat!(
                    "quality|settings|format|resolution|will|is|was|options|size|time|",
                    "takes|may|costs|might",
                ));
                let object_ok = rest
                    .first()
                    .is_none_or(|n| !NOT_OBJECT.contains(n.lower.as_str()));
                let cue = has_any(rest, Words("button|tab|icon"))
                    || (before(2) == Some("ready") && before(1) == Some("to"))
                    || (before(1) == Some("the") && has_any(rest, Words("button")));
                if (imperative && object_ok) || cue {
                    // "The Export button is top right": start at "the".
                    let start = match word_before(&ws, i, 1) {
                        Some(the) if the.lower == "the" && cue => the.start,
                        _ => at,
                    };
                    let start = if imperative {
                        ws.first().map_or(at, |f| f.start).min(start)
                    } else {
                        start
                    };
                    return Some((GuiAction::Export, start));
                }
            }
            _ => {}
        }
    }
    None
}

fn has_phrase(ws: &[Word], phrase: Words) -> bool {
    (0..ws.len()).any(|i| {
        phrase
            .iter()
            .enumerate()
            .all(|(k, p)| ws.get(i + k).is_some_and(|w| w.lower == p))
    })
}

/// The action for "click <label> (button)": known labels map to API
/// actions, others become `Click(label)` with the label as written.
fn button_action(clause: &str, rest: &[Word]) -> GuiAction {
    const SKIP: Words = Words("on|the|a|your|that|this");
    const STOP: Words = Words(concat!(
        "button|buttons|tab|icon|link|option|menu|to|and|in|at|from|then|for|",
        "below|above|on|when|once|if|so|which",
    ));
    let label_words: Vec<&Word> = rest
        .iter()
        .skip_while(|w| SKIP.contains(w.lower.as_str()))
        .take_while(|w| !STOP.contains(w.lower.as_str()))
        .collect();
    let lower: Vec<&str> = label_words.iter().map(|w| w.lower.as_str()).collect();
    let any = |set: Words| lower.iter().any(|w| set.contains(w));
    if any(Words("export|download|render")) {
        return GuiAction::Export;
    }
    if any(CREDIT_WORDS) || any(Words("top-up|upgrade")) {
        return GuiAction::Credits;
    }
    if any(Words("timeline|preview")) {
        return GuiAction::ShowTrackSummary;
    }
    if any(Words("upload|import")) {
        return GuiAction::Upload;
    }
    match (label_words.first(), label_words.last()) {
        (Some(first), Some(last)) => {
            let label = clause.get(first.start..last.end).unwrap_or("");
            let label = label.trim_matches(|c: char| text::has_char("\"'“”‘’", c));
            GuiAction::Click(label.to_string())
        }
        _ => GuiAction::Click(
            rest.first()
                .map_or("button", |w| clause.get(w.start..w.end).unwrap_or(""))
                .to_string(),
        ),
    }
}

/// "drag the music clip to 5 s" → "Move the music clip to 5 s".
fn rewrite_drag_en(instruction: &str) -> String {
    // ASCII lower case keeps byte offsets, so `from.len()` indexes
    // `instruction` too.
    let lower = instruction.to_ascii_lowercase();
    let replaced = [
        ("drag-and-drop ", "move "),
        ("drag and drop ", "move "),
        ("dragging ", "moving "),
        ("drag ", "move "),
        ("drop ", "put "),
    ]
    .iter()
    .find(|(from, _)| lower.starts_with(from))
    .map_or_else(
        || instruction.to_string(),
        |(from, to)| format!("{to}{}", instruction.get(from.len()..).unwrap_or("")),
    );
    capitalise(replaced.trim())
}

/// Upper-cases the first letter. The text starts with a drag verb
/// (ASCII or full-width) or its replacement, which is all that
/// [`crate::core::text::upper`] needs to handle.
fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    let mut out = String::with_capacity(s.len());
    if let Some(first) = chars.next() {
        out.push(crate::core::text::upper(first));
        out.push_str(chars.as_str());
    }
    out
}

fn detect_zh(clause: &str) -> Option<(GuiAction, usize)> {
    let find = |needles: Words| -> Option<usize> {
        needles.iter().filter_map(|n| text::find(clause, n)).min()
    };
    let has = |needles: Words| needles.iter().any(|n| text::contains(clause, n));
    const CREDITS: Words = Words("积分|账户|账号|账单|充值|余额|会员|订阅");
    const CLICK: Words = Words("点击|单击|点按|轻点|轻触|点一下|按一下|按下");
    if let Some(at) = find(CLICK) {
        let after = clause.get(at..).unwrap_or("");
        let label_end = ["按钮", "键", "图标", "选项", "标签"]
            .iter()
            .filter_map(|b| text::find(after, b))
            .min()
            .unwrap_or(after.len());
        let label = after.get(..label_end).unwrap_or("");
        let action = if text::contains(label, "导出") || text::contains(label, "下载") {
            GuiAction::Export
        } else if CREDITS.iter().any(|c| text::contains(label, c)) {
            GuiAction::Credits
        } else if text::contains(label, "时间线")
            || text::contains(label, "时间轴")
            || text::contains(label, "预览")
        {
            GuiAction::ShowTrackSummary
        } else if text::contains(label, "上传") {
            GuiAction::Upload
        } else {
            let name = CLICK
                .iter()
                .find_map(|v| label.strip_prefix(v))
                .unwrap_or(label);
            let name = name.rsplit('的').next().unwrap_or("");
            let name = name.trim_matches(|c: char| {
                c.is_whitespace() || text::has_char("\"'“”「」『』【】", c)
            });
            GuiAction::Click(if name.is_empty() {
                "按钮".into()
            } else {
                name.to_string()
            })
        };
        return Some((action, at));
    }
    if let Some(at) = find(Words("拖拽|拖动|拖放|拖曳|拖到|拖入|拖进")) {
        if has(Words("上传")) {
            return Some((GuiAction::Upload, at));
        }
        // Chinese puts the object first (把音乐拖到…), so the whole clause,
        // minus polite leads, is the edit.
        let mut start = clause.trim_start();
        while let Some(rest) = LEAD_ZH.iter().find_map(|l| start.strip_prefix(l)) {
            start = rest;
        }
        // One pass per pair, in this order: the longer forms (拖拽到) first.
        let mut edit = start.to_string();
        for (from, to) in [
            ("拖拽到", "移到"),
            ("拖动到", "移到"),
            ("拖拽", "移动"),
            ("拖动", "移动"),
            ("拖放", "移动"),
            ("拖曳", "移动"),
            ("拖到", "移到"),
            ("拖入", "放入"),
            ("拖进", "放入"),
        ] {
            edit = text::replace(&edit, from, to);
        }
        return Some((GuiAction::SendEdit(edit.trim().to_string()), 0));
    }
    if let Some(at) = find(Words("打开|前往|进入")) {
        let after = clause.get(at..).unwrap_or("");
        let action = if CREDITS.iter().any(|c| text::contains(after, c)) {
            GuiAction::Credits
        } else if has(Words("时间线|时间轴")) {
            GuiAction::ShowTrackSummary
        } else {
            GuiAction::ShowState
        };
        return Some((action, at));
    }
    if has(Words("预览")) && has(Words("时间线|时间轴")) {
        return find(Words("在时间线|在时间轴|预览|时间线|时间轴"))
            .map(|at| (GuiAction::ShowTrackSummary, at));
    }
    if let Some(at) = find(Words("查看账户|查看账单|查看余额|查看积分|充值")) {
        return Some((GuiAction::Credits, at));
    }
    // 导出 / 下载 as an instruction: at the clause start (after polite
    // leads) and not a noun phrase ("导出的视频为1080p"), or with a cue.
    for verb in ["导出", "下载"] {
        let Some(at) = text::find(clause, verb) else {
            continue;
        };
        let before = clause.get(..at).unwrap_or("").trim();
        let mut lead_only = before;
        while let Some(rest) = LEAD_ZH.iter().find_map(|l| lead_only.strip_suffix(l)) {
            lead_only = rest;
        }
        let noun = clause
            .get(at + verb.len()..)
            .is_some_and(|rest| rest.starts_with('的'));
        let cue = has(Words("按钮|即可导出|可以导出|进行导出|即可下载|可以下载"));
        if (lead_only.trim().is_empty() && !noun) || cue {
            let start = if lead_only.trim().is_empty() { 0 } else { at };
            return Some((GuiAction::Export, start));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use GuiAction::*;

    #[test]
    fn translation_table() {
        let cases: Vec<(&str, &str, Vec<GuiAction>)> = vec![
            (
                "Your video is ready! Click the Export button to download your video.",
                "Your video is ready!",
                vec![Export],
            ),
            (
                "A slow zoom into the city skyline at dusk.",
                "A slow zoom into the city skyline at dusk.",
                vec![],
            ),
            (
                "I added the title. Open the Text panel to change its font.",
                "I added the title.",
                vec![ShowState],
            ),
            (
                "The title is gold, and you can open the Text panel to restyle it.",
                "The title is gold.",
                vec![ShowState],
            ),
            ("To download your video, click Export.", "", vec![Export]),
            (
                "Once you're happy, hit the Download button.",
                "",
                vec![Export],
            ),
            (
                "Drag the music clip to start at 5 s.",
                "",
                vec![SendEdit("Move the music clip to start at 5 s".into())],
            ),
            (
                "You can simply drag and drop the logo to the top-right corner.",
                "",
                vec![SendEdit("Move the logo to the top-right corner".into())],
            ),
            (
                "Preview it in the timeline before exporting.",
                "",
                vec![ShowTrackSummary],
            ),
            (
                "I lowered the music to 35%. Preview the result in the timeline!",
                "I lowered the music to 35%.",
                vec![ShowTrackSummary],
            ),
            (
                "You're out of credits. Check your account billing page to top up.",
                "You're out of credits.",
                vec![Credits],
            ),
            (
                "Click Apply Filter to see the look.",
                "",
                vec![Click("Apply Filter".into())],
            ),
            (
                "Click “Enhance” and wait a moment.",
                "",
                vec![Click("Enhance".into())],
            ),
            ("Drag your photo here to upload it.", "", vec![Upload]),
            (
                "The export will be 1080x1920 H.264.",
                "The export will be 1080x1920 H.264.",
                vec![],
            ),
            (
                "Open on a wide shot of the ocean. The camera pans as the door opens.",
                "Open on a wide shot of the ocean. The camera pans as the door opens.",
                vec![],
            ),
            (
                "We hear the click of a shutter as a drop of rain falls.",
                "We hear the click of a shutter as a drop of rain falls.",
                vec![],
            ),
            (
                "Ready to export! The clip is 12.5 s long.",
                "The clip is 12.5 s long.",
                vec![Export],
            ),
            (
                "Done!\n\n- Title: \"Urban Dreams\" (0-3s)\n- Click Export to download.\n\nEnjoy!",
                "Done!\n\n- Title: \"Urban Dreams\" (0-3s)\n\nEnjoy!",
                vec![Export],
            ),
            ("Click Export. Then click Export again!", "", vec![Export]),
            // Chinese.
            (
                "视频已生成！点击导出按钮下载视频。",
                "视频已生成！",
                vec![Export],
            ),
            (
                "标题已添加。打开文字面板可以修改字体。",
                "标题已添加。",
                vec![ShowState],
            ),
            (
                "把音乐拖拽到第5秒开始。",
                "",
                vec![SendEdit("把音乐移到第5秒开始".into())],
            ),
            ("您可以在时间线上预览效果。", "", vec![ShowTrackSummary]),
            ("积分不足，请查看账户充值。", "积分不足。", vec![Credits]),
            ("导出的视频为1080x1920。", "导出的视频为1080x1920。", vec![]),
            (
                "画面缓缓推近城市天际线。",
                "画面缓缓推近城市天际线。",
                vec![],
            ),
            ("完成后，请导出视频。", "", vec![Export]),
            ("点击右上角的“应用”按钮。", "", vec![Click("应用".into())]),
        ];
        let mut failures = Vec::new();
        for (input, text, actions) in &cases {
            let got = translate(input);
            if got.text != *text || got.actions != *actions {
                failures.push(format!(
                    "{input:?}\n   got  {:?} {:?}\n   want {text:?} {actions:?}",
                    got.text, got.actions
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }

    /// Capitalising a rewritten drag instruction, ASCII or full-width.
    #[test]
    fn drag_edits_are_capitalised() {
        let t = translate("Drag the music to 5 s.");
        assert_eq!(t.actions, vec![SendEdit("Move the music to 5 s".into())]);
        let t = translate("You can ｄｒａｇ");
        assert_eq!(t.actions, vec![SendEdit("Ｄｒａｇ".into())]);
        let t = translate("Then drop");
        assert_eq!(t.actions, vec![SendEdit("Drop".into())]);
    }

    #[test]
    fn sentences_split_only_at_real_ends() {
        let cases: &[(&str, &[&str])] = &[
            ("One. Two! Three?", &["One.", " Two!", " Three?"]),
            (
                "It is 1.5 s on nemovideo.com now.",
                &["It is 1.5 s on nemovideo.com now."],
            ),
            ("好的。完成了！", &["好的。", "完成了！"]),
            ("Wow!! Really?!", &["Wow!!", " Really?!"]),
            (
                "He said \"go.\" Then left",
                &["He said \"go.\"", " Then left"],
            ),
            ("no terminator", &["no terminator"]),
        ];
        for &(line, want) in cases {
            assert_eq!(sentences(line), want, "{line}");
        }
    }

    #[test]
    fn hints_in_both_languages() {
        assert_eq!(
            Export.hint(Language::English),
            "Say \"export\" to download it."
        );
        assert_eq!(Export.hint(Language::Chinese), "说“导出”即可下载。");
        assert!(SendEdit("Move the logo".into())
            .hint(Language::English)
            .contains("Move the logo"));
        assert_eq!(language_of("视频已生成"), Language::Chinese);
        assert_eq!(language_of("Your video"), Language::English);
        assert_eq!(language_of("加个标题 Urban Dreams"), Language::Chinese);
        assert_eq!(ShowTrackSummary.name(), "show_track_summary");
        assert_eq!(SendEdit("x".into()).name(), "send_edit");
    }

    #[test]
    fn plain_text_passes_through_unchanged() {
        let text = "Here's your cinematic clip: a drone shot over misty mountains.\n\nThe BGM is lo-fi at 35%.";
        let t = translate(text);
        assert_eq!(t.text, text);
        assert!(t.actions.is_empty());
        assert_eq!(translate("").text, "");
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            /// No panic on any text, and text with no GUI vocabulary at all
            /// comes back unchanged.
            #[test]
            fn translate_never_panics(text in "\\PC{0,80}") {
                let _ = translate(&text);
            }

            #[test]
            fn content_without_gui_words_is_untouched(
                text in "[A-Za-z ,.!?]{0,60}".prop_filter("no gui words", |t| {
                    let l = t.to_lowercase();
                    !["click", "tap", "press", "hit", "select", "choose", "drag", "drop", "open",
                      "navigate", "visit", "go", "head", "switch", "check", "view", "see", "look",
                      "review", "preview", "top", "export", "download"]
                        .iter()
                        .any(|w| l.split(|c: char| !c.is_alphanumeric()).any(|x| x == *w))
                })
            ) {
                let t = translate(&text);
                prop_assert!(t.actions.is_empty());
                prop_assert_eq!(t.text.trim_end(), text.trim_end());
            }
        }
    }
}
