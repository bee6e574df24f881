//! Media checks done before anything is sent.
//!
//! The upload endpoint accepts 13 types of at most 200 MB each, and the
//! protocol says to "check both before sending anything": a rejected upload
//! wastes the user's bandwidth (up to 200 MB) and only then answers with a
//! terse 4001/4002. So this module checks the name, the size and the first
//! [`SNIFF_LEN`] bytes of the content locally, and explains any problem in
//! plain language.
//!
//! Content sniffing does not try to validate a whole file (that is the
//! server's job); it catches the mistakes people actually make: a renamed
//! executable or archive, an HTML error page saved as `video.mp4`, a JPEG
//! renamed to `.png`, a truncated or empty file.

use crate::core::error::Error;

/// The 13 accepted upload types, by extension.
pub const ACCEPTED_EXTENSIONS: &[&str] = &[
    "mp4", "mov", "avi", "webm", "mkv", "jpg", "png", "gif", "webp", "mp3", "wav", "m4a", "aac",
];

/// The per-file upload limit: 200 MB (binary megabytes).
pub const MAX_UPLOAD_BYTES: u64 = 200 * 1024 * 1024;

/// How many bytes of a file's head [`sniff`] and [`check_upload`] need.
///
/// 64 bytes hold every signature checked here; the longest is the EBML
/// header of a WebM/Matroska file, whose `DocType` usually ends before byte
/// 45. Pass `min(file size, SNIFF_LEN)` bytes: fewer can make a valid file
/// look truncated.
pub const SNIFF_LEN: usize = 64;

/// The broad kind of a medium, which decides how the agent can use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// A moving picture (with or without sound).
    Video,
    /// A still picture (GIF counts as an image: the API treats it as one).
    Image,
    /// Sound only.
    Audio,
}

/// One of the 13 upload types the API accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// MPEG-4 video (`.mp4`).
    Mp4,
    /// QuickTime video (`.mov`).
    Mov,
    /// AVI video (`.avi`).
    Avi,
    /// WebM video (`.webm`).
    Webm,
    /// Matroska video (`.mkv`).
    Mkv,
    /// JPEG image (`.jpg`, also `.jpeg`).
    Jpg,
    /// PNG image (`.png`).
    Png,
    /// GIF image (`.gif`).
    Gif,
    /// WebP image (`.webp`).
    Webp,
    /// MP3 audio (`.mp3`).
    Mp3,
    /// WAV audio (`.wav`).
    Wav,
    /// MPEG-4 audio (`.m4a`).
    M4a,
    /// AAC audio in ADTS framing (`.aac`).
    Aac,
}

/// The container a type is stored in. Two types of the same family can be
/// told apart only by details that renaming tools and encoders get wrong
/// (an MP4 written with a QuickTime brand, a WebM written as generic
/// Matroska), so [`check_upload`] compares families, not exact types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    IsoBmff,
    Matroska,
    Avi,
    Wave,
    Webp,
    Jpeg,
    Png,
    Gif,
    /// MP3 and ADTS AAC are both raw MPEG audio frame streams, and both may
    /// start with an ID3 tag, so one cannot be told from the other by the
    /// head alone when a tag is present.
    MpegAudio,
}

impl MediaType {
    /// All 13 types, in the order of [`ACCEPTED_EXTENSIONS`].
    pub const ALL: [MediaType; 13] = [
        MediaType::Mp4,
        MediaType::Mov,
        MediaType::Avi,
        MediaType::Webm,
        MediaType::Mkv,
        MediaType::Jpg,
        MediaType::Png,
        MediaType::Gif,
        MediaType::Webp,
        MediaType::Mp3,
        MediaType::Wav,
        MediaType::M4a,
        MediaType::Aac,
    ];

    /// The canonical extension, lower case and without the dot (`"jpg"`).
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Mp4 => "mp4",
            MediaType::Mov => "mov",
            MediaType::Avi => "avi",
            MediaType::Webm => "webm",
            MediaType::Mkv => "mkv",
            MediaType::Jpg => "jpg",
            MediaType::Png => "png",
            MediaType::Gif => "gif",
            MediaType::Webp => "webp",
            MediaType::Mp3 => "mp3",
            MediaType::Wav => "wav",
            MediaType::M4a => "m4a",
            MediaType::Aac => "aac",
        }
    }

    /// The MIME type to send in a multipart `Content-Type`.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Mp4 => "video/mp4",
            MediaType::Mov => "video/quicktime",
            MediaType::Avi => "video/x-msvideo",
            MediaType::Webm => "video/webm",
            MediaType::Mkv => "video/x-matroska",
            MediaType::Jpg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Gif => "image/gif",
            MediaType::Webp => "image/webp",
            MediaType::Mp3 => "audio/mpeg",
            MediaType::Wav => "audio/wav",
            MediaType::M4a => "audio/mp4",
            MediaType::Aac => "audio/aac",
        }
    }

    /// Video, image or audio.
    pub fn kind(self) -> MediaKind {
        match self {
            MediaType::Mp4 | MediaType::Mov | MediaType::Avi | MediaType::Webm | MediaType::Mkv => {
                MediaKind::Video
            }
            MediaType::Jpg | MediaType::Png | MediaType::Gif | MediaType::Webp => MediaKind::Image,
            MediaType::Mp3 | MediaType::Wav | MediaType::M4a | MediaType::Aac => MediaKind::Audio,
        }
    }

    /// A short human name for messages ("PNG", "QuickTime video").
    pub fn label(self) -> &'static str {
        match self {
            MediaType::Mp4 => "MP4 video",
            MediaType::Mov => "QuickTime video",
            MediaType::Avi => "AVI video",
            MediaType::Webm => "WebM video",
            MediaType::Mkv => "Matroska video",
            MediaType::Jpg => "JPEG image",
            MediaType::Png => "PNG image",
            MediaType::Gif => "GIF image",
            MediaType::Webp => "WebP image",
            MediaType::Mp3 => "MP3 audio",
            MediaType::Wav => "WAV audio",
            MediaType::M4a => "M4A audio",
            MediaType::Aac => "AAC audio",
        }
    }

    /// The type for an extension, with or without the leading dot, in any
    /// case. `jpeg` is accepted as an alias of `jpg`, since cameras and
    /// phones write both.
    pub fn from_extension(ext: &str) -> Option<MediaType> {
        let ext = ext.strip_prefix('.').unwrap_or(ext);
        if ext.eq_ignore_ascii_case("jpeg") {
            return Some(MediaType::Jpg);
        }
        MediaType::ALL
            .into_iter()
            .find(|t| t.extension().eq_ignore_ascii_case(ext))
    }

    /// The type named by a file name's last extension (`"Clip.final.MP4"`
    /// → MP4). Directory parts (`/` or `\`) are ignored.
    pub fn from_file_name(name: &str) -> Option<MediaType> {
        file_extension(name).and_then(MediaType::from_extension)
    }

    /// The type for a MIME type, ignoring case and parameters
    /// (`"video/mp4; codecs=avc1"`). Common non-standard aliases that
    /// browsers report (`audio/x-wav`, `audio/x-m4a`, `image/jpg`, …) are
    /// accepted too, because `File.type` comes from the operating system.
    pub fn from_mime(mime: &str) -> Option<MediaType> {
        let essence = mime.split(';').next().unwrap_or("").trim();
        let known: &[(&str, MediaType)] = &[
            ("video/mp4", MediaType::Mp4),
            ("video/quicktime", MediaType::Mov),
            ("video/x-msvideo", MediaType::Avi),
            ("video/avi", MediaType::Avi),
            ("video/msvideo", MediaType::Avi),
            ("video/webm", MediaType::Webm),
            ("video/x-matroska", MediaType::Mkv),
            ("video/matroska", MediaType::Mkv),
            ("image/jpeg", MediaType::Jpg),
            ("image/jpg", MediaType::Jpg),
            ("image/pjpeg", MediaType::Jpg),
            ("image/png", MediaType::Png),
            ("image/gif", MediaType::Gif),
            ("image/webp", MediaType::Webp),
            ("audio/mpeg", MediaType::Mp3),
            ("audio/mp3", MediaType::Mp3),
            ("audio/mpeg3", MediaType::Mp3),
            ("audio/x-mpeg-3", MediaType::Mp3),
            ("audio/wav", MediaType::Wav),
            ("audio/x-wav", MediaType::Wav),
            ("audio/wave", MediaType::Wav),
            ("audio/vnd.wave", MediaType::Wav),
            ("audio/mp4", MediaType::M4a),
            ("audio/x-m4a", MediaType::M4a),
            ("audio/m4a", MediaType::M4a),
            ("audio/aac", MediaType::Aac),
            ("audio/x-aac", MediaType::Aac),
            ("audio/aacp", MediaType::Aac),
        ];
        known
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(essence))
            .map(|&(_, t)| t)
    }

    fn family(self) -> Family {
        match self {
            MediaType::Mp4 | MediaType::Mov | MediaType::M4a => Family::IsoBmff,
            MediaType::Webm | MediaType::Mkv => Family::Matroska,
            MediaType::Avi => Family::Avi,
            MediaType::Wav => Family::Wave,
            MediaType::Webp => Family::Webp,
            MediaType::Jpg => Family::Jpeg,
            MediaType::Png => Family::Png,
            MediaType::Gif => Family::Gif,
            MediaType::Mp3 | MediaType::Aac => Family::MpegAudio,
        }
    }

    /// The label with its article, for sentences ("an AVI video").
    fn with_article(self) -> String {
        let article = match self {
            MediaType::Mp4 | MediaType::Avi | MediaType::Mp3 | MediaType::M4a | MediaType::Aac => {
                "an"
            }
            _ => "a",
        };
        format!("{article} {}", self.label())
    }

    /// The short name users see in file dialogs ("PNG", "MP4").
    fn short_name(self) -> String {
        self.extension().to_ascii_uppercase()
    }
}

/// The text after the last dot of the last path component, if any.
fn file_extension(name: &str) -> Option<&str> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    // A name like ".mp4" counts as having the extension: it is what the
    // server will look at too.
    let (_, ext) = base.rsplit_once('.')?;
    (!ext.is_empty()).then_some(ext)
}

// ---- Sniffing -------------------------------------------------------------

/// Identifies one of the 13 accepted types from the first bytes of a file.
///
/// Pass at least `min(file size, SNIFF_LEN)` bytes. Returns `None` when the
/// head matches none of the accepted signatures (including when it is too
/// short to tell). The checks, in order:
///
/// - ISO-BMFF (`....ftyp<brand>`): `qt  ` → MOV; `M4A `/`M4B ` → M4A;
///   HEIF/AVIF image brands → `None`; any other brand (`isom`, `mp42`,
///   `avc1`, `3gp4`, `dash`, …) → MP4. Old QuickTime files without `ftyp`
///   (first atom `moov`, `mdat`, `wide`, `free`, `skip`, `pnot`) → MOV.
/// - RIFF (`RIFF....` or `RF64....`): `AVI ` → AVI, `WAVE` → WAV,
///   `WEBP` → WebP.
/// - EBML (`1A 45 DF A3`): the header's `DocType` `webm` → WebM, otherwise
///   Matroska (the EBML default DocType is `matroska`).
/// - JPEG `FF D8 FF`, the PNG signature, `GIF87a` / `GIF89a`.
/// - MPEG audio: an ID3v2 tag → MP3; a frame sync is ADTS AAC when its
///   12-bit sync is followed by layer bits `00` (ADTS always writes 00,
///   which is reserved in MPEG audio), and MP3 when the version, layer,
///   bitrate and sample-rate fields are all valid.
pub fn sniff(head: &[u8]) -> Option<MediaType> {
    sniff_iso_bmff(head)
        .or_else(|| sniff_riff(head))
        .or_else(|| sniff_ebml(head))
        .or_else(|| sniff_image(head))
        .or_else(|| sniff_mpeg_audio(head))
}

fn sniff_iso_bmff(head: &[u8]) -> Option<MediaType> {
    let box_type = head.get(4..8)?;
    if box_type == b"ftyp" {
        let major = head.get(8..12)?;
        return match major {
            b"qt  " => Some(MediaType::Mov),
            b"M4A " | b"M4B " => Some(MediaType::M4a),
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1"
            | b"avif" | b"avis" | b"crx " => None,
            _ if major.iter().all(|b| b.is_ascii_graphic() || *b == b' ') => Some(MediaType::Mp4),
            _ => None,
        };
    }
    // QuickTime files from before `ftyp` existed start with another atom.
    // The size field must be plausible, or any text containing "free" at
    // offset 4 would pass.
    let size = u32::from_be_bytes(head.get(0..4)?.try_into().ok()?);
    let old_qt = matches!(
        box_type,
        b"moov" | b"mdat" | b"wide" | b"free" | b"skip" | b"pnot"
    );
    // Text has a printable first byte, so a size under 16 MB (first byte 0)
    // also rules out prose that happens to say "free" at offset 4. The
    // sizes 0 (to end of file) and 1 (64-bit size follows) are special.
    let plausible = size <= 1 || (8..0x0100_0000).contains(&size);
    (old_qt && plausible).then_some(MediaType::Mov)
}

fn sniff_riff(head: &[u8]) -> Option<MediaType> {
    let magic = head.get(0..4)?;
    if magic != b"RIFF" && magic != b"RF64" {
        return None;
    }
    match head.get(8..12)? {
        b"AVI " => Some(MediaType::Avi),
        b"WAVE" => Some(MediaType::Wav),
        b"WEBP" => Some(MediaType::Webp),
        _ => None,
    }
}

fn sniff_ebml(head: &[u8]) -> Option<MediaType> {
    const EBML_MAGIC: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];
    const DOC_TYPE_ID: u64 = 0x4282;
    if head.get(0..4)? != EBML_MAGIC {
        return None;
    }
    // Walk the header's children looking for DocType. Any parse trouble
    // (a truncated head, an odd size) falls back to Matroska: the 4-byte
    // magic alone already identifies the family.
    let mut at = 4;
    let (header_len, n) = head
        .get(at..)
        .and_then(|rest| read_vint(rest, false))
        .unwrap_or((u64::MAX, 1));
    at += n;
    let end = usize::try_from(header_len)
        .ok()
        .and_then(|len| at.checked_add(len))
        .map_or(head.len(), |end| end.min(head.len()));
    while at < end {
        let Some((id, id_len)) = head.get(at..end).and_then(|b| read_vint(b, true)) else {
            break;
        };
        at += id_len;
        let Some((len, len_len)) = head.get(at..end).and_then(|b| read_vint(b, false)) else {
            break;
        };
        at += len_len;
        let Some(value) = usize::try_from(len)
            .ok()
            .and_then(|len| head.get(at..at.checked_add(len)?))
        else {
            break;
        };
        if id == DOC_TYPE_ID {
            let doc_type = value.split(|&b| b == 0).next().unwrap_or(value);
            return Some(if doc_type == b"webm" {
                MediaType::Webm
            } else {
                MediaType::Mkv
            });
        }
        at += value.len();
    }
    Some(MediaType::Mkv)
}

/// Reads an EBML variable-length integer: the count of leading zero bits of
/// the first byte gives the length. IDs keep their marker bit; sizes drop
/// it. Returns the value and the number of bytes read.
fn read_vint(bytes: &[u8], keep_marker: bool) -> Option<(u64, usize)> {
    let first = *bytes.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let raw = bytes.get(..len)?;
    let mut value = if keep_marker {
        u64::from(first)
    } else {
        u64::from(first) & (0xFF >> len)
    };
    for &b in raw.iter().skip(1) {
        value = (value << 8) | u64::from(b);
    }
    Some((value, len))
}

fn sniff_image(head: &[u8]) -> Option<MediaType> {
    const PNG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpg)
    } else if head.starts_with(&PNG) {
        Some(MediaType::Png)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(MediaType::Gif)
    } else {
        None
    }
}

fn sniff_mpeg_audio(head: &[u8]) -> Option<MediaType> {
    if is_id3v2(head) {
        return Some(MediaType::Mp3);
    }
    let &[b0, b1, b2, ..] = head else {
        return None;
    };
    if b0 != 0xFF {
        return None;
    }
    // ADTS: 12 sync bits, the MPEG version bit, then layer bits that are
    // always 00. MPEG audio reserves layer 00, so this is what separates
    // AAC from MP3 when both start with FF Fx.
    if b1 & 0xF6 == 0xF0 {
        let sampling_index = (b2 >> 2) & 0x0F;
        return (sampling_index <= 12).then_some(MediaType::Aac);
    }
    // MPEG audio frame header: 11 sync bits, version (01 reserved), layer
    // (00 reserved), then bitrate (1111 invalid) and sample rate (11
    // reserved). Layers I and II are reported as MP3 too: players and the
    // server treat `.mp3` as "MPEG audio".
    if b1 & 0xE0 != 0xE0 {
        return None;
    }
    let version = (b1 >> 3) & 0b11;
    let layer = (b1 >> 1) & 0b11;
    let bitrate = b2 >> 4;
    let sample_rate = (b2 >> 2) & 0b11;
    let emphasis_ok = head.get(3).is_none_or(|b3| b3 & 0b11 != 0b10);
    (version != 0b01 && layer != 0b00 && bitrate != 0b1111 && sample_rate != 0b11 && emphasis_ok)
        .then_some(MediaType::Mp3)
}

/// `ID3`, a version below 0xFF, and a 4-byte sync-safe size (high bits 0).
fn is_id3v2(head: &[u8]) -> bool {
    match head.get(..10) {
        Some([b'I', b'D', b'3', major, minor, _flags, size @ ..]) => {
            *major != 0xFF && *minor != 0xFF && size.iter().all(|b| b & 0x80 == 0)
        }
        _ => false,
    }
}

/// Names well-known content that is *not* an accepted medium, so a
/// rejection can say what the file really is.
fn describe_foreign(head: &[u8]) -> Option<&'static str> {
    let starts = |sig: &[u8]| head.starts_with(sig);
    let foreign: &[(&[u8], &str)] = &[
        (b"MZ", "a Windows executable"),
        (b"\x7fELF", "a Linux executable"),
        (&[0xCF, 0xFA, 0xED, 0xFE], "a macOS executable"),
        (&[0xCE, 0xFA, 0xED, 0xFE], "a macOS executable"),
        (&[0xFE, 0xED, 0xFA, 0xCF], "a macOS executable"),
        (&[0xFE, 0xED, 0xFA, 0xCE], "a macOS executable"),
        (&[0xCA, 0xFE, 0xBA, 0xBE], "a macOS executable"),
        (b"#!", "a script"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"PK\x05\x06", "a ZIP archive"),
        (b"Rar!\x1A\x07", "a RAR archive"),
        (&[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C], "a 7-Zip archive"),
        (&[0x1F, 0x8B], "a gzip archive"),
        (b"%PDF", "a PDF document"),
        (b"fLaC", "a FLAC audio file"),
        (b"OggS", "an Ogg file"),
        (b"BM", "a BMP image"),
        (b"II*\0", "a TIFF image"),
        (b"MM\0*", "a TIFF image"),
        (b"8BPS", "a Photoshop document"),
        (&[0x00, 0x00, 0x01, 0x00], "an icon file"),
        (&[0x00, 0x00, 0x01, 0xBA], "an MPEG program stream (.mpg)"),
        (&[0x30, 0x26, 0xB2, 0x75], "a Windows Media file"),
        (b"FLV", "a Flash video"),
    ];
    if let Some((_, what)) = foreign.iter().find(|(sig, _)| starts(sig)) {
        return Some(what);
    }
    if head.get(4..8) == Some(b"ftyp") {
        return Some("a HEIC/AVIF image or another unsupported MP4-style file");
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = trim_ascii_start(text);
    if text.first() == Some(&b'<') {
        let lower: Vec<u8> = text.iter().take(16).map(u8::to_ascii_lowercase).collect();
        return Some(if lower.starts_with(b"<svg") {
            "an SVG image"
        } else if lower.starts_with(b"<?xml") {
            "an XML document"
        } else {
            "a web page"
        });
    }
    if !head.is_empty() && looks_like_text(head) {
        return Some("a text file");
    }
    None
}

fn trim_ascii_start(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    bytes.get(skip..).unwrap_or(&[])
}

/// True when the head is valid UTF-8 (allowing a cut at the end) with no
/// control characters other than whitespace: binary media never look so.
fn looks_like_text(head: &[u8]) -> bool {
    let valid = match core::str::from_utf8(head) {
        Ok(s) => s,
        // A multi-byte character cut by the head's end is still text.
        Err(e) if e.error_len().is_none() => {
            match core::str::from_utf8(head.get(..e.valid_up_to()).unwrap_or(&[])) {
                Ok(s) => s,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    valid
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
}

// ---- Checks ---------------------------------------------------------------

/// Checks a file name and size without its bytes: for URL uploads, or to
/// reject a file as soon as it is picked, before reading it.
///
/// Errors (all plain language, naming the file):
/// - no extension or an unaccepted one → [`ErrorKind::UnsupportedFile`]
/// - size 0 → [`ErrorKind::InvalidInput`] ("\"a.mp4\" is empty")
/// - size over [`MAX_UPLOAD_BYTES`] → [`ErrorKind::FileTooLarge`]
///
/// [`ErrorKind::UnsupportedFile`]: crate::core::error::ErrorKind::UnsupportedFile
/// [`ErrorKind::InvalidInput`]: crate::core::error::ErrorKind::InvalidInput
/// [`ErrorKind::FileTooLarge`]: crate::core::error::ErrorKind::FileTooLarge
pub fn check_name_and_size(name: &str, size: u64) -> Result<MediaType, Error> {
    let media = check_name(name)?;
    if size == 0 {
        return Err(Error::invalid_input(format!(
            "\"{name}\" is empty (0 bytes). Choose the file again, or another one."
        )));
    }
    if size > MAX_UPLOAD_BYTES {
        return Err(Error::file_too_large(name, size, MAX_UPLOAD_BYTES));
    }
    Ok(media)
}

fn check_name(name: &str) -> Result<MediaType, Error> {
    if name.trim().is_empty() {
        return Err(Error::invalid_input(
            "The file has no name, so its type cannot be checked.",
        ));
    }
    match file_extension(name) {
        None => Err(Error::unsupported_file(format!(
            "\"{name}\" has no file extension, so its type is unknown."
        ))),
        Some(ext) => MediaType::from_extension(ext).ok_or_else(|| {
            Error::unsupported_file(format!("\"{name}\" is not a supported type (.{ext})."))
        }),
    }
}

/// Checks everything about a local file before it is uploaded: the name's
/// extension, the size (not empty, at most [`MAX_UPLOAD_BYTES`]), and that
/// the content's magic bytes belong to the same family as the extension.
///
/// `head` is the first `min(size, SNIFF_LEN)` bytes. Families rather than
/// exact types are compared, so an `.mp4` written with a QuickTime brand, a
/// `.webm` labelled Matroska or an ID3-tagged `.aac` pass, while a renamed
/// executable, archive, web page or a JPEG named `.png` does not. Returns
/// the type the *name* declares, since that is what the server goes by.
pub fn check_upload(name: &str, size: u64, head: &[u8]) -> Result<MediaType, Error> {
    let declared = check_name_and_size(name, size)?;
    let claimed = declared.short_name();
    match sniff(head) {
        Some(actual) if actual.family() == declared.family() => Ok(declared),
        Some(actual) => Err(Error::unsupported_file(format!(
            "\"{name}\" says {claimed} but its content is {}. Rename it to .{} and try again.",
            actual.with_article(),
            actual.extension()
        ))),
        None => {
            // A recognisable foreign file says the most; otherwise a head
            // too short for the declared signature means a truncated file.
            let what = if let Some(foreign) = describe_foreign(head) {
                format!("is {foreign}")
            } else if head.len() < min_signature_len(declared)
                || (head.len() as u64) < size.min(SNIFF_LEN as u64)
            {
                "is cut short (too few bytes to be a real file)".to_string()
            } else {
                format!("is not a valid {}", declared.label())
            };
            Err(Error::unsupported_file(format!(
                "\"{name}\" says {claimed} but its content {what}."
            )))
        }
    }
}

/// The fewest bytes a type's signature needs; a shorter head cannot be
/// that type and is reported as truncated rather than as "not a PNG".
fn min_signature_len(media: MediaType) -> usize {
    match media.family() {
        Family::IsoBmff | Family::Avi | Family::Wave | Family::Webp => 12,
        Family::Png => 8,
        Family::Gif => 6,
        Family::Matroska => 4,
        Family::Jpeg | Family::MpegAudio => 3,
    }
}

/// Checks a URL given for a URL upload: only absolute `http://` or
/// `https://` URLs with a host are allowed.
///
/// Rejected, with an [`ErrorKind::InvalidInput`] error in plain language:
/// an empty string, relative paths, any other scheme (`javascript:`,
/// `file:`, `data:`, `ftp:`, …), whitespace or control characters anywhere
/// (a pasted URL with a trailing newline must be trimmed by the caller, so
/// that what is checked is exactly what is sent), a missing host, a
/// user name or password (it would be sent to the server in clear), and a
/// port that is not a number up to 65535.
///
/// [`ErrorKind::InvalidInput`]: crate::core::error::ErrorKind::InvalidInput
pub fn check_url(url: &str) -> Result<(), Error> {
    const MAX_URL_LEN: usize = 8 * 1024;
    let shown = shorten(url);
    if url.is_empty() {
        return Err(Error::invalid_input("The URL is empty."));
    }
    if url.len() > MAX_URL_LEN {
        return Err(Error::invalid_input(format!(
            "The URL is too long ({} characters; at most {MAX_URL_LEN}).",
            url.chars().count()
        )));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        let mut msg = String::from("The URL \"");
        crate::core::text::push_escaped(&shown, &mut msg);
        msg.push_str("\" contains spaces or invisible characters; remove them first.");
        return Err(Error::invalid_input(msg));
    }
    let Some((scheme, rest)) = crate::core::text::split_once(url, "://") else {
        let scheme = url.split_once(':').map(|(s, _)| s).filter(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || crate::core::text::has_char("+-.", c))
        });
        return Err(Error::invalid_input(match scheme {
            Some(s) if !s.eq_ignore_ascii_case("http") && !s.eq_ignore_ascii_case("https") => {
                format!(
                    "\"{shown}\" is a {s}: link; only http:// and https:// links can be uploaded."
                )
            }
            _ => format!(
                "\"{shown}\" is not a full web address; it must start with http:// or https://."
            ),
        }));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(Error::invalid_input(format!(
            "\"{shown}\" is a {scheme}: link; only http:// and https:// links can be uploaded."
        )));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if crate::core::text::has_char(authority, '@') {
        return Err(Error::invalid_input(
            "The URL contains a user name or password; use a link that works without them.",
        ));
    }
    let (host, port) = split_host_port(authority);
    if host.is_empty() || host == "[]" {
        return Err(Error::invalid_input(format!(
            "\"{shown}\" has no host name after {scheme}://."
        )));
    }
    if let Some(port) = port {
        if port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err()
        {
            return Err(Error::invalid_input(format!(
                "\"{shown}\" has an invalid port \"{port}\"."
            )));
        }
    }
    Ok(())
}

/// Splits `host[:port]`, keeping the brackets of an IPv6 literal.
fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        return match authority.find(']') {
            // `split_at_checked`, not slicing: `]` is ASCII, so the split
            // is on a char boundary, but a slice would still link in the
            // char-boundary panic and its formatting (about 4 KB of wasm).
            Some(end) => match authority.split_at_checked(end + 1) {
                Some((host, rest)) => (host, rest.strip_prefix(':')),
                None => ("", None),
            },
            None => ("", None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

/// Keeps error messages readable when someone pastes a huge `data:` URL.
fn shorten(s: &str) -> String {
    const SHOWN: usize = 60;
    if s.chars().count() <= SHOWN {
        s.to_string()
    } else {
        let head: String = s.chars().take(SHOWN).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ErrorKind;

    fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0x20];
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(brand);
        v.extend_from_slice(&[0, 0, 2, 0]);
        v.extend_from_slice(b"isomiso2avc1mp41");
        v
    }

    fn riff(form: &[u8; 4]) -> Vec<u8> {
        let mut v = b"RIFF\x24\x00\x00\x00".to_vec();
        v.extend_from_slice(form);
        v.extend_from_slice(b"fmt \x10\x00\x00\x00");
        v
    }

    /// A real-world EBML header as mkvmerge / ffmpeg write it.
    fn ebml(doc_type: &[u8]) -> Vec<u8> {
        let mut body = vec![
            0x42,
            0x86,
            0x81,
            0x01, // EBMLVersion 1
            0x42,
            0xF7,
            0x81,
            0x01, // EBMLReadVersion 1
            0x42,
            0xF2,
            0x81,
            0x04, // EBMLMaxIDLength 4
            0x42,
            0xF3,
            0x81,
            0x08, // EBMLMaxSizeLength 8
            0x42,
            0x82,
            0x80 | doc_type.len() as u8,
        ];
        body.extend_from_slice(doc_type);
        body.extend_from_slice(&[0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02]);
        let mut v = vec![0x1A, 0x45, 0xDF, 0xA3, 0x80 | body.len() as u8];
        v.extend(body);
        v
    }

    const PNG_SIG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn extension_mime_and_kind_round_trip_for_all_types() {
        assert_eq!(MediaType::ALL.len(), ACCEPTED_EXTENSIONS.len());
        for (t, ext) in MediaType::ALL.into_iter().zip(ACCEPTED_EXTENSIONS) {
            assert_eq!(t.extension(), *ext);
            assert_eq!(MediaType::from_extension(ext), Some(t));
            assert_eq!(MediaType::from_mime(t.mime()), Some(t), "{t:?}");
            let prefix = match t.kind() {
                MediaKind::Video => "video/",
                MediaKind::Image => "image/",
                MediaKind::Audio => "audio/",
            };
            assert!(t.mime().starts_with(prefix), "{t:?}");
        }
    }

    #[test]
    fn from_extension_table() {
        let cases: &[(&str, Option<MediaType>)] = &[
            ("mp4", Some(MediaType::Mp4)),
            ("MP4", Some(MediaType::Mp4)),
            (".mov", Some(MediaType::Mov)),
            ("jpeg", Some(MediaType::Jpg)),
            ("JPEG", Some(MediaType::Jpg)),
            (".JPG", Some(MediaType::Jpg)),
            ("M4a", Some(MediaType::M4a)),
            ("aac", Some(MediaType::Aac)),
            ("heic", None),
            ("exe", None),
            ("", None),
            ("mp44", None),
            ("mp", None),
        ];
        for &(ext, want) in cases {
            assert_eq!(MediaType::from_extension(ext), want, "{ext:?}");
        }
    }

    #[test]
    fn from_file_name_uses_the_last_extension_of_the_base_name() {
        let cases: &[(&str, Option<MediaType>)] = &[
            ("clip.mp4", Some(MediaType::Mp4)),
            ("Holiday.Final.MOV", Some(MediaType::Mov)),
            ("dir.mp4/photo", None),
            ("C:\\Users\\a\\song.mp3", Some(MediaType::Mp3)),
            ("archive.mp4.zip", None),
            ("noext", None),
            ("trailingdot.", None),
            (".png", Some(MediaType::Png)),
        ];
        for &(name, want) in cases {
            assert_eq!(MediaType::from_file_name(name), want, "{name:?}");
        }
    }

    #[test]
    fn from_mime_table() {
        let cases: &[(&str, Option<MediaType>)] = &[
            ("video/mp4", Some(MediaType::Mp4)),
            ("VIDEO/MP4; codecs=\"avc1.42E01E\"", Some(MediaType::Mp4)),
            ("image/jpg", Some(MediaType::Jpg)),
            ("audio/x-wav", Some(MediaType::Wav)),
            ("audio/x-m4a", Some(MediaType::M4a)),
            ("audio/mp3", Some(MediaType::Mp3)),
            ("video/avi", Some(MediaType::Avi)),
            ("image/heic", None),
            ("application/octet-stream", None),
            ("", None),
        ];
        for &(mime, want) in cases {
            assert_eq!(MediaType::from_mime(mime), want, "{mime:?}");
        }
    }

    #[test]
    fn sniff_table() {
        let mut ebml_no_doctype = vec![0x1A, 0x45, 0xDF, 0xA3, 0x84, 0x42, 0x86, 0x81, 0x01];
        ebml_no_doctype.extend_from_slice(&[0x18, 0x53, 0x80, 0x67]);
        let cases: Vec<(&str, Vec<u8>, Option<MediaType>)> = vec![
            ("mp4 isom", ftyp(b"isom"), Some(MediaType::Mp4)),
            ("mp4 mp42", ftyp(b"mp42"), Some(MediaType::Mp4)),
            ("mp4 avc1", ftyp(b"avc1"), Some(MediaType::Mp4)),
            ("3gp", ftyp(b"3gp4"), Some(MediaType::Mp4)),
            ("mov qt", ftyp(b"qt  "), Some(MediaType::Mov)),
            ("m4a", ftyp(b"M4A "), Some(MediaType::M4a)),
            ("m4b", ftyp(b"M4B "), Some(MediaType::M4a)),
            ("heic", ftyp(b"heic"), None),
            ("avif", ftyp(b"avif"), None),
            (
                "ftyp binary brand",
                b"\0\0\0\x18ftyp\0\x01\x02\x03".to_vec(),
                None,
            ),
            (
                "old quicktime",
                b"\0\0\x01\x00moov\0\0\0\0".to_vec(),
                Some(MediaType::Mov),
            ),
            (
                "old quicktime wide",
                b"\0\0\0\x08wide\0\0".to_vec(),
                Some(MediaType::Mov),
            ),
            ("text with free", b"I'm free today".to_vec(), None),
            ("avi", riff(b"AVI "), Some(MediaType::Avi)),
            ("wav", riff(b"WAVE"), Some(MediaType::Wav)),
            (
                "rf64 wav",
                {
                    let mut v = riff(b"WAVE");
                    v[..4].copy_from_slice(b"RF64");
                    v
                },
                Some(MediaType::Wav),
            ),
            ("webp", riff(b"WEBP"), Some(MediaType::Webp)),
            ("riff unknown form", riff(b"CDXA"), None),
            ("webm", ebml(b"webm"), Some(MediaType::Webm)),
            ("mkv", ebml(b"matroska"), Some(MediaType::Mkv)),
            (
                "ebml without doctype",
                ebml_no_doctype,
                Some(MediaType::Mkv),
            ),
            (
                "ebml magic only",
                vec![0x1A, 0x45, 0xDF, 0xA3],
                Some(MediaType::Mkv),
            ),
            (
                "ebml truncated doctype",
                ebml(b"webm")[..22].to_vec(),
                Some(MediaType::Mkv),
            ),
            (
                "jpeg jfif",
                b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec(),
                Some(MediaType::Jpg),
            ),
            (
                "jpeg exif",
                b"\xFF\xD8\xFF\xE1\x12\x34Exif".to_vec(),
                Some(MediaType::Jpg),
            ),
            ("png", PNG_SIG.to_vec(), Some(MediaType::Png)),
            ("png truncated", PNG_SIG[..5].to_vec(), None),
            ("gif87a", b"GIF87a\x01\0".to_vec(), Some(MediaType::Gif)),
            ("gif89a", b"GIF89a\x01\0".to_vec(), Some(MediaType::Gif)),
            ("gif88a", b"GIF88a\x01\0".to_vec(), None),
            (
                "id3",
                b"ID3\x04\0\0\0\0\x0f\x76TIT2".to_vec(),
                Some(MediaType::Mp3),
            ),
            ("id3 bad size", b"ID3\x04\0\0\x80\0\0\0".to_vec(), None),
            (
                "mp3 mpeg1 layer3 128k 44.1k",
                vec![0xFF, 0xFB, 0x90, 0x64],
                Some(MediaType::Mp3),
            ),
            (
                "mp3 mpeg2 layer3",
                vec![0xFF, 0xF3, 0x48, 0xC4],
                Some(MediaType::Mp3),
            ),
            (
                "mp3 mpeg2.5 layer3",
                vec![0xFF, 0xE3, 0x18, 0xC4],
                Some(MediaType::Mp3),
            ),
            (
                "mp2 layer2",
                vec![0xFF, 0xFD, 0x90, 0x04],
                Some(MediaType::Mp3),
            ),
            ("mpeg reserved version", vec![0xFF, 0xEB, 0x90, 0x64], None),
            ("mpeg bad bitrate", vec![0xFF, 0xFB, 0xF0, 0x64], None),
            (
                "mpeg reserved sample rate",
                vec![0xFF, 0xFB, 0x9C, 0x64],
                None,
            ),
            ("mpeg reserved emphasis", vec![0xFF, 0xFB, 0x90, 0x66], None),
            (
                "adts mpeg4 no crc",
                vec![0xFF, 0xF1, 0x50, 0x80],
                Some(MediaType::Aac),
            ),
            (
                "adts mpeg2 no crc",
                vec![0xFF, 0xF9, 0x50, 0x80],
                Some(MediaType::Aac),
            ),
            (
                "adts with crc",
                vec![0xFF, 0xF0, 0x50, 0x80],
                Some(MediaType::Aac),
            ),
            (
                "adts bad sampling index",
                vec![0xFF, 0xF1, 0x7C, 0x80],
                None,
            ),
            ("sync too short", vec![0xFF, 0xF1], None),
            ("windows exe", b"MZ\x90\0\x03\0\0\0".to_vec(), None),
            ("elf", b"\x7fELF\x02\x01\x01".to_vec(), None),
            ("empty", vec![], None),
        ];
        for (label, head, want) in cases {
            assert_eq!(sniff(&head), want, "{label}");
        }
    }

    #[test]
    fn sniff_len_covers_the_signatures() {
        // The longest header probed (EBML with "matroska") must fit.
        assert!(ebml(b"matroska").len() <= SNIFF_LEN);
        assert_eq!(
            sniff(&ebml(b"webm")[..SNIFF_LEN.min(ebml(b"webm").len())]),
            Some(MediaType::Webm)
        );
    }

    fn check(name: &str, size: u64, head: &[u8]) -> Result<MediaType, (ErrorKind, String)> {
        check_upload(name, size, head).map_err(|e| (e.kind(), e.message().to_string()))
    }

    #[test]
    fn check_upload_accepts_matching_families() {
        let cases: Vec<(&str, Vec<u8>, MediaType)> = vec![
            ("a.mp4", ftyp(b"isom"), MediaType::Mp4),
            ("a.mp4", ftyp(b"qt  "), MediaType::Mp4),
            ("a.mov", ftyp(b"isom"), MediaType::Mov),
            ("a.m4a", ftyp(b"M4A "), MediaType::M4a),
            ("a.m4a", ftyp(b"mp42"), MediaType::M4a),
            ("a.webm", ebml(b"matroska"), MediaType::Webm),
            ("a.mkv", ebml(b"webm"), MediaType::Mkv),
            ("a.avi", riff(b"AVI "), MediaType::Avi),
            ("a.wav", riff(b"WAVE"), MediaType::Wav),
            ("a.webp", riff(b"WEBP"), MediaType::Webp),
            ("photo.JPEG", b"\xFF\xD8\xFF\xDB".to_vec(), MediaType::Jpg),
            ("a.png", PNG_SIG.to_vec(), MediaType::Png),
            ("a.gif", b"GIF89a".to_vec(), MediaType::Gif),
            ("a.mp3", vec![0xFF, 0xFB, 0x90, 0x64], MediaType::Mp3),
            ("a.mp3", b"ID3\x03\0\0\0\0\0\x10".to_vec(), MediaType::Mp3),
            ("a.aac", vec![0xFF, 0xF1, 0x50, 0x80], MediaType::Aac),
            (
                "tagged.aac",
                b"ID3\x04\0\0\0\0\0\x10".to_vec(),
                MediaType::Aac,
            ),
        ];
        for (name, head, want) in cases {
            assert_eq!(check(name, 1000, &head), Ok(want), "{name}");
        }
    }

    #[test]
    fn check_upload_rejections_say_what_is_wrong() {
        let big = MAX_UPLOAD_BYTES + 1;
        let cases: Vec<(&str, u64, Vec<u8>, ErrorKind, &str)> = vec![
            (
                "holiday.exe",
                10,
                b"MZ".to_vec(),
                ErrorKind::UnsupportedFile,
                "\"holiday.exe\" is not a supported type",
            ),
            (
                "holiday",
                10,
                vec![],
                ErrorKind::UnsupportedFile,
                "\"holiday\" has no file extension",
            ),
            ("", 10, vec![], ErrorKind::InvalidInput, "no name"),
            (
                "a.mp4",
                0,
                vec![],
                ErrorKind::InvalidInput,
                "\"a.mp4\" is empty",
            ),
            (
                "big.mov",
                big,
                ftyp(b"qt  "),
                ErrorKind::FileTooLarge,
                "\"big.mov\" is 200 MB",
            ),
            (
                "evil.png",
                4096,
                b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec(),
                ErrorKind::UnsupportedFile,
                "\"evil.png\" says PNG but its content is a Windows executable",
            ),
            (
                "evil.mp4",
                4096,
                b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec(),
                ErrorKind::UnsupportedFile,
                "is a Linux executable",
            ),
            (
                "x.png",
                4096,
                b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0".to_vec(),
                ErrorKind::UnsupportedFile,
                "\"x.png\" says PNG but its content is a JPEG image. Rename it to .jpg",
            ),
            (
                "short.png",
                5,
                PNG_SIG[..5].to_vec(),
                ErrorKind::UnsupportedFile,
                "is cut short",
            ),
            (
                "partial.png",
                4096,
                PNG_SIG[..5].to_vec(),
                ErrorKind::UnsupportedFile,
                "is cut short",
            ),
            (
                "page.mp4",
                4096,
                b"<!DOCTYPE html><html><head><title>404".to_vec(),
                ErrorKind::UnsupportedFile,
                "content is a web page",
            ),
            (
                "notes.wav",
                4096,
                b"hello there, these are my notes about ".to_vec(),
                ErrorKind::UnsupportedFile,
                "content is a text file",
            ),
            (
                "a.zip.mp4",
                4096,
                b"PK\x03\x04\x14\0\0\0\x08\0\0\0\0\0\0\0".to_vec(),
                ErrorKind::UnsupportedFile,
                "a ZIP archive",
            ),
            (
                "photo.jpg",
                4096,
                ftyp(b"heic"),
                ErrorKind::UnsupportedFile,
                "HEIC",
            ),
            (
                "song.wav",
                4096,
                riff(b"AVI "),
                ErrorKind::UnsupportedFile,
                "is an AVI video",
            ),
            (
                "noise.mp3",
                4096,
                vec![0x12; 64],
                ErrorKind::UnsupportedFile,
                "is not a valid MP3 audio",
            ),
        ];
        for (name, size, head, kind, needle) in cases {
            let (got_kind, message) = check(name, size, &head).expect_err(name);
            assert_eq!(got_kind, kind, "{name}: {message}");
            assert!(
                message.contains(needle),
                "{name}: {message:?} lacks {needle:?}"
            );
        }
    }

    #[test]
    fn size_limit_is_inclusive() {
        assert_eq!(
            check_name_and_size("a.mp4", MAX_UPLOAD_BYTES),
            Ok(MediaType::Mp4)
        );
        assert_eq!(
            check_name_and_size("a.mp4", MAX_UPLOAD_BYTES + 1).map_err(|e| e.kind()),
            Err(ErrorKind::FileTooLarge)
        );
        assert_eq!(check_name_and_size("a.mp4", 1), Ok(MediaType::Mp4));
    }

    #[test]
    fn unsupported_errors_list_the_accepted_formats() {
        let e = check_name_and_size("x.heic", 10).unwrap_err();
        assert!(e.message().contains("mp4, mov"), "{}", e.message());
    }

    #[test]
    fn check_url_table() {
        let ok = [
            "https://cdn.example.com/clip.mp4",
            "http://example.com",
            "HTTPS://EXAMPLE.COM/a?b=c#d",
            "https://example.com:8443/x",
            "https://[::1]:8080/x",
            "https://例子.测试/视频.mp4",
        ];
        for url in ok {
            assert_eq!(check_url(url), Ok(()), "{url}");
        }
        let bad: &[(&str, &str)] = &[
            ("", "empty"),
            ("javascript:alert(1)", "javascript: link"),
            ("file:///etc/passwd", "file: link"),
            ("data:video/mp4;base64,AAAA", "data: link"),
            ("ftp://example.com/a.mp4", "ftp: link"),
            ("/relative/path.mp4", "not a full web address"),
            ("example.com/a.mp4", "not a full web address"),
            ("https:/example.com", "not a full web address"),
            ("https://", "no host"),
            ("https:///path", "no host"),
            ("https://exa mple.com", "spaces"),
            ("https://example.com/a.mp4\n", "spaces"),
            (" https://example.com", "spaces"),
            ("https://example.com/\u{0}", "invisible"),
            ("https://user:pw@example.com/", "password"),
            ("https://example.com:99999/", "invalid port"),
            ("https://example.com:/", "invalid port"),
            ("https://example.com:8a/", "invalid port"),
        ];
        for &(url, needle) in bad {
            let e = check_url(url).expect_err(url);
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{url}");
            assert!(e.message().contains(needle), "{url}: {}", e.message());
        }
    }

    #[test]
    fn check_url_shortens_huge_urls_in_messages() {
        let url = format!("data:{}", "A".repeat(5000));
        let e = check_url(&url).unwrap_err();
        assert!(e.message().len() < 200, "{}", e.message());
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            /// Any bytes: no panic, and acceptance implies the sniffed
            /// family matches the name.
            #[test]
            fn check_upload_never_panics(
                head in proptest::collection::vec(any::<u8>(), 0..SNIFF_LEN),
                ext in proptest::sample::select(ACCEPTED_EXTENSIONS),
                size in 0u64..=MAX_UPLOAD_BYTES + 10,
            ) {
                let name = format!("f.{ext}");
                if let Ok(t) = check_upload(&name, size, &head) {
                    prop_assert_eq!(t, MediaType::from_extension(ext).unwrap());
                    prop_assert!(size > 0 && size <= MAX_UPLOAD_BYTES);
                    prop_assert_eq!(sniff(&head).map(MediaType::family), Some(t.family()));
                }
            }

            #[test]
            fn check_url_never_panics_and_accepts_only_http(url in "\\PC{0,40}") {
                if check_url(&url).is_ok() {
                    let lower = url.to_ascii_lowercase();
                    prop_assert!(lower.starts_with("http://") || lower.starts_with("https://"));
                }
            }
        }
    }
}
