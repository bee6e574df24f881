// NemoVideo Studio: the demo page. Static files only; every call goes from
// this page straight to the API through the nemo-video client (WebAssembly).
//
// Flow: connect (anonymous token or the user's own) → a session → files
// (validated, thumbnails, progress) → chat through `session.handle`, which
// routes "export", "credits", "状态"… to their endpoints → timeline → export
// with progress → the MP4 plays inline. The session handle is saved through
// the client's `onHandle`, so a reload resumes a running export or turn.

import * as nemo from './pkg/index.js';
import { $, el, icon, ICONS, clock, humanBytes } from './ui.js';
import { errorCard } from './errors.js';
import { FileList } from './files.js';
import { renderTimeline } from './timeline.js';

const KEYS = {
  settings: 'nemovideo.demo.settings',
  handle: 'nemovideo.demo.handle',
  chat: 'nemovideo.demo.chat',
  token: 'nemovideo.demo.token', // sessionStorage only
  // Shorter protocol waits against a local emulator (tests, debugging),
  // e.g. '{"stillWorkingMs":500}'; sessionStorage only, honoured on loopback.
  timing: 'nemovideo.demo.timing',
};

// ---- Elements -----------------------------------------------------------------

const ui = {
  conn: $('#conn'),
  connText: $('#conn-text'),
  credits: $('#credits'),
  creditsValue: $('#credits-value'),
  banner: $('#banner'),
  dropzone: $('#dropzone'),
  fileInput: $('#file-input'),
  files: $('#files'),
  mediaActions: $('#media-actions'),
  attachNote: $('#attach-note'),
  uploadBtn: $('#upload-btn'),
  messages: $('#messages'),
  activity: $('#activity'),
  activityText: $('#activity-text'),
  activityTime: $('#activity-time'),
  chips: $('#chips'),
  composer: $('#composer'),
  input: $('#composer-input'),
  attachBtn: $('#attach-btn'),
  sendBtn: $('#send-btn'),
  tracks: $('#tracks'),
  ruler: $('#ruler'),
  summary: $('#timeline-summary'),
  aspect: $('#timeline-aspect'),
  exportCard: $('#export'),
  exportBtn: $('#export-btn'),
  cancelExportBtn: $('#cancel-export-btn'),
  exportHint: $('#export-hint'),
  exportProgress: $('#export-progress'),
  exportBar: $('#export-bar'),
  exportStatus: $('#export-status'),
  exportPercent: $('#export-percent'),
  result: $('#result'),
  player: $('#player'),
  downloadLink: $('#download-link'),
  fileSize: $('#file-size'),
  claimLink: $('#claim-link'),
  settingsBtn: $('#settings-btn'),
  settings: $('#settings'),
  settingsForm: $('#settings-form'),
  apiUrl: $('#api-url'),
  apiToken: $('#api-token'),
  forgetToken: $('#forget-token'),
  newProjectBtn: $('#new-project-btn'),
};

// ---- State -----------------------------------------------------------------------

const app = {
  session: null,
  connected: false,
  busy: false, // a message (or upload) is in flight
  exporting: false,
  exportAbort: null,
  job: null,
  readyForExport: false,
  resultUrl: null,
  transcript: [],
  cspBlocked: null,
};

const storage = {
  get(area, key) {
    try {
      return area.getItem(key);
    } catch {
      return null;
    }
  },
  set(area, key, value) {
    try {
      if (value === null) area.removeItem(key);
      else area.setItem(key, value);
    } catch {
      // Private mode or storage full: the page still works, without resume.
    }
  },
};

function settings() {
  try {
    return JSON.parse(storage.get(localStorage, KEYS.settings) || '{}') || {};
  } catch {
    return {};
  }
}

/** The API base URL: the saved setting, else this page's own origin. */
function baseUrl() {
  const saved = (settings().baseUrl || '').trim().replace(/\/+$/, '');
  if (saved) return saved;
  return location.protocol.startsWith('http') ? location.origin : 'https://mega-api-prod.nemovideo.ai';
}

function token() {
  return storage.get(sessionStorage, KEYS.token) || undefined;
}

function secrets() {
  const t = token();
  return t ? [t] : [];
}

function isLoopback(url) {
  try {
    const host = new URL(url, location.href).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
  } catch {
    return false;
  }
}

function clientOptions() {
  const lang = (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
  return {
    baseUrl: baseUrl(),
    token: token(),
    language: lang,
    // Against a local emulator a livelier progress bar costs nothing; a
    // remote API gets the protocol's documented cadence (30 s, 10 polls).
    timing: isLoopback(baseUrl()) ? { renderPollMs: 1500, renderMaxPolls: 400, ...localTiming() } : {},
    onHandle: saveHandle,
  };
}

/** `KEYS.timing` as an object of numbers; anything else is ignored. */
function localTiming() {
  try {
    const t = JSON.parse(storage.get(sessionStorage, KEYS.timing) || '{}');
    return Object.fromEntries(Object.entries(t).filter(([, v]) => typeof v === 'number'));
  } catch {
    return {};
  }
}

function saveHandle(handle) {
  storage.set(localStorage, KEYS.handle, handle ? JSON.stringify(handle) : null);
}

function loadHandle() {
  try {
    const h = JSON.parse(storage.get(localStorage, KEYS.handle) || 'null');
    return h && typeof h.sessionId === 'string' ? h : null;
  } catch {
    return null;
  }
}

// ---- Connection ------------------------------------------------------------------

function setConn(state, text) {
  ui.conn.dataset.state = state;
  ui.connText.textContent = text;
}

function showCredits(c) {
  if (!c || !Number.isFinite(c.available)) return;
  ui.credits.hidden = false;
  ui.creditsValue.textContent = String(c.available);
  ui.credits.title = c.frozen ? `${c.available} available, ${c.frozen} reserved by running jobs` : `${c.available} credits available`;
}

async function refreshCredits() {
  if (!app.session) return;
  try {
    showCredits(await app.session.credits());
  } catch {
    // Not worth a message: the balance shows again next time.
  }
}

const wasmReady = (async () => {
  const init = nemo.default || nemo.init;
  if (typeof init === 'function') await init();
})();

async function connect() {
  hideBanner();
  app.connected = false;
  app.session = null;
  updateControls();
  setConn('connecting', 'Setting things up…');
  try {
    await wasmReady;
    const opts = clientOptions();
    const saved = loadHandle();
    let resumed = false;
    let expired = false;
    if (saved && sameOrigin(saved.baseUrl, opts.baseUrl)) {
      const session = nemo.NemoClient.resume(saved, opts);
      try {
        const timeline = await session.state();
        app.session = session;
        resumed = true;
        applyTimeline(timeline);
        await refreshCredits();
      } catch (e) {
        if (e && e.kind === 'session_not_found') {
          saveHandle(null);
          expired = true;
        } else {
          throw e;
        }
      }
    }
    if (!app.session) {
      const client = new nemo.NemoClient(opts);
      const info = await client.connect();
      showCredits(info.credits);
      app.session = await client.createSession();
      saveHandle(app.session.toJSON());
      restoreTranscript(app.session.sessionId, false);
      applyTimeline(null);
      if (expired) note('Your previous project has expired on the server, so a new one was started.');
    } else {
      restoreTranscript(app.session.sessionId, true);
    }
    app.connected = true;
    setConn('ok', resumed ? 'Connected · project restored' : 'Connected');
    updateControls();
    if (resumed) resumeInFlight();
  } catch (e) {
    setConn('error', 'Not connected');
    showBanner(e, connect);
  }
}

function sameOrigin(a, b) {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** After a reload: pick up the export and the agent turn that were running. */
function resumeInFlight() {
  const s = app.session;
  const job = s.resumeExport({ onProgress: onExportProgress });
  if (job) {
    note('Picking up the export that was running before the page reloaded…');
    trackExport(job, true);
  }
  const h = s.toJSON();
  if (h.turnText && h.lastEventId) {
    note('Picking up the reply that was in progress (your message is not sent again)…');
    runTurnUi(async (reply) => {
      reply.attach();
      const turn = s.resumeTurn({ onEvent: (ev) => reply.onEvent(ev) });
      if (!turn) return null;
      const result = await turn.result;
      return { kind: 'chat', reply: result.text || result.summary, result };
    });
  }
}

// ---- Banner (connection-level errors) ----------------------------------------------

function showBanner(error, retry) {
  ui.banner.replaceChildren();
  const step = recoveryStep(error, retry);
  const card = errorCard(error, {
    onRetry: step ? () => { hideBanner(); step(); } : null,
    secrets: secrets(),
  });
  ui.banner.append(card);
  ui.banner.hidden = false;
  explainCsp();
}

/** The one step an error card offers: usually a retry, sometimes something else. */
function recoveryStep(error, retry) {
  const kind = error && error.kind;
  if (kind === 'session_not_found') return newProject;
  if (kind === 'token_expired') return openSettings;
  return retry || null;
}

function hideBanner() {
  ui.banner.hidden = true;
  ui.banner.replaceChildren();
}

// ---- Chat ----------------------------------------------------------------------------

function scrollChat() {
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function addMessage(role, text, { files = [], save = true, cls = '' } = {}) {
  const li = el('li', { class: `msg msg-${role} ${cls}`.trim() });
  if (role === 'user' && files.length) {
    const names = files.map((f) => f.name).join(', ');
    li.append(el('p', { class: 'msg-files' }, [icon(ICONS.clip, 'icon icon-small'), document.createTextNode(names)]));
  }
  if (text) li.append(el('p', { text }));
  ui.messages.append(li);
  scrollChat();
  if (save) remember(role, text, cls, files.map((f) => f.name));
  return li;
}

/** A quiet system line in the chat (notices, "still working"). */
function note(text) {
  return addMessage('note', text, { save: false });
}

function remember(role, text, cls = '', files = []) {
  if (!text || !app.session) return;
  app.transcript.push(files.length ? { role, text, cls, files } : { role, text, cls });
  app.transcript = app.transcript.slice(-60);
  storage.set(localStorage, `${KEYS.chat}.${app.session.sessionId}`, JSON.stringify(app.transcript));
}

function restoreTranscript(sessionId, show) {
  for (const n of [...ui.messages.querySelectorAll('.msg:not(.msg-intro)')]) n.remove();
  app.transcript = [];
  if (!show) return;
  try {
    const items = JSON.parse(storage.get(localStorage, `${KEYS.chat}.${sessionId}`) || '[]');
    for (const m of items) {
      if (m && typeof m.text === 'string' && ['user', 'agent'].includes(m.role)) {
        const files = Array.isArray(m.files) ? m.files.filter((n) => typeof n === 'string').map((name) => ({ name })) : [];
        addMessage(m.role, m.text, { save: false, cls: m.cls || '', files });
        app.transcript.push(m);
      }
    }
  } catch {
    // A damaged transcript is only history.
  }
}

/**
 * One agent reply bubble. Text deltas stream into the current paragraph;
 * the final `text` event (GUI-translated) replaces them, so nothing is ever
 * shown twice.
 */
class Reply {
  constructor() {
    this.li = null;
    this.streaming = null; // the paragraph receiving deltas
    this.texts = [];
    this.started = Date.now();
    this.timer = null;
    this.uploadSettled = false;
    this.onFirstEvent = null;
  }

  attach() {
    currentReply = this;
    ui.activity.hidden = false;
    this.activity('Working on it…');
    this.timer = setInterval(() => this.tick(), 1000);
    this.tick();
  }

  bubble() {
    if (!this.li || !this.li.isConnected) {
      this.li = el('li', { class: 'msg msg-agent' });
      ui.messages.append(this.li);
    }
    return this.li;
  }

  activity(label) {
    ui.activityText.textContent = label;
    this.tick();
  }

  tick() {
    ui.activityTime.textContent = clock(Date.now() - this.started);
  }

  onEvent(ev) {
    if (this.onFirstEvent) {
      const f = this.onFirstEvent;
      this.onFirstEvent = null;
      f();
    }
    switch (ev.type) {
      case 'text-delta': {
        if (!this.streaming) {
          this.streaming = el('p', { class: 'streaming' });
          this.bubble().append(this.streaming);
        }
        this.streaming.textContent += ev.text;
        scrollChat();
        break;
      }
      case 'text': {
        const text = (ev.text || '').trim();
        let p = ev.replacesDeltas && this.streaming ? this.streaming : null;
        this.streaming = null;
        if (!text) {
          if (p) p.remove();
          break;
        }
        if (!p) {
          p = el('p');
          this.bubble().append(p);
        }
        p.classList.remove('streaming');
        p.textContent = text;
        this.texts.push(text);
        scrollChat();
        break;
      }
      case 'tool':
        this.activity(ev.phase === 'call' ? ev.label || 'Working…' : 'Finishing up…');
        break;
      case 'thought':
        this.activity('Thinking…');
        break;
      case 'still-working':
        note(ev.message || 'Still working on it…');
        break;
      case 'reconnecting':
        this.activity('Connection dropped, reconnecting…');
        break;
      case 'notice':
        note(ev.message);
        break;
      case 'state':
        if (ev.summary) ui.summary.textContent = ev.summary;
        break;
      default:
        break;
    }
  }

  finish() {
    clearInterval(this.timer);
    if (currentReply === this) currentReply = null;
    ui.activity.hidden = true;
    if (this.streaming && !this.streaming.textContent) this.streaming.remove();
    if (this.streaming) this.streaming.classList.remove('streaming');
    if (this.li && !this.li.textContent.trim()) this.li.remove();
    if (this.texts.length) remember('agent', this.texts.join('\n\n'));
  }

  /** A reply that was not streamed (routed commands, silent edits). */
  say(text, cls = '') {
    if (!text) return;
    const p = el('p', { text });
    const li = this.bubble();
    if (cls) li.classList.add(cls);
    li.append(p);
    this.texts.push(text);
    scrollChat();
  }
}

let currentReply = null;

/** Runs one chat operation with the reply bubble, activity line and errors. */
async function runTurnUi(work, { retry } = {}) {
  app.busy = true;
  updateControls();
  const reply = new Reply();
  try {
    const res = await work(reply);
    reply.finish();
    await showHandled(res, reply);
  } catch (e) {
    reply.finish();
    if (e && e.kind === 'aborted') return;
    const card = errorCard(e, {
      onRetry: recoveryStep(e, retry),
      secrets: secrets(),
    });
    ui.messages.append(el('li', { class: 'msg msg-error' }, [card]));
    explainCsp();
    scrollChat();
  } finally {
    app.busy = false;
    updateControls();
  }
}

/** Shows what `session.handle` resolved to, by kind. */
async function showHandled(res, reply) {
  if (!res) return;
  switch (res.kind) {
    case 'chat': {
      const r = res.result || {};
      if (!reply.texts.length) {
        // A silent edit: say what changed, from the state diff.
        const text = r.silent ? r.summary || res.reply : res.reply;
        reply.say(text, r.silent ? 'msg-quiet' : '');
        remember('agent', text, r.silent ? 'msg-quiet' : '');
        reply.texts = [];
      }
      // The timeline after the turn: from the result, else from state.
      if (r.timeline) applyTimeline(r.timeline);
      else await refreshTimeline();
      // The agent's text may ask for a GUI action ("click Export").
      if (Array.isArray(r.actions) && r.actions.includes('state')) await refreshTimeline();
      void refreshCredits();
      break;
    }
    case 'credits':
      reply.say(res.reply);
      remember('agent', res.reply);
      reply.texts = [];
      showCredits(res.credits);
      break;
    case 'state':
      reply.say(res.reply);
      remember('agent', res.reply);
      reply.texts = [];
      applyTimeline(res.timeline);
      break;
    case 'upload':
      reply.say(res.reply);
      remember('agent', res.reply);
      reply.texts = [];
      await refreshTimeline();
      break;
    case 'export': {
      const size = res.export && res.export.sizeBytes;
      const text = `Your video is ready${size ? ` (${humanBytes(size)})` : ''}. It's playing in the Export panel, with a download link.`;
      reply.say(text);
      remember('agent', text);
      reply.texts = [];
      break;
    }
    default:
      if (res.reply) {
        reply.say(res.reply);
        remember('agent', res.reply);
        reply.texts = [];
      }
  }
}

/** Sends what the user typed (and any attached files) through `session.handle`. */
function send(text, { retry = false } = {}) {
  if (!app.session || app.busy) return;
  text = (text || '').trim();
  const items = fileList.ready();
  if (!text && !items.length) {
    ui.input.focus();
    return;
  }
  hideBanner();
  const files = items.map((i) => i.file);
  if (retry) note('Trying again…');
  else if (text) addMessage('user', text, { files });
  else addMessage('user', `Upload ${files.length} file${files.length === 1 ? '' : 's'}`, { files: [] });
  ui.input.value = '';
  ui.input.placeholder = DEFAULT_PLACEHOLDER;
  autoSize();
  const showProgress = items.length ? fileList.startUpload(items) : null;
  // Every byte of the files was taken: a later failure is the message's,
  // not the files' (unless the server refused the files themselves).
  let allSent = false;
  const uploadProgress = showProgress && ((sent, total) => {
    if (total > 0 && sent >= total) allSent = true;
    showProgress(sent, total);
  });
  let uploadsSettled = !items.length;
  const settleUploads = (ok, reason) => {
    if (uploadsSettled) return;
    uploadsSettled = true;
    fileList.finishUpload(items, ok, reason);
  };
  runTurnUi(
    async (reply) => {
      reply.attach();
      if (items.length) reply.activity(`Uploading ${items.length} file${items.length === 1 ? '' : 's'}…`);
      // Any agent event means the uploads went through.
      reply.onFirstEvent = () => settleUploads(true);
      const exportAbort = new AbortController();
      const options = {
        files: files.length ? files : undefined,
        filenames: files.map((f) => f.name),
        onEvent: (ev) => reply.onEvent(ev),
        // Uploads report (sent, total); an export reports { progress, status }.
        onProgress: (a, b) => {
          if (typeof a === 'number') uploadProgress && uploadProgress(a, b);
          else {
            if (!app.exporting) beginExportUi(exportAbort);
            onExportProgress(a);
          }
        },
        signal: exportAbort.signal,
      };
      let res;
      try {
        res = await app.session.handle(text, options);
      } catch (e) {
        const filesRefused = e && (e.kind === 'unsupported_file' || e.kind === 'file_too_large');
        if (allSent && !filesRefused) settleUploads(true);
        else settleUploads(false, e && e.kind === 'aborted' ? 'cancelled' : undefined);
        if (app.exporting && app.exportAbort === exportAbort) endExportUi();
        throw e;
      }
      settleUploads(true);
      if (res.kind === 'export') {
        if (!app.exporting) beginExportUi(exportAbort);
        await showExportResult(res.job, res.export);
      }
      return res;
    },
    { retry: () => retrySend(text) },
  );
}

function retrySend(text) {
  // Failed uploads stay attached; the message is sent again only on request.
  send(text, { retry: true });
}

// ---- Timeline ---------------------------------------------------------------------

function applyTimeline(timeline) {
  app.readyForExport = renderTimeline(timeline, {
    tracksEl: ui.tracks,
    summaryEl: ui.summary,
    rulerEl: ui.ruler,
    aspectEl: ui.aspect,
  });
  updateControls();
}

async function refreshTimeline() {
  if (!app.session) return;
  try {
    applyTimeline(await app.session.state());
  } catch {
    // The next turn will try again.
  }
}

// ---- Export -------------------------------------------------------------------------

function startExport() {
  if (!app.session || app.exporting) return;
  hideBanner();
  clearExportError();
  const abort = new AbortController();
  const job = app.session.export({ onProgress: onExportProgress, signal: abort.signal });
  beginExportUi(abort);
  trackExport(job, false, abort);
}

function beginExportUi(abort) {
  app.exporting = true;
  app.exportAbort = abort || null;
  clearExportError();
  ui.exportProgress.hidden = false;
  ui.exportBar.value = 0;
  ui.exportStatus.textContent = 'Sending your timeline to the renderer…';
  ui.exportPercent.textContent = '0%';
  ui.cancelExportBtn.hidden = false;
  updateControls();
}

function endExportUi() {
  app.exporting = false;
  app.exportAbort = null;
  app.job = null;
  ui.cancelExportBtn.hidden = true;
  updateControls();
}

function onExportProgress(p) {
  if (!p) return;
  const pct = Math.max(0, Math.min(100, Math.round(p.progress || 0)));
  ui.exportBar.value = pct;
  ui.exportPercent.textContent = `${pct}%`;
  ui.exportStatus.textContent = {
    pending: 'Queued for rendering…',
    processing: 'Rendering your video…',
    completed: 'Rendered. Fetching the file…',
    retrying: 'The render failed; trying once more…',
    failed: 'The render failed.',
    cancelled: 'Export cancelled.',
  }[p.status] || 'Rendering…';
}

async function trackExport(job, resumed, abort) {
  if (!app.exporting) beginExportUi(abort);
  app.job = job;
  if (resumed) ui.exportStatus.textContent = 'Reconnecting to your export…';
  try {
    const r = await job.result;
    await showExportResult(job, r);
  } catch (e) {
    if (e && e.kind === 'aborted') {
      ui.exportStatus.textContent = 'Export cancelled.';
      ui.exportProgress.hidden = true;
      note('Export cancelled.');
    } else {
      ui.exportProgress.hidden = true;
      showExportError(e);
    }
  } finally {
    endExportUi();
  }
}

async function showExportResult(job, r) {
  ui.exportStatus.textContent = 'Downloading your video…';
  ui.exportBar.value = 0;
  ui.exportPercent.textContent = '0%';
  ui.cancelExportBtn.hidden = true;
  let blob;
  try {
    blob = await job.download({
      onProgress: (received, total) => {
        const pct = total ? Math.round((100 * received) / total) : 0;
        ui.exportBar.value = pct;
        ui.exportPercent.textContent = `${pct}%`;
        ui.exportStatus.textContent = `Downloading… ${humanBytes(received)}${total ? ` of ${humanBytes(total)}` : ''}`;
      },
    });
  } catch (e) {
    ui.exportProgress.hidden = true;
    showExportError(e);
    endExportUi();
    return;
  }
  if (app.resultUrl) URL.revokeObjectURL(app.resultUrl);
  app.resultUrl = URL.createObjectURL(blob.type ? blob : new Blob([blob], { type: 'video/mp4' }));
  ui.player.src = app.resultUrl;
  ui.downloadLink.href = app.resultUrl;
  ui.downloadLink.download = `nemovideo-${(r && r.id) || 'export'}.mp4`;
  const size = (r && r.sizeBytes) || blob.size;
  ui.fileSize.textContent = `MP4 · ${humanBytes(size)}`;
  ui.result.hidden = false;
  ui.exportProgress.hidden = true;
  ui.exportCard.classList.add('has-result');
  endExportUi();
  ui.claimLink.hidden = true;
  app.session
    .claimLink()
    .then((link) => {
      ui.claimLink.href = link;
      ui.claimLink.hidden = false;
    })
    .catch(() => {});
  void refreshCredits();
  ui.result.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

function clearExportError() {
  for (const n of ui.exportCard.querySelectorAll('.error-card')) n.remove();
}

function showExportError(e) {
  clearExportError();
  const card = errorCard(e, { onRetry: recoveryStep(e, startExport), secrets: secrets() });
  ui.exportProgress.after(card);
  explainCsp();
  card.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

async function cancelExport() {
  ui.cancelExportBtn.disabled = true;
  ui.exportStatus.textContent = 'Cancelling…';
  try {
    // The job from `export()` or `resumeExport()`; a chat-started export is
    // found again through the session handle's render id.
    const job = app.job || app.session.resumeExport({});
    if (app.exportAbort) app.exportAbort.abort();
    if (job) await job.cancel();
  } catch (e) {
    if (!(e && e.kind === 'aborted')) showExportError(e);
  } finally {
    ui.cancelExportBtn.disabled = false;
  }
}

// ---- Controls -----------------------------------------------------------------------

function updateControls() {
  const live = app.connected && !!app.session;
  ui.sendBtn.disabled = !live || app.busy;
  ui.uploadBtn.disabled = !live || app.busy || fileList.ready().length === 0;
  for (const chip of ui.chips.querySelectorAll('button')) chip.disabled = !live || app.busy;
  ui.exportBtn.disabled = !live || app.exporting || !app.readyForExport;
  ui.exportHint.textContent = app.exporting
    ? 'You can keep chatting, or reload: the export carries on.'
    : app.readyForExport
      ? 'Exports are free. The MP4 plays right here.'
      : 'Generate a clip first. Exporting is free.';
  const ready = fileList.ready();
  ui.mediaActions.hidden = ready.length === 0;
  ui.attachNote.textContent = ready.length
    ? `${ready.length} file${ready.length === 1 ? '' : 's'} will go with your next message.`
    : '';
  ui.composer.dataset.attached = String(ready.length);
}

function autoSize() {
  ui.input.style.setProperty('--rows', String(Math.min(6, Math.max(2, ui.input.value.split('\n').length))));
}

function openSettings() {
  const s = settings();
  ui.apiUrl.value = s.baseUrl || '';
  ui.apiUrl.placeholder = location.protocol.startsWith('http') ? location.origin : 'https://mega-api-prod.nemovideo.ai';
  ui.apiToken.value = '';
  ui.apiToken.placeholder = token() ? 'A token is saved for this tab (hidden)' : 'nmv_usr_…';
  ui.forgetToken.checked = false;
  ui.forgetToken.parentElement.hidden = !token();
  if (typeof ui.settings.showModal === 'function') ui.settings.showModal();
  else ui.settings.setAttribute('open', '');
  ui.apiUrl.focus();
}

function saveSettings() {
  const url = ui.apiUrl.value.trim();
  if (url) {
    try {
      const u = new URL(url);
      if (!/^https?:$/.test(u.protocol)) throw new Error('scheme');
    } catch {
      ui.apiUrl.setCustomValidity('Enter a full http(s) URL, e.g. https://mega-api-prod.nemovideo.ai');
      ui.apiUrl.reportValidity();
      return false;
    }
  }
  ui.apiUrl.setCustomValidity('');
  const before = baseUrl();
  storage.set(localStorage, KEYS.settings, JSON.stringify({ baseUrl: url }));
  const t = ui.apiToken.value.trim();
  ui.apiToken.value = '';
  if (t) storage.set(sessionStorage, KEYS.token, t);
  else if (ui.forgetToken.checked) storage.set(sessionStorage, KEYS.token, null);
  if (baseUrl() !== before || t || ui.forgetToken.checked) saveHandle(null);
  app.cspBlocked = null;
  connect();
  return true;
}

function newProject() {
  saveHandle(null);
  resetProjectUi();
  connect();
}

function resetProjectUi() {
  if (app.exportAbort) app.exportAbort.abort();
  ui.result.hidden = true;
  ui.exportProgress.hidden = true;
  ui.exportCard.classList.remove('has-result');
  ui.player.removeAttribute('src');
  ui.player.load();
  if (app.resultUrl) URL.revokeObjectURL(app.resultUrl);
  app.resultUrl = null;
  clearExportError();
  for (const it of [...fileList.items]) if (it.state !== 'ready') fileList.remove(it);
  applyTimeline(null);
}

// ---- Wiring -------------------------------------------------------------------------

const DEFAULT_PLACEHOLDER = ui.input.placeholder;
const fileList = new FileList(ui.files, { onChange: updateControls });

function addFiles(list) {
  const files = [...(list || [])];
  if (!files.length) return;
  const accepted = fileList.add(files);
  if (accepted && !ui.input.value.trim()) {
    ui.input.placeholder = 'Now say what to make, e.g. “animate this photo into a cinematic video clip with camera movement”';
  }
}

ui.fileInput.addEventListener('change', () => {
  addFiles(ui.fileInput.files);
  ui.fileInput.value = '';
});
ui.attachBtn.addEventListener('click', () => ui.fileInput.click());
ui.uploadBtn.addEventListener('click', () => send('upload'));

for (const type of ['dragenter', 'dragover']) {
  document.addEventListener(type, (e) => {
    if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) {
      e.preventDefault();
      ui.dropzone.classList.add('dragging');
    }
  });
}
document.addEventListener('dragleave', (e) => {
  if (!e.relatedTarget) ui.dropzone.classList.remove('dragging');
});
document.addEventListener('drop', (e) => {
  if (!e.dataTransfer || !e.dataTransfer.files.length) return;
  e.preventDefault();
  ui.dropzone.classList.remove('dragging');
  addFiles(e.dataTransfer.files);
});

ui.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  send(ui.input.value);
});
ui.input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send(ui.input.value);
  }
});
ui.input.addEventListener('input', autoSize);
ui.chips.addEventListener('click', (e) => {
  const chip = e.target.closest('button.chip');
  if (chip && !chip.disabled) send(chip.textContent);
});

ui.exportBtn.addEventListener('click', startExport);
ui.cancelExportBtn.addEventListener('click', cancelExport);

ui.settingsBtn.addEventListener('click', openSettings);
ui.settingsForm.addEventListener('submit', (e) => {
  const action = e.submitter && e.submitter.value;
  if (action === 'save') {
    if (!saveSettings()) e.preventDefault();
  }
});
ui.apiUrl.addEventListener('input', () => ui.apiUrl.setCustomValidity(''));
ui.newProjectBtn.addEventListener('click', () => {
  ui.settings.close();
  newProject();
});

// A blocked API origin shows up as a CSP violation before the fetch fails:
// remember it so the error can say what to change.
// The violation event can arrive just after the failed fetch was reported,
// so network error cards already on screen are updated too.
function explainCsp() {
  if (!app.cspBlocked) return;
  for (const t of document.querySelectorAll('.error-card[data-kind="network"] .error-text')) {
    t.textContent = `This page's Content-Security-Policy does not allow connecting to ${app.cspBlocked}. Add that origin to connect-src and media-src in index.html, or pick another API address in Settings.`;
  }
}

document.addEventListener('securitypolicyviolation', (e) => {
  if (e.effectiveDirective === 'connect-src' || e.violatedDirective.startsWith('connect-src')) {
    // Only the API origin matters here (a render CDN falls back to the API's
    // download endpoint by itself).
    if (sameOrigin(e.blockedURI, baseUrl())) {
      app.cspBlocked = new URL(e.blockedURI).origin;
      explainCsp();
    }
  }
});

// Token safety: nothing on the page ever echoes the field.
ui.apiToken.addEventListener('change', () => ui.apiToken.setAttribute('value', ''));

updateControls();
connect();
