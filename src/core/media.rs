//! Media checks (being written).

/// The 13 accepted upload types, by extension.
pub const ACCEPTED_EXTENSIONS: &[&str] = &[
    "mp4", "mov", "avi", "webm", "mkv", "jpg", "png", "gif", "webp", "mp3", "wav", "m4a", "aac",
];

/// The per-file upload limit: 200 MB (binary megabytes).
pub const MAX_UPLOAD_BYTES: u64 = 200 * 1024 * 1024;
