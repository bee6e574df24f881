//! The cost preview of a message: what it will do and about what it will
//! cost, before anything is sent (`session.estimate(text, { files })`).
//!
//! Sans-IO: the route comes from the routing table ([`crate::core::intent`],
//! docs/protocol.md, "Routing what the user says"), the price from the
//! documented prices (docs/protocol.md, "Credits": a generation costs about
//! 100 credits, an edit about 50; export, credits and status are free, and
//! so is an upload). The shell only adds the balance (one credits GET).
//!
//! The figures are **estimates**: the server decides what a turn costs once
//! the agent has read it (it may, say, answer a question for nothing), and
//! credits are frozen while a turn runs and refunded when it fails.
//!
//! It also notices a message that refers to a photo or clip that is not
//! there ("animate this photo…", "让这张照片动起来" with nothing attached and
//! nothing on the timeline): sent as it is, the agent would generate a
//! text-only clip and charge for it, so a UI should ask first.

use crate::core::intent::{self, fold_char, ChatIntent, Intent};
use crate::core::text::{contains, is_word_char, lower_for_match, Words};

/// About what a generation costs (docs/protocol.md, "Credits").
pub const GENERATION_CREDITS: u32 = 100;
/// About what an edit costs (docs/protocol.md, "Credits").
pub const EDIT_CREDITS: u32 = 50;

/// What a message will do and about what it will cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// The route's action name ([`Intent::action_name`]): `"export"`,
    /// `"credits"`, `"state"`, `"upload"`, `"chat"` or `"empty"`.
    pub action: &'static str,
    /// For chat, the finer intent ([`ChatIntent::name`]), e.g. `"generate"`.
    pub intent: Option<&'static str>,
    /// The estimated price in credits: 100 for a generation, 50 for any
    /// other agent turn, 0 for everything that is not an agent turn.
    pub credits: u32,
    /// The message refers to a photo or clip ("this photo", "这张") while
    /// nothing is attached and the session has no media: sending it would
    /// spend credits on something the user did not mean.
    pub needs_attachment: bool,
}

/// The estimated price of a routed message.
pub fn price(route: &Intent) -> u32 {
    match route {
        Intent::Chat(ChatIntent::Generate) => GENERATION_CREDITS,
        Intent::Chat(_) => EDIT_CREDITS,
        _ => 0,
    }
}

/// Estimates `text` sent with files (`has_files`) in a session that has
/// media already or not (`has_media`: files attached now, uploaded before,
/// or a clip on the timeline).
pub fn estimate(text: &str, has_files: bool, has_media: bool) -> Estimate {
    let route = intent::route(text, has_files);
    let credits = price(&route);
    Estimate {
        action: route.action_name(),
        intent: route.chat_intent_name(),
        credits,
        needs_attachment: credits > 0 && !has_files && !has_media && refers_to_attachment(text),
    }
}

/// Whether a balance covers a price: `available >= credits`.
pub fn enough(available: f64, credits: u32) -> bool {
    available >= f64::from(credits)
}

/// Whether a UI should ask before spending: the turn costs something and
/// would use all of the balance, or more than it.
pub fn should_confirm(available: f64, credits: u32) -> bool {
    credits > 0 && available <= f64::from(credits)
}

/// Words that point at a particular thing ("this photo", "the attached clip").
const POINTERS: Words = Words("this|these|that|those|my|attached|uploaded|following|above");
/// Media the user could mean.
const MEDIA: Words = Words(concat!(
    "photo|photos|picture|pictures|pic|pics|image|images|clip|clips|video|videos|",
    "footage|file|files|selfie|shot|still|jpg|jpeg|png|mp4",
));
/// Words that are a reference on their own.
const ON_THEIR_OWN: Words = Words("attached|attachment|attachments");
/// Chinese references: "this (photo | picture | clip | video)", "the uploaded…".
const ZH_REFERENCES: Words = Words(concat!(
    "这张|这幅|这段|这些照片|这些图片|这个照片|这个图片|这个视频|这个片段|这个素材|",
    "这些视频|这些素材|上传的|附件|图中|照片里|图片里|视频里",
));

/// Whether a message refers to a photo or clip as if one were attached:
/// "animate this photo", "use the attached clip", "make these pictures
/// move", "让这张照片动起来", "把上传的视频…". Case and full-width forms do not
/// matter; a media word without a pointer ("generate a video of a cat")
/// does not count.
pub fn refers_to_attachment(text: &str) -> bool {
    let norm: String = text
        .chars()
        .map(|c| lower_for_match(fold_char(c)))
        .collect();
    if ZH_REFERENCES.iter().any(|r| contains(&norm, r)) {
        return true;
    }
    let mut previous: Option<&str> = None;
    for word in norm
        .split(|c: char| !is_word_char(c) || intent::is_cjk(c))
        .filter(|w| !w.is_empty())
    {
        if ON_THEIR_OWN.contains(word)
            || (MEDIA.contains(word) && previous.is_some_and(|p| POINTERS.contains(p)))
        {
            return true;
        }
        previous = Some(word);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(text: &str, files: bool, media: bool) -> (&'static str, Option<&'static str>, u32, bool) {
        let got = estimate(text, files, media);
        (got.action, got.intent, got.credits, got.needs_attachment)
    }

    #[test]
    fn prices_follow_the_routing_table() {
        let cases = [
            // Generations: about 100.
            (
                "animate this photo into a cinematic video clip with camera movement",
                true,
                ("chat", Some("generate"), 100),
            ),
            (
                "generate a cyberpunk city at night",
                false,
                ("chat", Some("generate"), 100),
            ),
            (
                "生成一段城市延时视频",
                false,
                ("chat", Some("generate"), 100),
            ),
            ("slow zoom in", true, ("chat", Some("generate"), 100)),
            // Edits: about 50.
            ("slow zoom in", false, ("chat", Some("camera_move"), 50)),
            (
                "add lo-fi BGM at 35%",
                false,
                ("chat", Some("add_music"), 50),
            ),
            ("make it 9:16", false, ("chat", Some("aspect_ratio"), 50)),
            ("改成竖屏", false, ("chat", Some("aspect_ratio"), 50)),
            ("make it brighter", false, ("chat", Some("edit"), 50)),
            ("add end credits", false, ("chat", Some("edit"), 50)),
            ("export", true, ("chat", Some("edit"), 50)),
            // Free: no agent turn.
            ("export", false, ("export", None, 0)),
            ("导出", false, ("export", None, 0)),
            ("credits", false, ("credits", None, 0)),
            ("积分", false, ("credits", None, 0)),
            ("status", false, ("state", None, 0)),
            ("状态", false, ("state", None, 0)),
            ("upload", false, ("upload", None, 0)),
            ("", true, ("upload", None, 0)),
            ("上传", true, ("upload", None, 0)),
            ("", false, ("empty", None, 0)),
        ];
        for (text, files, (action, intent, credits)) in cases {
            let got = e(text, files, files);
            assert_eq!(
                (got.0, got.1, got.2),
                (action, intent, credits),
                "{text:?} files={files}"
            );
        }
    }

    #[test]
    fn a_reference_to_a_missing_photo_needs_an_attachment() {
        // English and Chinese, nothing attached, nothing on the timeline.
        for text in [
            "animate this photo into a cinematic video clip with camera movement",
            "Animate THIS PHOTO",
            "ａｎｉｍａｔｅ ｔｈｉｓ ｐｈｏｔｏ",
            "make this clip slower",
            "use the attached image as the first shot",
            "turn these pictures into a slideshow",
            "zoom into my selfie",
            "see attachment",
            "让这张照片动起来",
            "把这段视频做成慢动作",
            "用上传的图片生成视频",
            "这个视频加点音乐",
        ] {
            let got = estimate(text, false, false);
            assert!(got.needs_attachment, "{text:?}: {got:?}");
            assert!(got.credits > 0, "{text:?}");
        }
    }

    #[test]
    fn no_question_when_the_media_is_there_or_not_referred_to() {
        // Attached now.
        assert!(!estimate("animate this photo", true, true).needs_attachment);
        assert!(!estimate("让这张照片动起来", true, true).needs_attachment);
        // Uploaded before, or a clip on the timeline.
        assert!(!estimate("make this clip slower", false, true).needs_attachment);
        // No reference: a text-only generation is what the user asked for.
        for text in [
            "generate a video of a cat surfing",
            "a photo-real city at night",
            "make it brighter",
            "生成一段城市延时视频",
            "添加背景音乐",
        ] {
            let got = estimate(text, false, false);
            assert!(!got.needs_attachment, "{text:?}: {got:?}");
        }
        // Free actions never ask.
        assert!(!estimate("upload this photo", false, false).needs_attachment);
        assert!(!estimate("export this video", false, false).needs_attachment);
    }

    #[test]
    fn refers_to_attachment_edges() {
        assert!(refers_to_attachment("this photo"));
        assert!(!refers_to_attachment("photo"));
        assert!(!refers_to_attachment("this"));
        assert!(!refers_to_attachment(""));
        assert!(!refers_to_attachment("the photographer's photo-booth"));
        assert!(refers_to_attachment("这张"));
        assert!(!refers_to_attachment("张"));
    }

    #[test]
    fn enough_and_confirmation() {
        assert!(enough(100.0, 100));
        assert!(enough(150.0, 100));
        assert!(!enough(99.5, 100));
        assert!(enough(0.0, 0));
        // All of the balance or more: ask. Free: never.
        assert!(should_confirm(100.0, 100));
        assert!(should_confirm(40.0, 50));
        assert!(!should_confirm(150.0, 100));
        assert!(!should_confirm(0.0, 0));
    }
}
