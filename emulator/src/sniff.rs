//! File-type detection from magic bytes, for the 13 accepted upload formats.

use crate::state::FileKind;

/// Formats the service accepts.
pub const ACCEPTED: &[&str] = &[
    "mp4", "mov", "avi", "webm", "mkv", "jpg", "png", "gif", "webp", "mp3", "wav", "m4a", "aac",
];

/// How many leading bytes `sniff` wants to see.
pub const HEAD_LEN: usize = 64;

pub fn kind_of(format: &str) -> FileKind {
    match format {
        "jpg" | "png" | "gif" | "webp" => FileKind::Image,
        "mp3" | "wav" | "m4a" | "aac" => FileKind::Audio,
        _ => FileKind::Video,
    }
}

/// Normalises an extension to one of the accepted format names.
pub fn format_from_ext(ext: &str) -> Option<&'static str> {
    let e = ext.to_ascii_lowercase();
    let e = match e.as_str() {
        "jpeg" | "jpe" => "jpg",
        "m4v" => "mp4",
        "qt" => "mov",
        other => other,
    };
    ACCEPTED.iter().copied().find(|a| *a == e)
}

/// Detects the format from the first bytes of a file (`ext` refines the ISO-BMFF family:
/// mp4/mov/m4a share the `ftyp` box). `None`: not one of the accepted formats.
pub fn sniff(head: &[u8], ext: Option<&str>) -> Option<&'static str> {
    let ext = ext.and_then(format_from_ext);
    let at = |off: usize, pat: &[u8]| {
        head.len() >= off + pat.len() && &head[off..off + pat.len()] == pat
    };

    // ISO base media (mp4, mov, m4a).
    if at(4, b"ftyp") {
        let brand = head.get(8..12).unwrap_or(b"    ");
        if let Some(e @ ("mp4" | "mov" | "m4a")) = ext {
            return Some(e);
        }
        return Some(match brand {
            b"qt  " => "mov",
            b"M4A " | b"M4B " | b"M4P " => "m4a",
            _ => "mp4",
        });
    }
    // Old QuickTime files without ftyp.
    if at(4, b"moov") || at(4, b"mdat") || at(4, b"wide") || at(4, b"free") || at(4, b"skip") {
        return Some("mov");
    }
    if at(0, b"RIFF") && head.len() >= 12 {
        return match &head[8..12] {
            b"AVI " => Some("avi"),
            b"WAVE" => Some("wav"),
            b"WEBP" => Some("webp"),
            _ => None,
        };
    }
    if at(0, &[0x1a, 0x45, 0xdf, 0xa3]) {
        // EBML: the DocType says webm or matroska.
        let is_webm = head.windows(4).any(|w| w == b"webm");
        if is_webm {
            return Some("webm");
        }
        return Some(if ext == Some("webm") { "webm" } else { "mkv" });
    }
    if at(0, &[0xff, 0xd8, 0xff]) {
        return Some("jpg");
    }
    if at(0, &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
        return Some("png");
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return Some("gif");
    }
    if at(0, b"ID3") {
        return Some(if ext == Some("aac") { "aac" } else { "mp3" });
    }
    if at(0, b"ADIF") {
        return Some("aac");
    }
    if head.len() >= 2 && head[0] == 0xff {
        let b1 = head[1];
        // ADTS (AAC): 12-bit sync, layer bits 00.
        if b1 & 0xf6 == 0xf0 {
            return Some("aac");
        }
        // MPEG audio frame: 11-bit sync, layer not reserved, bitrate index not 1111.
        if b1 & 0xe0 == 0xe0 && (b1 >> 1) & 0x03 != 0 && head.len() >= 3 && head[2] >> 4 != 0x0f {
            return Some("mp3");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(sniff(b"\0\0\0\x20ftypisom\0\0\x02\0", None), Some("mp4"));
        assert_eq!(sniff(b"\0\0\0\x14ftypqt  \0\0\0\0", None), Some("mov"));
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A \0\0\0\0", None), Some("m4a"));
        assert_eq!(sniff(b"\0\0\0\x20ftypisom", Some("m4a")), Some("m4a"));
        assert_eq!(sniff(b"RIFF\0\0\0\0AVI LIST", None), Some("avi"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt ", None), Some("wav"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ", None), Some("webp"));
        assert_eq!(
            sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm", None),
            Some("webm")
        );
        assert_eq!(
            sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska", None),
            Some("mkv")
        );
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF", None), Some("jpg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0", None), Some("png"));
        assert_eq!(sniff(b"GIF89a\x01\0", None), Some("gif"));
        assert_eq!(sniff(b"ID3\x04\0\0", None), Some("mp3"));
        assert_eq!(sniff(b"\xff\xfb\x90\x00", None), Some("mp3"));
        assert_eq!(sniff(b"\xff\xf1\x50\x80", None), Some("aac"));
        assert_eq!(sniff(b"MZ\x90\0", Some("mp4")), None);
        assert_eq!(sniff(b"<html>", Some("png")), None);
        assert_eq!(sniff(b"", None), None);
    }
}
