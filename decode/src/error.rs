//! The two ways decoding can fail. Each is recoverable: the decoders drop
//! what was bad and go on; the client maps these to its protocol error.

use std::fmt;

/// Why some bytes of a stream could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// An event-stream line or one event's data was larger than the limit;
    /// that event was skipped and decoding went on after it.
    Oversized {
        /// The limit, in bytes.
        limit: usize,
    },
    /// An event's data is not a valid agent event (not JSON, or not an
    /// object).
    InvalidEvent {
        /// What was wrong, in a few words.
        reason: &'static str,
        /// The byte offset in the event's data where it was noticed.
        pos: usize,
    },
}

impl DecodeError {
    /// The message, in plain language.
    pub fn message(&self) -> String {
        match self {
            DecodeError::Oversized { limit } => {
                let mut msg = String::from("an event-stream line or event was larger than ");
                msg.push_str(&limit.to_string());
                msg.push_str(" bytes, so it was skipped");
                msg
            }
            DecodeError::InvalidEvent { reason, pos } => {
                let mut msg = String::from("agent event is not valid JSON (");
                msg.push_str(reason);
                msg.push_str(" at byte ");
                msg.push_str(&pos.to_string());
                msg.push(')');
                msg
            }
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(
            DecodeError::Oversized { limit: 16 }.message(),
            "an event-stream line or event was larger than 16 bytes, so it was skipped"
        );
        assert_eq!(
            DecodeError::InvalidEvent {
                reason: "unexpected character",
                pos: 3
            }
            .to_string(),
            "agent event is not valid JSON (unexpected character at byte 3)"
        );
    }
}
