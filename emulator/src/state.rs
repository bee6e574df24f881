//! The in-memory store: tokens, accounts, sessions, uploads, renders, turns and statistics.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    net::IpAddr,
    path::PathBuf,
    sync::{Arc, Mutex, MutexGuard, RwLock},
    time::{Instant, SystemTime},
};

use serde::Serialize;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::{
    agent::turn::Turn,
    config::{Config, Runtime},
    envelope::ApiError,
    faults::FaultQueue,
};

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

pub struct Inner {
    pub config: Config,
    pub runtime: RwLock<Runtime>,
    pub store: Mutex<Store>,
    pub faults: FaultQueue,
    pub data_dir: PathBuf,
    pub base_url: RwLock<String>,
    _tmp: Option<tempfile::TempDir>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl AppState {
    pub fn new(config: Config) -> std::io::Result<Self> {
        let (data_dir, tmp) = match &config.data_dir {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                (d.clone(), None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("nemo-emulator-")
                    .tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        std::fs::create_dir_all(data_dir.join("files"))?;
        std::fs::create_dir_all(data_dir.join("renders"))?;
        std::fs::create_dir_all(data_dir.join("tmp"))?;
        let runtime = Runtime::from_config(&config);
        Ok(AppState {
            inner: Arc::new(Inner {
                config,
                runtime: RwLock::new(runtime),
                store: Mutex::new(Store::default()),
                faults: FaultQueue::default(),
                data_dir,
                base_url: RwLock::new(String::from("http://127.0.0.1")),
                _tmp: tmp,
            }),
        })
    }

    /// Locks the store (a poisoned lock is recovered: the store has no invariants that a
    /// panicking request could break half-way in a dangerous manner).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.inner
            .store
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    pub fn rt(&self) -> Runtime {
        self.inner
            .runtime
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_rt(&self, rt: Runtime) {
        *self
            .inner
            .runtime
            .write()
            .unwrap_or_else(|p| p.into_inner()) = rt;
    }

    pub fn base_url(&self) -> String {
        self.inner
            .base_url
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_base_url(&self, url: String) {
        *self
            .inner
            .base_url
            .write()
            .unwrap_or_else(|p| p.into_inner()) = url;
    }

    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }
    pub fn renders_dir(&self) -> PathBuf {
        self.data_dir.join("renders")
    }
    pub fn tmp_dir(&self) -> PathBuf {
        self.data_dir.join("tmp")
    }

    /// Forgets everything (tokens, sessions, files, renders, turns, faults, statistics)
    /// and restores the start-up runtime settings.
    pub fn reset(&self) {
        let old = {
            let mut s = self.store();
            std::mem::take(&mut *s)
        };
        for job in old.renders.values() {
            job.cancel.cancel();
        }
        for turn in old.turns.values() {
            turn.cancel.cancel();
        }
        self.faults.clear();
        self.set_rt(Runtime::from_config(&self.config));
        for dir in [self.files_dir(), self.renders_dir(), self.tmp_dir()] {
            let _ = std::fs::remove_dir_all(&dir);
            let _ = std::fs::create_dir_all(&dir);
        }
    }
}

pub struct Token {
    pub user_id: String,
    pub client_id: String,
    pub ip: IpAddr,
    pub issued: SystemTime,
    pub expires: SystemTime,
}

#[derive(Default, Clone, Serialize)]
pub struct Account {
    pub available: i64,
    pub frozen: i64,
    pub spent: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Video,
    Image,
    Audio,
}

pub struct StoredFile {
    pub id: String,
    pub user_id: String,
    pub session_id: String,
    pub filename: String,
    pub kind: FileKind,
    /// `None` for a remote reference that was recorded but not fetched.
    pub path: Option<PathBuf>,
    pub cdn_url: String,
    pub duration: Option<f64>,
}

pub struct Session {
    pub id: String,
    pub task_id: String,
    pub task_name: String,
    pub language: String,
    pub user_id: String,
    pub last_active: Instant,
    pub draft: Value,
    pub video_infos: Vec<Value>,
    pub canvas: Value,
    pub video_analyses: Vec<Value>,
    pub generated_media: Vec<Value>,
    /// Number of turns started (drives the scripted agent's per-turn seed).
    pub turn_count: u64,
    pub active_render: Option<String>,
}

impl Session {
    pub fn state_json(&self) -> Value {
        json!({
            "draft": self.draft,
            "video_infos": self.video_infos,
            "canvas_config": self.canvas,
            "video_analyses": self.video_analyses,
            "generated_media": self.generated_media,
        })
    }

    pub fn is_zh(&self) -> bool {
        self.language.to_ascii_lowercase().starts_with("zh")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderStatus {
    Pending,
    Processing,
    Completed,
    Failed,
    Cancelled,
}

impl RenderStatus {
    pub fn is_active(self) -> bool {
        matches!(self, RenderStatus::Pending | RenderStatus::Processing)
    }
}

pub struct RenderJob {
    pub id: String,
    pub session_id: String,
    pub user_id: String,
    pub status: RenderStatus,
    pub progress: u8,
    pub out_path: PathBuf,
    pub error: Option<String>,
    pub cancel: CancellationToken,
    pub created: SystemTime,
    pub size_bytes: Option<u64>,
    pub duration_ms: Option<u64>,
    pub width: u32,
    pub height: u32,
}

/// One message of a session, for `/__emulator/stats`. Kept per turn for as long as its
/// session's statistics, so it holds one allocation (the turn id).
#[derive(Clone, Serialize)]
pub struct MessageRecord {
    pub turn_id: String,
    /// FNV-1a of the text, written as 16 hex digits.
    #[serde(serialize_with = "hex16")]
    pub hash: u64,
    pub kind: &'static str,
    pub charged: bool,
    pub credits: i64,
}

fn hex16<S: serde::Serializer>(h: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{h:016x}"))
}

#[derive(Default, Clone, Serialize)]
pub struct SessionStats {
    pub task_id: String,
    pub user_id: String,
    pub turns_run: u64,
    pub turns_charged: u64,
    pub turns_resumed: u64,
    pub credits_charged: i64,
    pub renders: u64,
    pub uploads: u64,
    /// The most recent [`SessionStats::MAX_MESSAGES`] messages, oldest first.
    pub messages: VecDeque<MessageRecord>,
}

impl SessionStats {
    /// Messages kept per session: a session that runs turns for days keeps its latest.
    pub const MAX_MESSAGES: usize = 1_000;

    pub fn push_message(&mut self, m: MessageRecord) {
        if self.messages.len() >= Self::MAX_MESSAGES {
            self.messages.pop_front();
        }
        // Most sessions see one message or a few: start with room for one, not four.
        if self.messages.capacity() == 0 {
            self.messages.reserve_exact(1);
        }
        self.messages.push_back(m);
    }
}

#[derive(Default, Clone, Serialize)]
pub struct GlobalStats {
    pub requests: u64,
    /// Requests held by a `stall` fault right now (a stall without `ms`
    /// ends when its client disconnects).
    pub stalls_open: u64,
    pub tokens_issued: u64,
    pub sessions_created: u64,
    pub turns_run: u64,
    pub turns_charged: u64,
    pub turns_resumed: u64,
    pub turns_failed: u64,
    pub credits_charged: i64,
    pub uploads: u64,
    pub upload_bytes: u64,
    pub renders_started: u64,
    pub renders_completed: u64,
    pub renders_failed: u64,
    pub renders_cancelled: u64,
    pub sse_streams_open: i64,
    pub sse_streams_total: u64,
    pub missing_attribution: u64,
    pub faults_fired: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct Store {
    pub tokens: HashMap<String, Token>,
    /// client id → token.
    pub by_client: HashMap<String, String>,
    /// IP → issue times of tokens it obtained.
    pub ip_issued: HashMap<IpAddr, Vec<SystemTime>>,
    pub accounts: HashMap<String, Account>,
    /// Boxed: a `Session` is about 400 bytes, and a table sized for growth would hold up
    /// to twice that per session in empty slots.
    pub sessions: HashMap<String, Box<Session>>,
    pub files: HashMap<String, StoredFile>,
    pub renders: HashMap<String, RenderJob>,
    pub turns: HashMap<String, Arc<Turn>>,
    pub claims: HashMap<String, (String, String, SystemTime)>,
    pub session_stats: BTreeMap<String, SessionStats>,
    pub global: GlobalStats,
    /// Finished turns still in `turns`, in the order they finished (see
    /// [`crate::retention`]).
    pub retired: crate::retention::Retired,
}

impl Store {
    /// Looks a session up for `user_id`, expiring it if idle for longer than `idle_s`, and
    /// marks it used. Unknown, expired and foreign sessions all answer 1002.
    pub fn session_mut(
        &mut self,
        sid: &str,
        user_id: &str,
        idle_s: u64,
    ) -> Result<&mut Session, ApiError> {
        let now = Instant::now();
        let expired = match self.sessions.get(sid) {
            None => return Err(ApiError::session_not_found(sid)),
            Some(s) if s.user_id != user_id => return Err(ApiError::session_not_found(sid)),
            Some(s) => now.duration_since(s.last_active).as_secs_f64() > idle_s as f64,
        };
        if expired {
            self.sessions.remove(sid);
            return Err(ApiError::session_not_found(sid));
        }
        match self.sessions.get_mut(sid) {
            Some(s) => {
                s.last_active = now;
                Ok(s)
            }
            None => Err(ApiError::session_not_found(sid)),
        }
    }

    pub fn stats_for(&mut self, sid: &str) -> &mut SessionStats {
        self.session_stats.entry(sid.to_string()).or_default()
    }

    pub fn account(&mut self, user_id: &str) -> &mut Account {
        self.accounts.entry(user_id.to_string()).or_default()
    }
}
