//! The scripted agent's understanding of a message: a pure, deterministic parser of the
//! documented prompts (English and Chinese), and the texts it answers with.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Camera {
    ZoomIn,
    ZoomOut,
    PanLeft,
    PanRight,
    Orbit,
    Static,
}

impl Camera {
    pub const MOVES: [Camera; 5] = [
        Camera::ZoomIn,
        Camera::ZoomOut,
        Camera::PanLeft,
        Camera::PanRight,
        Camera::Orbit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Camera::ZoomIn => "zoom_in",
            Camera::ZoomOut => "zoom_out",
            Camera::PanLeft => "pan_left",
            Camera::PanRight => "pan_right",
            Camera::Orbit => "orbit",
            Camera::Static => "static",
        }
    }

    pub fn human(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Camera::ZoomIn, false) => "a slow zoom in",
            (Camera::ZoomOut, false) => "a slow zoom out",
            (Camera::PanLeft, false) => "a pan to the left",
            (Camera::PanRight, false) => "a pan to the right",
            (Camera::Orbit, false) => "an orbit",
            (Camera::Static, false) => "a static shot",
            (Camera::ZoomIn, true) => "缓慢推近",
            (Camera::ZoomOut, true) => "缓慢拉远",
            (Camera::PanLeft, true) => "向左平移",
            (Camera::PanRight, true) => "向右平移",
            (Camera::Orbit, true) => "环绕运镜",
            (Camera::Static, true) => "固定镜头",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aspect {
    Portrait,
    Square,
    Landscape,
}

impl Aspect {
    pub fn dims(self) -> (u32, u32) {
        match self {
            Aspect::Portrait => (1080, 1920),
            Aspect::Square => (1080, 1080),
            Aspect::Landscape => (1920, 1080),
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Aspect::Portrait => "9:16",
            Aspect::Square => "1:1",
            Aspect::Landscape => "16:9",
        }
    }
}

/// Everything the scripted agent recognised in one message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Intent {
    /// `echo:<text>`: reply with `<text>` verbatim (debug trigger, free).
    pub echo: Option<String>,
    /// `fail:<text>`: start, then fail mid-stream with an error event (debug trigger).
    pub fail: Option<String>,
    pub generate: bool,
    pub camera: Option<Camera>,
    /// "with camera movement" without naming one.
    pub camera_generic: bool,
    /// BGM requested, with its volume (0–100).
    pub bgm: Option<u8>,
    pub title: Option<String>,
    pub aspect: Option<Aspect>,
    pub trim_s: Option<f64>,
    /// A clip length asked for in a generation ("a 10-second clip").
    pub duration_s: Option<f64>,
    /// 1-based index of the upload the message is about ("photo 2").
    pub target: Option<usize>,
}

impl Intent {
    pub fn has_edit(&self) -> bool {
        self.camera.is_some()
            || self.bgm.is_some()
            || self.title.is_some()
            || self.aspect.is_some()
            || self.trim_s.is_some()
    }
}

fn any(hay: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| hay.contains(n))
}

/// Parses one user message.
pub fn parse(msg: &str) -> Intent {
    let mut it = Intent::default();
    let trimmed = msg.trim_start();
    if let Some(rest) = strip_prefix_ci(trimmed, "echo:") {
        it.echo = Some(rest.strip_prefix(' ').unwrap_or(rest).to_string());
        return it;
    }
    if let Some(rest) = strip_prefix_ci(trimmed, "fail:") {
        it.fail = Some(rest.trim().to_string());
        return it;
    }
    // ASCII lower-casing keeps byte offsets, so positions map back onto `msg`.
    let l = msg.to_ascii_lowercase();

    it.title = parse_title(msg, &l);
    // Keyword detection ignores the title text itself ("add title Create Now").
    let l_scan = match &it.title {
        Some(t) => l.replacen(&t.to_ascii_lowercase(), " ", 1),
        None => l.clone(),
    };
    let l = l_scan.as_str();

    it.camera = if any(
        l,
        &[
            "zoom in", "zoom-in", "zoom_in", "zooms in", "push in", "推近", "放大",
        ],
    ) {
        Some(Camera::ZoomIn)
    } else if any(
        l,
        &[
            "zoom out",
            "zoom-out",
            "zoom_out",
            "zooms out",
            "pull out",
            "pull back",
            "拉远",
            "缩小",
        ],
    ) {
        Some(Camera::ZoomOut)
    } else if any(
        l,
        &["pan left", "pan to the left", "pans left", "左移", "向左"],
    ) {
        Some(Camera::PanLeft)
    } else if any(
        l,
        &[
            "pan right",
            "pan to the right",
            "pans right",
            "右移",
            "向右",
        ],
    ) {
        Some(Camera::PanRight)
    } else if any(l, &["orbit", "环绕", "360"]) {
        Some(Camera::Orbit)
    } else if any(
        l,
        &[
            "static shot",
            "static camera",
            "no camera movement",
            "固定镜头",
        ],
    ) {
        Some(Camera::Static)
    } else {
        None
    };
    it.camera_generic = it.camera.is_none()
        && any(
            l,
            &[
                "camera movement",
                "camera motion",
                "camera move",
                "运镜",
                "镜头运动",
                "镜头移动",
            ],
        );

    it.generate = any(
        l,
        &[
            "generate",
            "animate",
            "create",
            "make a video",
            "make a clip",
            "make me a",
            "make it move",
            "turn this",
            "turn it",
            "turn the",
            "bring",
            "into a video",
            "into a cinematic",
            "video of",
            "clip of",
            "text to video",
            "生成",
            "制作",
            "动起来",
            "做一个",
            "做个",
            "变成视频",
            "变成动态",
        ],
    );

    if any(
        l,
        &[
            "bgm",
            "background music",
            "music",
            "soundtrack",
            "lo-fi",
            "lofi",
            "背景音乐",
            "音乐",
            "配乐",
        ],
    ) {
        it.bgm = Some(parse_volume(l).unwrap_or(30));
    }

    it.aspect = if any(
        l,
        &[
            "9:16", "9：16", "9x16", "vertical", "portrait", "竖屏", "竖版",
        ],
    ) {
        Some(Aspect::Portrait)
    } else if any(
        l,
        &[
            "16:9",
            "16：9",
            "16x9",
            "landscape",
            "horizontal",
            "widescreen",
            "横屏",
            "横版",
        ],
    ) {
        Some(Aspect::Landscape)
    } else if any(l, &["1:1", "1：1", "square", "正方形", "方形"]) {
        Some(Aspect::Square)
    } else {
        None
    };

    let secs = parse_seconds(l);
    if any(
        l,
        &[
            "trim", "cut ", "cut it", "shorten", "shorter", "剪", "裁", "缩短",
        ],
    ) {
        it.trim_s = secs;
    } else {
        it.duration_s = secs;
    }
    it.target = parse_target(l);
    it
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// `35%`, `35 %`, `volume 35`, `音量35`, `音量 35%`.
fn parse_volume(l: &str) -> Option<u8> {
    let b = l.as_bytes();
    for (i, _) in l.match_indices(['%']).chain(l.match_indices("％")) {
        let mut j = i;
        while j > 0 && b[j - 1] == b' ' {
            j -= 1;
        }
        let end = j;
        while j > 0 && b[j - 1].is_ascii_digit() {
            j -= 1;
        }
        if j < end {
            if let Ok(v) = l[j..end].parse::<u32>() {
                return Some(v.min(100) as u8);
            }
        }
    }
    for key in ["volume", "音量"] {
        if let Some(p) = l.find(key) {
            let rest = &l[p + key.len()..];
            let digits: String = rest
                .trim_start_matches(|c: char| {
                    !c.is_ascii_digit() && (c.is_whitespace() || ":：=到为至to".contains(c))
                })
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if let Ok(v) = digits.parse::<u32>() {
                return Some(v.min(100) as u8);
            }
        }
    }
    None
}

/// The first number followed by a seconds unit: `5s`, `5 sec`, `10-second`, `8 seconds`, `5秒`.
fn parse_seconds(l: &str) -> Option<f64> {
    let b = l.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let num = &l[start..i];
            let mut rest = &l[i..];
            rest = rest.trim_start_matches([' ', '-']);
            let unit = ["seconds", "second", "secs", "sec", "s", "秒"]
                .iter()
                .find(|u| rest.starts_with(*u));
            if let Some(u) = unit {
                let after = &rest[u.len()..];
                let boundary = after
                    .chars()
                    .next()
                    .map(|c| !c.is_ascii_alphanumeric())
                    .unwrap_or(true);
                if boundary || *u == "秒" {
                    if let Ok(v) = num.parse::<f64>() {
                        if v > 0.0 && v.is_finite() {
                            return Some(v.clamp(1.0, 60.0));
                        }
                    }
                }
            }
        } else {
            i += 1;
        }
    }
    None
}

fn cn_digit(c: char) -> Option<usize> {
    "一二三四五六七八九十"
        .chars()
        .position(|d| d == c)
        .map(|p| p + 1)
}

/// "photo 2", "image #3", "the second photo", "第2张", "第二张", "图片2".
fn parse_target(l: &str) -> Option<usize> {
    let nouns = [
        "photo", "image", "picture", "pic", "clip", "file", "video", "upload",
    ];
    for noun in nouns {
        for (p, _) in l.match_indices(noun) {
            let mut rest = &l[p + noun.len()..];
            rest = rest.trim_start_matches(['s', ' ', '#', '№']);
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(n) = digits.parse::<usize>() {
                if (1..=99).contains(&n) {
                    return Some(n);
                }
            }
        }
    }
    let ordinals = [
        ("first", 1),
        ("second", 2),
        ("third", 3),
        ("fourth", 4),
        ("fifth", 5),
        ("sixth", 6),
        ("seventh", 7),
        ("eighth", 8),
        ("ninth", 9),
        ("tenth", 10),
    ];
    for (word, n) in ordinals {
        for (p, _) in l.match_indices(word) {
            let rest = l[p + word.len()..].trim_start();
            if nouns.iter().any(|noun| rest.starts_with(noun)) {
                return Some(n);
            }
        }
    }
    if let Some(p) = l.find('第') {
        let rest = &l[p + '第'.len_utf8()..];
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(n) = digits.parse::<usize>() {
            return Some(n);
        }
        if let Some(n) = rest.chars().next().and_then(cn_digit) {
            return Some(n);
        }
    }
    for key in ["图片", "照片", "图", "视频"] {
        if let Some(p) = l.find(key) {
            let rest = l[p + key.len()..].trim_start();
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(n) = digits.parse::<usize>() {
                return Some(n);
            }
        }
    }
    None
}

/// The title or text overlay requested, with its original case.
fn parse_title(msg: &str, l: &str) -> Option<String> {
    let en = [
        "text overlay",
        "overlay text",
        "title",
        "caption",
        "headline",
    ];
    let zh = ["添加标题", "加标题", "加个标题", "标题", "字幕", "文字"];
    let mut found: Option<usize> = None;
    for k in en {
        let mut search_from = 0;
        while let Some(rel) = l[search_from..].find(k) {
            let p = search_from + rel;
            // Skip "subtitle(s)".
            let prev_ok = p == 0 || !l.as_bytes()[p - 1].is_ascii_alphabetic();
            if prev_ok {
                found = Some(p + k.len());
                break;
            }
            search_from = p + k.len();
        }
        if found.is_some() {
            break;
        }
    }
    if found.is_none() {
        for k in zh {
            if let Some(p) = l.find(k) {
                found = Some(p + k.len());
                break;
            }
        }
    }
    let mut rest = &msg[found?..];
    // Connectors between the keyword and the text.
    loop {
        let before = rest;
        rest = rest.trim_start_matches([' ', ':', '：', '\t']);
        for c in [
            "to ",
            "saying ",
            "that says ",
            "reading ",
            "with ",
            "of ",
            "is ",
            "as ",
            "改成",
            "改为",
            "为",
            "是",
            "叫",
        ] {
            if rest.len() >= c.len()
                && rest.is_char_boundary(c.len())
                && rest[..c.len()].eq_ignore_ascii_case(c)
            {
                rest = &rest[c.len()..];
            }
        }
        if rest == before {
            break;
        }
    }
    let quotes = [
        ('"', '"'),
        ('“', '”'),
        ('「', '」'),
        ('《', '》'),
        ('\'', '\''),
        ('『', '』'),
    ];
    for (open, close) in quotes {
        if let Some(inner) = rest.strip_prefix(open) {
            let end = inner.find(close).unwrap_or(inner.len());
            let t = inner[..end].trim();
            return (!t.is_empty()).then(|| t.to_string());
        }
    }
    // Unquoted: up to a clause break.
    let stops = [
        ",",
        ";",
        "，",
        "。",
        "；",
        "!",
        "！",
        "?",
        "？",
        "\n",
        " and add",
        " and set",
        " and make",
        " and change",
        " and trim",
        " with bgm",
        " with music",
        " with lo",
        " at the ",
        "、",
        "并",
        "然后",
        "再",
    ];
    let mut end = rest.len();
    for s in stops {
        if let Some(p) = rest.find(s) {
            end = end.min(p);
        }
    }
    let t = rest[..end].trim().trim_end_matches('.').trim();
    (!t.is_empty() && t.chars().count() <= 200).then(|| t.to_string())
}

/// The texts the agent answers with. They speak in GUI terms, like the real agent.
pub mod texts {
    use super::{Aspect, Camera};

    pub fn clip_ready(zh: bool) -> String {
        if zh {
            "您的视频片段已生成！点击导出按钮即可下载视频。".into()
        } else {
            "Your clip is ready! Click the Export button to download your video.".into()
        }
    }

    /// The first stage's reply when the prompt asked for an aspect ratio.
    pub fn clip_ready_in(zh: bool, a: Aspect) -> String {
        let (w, h) = a.dims();
        if zh {
            format!(
                "您的视频片段已生成，按您的要求为{}（{w}x{h}）！点击导出按钮即可下载视频。",
                a.label()
            )
        } else {
            format!(
                "Your clip is ready, in {} ({w}x{h}) as you asked! Click the Export button to download your video.",
                a.label()
            )
        }
    }

    pub fn enhanced(zh: bool, volume: u8, title: &str) -> String {
        if zh {
            format!("我还为视频添加了Lo-fi背景音乐（音量{volume}%）和标题“{title}”。可以在时间线中预览，满意后点击导出按钮。")
        } else {
            format!("I also added lo-fi background music at {volume}% and the title \"{title}\". Preview it in the timeline, then click the Export button when you're happy.")
        }
    }

    pub fn thought_generate(camera: Camera, from_upload: bool) -> String {
        if from_upload {
            format!(
                "The user wants the uploaded image animated with {}. I'll call generate_video.",
                camera.human(false)
            )
        } else {
            format!(
                "The user wants a clip generated from a text prompt with {}. I'll call generate_video.",
                camera.human(false)
            )
        }
    }

    pub fn thought_enhance() -> String {
        "The raw clip is done. Adding background music and a title as the second stage.".into()
    }

    pub fn thought_edit() -> String {
        "The user wants to edit the timeline. I'll call edit_timeline.".into()
    }

    pub fn edit_done(zh: bool, parts: &[String]) -> String {
        if zh {
            format!(
                "已完成：{}。可以打开时间线面板预览，然后点击导出按钮。",
                parts.join("，")
            )
        } else {
            format!(
                "Done: {}. Open the timeline panel to preview, then click the Export button.",
                parts.join(", ")
            )
        }
    }

    pub fn part_bgm(zh: bool, volume: u8) -> String {
        if zh {
            format!("添加了Lo-fi背景音乐，音量{volume}%")
        } else {
            format!("added lo-fi background music at {volume}%")
        }
    }

    pub fn part_title(zh: bool, title: &str) -> String {
        if zh {
            format!("将标题设为“{title}”")
        } else {
            format!("set the title to \"{title}\"")
        }
    }

    pub fn part_aspect(zh: bool, a: Aspect) -> String {
        let (w, h) = a.dims();
        if zh {
            format!("画布比例改为{}（{w}x{h}）", a.label())
        } else {
            format!("changed the canvas to {} ({w}x{h})", a.label())
        }
    }

    pub fn part_trim(zh: bool, secs: f64) -> String {
        if zh {
            format!("视频剪辑为{secs}秒")
        } else {
            format!("trimmed the video to {secs} seconds")
        }
    }

    pub fn part_camera(zh: bool, c: Camera) -> String {
        if zh {
            format!("镜头运动改为{}", c.human(true))
        } else {
            format!("changed the camera movement to {}", c.human(false))
        }
    }

    pub fn nothing_to_edit(zh: bool) -> String {
        if zh {
            "还没有视频可以编辑。请先上传照片或视频，或者描述您想生成的画面。".into()
        } else {
            "There's no video to edit yet. Upload a photo or clip, or describe the clip you want me to generate.".into()
        }
    }

    pub fn help(zh: bool) -> String {
        if zh {
            "我可以把照片变成带运镜的电影感短片，或根据文字生成视频，还可以添加背景音乐、标题并调整画面比例。试试：“把这张照片做成缓慢推近的视频”。".into()
        } else {
            "I can turn your photos into cinematic clips with camera movement, generate clips from a text prompt, add background music and titles, and change the aspect ratio. Try: \"animate this photo into a cinematic video clip with a slow zoom in\".".into()
        }
    }

    pub fn working(zh: bool) -> String {
        if zh {
            "好的，正在处理……".into()
        } else {
            "Sure, working on it...".into()
        }
    }

    pub const DEFAULT_TITLES_EN: [&str; 5] = [
        "Urban Dreams",
        "Golden Hour",
        "City Lights",
        "Into the Wild",
        "Slow Motion",
    ];
    pub const DEFAULT_TITLES_ZH: [&str; 5] =
        ["城市之梦", "黄金时刻", "城市之光", "走进荒野", "慢时光"];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_prompts() {
        let i = parse("animate this photo into a cinematic video clip with camera movement");
        assert!(i.generate && i.camera_generic && i.camera.is_none());
        assert_eq!(parse("slow zoom in").camera, Some(Camera::ZoomIn));
        assert!(!parse("slow zoom in").generate);
        let i = parse("add lo-fi BGM at 35%");
        assert_eq!(i.bgm, Some(35));
        assert!(!i.generate);
        assert_eq!(parse("添加背景音乐 音量35%").bgm, Some(35));
        assert_eq!(parse("音量 40 的背景音乐").bgm, Some(40));
        assert_eq!(
            parse("add title Urban Dreams").title.as_deref(),
            Some("Urban Dreams")
        );
        assert_eq!(parse("加标题 城市之梦").title.as_deref(), Some("城市之梦"));
        assert_eq!(
            parse("change the title to \"Night, City\" and add BGM")
                .title
                .as_deref(),
            Some("Night, City")
        );
        assert_eq!(parse("make it 9:16").aspect, Some(Aspect::Portrait));
        assert_eq!(parse("switch to 16:9").aspect, Some(Aspect::Landscape));
        assert_eq!(parse("1:1 please").aspect, Some(Aspect::Square));
        assert_eq!(parse("trim to 5 seconds").trim_s, Some(5.0));
        assert_eq!(parse("剪到3秒").trim_s, Some(3.0));
        assert_eq!(parse("animate photo 2 with an orbit").target, Some(2));
        assert_eq!(
            parse("animate photo 2 with an orbit").camera,
            Some(Camera::Orbit)
        );
        assert_eq!(parse("把第二张照片做成环绕视频").target, Some(2));
        assert_eq!(
            parse("把第二张照片做成环绕视频").camera,
            Some(Camera::Orbit)
        );
        assert!(parse("生成一个城市延时视频，镜头推近").generate);
        assert_eq!(
            parse("echo: <script>x</script>").echo.as_deref(),
            Some("<script>x</script>")
        );
        assert_eq!(
            parse("generate a 10-second clip of a beach").duration_s,
            Some(10.0)
        );
        assert_eq!(parse("pan left").camera, Some(Camera::PanLeft));
        assert_eq!(parse("右移").camera, Some(Camera::PanRight));
        assert_eq!(parse("拉远").camera, Some(Camera::ZoomOut));
        assert_eq!(parse("add subtitles please").title, None);
        assert!(!parse("add title Create Now").generate);
    }
}
