//! A turn: the event log of one `/run_sse` message, produced by a background task that
//! outlives the connection (so a dropped stream can be resumed with `Last-Event-ID`).

use std::{
    sync::{Arc, Mutex},
    time::{Instant, SystemTime},
};

use rand::{rngs::SmallRng, Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{
    draft,
    packed::PackedLog,
    script::{texts, Aspect, Camera, Intent},
};
use crate::{
    credits,
    state::{AppState, FileKind},
    util,
};

/// One thing the agent said or did.
#[derive(Clone, Debug)]
pub enum AgentEvent {
    Thought(String),
    /// A text part; `partial` chunks carry deltas; `streamed` marks the complete event that
    /// follows partial chunks (it repeats the whole text).
    Text {
        text: String,
        partial: bool,
        streamed: bool,
    },
    ToolCall {
        call_id: String,
        name: String,
        args: Value,
    },
    ToolResult {
        call_id: String,
        name: String,
        response: Value,
    },
    /// An event with no content, only `actions.stateDelta`.
    StateDelta(Value),
    Error {
        error_type: String,
        message: String,
    },
}

#[derive(Clone, Debug)]
pub struct LoggedEvent {
    /// 1-based position in the turn; the SSE id is `<turn id>:<seq>`.
    pub seq: u64,
    /// The ADK event `id` (two events may share one).
    pub event_id: String,
    pub timestamp: f64,
    pub ev: AgentEvent,
}

/// A turn's events: growing while it runs, packed once it is done (see [`PackedLog`]).
enum Log {
    Live(Vec<LoggedEvent>),
    Done(PackedLog),
}

pub struct Turn {
    /// Also the ADK `invocationId`: `e-<uuid>`.
    pub id: String,
    pub session_id: String,
    pub user_id: String,
    pub created: Instant,
    pub cancel: CancellationToken,
    log: Mutex<Log>,
    version: watch::Sender<u64>,
}

impl Turn {
    pub fn new(id: String, session_id: String, user_id: String) -> Arc<Self> {
        let (version, _) = watch::channel(0);
        Arc::new(Turn {
            id,
            session_id,
            user_id,
            created: Instant::now(),
            cancel: CancellationToken::new(),
            log: Mutex::new(Log::Live(Vec::new())),
            version,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends an event (ignored once the turn is done: its log is then fixed).
    pub fn push(&self, event_id: &str, ev: AgentEvent) {
        {
            let mut log = self.lock();
            let Log::Live(events) = &mut *log else {
                return;
            };
            let seq = events.len() as u64 + 1;
            events.push(LoggedEvent {
                seq,
                event_id: event_id.to_string(),
                timestamp: util::unix_f64(SystemTime::now()),
                ev,
            });
        }
        self.version.send_modify(|v| *v += 1);
    }

    /// Marks the turn done and packs its log.
    pub fn finish(&self) {
        {
            let mut log = self.lock();
            if let Log::Live(events) = &*log {
                if let Some(packed) = PackedLog::pack(events) {
                    *log = Log::Done(packed);
                }
            }
        }
        self.version.send_modify(|v| *v += 1);
    }

    pub fn is_done(&self) -> bool {
        matches!(*self.lock(), Log::Done(_))
    }

    pub fn len(&self) -> usize {
        match &*self.lock() {
            Log::Live(events) => events.len(),
            Log::Done(p) => p.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events from index `from` (0-based) on, and whether the turn has finished.
    pub fn read_from(&self, from: usize) -> (Vec<LoggedEvent>, bool) {
        match &*self.lock() {
            Log::Live(events) => (
                events.get(from..).map(<[_]>::to_vec).unwrap_or_default(),
                false,
            ),
            Log::Done(p) => (p.read_from(from), true),
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// About how many bytes this turn keeps alive while it waits for a replay: its log and
    /// its fixed parts (the strings, the change channel and the cancel token). Used for the
    /// `--replay-bytes` cap, so an estimate is enough.
    pub fn retained_bytes(&self) -> usize {
        /// The watch channel's shared state (344 bytes) and the cancel token's tree node
        /// (112), measured with heaptrack (tokio 1.x, tokio-util 0.7).
        const CHANNELS: usize = 456;
        let log = match &*self.lock() {
            Log::Live(events) => events.capacity() * std::mem::size_of::<LoggedEvent>(),
            Log::Done(p) => p.heap_bytes(),
        };
        std::mem::size_of::<Turn>()
            + self.id.len()
            + self.session_id.len()
            + self.user_id.len()
            + CHANNELS
            + log
    }
}

/// A media file a generation starts from.
#[derive(Clone, Debug)]
pub struct Source {
    pub url: String,
    pub name: String,
    pub kind: FileKind,
    pub duration: Option<f64>,
    /// The file's pixel size, when it is an image or a video.
    pub size: Option<(u64, u64)>,
}

#[derive(Clone, Debug)]
pub enum PlanKind {
    Echo(String),
    Fail(String),
    Generate { source: Option<Source> },
    Edit { place: Option<Source> },
    Reply(String),
}

/// What a turn will do, decided (and paid for) before it starts.
#[derive(Clone, Debug)]
pub struct Plan {
    pub kind: PlanKind,
    pub intent: Intent,
    pub message: String,
    pub cost: i64,
    pub zh: bool,
    pub seed: u64,
    pub silent: bool,
    /// The request asked for token streaming (`"streaming": true`): texts
    /// go out as `partial` deltas first. Without it, only complete texts.
    pub streaming: bool,
}

struct Runner {
    state: AppState,
    turn: Arc<Turn>,
    plan: Plan,
    rng: SmallRng,
}

/// Runs a turn to completion (or until the emulator is reset).
pub async fn run(state: AppState, turn: Arc<Turn>, plan: Plan) {
    let rng = SmallRng::seed_from_u64(plan.seed);
    let mut r = Runner {
        state,
        turn: turn.clone(),
        plan,
        rng,
    };
    let ok = r.execute().await;
    r.settle_credits(ok);
    turn.finish();
    // Now it waits for a replay, within the `--replay-*` caps.
    let limits = r.state.config.limits();
    r.state.store().retire_turn(&turn, &limits);
}

impl Runner {
    fn uuid(&mut self) -> String {
        let a: u64 = self.rng.gen();
        let b: u64 = self.rng.gen();
        let h = format!("{a:016x}{b:016x}");
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    fn hex(&mut self, n: usize) -> String {
        let a: u64 = self.rng.gen();
        let b: u64 = self.rng.gen();
        format!("{a:016x}{b:016x}")[..n.min(32)].to_string()
    }

    /// Sleeps a scripted duration (ms at speed 1); false when the turn was cancelled.
    async fn pause(&mut self, lo_ms: u64, hi_ms: u64) -> bool {
        let ms = if hi_ms > lo_ms {
            self.rng.gen_range(lo_ms..hi_ms)
        } else {
            lo_ms
        };
        let d = self.state.rt().scaled(ms as f64);
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.turn.cancel.cancelled() => false,
        }
    }

    fn emit(&mut self, ev: AgentEvent) -> String {
        let id = self.uuid();
        self.turn.push(&id, ev);
        id
    }

    fn emit_with_id(&mut self, id: &str, ev: AgentEvent) {
        self.turn.push(id, ev);
    }

    /// Streams a text as `partial` chunks, then one complete event.
    async fn say(&mut self, text: &str) -> bool {
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        let chunk_words = if self.plan.zh { 1 } else { 3 };
        let chunks: Vec<String> = if self.plan.zh || words.len() <= 1 {
            // Chinese has no spaces: cut every ~8 characters.
            let chars: Vec<char> = text.chars().collect();
            chars.chunks(8).map(|c| c.iter().collect()).collect()
        } else {
            words.chunks(chunk_words).map(|c| c.concat()).collect()
        };
        // The agent takes as long to write either way; only what the client
        // sees meanwhile differs.
        for c in chunks {
            if self.plan.streaming {
                self.emit(AgentEvent::Text {
                    text: c,
                    partial: true,
                    streamed: false,
                });
            }
            if !self.pause(150, 250).await {
                return false;
            }
        }
        self.emit(AgentEvent::Text {
            text: text.to_string(),
            partial: false,
            streamed: self.plan.streaming,
        });
        true
    }

    async fn execute(&mut self) -> bool {
        match self.plan.kind.clone() {
            PlanKind::Echo(text) => {
                self.emit(AgentEvent::Text {
                    text,
                    partial: false,
                    streamed: false,
                });
                true
            }
            PlanKind::Fail(what) => {
                let zh = self.plan.zh;
                self.emit(AgentEvent::Text {
                    text: texts::working(zh),
                    partial: false,
                    streamed: false,
                });
                self.pause(300, 800).await;
                let msg = if what.is_empty() {
                    "simulated agent failure".to_string()
                } else {
                    format!("simulated agent failure ({what})")
                };
                self.emit(AgentEvent::Error {
                    error_type: "RuntimeError".into(),
                    message: msg,
                });
                false
            }
            PlanKind::Reply(text) => self.pause(300, 900).await && self.say(&text).await,
            PlanKind::Generate { source } => self.generate(source).await,
            PlanKind::Edit { place } => self.edit(place).await,
        }
    }

    /// Applies a change to the session; `None` (and an error event) when it is gone.
    fn with_session<T>(&mut self, f: impl FnOnce(&mut crate::state::Session) -> T) -> Option<T> {
        let idle = self.state.rt().session_idle_s;
        let result = {
            let mut store = self.state.store();
            store
                .session_mut(&self.turn.session_id, &self.turn.user_id, idle)
                .map(f)
        };
        match result {
            Ok(v) => Some(v),
            Err(_) => {
                let sid = self.turn.session_id.clone();
                self.emit(AgentEvent::Error {
                    error_type: "SessionNotFoundError".into(),
                    message: format!("Session not found: {sid}"),
                });
                None
            }
        }
    }

    fn clip_name(&self, source: &Option<Source>) -> String {
        if let Some(s) = source {
            return s.name.clone();
        }
        let msg = self.plan.message.trim();
        let l = msg.to_ascii_lowercase();
        let start = l.find(" of ").map(|p| p + 4).unwrap_or(0);
        let rest = &msg[start..];
        let lower = rest.to_ascii_lowercase();
        let mut end = rest
            .find([',', '.', '，', '。', ';', '：', ':'])
            .unwrap_or(rest.len());
        for stop in [" with ", " and ", " in ", " at ", " using ", "，", "镜头"] {
            if let Some(p) = lower.find(stop) {
                end = end.min(p);
            }
        }
        let name: String = rest[..end].trim().chars().take(40).collect();
        if name.is_empty() {
            "generated clip".into()
        } else {
            name
        }
    }

    async fn generate(&mut self, source: Option<Source>) -> bool {
        let intent = self.plan.intent.clone();
        let zh = self.plan.zh;
        if !self.pause(400, 1200).await {
            return false;
        }
        let pick = self.rng.gen_range(0..Camera::MOVES.len());
        let camera = intent.camera.unwrap_or(Camera::MOVES[pick]);
        let from_upload = source
            .as_ref()
            .map(|s| s.kind != FileKind::Audio)
            .unwrap_or(false);
        let source = source.filter(|s| s.kind != FileKind::Audio);
        self.emit(AgentEvent::Thought(texts::thought_generate(
            camera,
            from_upload,
        )));
        let call_id = format!("call_{}", self.hex(12));
        let d_ms = match (&intent.duration_s, intent.trim_s, &source) {
            (Some(d), _, _) => (d * 1000.0) as u64,
            (None, Some(t), _) => (t * 1000.0) as u64,
            (None, None, Some(s)) if s.kind == FileKind::Video => s
                .duration
                .map(|d| ((d * 1000.0) as u64).clamp(1000, 10_000))
                .unwrap_or(5000),
            _ => 5000,
        };
        let aspect = intent.aspect.map(Aspect::label);
        self.emit(AgentEvent::ToolCall {
            call_id: call_id.clone(),
            name: "generate_video".into(),
            args: json!({
                "prompt": self.plan.message,
                "source_url": source.as_ref().map(|s| s.url.clone()),
                "camera": camera.as_str(),
                "duration_s": d_ms as f64 / 1000.0,
                "aspect_ratio": aspect,
            }),
        });
        // The long GPU run: connections send heartbeats meanwhile.
        if !self.pause(30_000, 90_000).await {
            return false;
        }
        let media_id = format!("gen_{}", self.hex(16));
        let seg_id = format!("v_{}", self.hex(8));
        let src = source
            .as_ref()
            .map(|s| s.url.clone())
            .unwrap_or_else(|| format!("emulator://generated/{media_id}"));
        let name = self.clip_name(&source);
        let prompt = self.plan.message.clone();
        let src2 = src.clone();
        // The output's shape: what the prompt asked for, else the source's
        // own (a 16:9 photo gives a 16:9 clip), else the session's canvas.
        let shape = match (intent.aspect, source.as_ref().and_then(|s| s.size)) {
            (Some(a), _) => Some((a.dims(), a.label().to_string())),
            (None, Some((w, h))) => fit_canvas(w, h),
            (None, None) => None,
        };
        let delta = self.with_session(move |s| {
            draft::set_clip(&mut s.draft, &seg_id, &src2, &name, camera.as_str(), d_ms);
            let mut delta = json!({});
            if let Some(((w, h), label)) = shape {
                s.canvas["width"] = json!(w);
                s.canvas["height"] = json!(h);
                s.canvas["aspect_ratio"] = json!(label);
                draft::set_size(&mut s.draft, w, h);
                delta["canvas_config"] = s.canvas.clone();
            }
            s.generated_media.push(json!({
                "id": media_id,
                "type": "video",
                "url": src2,
                "camera": camera.as_str(),
                "duration_ms": d_ms,
                "prompt": prompt,
                "source_url": source.as_ref().map(|x| x.url.clone()),
            }));
            delta["draft"] = s.draft.clone();
            delta["generated_media"] = json!(s.generated_media);
            (delta, media_id)
        });
        let Some((delta, media_id)) = delta else {
            return false;
        };
        let rid = self.emit(AgentEvent::ToolResult {
            call_id,
            name: "generate_video".into(),
            response: json!({
                "status": "success",
                "media_id": media_id,
                "video_url": src,
                "duration_ms": d_ms,
                "camera": camera.as_str(),
            }),
        });
        self.emit_with_id(&rid, AgentEvent::StateDelta(delta));
        // An aspect ratio the prompt asked for is said in the reply.
        let ready = match intent.aspect {
            Some(a) => texts::clip_ready_in(zh, a),
            None => texts::clip_ready(zh),
        };
        if !self.say(&ready).await {
            return false;
        }

        // Second stage: the backend adds BGM and a title on its own.
        if !self.pause(300, 900).await {
            return false;
        }
        self.emit(AgentEvent::Thought(texts::thought_enhance()));
        let volume = intent.bgm.unwrap_or(30);
        let pick = self.rng.gen_range(0..texts::DEFAULT_TITLES_EN.len());
        let title = intent.title.clone().unwrap_or_else(|| {
            if zh {
                texts::DEFAULT_TITLES_ZH[pick].to_string()
            } else {
                texts::DEFAULT_TITLES_EN[pick].to_string()
            }
        });
        let call_id = format!("call_{}", self.hex(12));
        self.emit(AgentEvent::ToolCall {
            call_id: call_id.clone(),
            name: "auto_enhance".into(),
            args: json!({"add_bgm": true, "bgm": "lo-fi", "volume": volume, "add_title": true, "title": title}),
        });
        if !self.pause(8_000, 20_000).await {
            return false;
        }
        let bgm_id = format!("a_{}", self.hex(8));
        let title_id = format!("t_{}", self.hex(8));
        let t2 = title.clone();
        let delta = self.with_session(move |s| {
            draft::set_bgm(&mut s.draft, &bgm_id, volume);
            draft::set_title(&mut s.draft, &title_id, &t2);
            if let Some(t) = intent.trim_s {
                draft::trim(&mut s.draft, (t * 1000.0) as u64);
            }
            json!({"draft": s.draft.clone()})
        });
        let Some(delta) = delta else {
            return false;
        };
        let rid = self.emit(AgentEvent::ToolResult {
            call_id,
            name: "auto_enhance".into(),
            response: json!({"status": "success", "bgm": {"name": "Lo-fi", "volume": volume}, "title": title}),
        });
        self.emit_with_id(&rid, AgentEvent::StateDelta(delta));
        self.say(&texts::enhanced(zh, volume, &title)).await
    }

    async fn edit(&mut self, place: Option<Source>) -> bool {
        let intent = self.plan.intent.clone();
        let zh = self.plan.zh;
        if !self.pause(300, 900).await {
            return false;
        }
        self.emit(AgentEvent::Thought(texts::thought_edit()));
        let mut ops = Vec::new();
        let mut parts = Vec::new();
        if let Some(c) = intent.camera {
            ops.push(json!({"op": "set_camera", "camera": c.as_str()}));
            parts.push(texts::part_camera(zh, c));
        }
        if let Some(v) = intent.bgm {
            ops.push(json!({"op": "add_bgm", "bgm": "lo-fi", "volume": v}));
            parts.push(texts::part_bgm(zh, v));
        }
        if let Some(t) = &intent.title {
            ops.push(json!({"op": "set_title", "text": t}));
            parts.push(texts::part_title(zh, t));
        }
        if let Some(a) = intent.aspect {
            let (w, h) = a.dims();
            ops.push(json!({"op": "set_aspect_ratio", "aspect_ratio": a.label(), "width": w, "height": h}));
            parts.push(texts::part_aspect(zh, a));
        }
        if let Some(t) = intent.trim_s {
            ops.push(json!({"op": "trim", "duration_s": t}));
            parts.push(texts::part_trim(zh, t));
        }
        let call_id = format!("call_{}", self.hex(12));
        self.emit(AgentEvent::ToolCall {
            call_id: call_id.clone(),
            name: "edit_timeline".into(),
            args: json!({"operations": ops}),
        });
        if !self.pause(3_000, 10_000).await {
            return false;
        }
        let ids = (
            format!("v_{}", self.hex(8)),
            format!("a_{}", self.hex(8)),
            format!("t_{}", self.hex(8)),
        );
        let delta = self.with_session(move |s| {
            if let Some(p) = &place {
                if !draft::has_video(&s.draft) {
                    let d_ms = match p.kind {
                        FileKind::Video => p
                            .duration
                            .map(|d| ((d * 1000.0) as u64).max(1000))
                            .unwrap_or(5000),
                        _ => 5000,
                    };
                    draft::set_clip(&mut s.draft, &ids.0, &p.url, &p.name, "static", d_ms);
                }
            }
            let mut delta = json!({});
            if let Some(c) = intent.camera {
                draft::set_camera(&mut s.draft, c.as_str());
            }
            if let Some(v) = intent.bgm {
                draft::set_bgm(&mut s.draft, &ids.1, v);
            }
            if let Some(t) = &intent.title {
                draft::set_title(&mut s.draft, &ids.2, t);
            }
            if let Some(a) = intent.aspect {
                let (w, h) = a.dims();
                s.canvas["width"] = json!(w);
                s.canvas["height"] = json!(h);
                s.canvas["aspect_ratio"] = json!(a.label());
                draft::set_size(&mut s.draft, w, h);
                delta["canvas_config"] = s.canvas.clone();
            }
            if let Some(t) = intent.trim_s {
                draft::trim(&mut s.draft, (t * 1000.0) as u64);
            }
            delta["draft"] = s.draft.clone();
            delta
        });
        let Some(delta) = delta else {
            return false;
        };
        let rid = self.emit(AgentEvent::ToolResult {
            call_id,
            name: "edit_timeline".into(),
            response: json!({"status": "success", "applied": ops.len()}),
        });
        self.emit_with_id(&rid, AgentEvent::StateDelta(delta));
        if self.plan.silent {
            return true;
        }
        self.say(&texts::edit_done(zh, &parts)).await
    }

    /// Spends the reservation on success, returns it otherwise; records statistics.
    fn settle_credits(&mut self, ok: bool) {
        let cost = self.plan.cost;
        let mut store = self.state.store();
        if ok {
            credits::commit(&mut store, &self.turn.user_id, cost);
        } else {
            credits::refund(&mut store, &self.turn.user_id, cost);
            store.global.turns_failed += 1;
        }
        if ok && cost > 0 {
            store.global.turns_charged += 1;
            store.global.credits_charged += cost;
            let st = store.stats_for(&self.turn.session_id);
            st.turns_charged += 1;
            st.credits_charged += cost;
            if let Some(m) = st.messages.iter_mut().find(|m| m.turn_id == self.turn.id) {
                m.charged = true;
                m.credits = cost;
            }
        }
    }
}

/// A canvas with the source's aspect ratio, scaled to fill the largest frame
/// the service renders (1920x1080 landscape, 1080x1920 portrait), in even
/// pixels; with its ratio in lowest terms ("16:9", "3:2"). `None` for a
/// zero size.
pub fn fit_canvas(w: u64, h: u64) -> Option<((u32, u32), String)> {
    if w == 0 || h == 0 {
        return None;
    }
    let (long, short) = if w >= h { (w, h) } else { (h, w) };
    let scale = (1920.0 / long as f64).min(1080.0 / short as f64);
    let even = |n: u64| ((((n as f64) * scale) as u32) & !1).max(2);
    let (cw, ch) = (even(w), even(h));
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let g = gcd(w, h);
    Some(((cw, ch), format!("{}:{}", w / g, h / g)))
}

#[cfg(test)]
mod fit_tests {
    use super::fit_canvas;

    #[test]
    fn the_canvas_follows_the_source() {
        assert_eq!(fit_canvas(1920, 1080), Some(((1920, 1080), "16:9".into())));
        assert_eq!(fit_canvas(640, 360), Some(((1920, 1080), "16:9".into())));
        assert_eq!(fit_canvas(960, 640), Some(((1620, 1080), "3:2".into())));
        assert_eq!(fit_canvas(1080, 1350), Some(((1080, 1350), "4:5".into())));
        assert_eq!(fit_canvas(720, 1280), Some(((1080, 1920), "9:16".into())));
        assert_eq!(fit_canvas(500, 500), Some(((1080, 1080), "1:1".into())));
        assert_eq!(fit_canvas(0, 10), None);
    }
}
