//! Command-line / environment configuration and the part of it that can change at run time.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use serde::{Deserialize, Serialize};

/// Which event shape `/run_sse` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventMode {
    /// Google ADK events (`{"content":{"parts":[…]},…}`), like the real service.
    Adk,
    /// Typed events (`{"type":"text","content":…}`).
    Typed,
}

/// nemo-emulator: a local, faithful implementation of the NemoVideo agent API, with a
/// deterministic scripted agent, fault injection and real MP4 exports (ffmpeg).
#[derive(Parser, Clone, Debug)]
#[command(name = "nemo-emulator", version, about, long_about = None)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "NEMO_EMU_HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on; 0 picks a free port (the real one is printed on stdout).
    #[arg(long, env = "NEMO_EMU_PORT", default_value_t = 8787)]
    pub port: u16,

    /// Time scale for the scripted agent and render queue: 1 = realistic (generation
    /// 30-90 s), 100 = a hundred times faster.
    #[arg(long, env = "NEMO_EMU_SPEED", default_value_t = 1.0)]
    pub speed: f64,

    /// Seed of the scripted agent (timings, silent edits, default camera and title).
    #[arg(long, env = "NEMO_EMU_SEED", default_value_t = 42)]
    pub seed: u64,

    /// Lifetime of anonymous tokens, in seconds (default 7 days).
    #[arg(
        long = "token-ttl",
        env = "NEMO_EMU_TOKEN_TTL",
        default_value_t = 604_800
    )]
    pub token_ttl: u64,

    /// Anonymous tokens one IP address may obtain per token lifetime (then HTTP 429).
    #[arg(
        long = "tokens-per-ip",
        env = "NEMO_EMU_TOKENS_PER_IP",
        default_value_t = 10
    )]
    pub tokens_per_ip: u32,

    /// Credits given to each new anonymous token.
    #[arg(long, env = "NEMO_EMU_CREDITS", default_value_t = 100)]
    pub credits: i64,

    /// Credits charged for a generation turn.
    #[arg(
        long = "generation-cost",
        env = "NEMO_EMU_GENERATION_COST",
        default_value_t = 100
    )]
    pub generation_cost: i64,

    /// Credits charged for an edit turn.
    #[arg(long = "edit-cost", env = "NEMO_EMU_EDIT_COST", default_value_t = 50)]
    pub edit_cost: i64,

    /// A session unused for this many seconds is forgotten (then code 1002).
    #[arg(
        long = "session-idle",
        env = "NEMO_EMU_SESSION_IDLE",
        default_value_t = 86_400
    )]
    pub session_idle: u64,

    /// Heartbeat interval on idle SSE streams, in milliseconds of wall time (not scaled
    /// by --speed).
    #[arg(
        long = "heartbeat-ms",
        env = "NEMO_EMU_HEARTBEAT_MS",
        default_value_t = 10_000
    )]
    pub heartbeat_ms: u64,

    /// Default event shape of /run_sse (per request: header `X-Emulator-Events: typed|adk`
    /// or query `?events=typed`).
    #[arg(long, env = "NEMO_EMU_EVENTS", value_enum, default_value_t = EventMode::Adk)]
    pub events: EventMode,

    /// Web app URL used in registration links (`<web>/register?bind=<user_id>`).
    #[arg(
        long = "web-url",
        env = "NEMO_EMU_WEB_URL",
        default_value = "https://nemovideo.com"
    )]
    pub web_url: String,

    /// Base URL written into cdn_url / outputUrl (default: the listening address).
    #[arg(long = "public-url", env = "NEMO_EMU_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Serve this directory at `/` (demo page, built package) on the same origin.
    #[arg(long, env = "NEMO_EMU_WWW")]
    pub www: Option<PathBuf>,

    /// Where uploads and renders are stored (default: a temporary directory removed on exit).
    #[arg(long = "data-dir", env = "NEMO_EMU_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Largest accepted upload file, in bytes (larger: code 4002).
    #[arg(long = "max-file-size", env = "NEMO_EMU_MAX_FILE_SIZE", default_value_t = 200 * 1024 * 1024)]
    pub max_file_size: u64,

    /// Most files accepted in one upload request.
    #[arg(long = "max-files", env = "NEMO_EMU_MAX_FILES", default_value_t = 10)]
    pub max_files: usize,

    /// Largest JSON request body, in bytes.
    #[arg(long = "json-limit", env = "NEMO_EMU_JSON_LIMIT", default_value_t = 1024 * 1024)]
    pub json_limit: usize,

    /// Deepest accepted JSON nesting.
    #[arg(
        long = "max-json-depth",
        env = "NEMO_EMU_MAX_JSON_DEPTH",
        default_value_t = 64
    )]
    pub max_json_depth: usize,

    /// Largest total size of request headers, in bytes (then HTTP 431).
    #[arg(long = "max-header-bytes", env = "NEMO_EMU_MAX_HEADER_BYTES", default_value_t = 16 * 1024)]
    pub max_header_bytes: usize,

    /// Most anonymous tokens kept; past it the oldest-issued are forgotten, with their
    /// accounts (a forgotten token answers 1001, like an expired one).
    #[arg(
        long = "max-tokens",
        env = "NEMO_EMU_MAX_TOKENS",
        default_value_t = 10_000
    )]
    pub max_tokens: usize,

    /// Most sessions kept; past it the least recently used are forgotten, with their
    /// statistics (a forgotten session answers 1002, like an idle-expired one).
    #[arg(
        long = "max-sessions",
        env = "NEMO_EMU_MAX_SESSIONS",
        default_value_t = 10_000
    )]
    pub max_sessions: usize,

    /// Finished turns kept for `Last-Event-ID` replay, at most this many (oldest dropped
    /// first; a dropped turn is unknown, so a resume of it runs the message again).
    #[arg(
        long = "replay-turns",
        env = "NEMO_EMU_REPLAY_TURNS",
        default_value_t = 2_000
    )]
    pub replay_turns: usize,

    /// Finished turns kept for replay, at most this many bytes in all (an estimate).
    #[arg(long = "replay-bytes", env = "NEMO_EMU_REPLAY_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub replay_bytes: usize,

    /// Finished turns kept for replay, at most this many seconds after they finished.
    #[arg(
        long = "replay-secs",
        env = "NEMO_EMU_REPLAY_SECS",
        default_value_t = 900
    )]
    pub replay_secs: u64,
}

/// The caps on what the emulator remembers (see [`crate::retention`]).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_tokens: usize,
    pub max_sessions: usize,
    pub replay_turns: usize,
    pub replay_bytes: usize,
    pub replay_window: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config::parse_from(["nemo-emulator"])
    }
}

impl Config {
    /// Parses flags from an argument list (the program name is added), for tests.
    pub fn from_args<I, S>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString> + Clone,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["nemo-emulator".into()];
        all.extend(args.into_iter().map(Into::into));
        Config::try_parse_from(all)
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_tokens: self.max_tokens,
            max_sessions: self.max_sessions,
            replay_turns: self.replay_turns,
            replay_bytes: self.replay_bytes,
            replay_window: std::time::Duration::from_secs(self.replay_secs),
        }
    }
}

/// The settings `POST /__emulator/config` may change while running.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Runtime {
    pub speed: f64,
    pub token_ttl_s: u64,
    pub heartbeat_ms: u64,
    pub session_idle_s: u64,
    pub events: EventMode,
    pub tokens_per_ip: u32,
    pub credits: i64,
    pub generation_cost: i64,
    pub edit_cost: i64,
}

impl Runtime {
    pub fn from_config(c: &Config) -> Self {
        Runtime {
            speed: if c.speed.is_finite() && c.speed > 0.0 {
                c.speed
            } else {
                1.0
            },
            token_ttl_s: c.token_ttl,
            heartbeat_ms: c.heartbeat_ms.max(1),
            session_idle_s: c.session_idle,
            events: c.events,
            tokens_per_ip: c.tokens_per_ip,
            credits: c.credits,
            generation_cost: c.generation_cost,
            edit_cost: c.edit_cost,
        }
    }

    /// A scripted duration (milliseconds at speed 1) scaled by the current speed.
    pub fn scaled(&self, ms: f64) -> std::time::Duration {
        std::time::Duration::from_secs_f64((ms / 1000.0 / self.speed).max(0.0))
    }
}
