//! Routing what the user says, in English and Chinese.
//!
//! The protocol (docs/protocol.md, "Routing what the user says") routes a
//! few requests straight to an API call, without an agent turn (which costs
//! credits and minutes): export, credits, state and upload. Everything else
//! is a chat turn, which this module also
//! sub-classifies (generate, camera move, music, text, aspect ratio, trim,
//! other edit) so a shell can show the right progress, cost hint or icon.
//!
//! # The rule for commands
//!
//! A message is a command only when **every** word in it is either the
//! command's keyword or harmless filler ("please", "the", "my", "video",
//! "我的", "一下", …). A short imperative ("export", "please export the
//! video", "把它导出", "我的积分还有多少") is a command; a sentence that
//! merely *mentions* a keyword ("exported clips look dull, make it
//! brighter", "add end credits", "balance the colours", "导出的视频太暗了")
//! carries other content words and goes to the agent, which understands
//! sentences. Misrouting a command to chat costs one agent turn; misrouting
//! an instruction to a command silently drops what the user asked for, so
//! the rule leans towards chat. Negations ("don't export yet") and two
//! different commands in one message are chat for the same reason.
//!
//! Matching is case-insensitive and word-aware ("exported" is not
//! "export"), full-width characters (`９：１６`, `ＥＸＰＯＲＴ`) count as
//! their ASCII forms, and punctuation is ignored. Chinese has no spaces, so
//! it is segmented by longest match against the known keywords and filler;
//! any other character is a content word.
//!
//! # Attachments
//!
//! Files with no text, or with just an upload keyword ("upload", "上传"),
//! are an [`Intent::Upload`]. Files *with an instruction* ("animate this
//! photo…", even "export") are a chat turn: the shell uploads the files and
//! then sends the text, because that is what the user expects when they
//! attach a photo and say what to do with it. A lone command next to a file
//! is rare and ambiguous, and the agent can still act on it.

use crate::core::text::{is_word_char, Words};

/// Where a message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Export the project to MP4 (no agent turn).
    Export,
    /// Show the credit balance (no agent turn).
    Credits,
    /// Show the state as a track summary (no agent turn).
    State,
    /// Upload the attached files, or ask for files (no agent turn).
    Upload,
    /// Send the text to the agent (an agent turn).
    Chat(ChatIntent),
    /// Nothing was said and nothing attached: do nothing. (Sending an empty
    /// message would cost an agent turn for no reason.)
    Empty,
}

impl Intent {
    /// Every [`action_name`](Self::action_name): the `kind`s of the JS
    /// `HandleResult` union (the `.d.ts` is checked against this list).
    pub const ACTION_NAMES: [&'static str; 6] =
        ["export", "credits", "state", "upload", "chat", "empty"];

    /// Whether this intent runs an agent turn (an SSE stream).
    pub fn is_agent_turn(&self) -> bool {
        matches!(self, Intent::Chat(_))
    }

    /// A stable, machine-readable name for the action: `"export"`,
    /// `"credits"`, `"state"`, `"upload"`, `"chat"` or `"empty"` (for
    /// JavaScript and `--json` output).
    pub fn action_name(&self) -> &'static str {
        match self {
            Intent::Export => "export",
            Intent::Credits => "credits",
            Intent::State => "state",
            Intent::Upload => "upload",
            Intent::Chat(_) => "chat",
            Intent::Empty => "empty",
        }
    }

    /// The chat sub-intent's name ([`ChatIntent::name`]), for chat only.
    pub fn chat_intent_name(&self) -> Option<&'static str> {
        match self {
            Intent::Chat(chat) => Some(chat.name()),
            _ => None,
        }
    }
}

/// What kind of chat turn a message is. A hint for the shell: the message
/// itself is always sent to the agent unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatIntent {
    /// Generate a new clip (≈100 credits): "generate …", "animate this
    /// photo …", "生成…", or a camera direction sent with an attached file.
    Generate,
    /// Change the camera motion: "slow zoom in", "慢慢推近".
    CameraMove(CameraMove),
    /// Add or change background music, with the volume (0–100) if given:
    /// "add lo-fi BGM at 35%", "添加背景音乐 音量35%".
    AddMusic {
        /// Volume in percent, when the message says one.
        volume: Option<u8>,
    },
    /// Add or change a title / caption, with its text if one can be read
    /// off the message: "add title Urban Dreams", "加个标题 城市之梦".
    TextOverlay {
        /// The overlay text, when given.
        text: Option<String>,
    },
    /// Change the aspect ratio: "make it 9:16", "改成竖屏".
    AspectRatio(AspectRatio),
    /// Trim the clip, with the target length in whole seconds (rounded)
    /// when given: "trim to 10 s", "剪到10秒".
    Trim {
        /// The length in seconds, when given.
        seconds: Option<u32>,
    },
    /// Any other edit or question.
    Edit,
}

impl ChatIntent {
    /// A stable, machine-readable name: `"generate"`, `"camera_move"`,
    /// `"add_music"`, `"text_overlay"`, `"aspect_ratio"`, `"trim"` or
    /// `"edit"`.
    pub fn name(&self) -> &'static str {
        match self {
            ChatIntent::Generate => "generate",
            ChatIntent::CameraMove(_) => "camera_move",
            ChatIntent::AddMusic { .. } => "add_music",
            ChatIntent::TextOverlay { .. } => "text_overlay",
            ChatIntent::AspectRatio(_) => "aspect_ratio",
            ChatIntent::Trim { .. } => "trim",
            ChatIntent::Edit => "edit",
        }
    }
}

/// A camera motion the agent can apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CameraMove {
    /// Zoom, push or dolly in.
    ZoomIn,
    /// Zoom, pull or dolly out.
    ZoomOut,
    /// Pan to the left.
    PanLeft,
    /// Pan to the right.
    PanRight,
    /// Pan, direction unspecified.
    Pan,
    /// Tilt up.
    TiltUp,
    /// Tilt down.
    TiltDown,
    /// Tilt, direction unspecified.
    Tilt,
    /// Orbit / arc around the subject.
    Orbit,
    /// Follow the subject.
    Tracking,
    /// Crane, drone or aerial rise.
    Crane,
    /// Handheld, shaky camera.
    Handheld,
    /// A locked-off camera.
    Static,
}

/// The three output shapes the service renders (up to 1080x1920).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AspectRatio {
    /// 9:16, vertical (Reels, TikTok, Shorts).
    Portrait,
    /// 1:1, square.
    Square,
    /// 16:9, widescreen.
    Landscape,
}

impl AspectRatio {
    /// `"9:16"`, `"1:1"` or `"16:9"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AspectRatio::Portrait => "9:16",
            AspectRatio::Square => "1:1",
            AspectRatio::Landscape => "16:9",
        }
    }
}

/// Routes a message (and whether files are attached to it). See the module
/// documentation for the rules.
pub fn route(text: &str, has_attachments: bool) -> Intent {
    let tokens = tokenize(text);
    let words: Vec<&Token> = tokens.iter().filter(|t| t.kind != Kind::Punct).collect();
    if words.is_empty() {
        return if has_attachments {
            Intent::Upload
        } else {
            Intent::Empty
        };
    }
    let command = command_of(&words);
    match (command, has_attachments) {
        (Some(Command::Upload), _) => Intent::Upload,
        (Some(cmd), false) => match cmd {
            Command::Export => Intent::Export,
            Command::Credits => Intent::Credits,
            Command::State => Intent::State,
            Command::Upload => Intent::Upload,
        },
        // A lone command next to files: an edit, not a generation.
        _ => Intent::Chat(classify_chat(
            text,
            &tokens,
            has_attachments && command.is_none(),
        )),
    }
}

// ---- Tokens ---------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A run of letters and digits (with inner `'`, `-`, or `.` between
    /// digits): "what's", "lo-fi", "2.5", "9x16".
    Word,
    /// A CJK word from the dictionary, or a single CJK character.
    Cjk,
    /// Any other single character.
    Punct,
}

#[derive(Clone, Debug)]
struct Token {
    /// Normalised: full-width folded to ASCII, lower case.
    text: String,
    kind: Kind,
    /// Where the token ends in the original text (a byte offset).
    end: usize,
}

/// Folds full-width ASCII and typographic quotes to plain ASCII, so
/// `ＥＸＰＯＲＴ`, `９：１６` and `what’s` match like their ASCII forms.
pub(crate) fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '\u{2018}' | '\u{2019}' => '\'',
        '\u{201C}' | '\u{201D}' => '"',
        _ => c,
    }
}

/// CJK ideographs (and the iteration mark): the characters Chinese is
/// segmented over.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{3005}')
}

/// Every keyword is ASCII or Chinese, so ASCII lower case (plus the two
/// capitals that lower to ASCII) matches exactly what Unicode lower case
/// matched, without its tables (see [`crate::core::text::lower_for_match`]).
fn lower(c: char) -> char {
    crate::core::text::lower_for_match(c)
}

/// The Chinese words segmentation knows (with [`CJK_FILLER`]). Longest
/// match wins, so 下载 is one word and not 下 + 载.
const CJK_WORDS: Words = Words(concat!(
    // Commands.
    "导出|下载|发给我|发我|积分|余额|点数|额度|状态|轨道|时间线|时间轴|进度|上传|",
    // Counters and nouns that commands tolerate.
    "一|张|首|些|照片|图片|音乐|素材|歌|",
    // Chat vocabulary, so that e.g. 背景音乐 is not read as 背 + 景 + 音乐.
    "背景音乐|配乐|音轨|歌曲|音量|标题|大标题|字幕|文字|文案|片名|竖屏|竖版|横屏|横版|方形|",
    "正方形|方屏|比例|生成|动起来|",
    "制作|创作|剪到|剪成|裁剪|剪短|缩短|截取|只保留|保留|秒|分钟|推近|推进|拉近|拉远|拉开|",
    "平移|摇镜|左摇|右摇|上摇|下摇|",
    "环绕|跟拍|跟随|航拍|升降|手持|固定镜头|删除|去掉|去除|静音|关掉",
));

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text
        .char_indices()
        .map(|(i, c)| (i, fold_char(c)))
        .collect();
    let end_of = |idx: usize| chars.get(idx).map_or(text.len(), |&(i, _)| i);
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&(_, c)) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else if is_cjk(c) {
            let longest = CJK_WORDS
                .iter()
                .chain(CJK_FILLER.iter())
                .filter(|w| {
                    w.chars()
                        .enumerate()
                        .all(|(k, wc)| chars.get(i + k).is_some_and(|&(_, tc)| tc == wc))
                })
                .map(|w| w.chars().count())
                .max()
                .unwrap_or(1);
            let word: String = chars
                .iter()
                .skip(i)
                .take(longest)
                .map(|&(_, c)| c)
                .collect();
            tokens.push(Token {
                text: word,
                kind: Kind::Cjk,
                end: end_of(i + longest),
            });
            i += longest;
        } else if is_word_char(c) {
            let mut j = i + 1;
            let mut word = String::new();
            word.push(lower(c));
            while let Some(&(_, d)) = chars.get(j) {
                let next_alnum = chars
                    .get(j + 1)
                    .is_some_and(|&(_, n)| is_word_char(n) && !is_cjk(n));
                let joins = match d {
                    _ if is_cjk(d) => false,
                    _ if is_word_char(d) => true,
                    '\'' | '-' => next_alnum,
                    '.' => {
                        word.ends_with(|p: char| p.is_ascii_digit())
                            && chars.get(j + 1).is_some_and(|&(_, n)| n.is_ascii_digit())
                    }
                    _ => false,
                };
                if !joins {
                    break;
                }
                word.push(lower(d));
                j += 1;
            }
            tokens.push(Token {
                text: word,
                kind: Kind::Word,
                end: end_of(j),
            });
            i = j;
        } else {
            tokens.push(Token {
                text: c.to_string(),
                kind: Kind::Punct,
                end: end_of(i + 1),
            });
            i += 1;
        }
    }
    tokens
}

// ---- Commands -------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Export,
    Credits,
    State,
    Upload,
}

fn command_word(word: &str) -> Option<Command> {
    Some(match word {
        "export" | "download" | "send" | "导出" | "下载" | "发给我" | "发我" => {
            Command::Export
        }
        "credits" | "credit" | "balance" | "积分" | "余额" | "点数" | "额度" => {
            Command::Credits
        }
        "status" | "state" | "tracks" | "track" | "timeline" | "状态" | "轨道" | "时间线"
        | "时间轴" | "进度" => Command::State,
        "upload" | "上传" => Command::Upload,
        _ => return None,
    })
}

/// Chinese filler words: politeness, pronouns, particles, measure words.
/// They count as filler in a command and are words to the segmenter.
const CJK_FILLER: Words = Words(concat!(
    "把|它|这个|那个|这|视频|片子|成片|作品|文件|请|帮我|帮忙|帮|麻烦|给我|我|我的|的|还有|",
    "还剩|剩下|剩余|剩|多少|有|",
    "几|显示|查看|查询|查|看看|看|一下|下来|出来|来|现在|吧|呢|吗|了|啊|呀|嘛|你|能|可以|要|",
    "想|我要|我想|一个|个|",
    "当前|目前|是|什么|怎么样|如何|账户|账号|好|好的",
));

/// Words that do not change what a short command means.
const FILLER: Words = Words(concat!(
    "please|pls|plz|can|could|would|will|you|u|i|i'd|i'm|me|my|mine|our|",
    "your|us|the|a|an|it|this|that|now|ok|okay|thanks|thank|thx|just|go|",
    "ahead|and|to|for|of|do|does|did|have|has|how|many|much|what|what's|",
    "whats|is|are|am|left|remaining|check|show|see|view|get|let|let's|lets|",
    "hey|hi|yes|yeah|current|final|again|want|like|need|some|here|all|",
    "project|video|mp4|movie|film|file|result|version|in|on|tell|give|",
    "display|list|summary|where|account|there|quick|quickly|real|me?|",
    "finished|done",
));

/// Extra words a given command tolerates: what one uploads or exports.
fn tolerated_by(cmd: Command, word: &str) -> bool {
    match cmd {
        Command::Upload => matches!(
            word,
            "photo"
                | "photos"
                | "image"
                | "images"
                | "picture"
                | "pictures"
                | "pic"
                | "pics"
                | "files"
                | "clip"
                | "clips"
                | "videos"
                | "footage"
                | "song"
                | "music"
                | "audio"
                | "some"
                | "more"
                | "照片"
                | "图片"
                | "音乐"
                | "素材"
                | "一"
                | "张"
                | "首"
                | "些"
                | "歌"
        ),
        Command::Export => matches!(word, "clip" | "it?"),
        Command::Credits => matches!(word, "more" | "points"),
        Command::State => false,
    }
}

fn command_of(words: &[&Token]) -> Option<Command> {
    // A command is short; a long message is a sentence for the agent.
    const MAX_COMMAND_WORDS: usize = 8;
    if words.len() > MAX_COMMAND_WORDS {
        return None;
    }
    let mut found: Option<Command> = None;
    for w in words {
        if let Some(cmd) = command_word(&w.text) {
            if found.is_some_and(|f| f != cmd) {
                return None;
            }
            found = Some(cmd);
        }
    }
    let cmd = found?;
    // "send" alone is not "send me the video": require the recipient or
    // the object, so "send" in a sentence stays chat.
    let has = |s: &str| words.iter().any(|w| w.text == s);
    if has("send") && !(has("me") || has("it") || has("video") || has("mp4")) {
        return None;
    }
    let all_ok = words.iter().all(|w| {
        command_word(&w.text).is_some()
            || FILLER.contains(w.text.as_str())
            || CJK_FILLER.contains(w.text.as_str())
            || tolerated_by(cmd, &w.text)
    });
    all_ok.then_some(cmd)
}

// ---- Chat sub-classification ----------------------------------------------

struct Features<'a> {
    text: &'a str,
    tokens: &'a [Token],
    /// The whole message, folded and lower-cased, for Chinese substrings.
    norm: String,
}

impl<'a> Features<'a> {
    fn has_word(&self, words: Words) -> bool {
        self.tokens.iter().any(|t| words.contains(t.text.as_str()))
    }

    fn has_zh(&self, needles: Words) -> bool {
        needles
            .iter()
            .any(|n| crate::core::text::contains(&self.norm, n))
    }

    fn index_of(&self, words: Words) -> Option<usize> {
        self.tokens
            .iter()
            .position(|t| words.contains(t.text.as_str()))
    }

    /// The word after token `i`, skipping punctuation.
    fn word_after(&self, i: usize, skip: Words) -> Option<&str> {
        self.tokens
            .iter()
            .skip(i + 1)
            .filter(|t| t.kind != Kind::Punct)
            .map(|t| t.text.as_str())
            .find(|w| !skip.contains(w))
    }

    fn word_before(&self, i: usize) -> Option<&str> {
        self.tokens
            .get(..i)?
            .iter()
            .rev()
            .find(|t| t.kind != Kind::Punct)
            .map(|t| t.text.as_str())
    }

    fn has_phrase(&self, phrase: Words) -> bool {
        let words: Vec<&str> = self
            .tokens
            .iter()
            .filter(|t| t.kind != Kind::Punct)
            .map(|t| t.text.as_str())
            .collect();
        (0..words.len()).any(|i| {
            phrase
                .iter()
                .enumerate()
                .all(|(k, p)| words.get(i + k) == Some(&p))
        })
    }
}

const VIDEO_NOUNS: Words = Words(concat!(
    "video|videos|clip|clips|film|movie|animation|timelapse|time-lapse|",
    "footage|shot|scene|reel|trailer|teaser|cinematic",
));
const PHOTO_NOUNS: Words = Words("photo|photos|image|images|picture|pictures|pic|still");
const REMOVE_VERBS: Words = Words("remove|delete|mute|drop|without|no|lose");

fn classify_chat(text: &str, tokens: &[Token], has_attachments: bool) -> ChatIntent {
    let f = Features {
        text,
        tokens,
        norm: text.chars().map(|c| lower(fold_char(c))).collect(),
    };
    let aspect = aspect_ratio(&f);
    let overlay = text_overlay(&f);
    let music = music(&f);
    let trim = trim(&f);
    let camera = camera_move(&f);
    let specific = aspect.is_some() || overlay.is_some() || music.is_some() || trim.is_some();

    // Generation wins when the message asks for a new video, or when a
    // generation verb has no other object ("generate a cyberpunk city").
    // "create a title card" or "generate subtitles" are text overlays.
    let gen_verb = f.has_word(Words("generate|create|animate|produce"))
        || f.has_zh(Words(
            "生成|动起来|制作|创作|做一个视频|做个视频|做成视频|变成视频",
        ))
        || makes_a_video(&f);
    let video_object = f.has_word(VIDEO_NOUNS)
        || f.has_word(PHOTO_NOUNS)
        || f.has_zh(Words("视频|短片|照片|图片"));
    if gen_verb && (video_object || !specific) {
        return ChatIntent::Generate;
    }
    if let Some(ratio) = aspect {
        return ChatIntent::AspectRatio(ratio);
    }
    if let Some(text) = overlay {
        return ChatIntent::TextOverlay { text };
    }
    if let Some(volume) = music {
        return ChatIntent::AddMusic { volume };
    }
    if let Some(seconds) = trim {
        return ChatIntent::Trim { seconds };
    }
    // An instruction sent with a photo ("slow push in", "make it look
    // like a painting") means "make a video of this".
    if has_attachments {
        return ChatIntent::Generate;
    }
    if let Some(mv) = camera {
        return ChatIntent::CameraMove(mv);
    }
    ChatIntent::Edit
}

/// "make a (short) video …", "turn this photo into a clip": *make* and
/// *turn* are generation only with a video as their object, unlike "make
/// it brighter".
fn makes_a_video(f: &Features<'_>) -> bool {
    const ADJECTIVES: Words = Words("a|an|new|short|quick|another|little|nice|me|cinematic|second");
    f.tokens.iter().enumerate().any(|(i, t)| {
        matches!(t.text.as_str(), "make" | "into")
            && f.word_after(i, ADJECTIVES)
                .is_some_and(|w| VIDEO_NOUNS.contains(w))
    })
}

fn number(word: &str) -> Option<f64> {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    crate::core::number::parse_f64(word).filter(|n| n.is_finite())
}

fn ratio_of(w: f64, h: f64) -> Option<AspectRatio> {
    match (w as u32, h as u32) {
        _ if w.fract() != 0.0 || h.fract() != 0.0 => None,
        (9, 16) => Some(AspectRatio::Portrait),
        (1, 1) => Some(AspectRatio::Square),
        (16, 9) => Some(AspectRatio::Landscape),
        _ => None,
    }
}

fn aspect_ratio(f: &Features<'_>) -> Option<AspectRatio> {
    let t = f.tokens;
    for i in 0..t.len() {
        // "9x16" as one word.
        if let Some((a, b)) = t[i].text.split_once('x') {
            if let (Some(a), Some(b)) = (number(a), number(b)) {
                if let Some(r) = ratio_of(a, b) {
                    return Some(r);
                }
            }
        }
        // "9:16", "9 : 16", "9/16", "9 x 16", "9 by 16", "9比16".
        if let (Some(a), Some(sep), Some(b)) = (t.get(i), t.get(i + 1), t.get(i + 2)) {
            let separator = matches!(sep.text.as_str(), ":" | "/" | "×" | "x" | "by" | "比");
            if let (Some(a), true, Some(b)) = (number(&a.text), separator, number(&b.text)) {
                if let Some(r) = ratio_of(a, b) {
                    return Some(r);
                }
            }
        }
    }
    if f.has_zh(Words("竖屏|竖版|竖屏幕")) {
        return Some(AspectRatio::Portrait);
    }
    if f.has_zh(Words("横屏|横版")) {
        return Some(AspectRatio::Landscape);
    }
    if f.has_zh(Words("正方形|方形|方屏")) {
        return Some(AspectRatio::Square);
    }
    // Orientation words are only about the frame when they follow "it",
    // "to", "in"… ("make it vertical", "switch to landscape") or precede a
    // format word ("portrait mode"); "a landscape at dusk" is content and
    // "vertical pan" a camera move.
    const FORMAT: Words = Words("format|ratio|aspect|orientation|mode|crop|version|video|frame");
    const BEFORE: Words = Words("it|to|into|in|go|as|be|is|make");
    for (i, tok) in t.iter().enumerate() {
        let ratio = match tok.text.as_str() {
            "vertical" | "portrait" => AspectRatio::Portrait,
            "horizontal" | "landscape" | "widescreen" => AspectRatio::Landscape,
            "square" => AspectRatio::Square,
            _ => continue,
        };
        let after = f.word_after(i, Words(""));
        let before = f.word_before(i);
        if after.is_some_and(|w| FORMAT.contains(w)) || before.is_some_and(|w| BEFORE.contains(w)) {
            return Some(ratio);
        }
    }
    None
}

/// `Some(text)` when the message is about a title or caption, with the
/// text when it can be read off: quoted ("add title \"Urban Dreams\""), or
/// after the keyword when it follows "says/called/:" or an add verb.
fn text_overlay(f: &Features<'_>) -> Option<Option<String>> {
    const KEYWORDS: Words = Words(concat!(
        "title|titles|caption|captions|subtitle|subtitles|text|headline|标题|大标题|",
        "字幕|文字|文案|片名",
    ));
    let at = f.index_of(KEYWORDS)?;
    if let Some(quoted) = quoted_text(f.text) {
        return Some(Some(quoted));
    }
    let keyword = f.tokens.get(at)?;
    let adding = f.tokens.iter().take(at).any(|t| {
        matches!(
            t.text.as_str(),
            "add" | "put" | "insert" | "write" | "加" | "添加" | "加上" | "加个" | "写"
        ) || t.text.starts_with('加')
            || t.text == "添"
    }) || crate::core::text::contains(&f.norm, "加个")
        || crate::core::text::contains(&f.norm, "添加");
    let rest = f.text.get(keyword.end..).unwrap_or("");
    let rest = rest
        .split(['\n', ',', ';', '!', '?', '，', '；', '。', '！', '？'])
        .next()
        .unwrap_or("");
    let rest = crate::core::text::split_once(rest, ". ").map_or(rest, |(first, _)| first);
    let trimmed =
        rest.trim_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '：' | '-' | '—' | '.'));
    // ASCII lower case keeps byte offsets, so `l.len()` below indexes
    // `trimmed` too; every linker is ASCII or Chinese.
    let lower_rest = trimmed.to_ascii_lowercase();
    const LINKERS: Words = Words(concat!(
        "that says |which says |saying |says |reading |that reads |called |",
        "named |of |as |to |改为|改成|换成|写着|为|是|叫|：|:",
    ));
    let linker = LINKERS.iter().find(|l| lower_rest.starts_with(*l));
    let candidate = match linker {
        Some(l) => trimmed.get(l.len()..).unwrap_or("").trim(),
        None if adding => {
            const STOP: Words = Words(concat!(
                "at|on|in|to|for|with|from|into|onto|and|the|a|an|that|which|bigger|",
                "smaller|here|there",
            ));
            let first = lower_rest.split_whitespace().next().unwrap_or("");
            if STOP.contains(first) {
                ""
            } else {
                trimmed
            }
        }
        None => "",
    };
    let candidate =
        candidate.trim_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '：' | '.'));
    Some((!candidate.is_empty()).then(|| candidate.to_string()))
}

/// The first text in straight, curly, or CJK quotes.
fn quoted_text(text: &str) -> Option<String> {
    const PAIRS: &[(char, char)] = &[
        ('"', '"'),
        ('\u{201C}', '\u{201D}'),
        ('\u{300C}', '\u{300D}'),
        ('\u{300E}', '\u{300F}'),
        ('\u{300A}', '\u{300B}'),
        ('\u{FF02}', '\u{FF02}'),
        ('\'', '\''),
    ];
    PAIRS.iter().find_map(|&(open, close)| {
        let start = text.find(open)? + open.len_utf8();
        // A single quote only opens a quote at a word start, not in "it's".
        let before = text.get(..start - open.len_utf8())?;
        if open == '\'' && before.chars().last().is_some_and(is_word_char) {
            return None;
        }
        let after = text.get(start..)?;
        let inner = after.get(..after.find(close)?)?.trim();
        (!inner.is_empty()).then(|| inner.to_string())
    })
}

/// `Some(volume)` when the message adds or changes background music.
fn music(f: &Features<'_>) -> Option<Option<u8>> {
    let english = f.has_word(Words(
        "music|bgm|soundtrack|song|lo-fi|lofi|volume|beat|beats",
    )) || f.has_phrase(Words("audio|track"));
    let chinese = f.has_zh(Words("音乐|配乐|音轨|歌|音量|bgm"));
    if !(english || chinese) {
        return None;
    }
    // "remove the music", "去掉背景音乐" is an edit, not adding music.
    if f.has_word(REMOVE_VERBS) || f.has_zh(Words("删除|去掉|去除|静音|关掉|不要")) {
        return None;
    }
    Some(volume(f))
}

fn volume(f: &Features<'_>) -> Option<u8> {
    let t = f.tokens;
    let pct = |n: f64| (0.0..=100.0).contains(&n).then(|| n.round() as u8);
    for i in 0..t.len() {
        if let Some(n) = number(&t[i].text) {
            let next = t.get(i + 1).map(|t| t.text.as_str());
            if matches!(next, Some("%" | "percent" | "％")) {
                return pct(n);
            }
        }
        if matches!(t[i].text.as_str(), "volume" | "音量") {
            let n = t.iter().skip(i + 1).take(4).find_map(|t| number(&t.text));
            if let Some(n) = n {
                return pct(n);
            }
        }
    }
    None
}

/// Seconds in the message: "10 s", "10s", "1.5 seconds", "2 min", "10秒",
/// "10-second".
fn duration_seconds(f: &Features<'_>) -> Option<u32> {
    let t = f.tokens;
    let unit = |u: &str| -> Option<f64> {
        match u {
            "s" | "sec" | "secs" | "second" | "seconds" | "秒" => Some(1.0),
            "m" | "min" | "mins" | "minute" | "minutes" | "分钟" => Some(60.0),
            _ => None,
        }
    };
    let to_secs = |n: f64, mult: f64| {
        let s = (n * mult).round();
        (s >= 0.0 && s <= f64::from(u32::MAX)).then_some(s as u32)
    };
    for i in 0..t.len() {
        let word = t[i].text.as_str();
        if let Some(n) = number(word) {
            if let Some(mult) = t.get(i + 1).and_then(|u| unit(&u.text)) {
                return to_secs(n, mult);
            }
        }
        // "10s", "1.5sec", "10-second".
        let split = word.find(|c: char| !(c.is_ascii_digit() || c == '.'));
        if let Some(at) = split.filter(|&at| at > 0) {
            let (n, u) = word.split_at_checked(at).unwrap_or((word, ""));
            if let (Some(n), Some(mult)) = (number(n), unit(u.trim_start_matches('-'))) {
                return to_secs(n, mult);
            }
        }
    }
    None
}

/// `Some(seconds)` when the message asks to trim.
fn trim(f: &Features<'_>) -> Option<Option<u32>> {
    let seconds = duration_seconds(f);
    let trim_verb = f.has_word(Words("trim|shorten|shorter"))
        || f.has_phrase(Words("cut|down"))
        || f.has_zh(Words("剪到|剪成|裁剪|剪短|缩短|截取|只保留|保留前"));
    let length_talk = seconds.is_some()
        && (f.has_word(Words("cut|keep|long|length|duration|make"))
            || f.has_zh(Words("剪|时长|长度|保留")));
    (trim_verb || length_talk).then_some(seconds)
}

fn camera_move(f: &Features<'_>) -> Option<CameraMove> {
    use CameraMove::*;
    let t = f.tokens;
    const DIRS: Words = Words("the|to|slowly|gently|a|bit|little|camera");
    for (i, tok) in t.iter().enumerate() {
        let next = f.word_after(i, DIRS);
        let mv = match tok.text.as_str() {
            "zoom" | "zooming" | "zooms" => match next {
                Some("out" | "away" | "back") => ZoomOut,
                _ => ZoomIn,
            },
            "push" | "dolly" | "pushing" => match next {
                Some("in" | "into" | "forward" | "closer") => ZoomIn,
                Some("out" | "back" | "away") => ZoomOut,
                _ if tok.text == "dolly" => ZoomIn,
                _ => continue,
            },
            "pull" | "pulling" => match next {
                Some("back" | "out" | "away") => ZoomOut,
                _ => continue,
            },
            "pan" | "panning" | "pans" => match next {
                Some("left") => PanLeft,
                Some("right") => PanRight,
                _ => Pan,
            },
            "tilt" | "tilting" | "tilts" => match next {
                Some("up" | "upward" | "upwards") => TiltUp,
                Some("down" | "downward" | "downwards") => TiltDown,
                _ => Tilt,
            },
            "orbit" | "orbiting" | "arc" | "360" => Orbit,
            "tracking" | "follow" | "follows" | "following" => Tracking,
            "crane" | "drone" | "aerial" | "boom" => Crane,
            "handheld" | "shaky" | "hand-held" => Handheld,
            "static" | "locked-off" | "tripod" => Static,
            _ => continue,
        };
        return Some(mv);
    }
    let zh: &[(Words, CameraMove)] = &[
        (Words("推近|推进|拉近|放大|靠近"), ZoomIn),
        (Words("拉远|拉开|后拉"), ZoomOut),
        (Words("左摇|向左摇|向左平移|左移|往左"), PanLeft),
        (Words("右摇|向右摇|向右平移|右移|往右"), PanRight),
        (Words("上摇|向上摇|仰拍"), TiltUp),
        (Words("下摇|向下摇|俯拍"), TiltDown),
        (Words("平移|摇镜"), Pan),
        (Words("环绕|绕着|旋转镜头"), Orbit),
        (Words("跟拍|跟随|跟踪"), Tracking),
        (Words("航拍|升降|升起|无人机"), Crane),
        (Words("手持|晃动"), Handheld),
        (Words("固定镜头|静止镜头"), Static),
    ];
    zh.iter()
        .find(|(needles, _)| f.has_zh(*needles))
        .map(|&(_, mv)| mv)
}

#[cfg(test)]
mod tests {
    use super::AspectRatio::{Landscape, Portrait, Square};
    use super::CameraMove::{Orbit, Pan, PanLeft, TiltUp, Tracking, ZoomIn, ZoomOut};
    use super::ChatIntent::{AddMusic, AspectRatio, CameraMove, Edit, Generate, TextOverlay, Trim};
    use super::*;

    fn chat(c: ChatIntent) -> Intent {
        Intent::Chat(c)
    }

    fn overlay(text: &str) -> Intent {
        chat(TextOverlay {
            text: Some(text.to_string()),
        })
    }

    /// The non-ASCII cases that used to rest on `std`'s Unicode tables
    /// (lower case, `is_alphanumeric`) and are now handled by hand.
    #[test]
    fn non_ascii_letters_and_symbols() {
        let cases: Vec<(&str, Intent)> = vec![
            // İ lowers to i, as with Unicode lower case.
            ("CREDİTS", Intent::Credits),
            // Emoji, typographic and CJK punctuation are not words.
            ("export 🎉", Intent::Export),
            ("export…", Intent::Export),
            ("“export”", Intent::Export),
            ("【导出】", Intent::Export),
            ("导出。", Intent::Export),
            ("make it 9 × 16", chat(AspectRatio(Portrait))),
            // Accented and other letters are part of the word.
            ("exporté", chat(Edit)),
            ("ÉXPORT", chat(Edit)),
            ("export ça", chat(Edit)),
            ("export ¹", chat(Edit)),
        ];
        for (text, want) in cases {
            assert_eq!(route(text, false), want, "{text}");
        }
    }

    #[test]
    fn routing_table() {
        let cases: Vec<(&str, bool, Intent)> = vec![
            // Export.
            ("export", false, Intent::Export),
            ("Export!", false, Intent::Export),
            ("EXPORT", false, Intent::Export),
            ("ＥＸＰＯＲＴ", false, Intent::Export),
            ("please export the video", false, Intent::Export),
            ("can you export it?", false, Intent::Export),
            ("download", false, Intent::Export),
            ("download the final version", false, Intent::Export),
            ("send me the video", false, Intent::Export),
            ("Send me the MP4 please", false, Intent::Export),
            ("导出", false, Intent::Export),
            ("把它导出", false, Intent::Export),
            ("帮我导出视频吧", false, Intent::Export),
            ("下载", false, Intent::Export),
            ("把视频下载下来", false, Intent::Export),
            ("发给我", false, Intent::Export),
            // Credits.
            ("credits", false, Intent::Credits),
            ("how many credits do I have left?", false, Intent::Credits),
            ("balance", false, Intent::Credits),
            ("check my balance", false, Intent::Credits),
            ("积分", false, Intent::Credits),
            ("我的积分还有多少", false, Intent::Credits),
            ("余额", false, Intent::Credits),
            ("查询余额", false, Intent::Credits),
            // State.
            ("status", false, Intent::State),
            ("what's the status?", false, Intent::State),
            ("What’s the status", false, Intent::State),
            ("show tracks", false, Intent::State),
            ("show me the timeline", false, Intent::State),
            ("状态", false, Intent::State),
            ("显示状态", false, Intent::State),
            ("查看时间线", false, Intent::State),
            // Upload.
            ("upload", false, Intent::Upload),
            ("upload a photo", false, Intent::Upload),
            ("上传", false, Intent::Upload),
            ("上传一张照片", false, Intent::Upload),
            ("", true, Intent::Upload),
            ("   ", true, Intent::Upload),
            ("upload", true, Intent::Upload),
            ("上传", true, Intent::Upload),
            // Nothing.
            ("", false, Intent::Empty),
            (" ?! ", false, Intent::Empty),
            // Keywords inside sentences are chat.
            (
                "exported clips look dull, make it brighter",
                false,
                chat(Edit),
            ),
            ("add end credits", false, chat(Edit)),
            ("roll the credits at the end", false, chat(Edit)),
            ("balance the colours", false, chat(Edit)),
            ("don't export yet", false, chat(Edit)),
            ("export and show credits", false, chat(Edit)),
            ("send it to my friend Bob", false, chat(Edit)),
            ("send", false, chat(Edit)),
            ("导出的视频太暗了，调亮一点", false, chat(Edit)),
            ("export it in 9:16", false, chat(AspectRatio(Portrait))),
            // Attachments with an instruction are chat turns.
            (
                "animate this photo into a cinematic video clip with camera movement",
                true,
                chat(Generate),
            ),
            ("slow zoom in", true, chat(Generate)),
            ("export", true, chat(Edit)),
            (
                "use this as background music at 20%",
                true,
                chat(AddMusic { volume: Some(20) }),
            ),
            // Generate.
            ("generate a cyberpunk city at night", false, chat(Generate)),
            (
                "Create a 10 second clip of waves crashing",
                false,
                chat(Generate),
            ),
            ("make a video of a cat surfing", false, chat(Generate)),
            ("生成一段城市延时视频", false, chat(Generate)),
            ("让这张照片动起来", false, chat(Generate)),
            // Camera moves.
            ("slow zoom in", false, chat(CameraMove(ZoomIn))),
            ("zoom out a bit", false, chat(CameraMove(ZoomOut))),
            (
                "pull back to reveal the city",
                false,
                chat(CameraMove(ZoomOut)),
            ),
            ("pan to the left", false, chat(CameraMove(PanLeft))),
            ("tilt up towards the sky", false, chat(CameraMove(TiltUp))),
            ("orbit around the statue", false, chat(CameraMove(Orbit))),
            ("slow vertical pan", false, chat(CameraMove(Pan))),
            ("慢慢推近", false, chat(CameraMove(ZoomIn))),
            ("镜头向左平移", false, chat(CameraMove(PanLeft))),
            ("改成跟拍", false, chat(CameraMove(Tracking))),
            // Music.
            (
                "add lo-fi BGM at 35%",
                false,
                chat(AddMusic { volume: Some(35) }),
            ),
            (
                "add some upbeat music",
                false,
                chat(AddMusic { volume: None }),
            ),
            (
                "set the music volume to 60",
                false,
                chat(AddMusic { volume: Some(60) }),
            ),
            ("music at 150%", false, chat(AddMusic { volume: None })),
            (
                "添加背景音乐 音量35%",
                false,
                chat(AddMusic { volume: Some(35) }),
            ),
            (
                "加一段配乐，音量 ３０％",
                false,
                chat(AddMusic { volume: Some(30) }),
            ),
            ("remove the music", false, chat(Edit)),
            ("去掉背景音乐", false, chat(Edit)),
            // Text overlays.
            ("add title Urban Dreams", false, overlay("Urban Dreams")),
            (
                "Add a title that says Hello World!",
                false,
                overlay("Hello World"),
            ),
            ("add caption “Summer 2024”", false, overlay("Summer 2024")),
            (
                "change the title to Night Drive",
                false,
                overlay("Night Drive"),
            ),
            (
                "make the title bigger",
                false,
                chat(TextOverlay { text: None }),
            ),
            (
                "add a title at the beginning",
                false,
                chat(TextOverlay { text: None }),
            ),
            (
                "create a title card",
                false,
                chat(TextOverlay { text: None }),
            ),
            (
                "generate subtitles",
                false,
                chat(TextOverlay { text: None }),
            ),
            ("加个标题 城市之梦", false, overlay("城市之梦")),
            ("添加字幕「你好世界」", false, overlay("你好世界")),
            ("标题改为：夏日回忆", false, overlay("夏日回忆")),
            // Aspect ratio.
            ("改成9:16", false, chat(AspectRatio(Portrait))),
            ("make it 16:9", false, chat(AspectRatio(Landscape))),
            ("1:1 please", false, chat(AspectRatio(Square))),
            ("９：１６", false, chat(AspectRatio(Portrait))),
            (
                "reframe to 9x16 for TikTok",
                false,
                chat(AspectRatio(Portrait)),
            ),
            ("make it vertical", false, chat(AspectRatio(Portrait))),
            (
                "switch to landscape mode",
                false,
                chat(AspectRatio(Landscape)),
            ),
            ("改成竖屏", false, chat(AspectRatio(Portrait))),
            ("做成正方形", false, chat(AspectRatio(Square))),
            ("a beautiful landscape at dusk", false, chat(Edit)),
            ("start at 1:10", false, chat(Edit)),
            // Trim.
            (
                "trim to 10 seconds",
                false,
                chat(Trim { seconds: Some(10) }),
            ),
            ("cut it down to 8s", false, chat(Trim { seconds: Some(8) })),
            (
                "make it 15 seconds long",
                false,
                chat(Trim { seconds: Some(15) }),
            ),
            ("shorten it", false, chat(Trim { seconds: None })),
            ("trim to 2.5 s", false, chat(Trim { seconds: Some(3) })),
            ("剪到10秒", false, chat(Trim { seconds: Some(10) })),
            ("只保留前5秒", false, chat(Trim { seconds: Some(5) })),
            // Other edits.
            ("make it brighter", false, chat(Edit)),
            ("把颜色调暖一点", false, chat(Edit)),
        ];
        let mut failures = Vec::new();
        for (text, attached, want) in &cases {
            let got = route(text, *attached);
            if &got != want {
                failures.push(format!(
                    "{text:?} (attached: {attached}): got {got:?}, want {want:?}"
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} rows failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
        assert!(cases.len() >= 40);
    }

    #[test]
    fn only_chat_runs_an_agent_turn() {
        assert!(route("make it brighter", false).is_agent_turn());
        for text in ["export", "credits", "status", "upload", ""] {
            assert!(!route(text, false).is_agent_turn(), "{text}");
        }
    }

    #[test]
    fn names_are_stable() {
        let cases = [
            ("export", "export", None),
            ("", "empty", None),
            ("add title X", "chat", Some("text_overlay")),
            ("9:16", "chat", Some("aspect_ratio")),
            ("slow zoom in", "chat", Some("camera_move")),
        ];
        for (text, action, chat_name) in cases {
            let intent = route(text, false);
            assert_eq!(intent.action_name(), action, "{text}");
            assert_eq!(intent.chat_intent_name(), chat_name, "{text}");
        }
    }

    #[test]
    fn long_messages_are_never_commands() {
        let text = "please please please export the video now for me ok";
        assert_eq!(route(text, false), chat(Edit));
    }

    #[test]
    fn tokenizer_keeps_original_byte_offsets() {
        let text = "加个标题 Ｕｒｂａｎ Dreams";
        for tok in tokenize(text) {
            assert!(text.get(..tok.end).is_some(), "{tok:?}");
        }
        let words: Vec<String> = tokenize("What’s 9:16 lo-fi 2.5s 背景音乐")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(
            words,
            ["what's", "9", ":", "16", "lo-fi", "2.5s", "背景音乐"]
        );
    }

    #[test]
    fn aspect_ratio_names() {
        assert_eq!(Portrait.as_str(), "9:16");
        assert_eq!(Square.as_str(), "1:1");
        assert_eq!(Landscape.as_str(), "16:9");
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            /// Arbitrary text (any script, control characters, full-width)
            /// never panics, and only empty text is `Empty`.
            #[test]
            fn route_never_panics(text in "\\PC{0,60}", attached: bool) {
                let intent = route(&text, attached);
                if intent == Intent::Empty {
                    prop_assert!(!attached);
                }
            }

            /// Case never changes the route of ASCII text.
            #[test]
            fn routing_ignores_case(text in "[a-zA-Z0-9 :%]{0,30}") {
                prop_assert_eq!(route(&text, false), route(&text.to_uppercase(), false));
            }
        }
    }
}
