// Shared helpers for the reliability suites (node:test). Everything talks to
// loopback only: the emulator in $NEMO_EMULATOR_URL, or tiny node:http
// servers on 127.0.0.1 started by the tests themselves.
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const OUT_DIR = path.join(ROOT, 'target/reliability');

// The package under test: a nodejs build of this crate (tests/reliability/run.sh
// builds it into target/reliability-pkg), or another one via NEMO_RELIABILITY_PKG.
const require = createRequire(import.meta.url);
const pkgDir = process.env.NEMO_RELIABILITY_PKG || path.join(ROOT, 'target/reliability-pkg');
export const nv = require(path.join(pkgDir, 'nemo_video.js'));
export const { NemoClient } = nv;

export const EMU = (process.env.NEMO_EMULATOR_URL || '').replace(/\/$/, '');
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(EMU)) {
  throw new Error(`NEMO_EMULATOR_URL must be a loopback emulator URL, got "${EMU}"`);
}

/** Protocol timings shortened for tests (no test asserts a wall-clock time). */
export const TIMING = {
  scale: 0.001,
  turnCapMs: 120_000,
  stallMs: 3_000,
  renderPollMs: 100,
  renderMaxPolls: 1_200,
};

/** A prompt whose scripted reply has deltas, two stages and a state change. */
export const GEN_PROMPT =
  'generate a city timelapse with a slow zoom in, lo-fi BGM at 35% and title "Urban Dreams"';

// ---- Emulator control -------------------------------------------------------

async function emu(method, p, body) {
  const res = await fetch(EMU + p, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`emulator ${method} ${p}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
export const stats = () => emu('GET', '/__emulator/stats');
export const reset = () => emu('POST', '/__emulator/reset');
export const addFault = (spec) => emu('POST', '/__emulator/faults', spec);
export const pendingFaults = async () => (await emu('GET', '/__emulator/faults')).faults;
export const clearFaults = () => emu('DELETE', '/__emulator/faults');
export const setConfig = (patch) => emu('POST', '/__emulator/config', patch);

let clientSeq = 0;
/** A client on the emulator with a fresh, valid client id. */
export function newClient(extra = {}) {
  clientSeq += 1;
  return new NemoClient({
    baseUrl: EMU,
    clientId: `rel-${process.pid}-${clientSeq}`,
    timing: TIMING,
    storage: memoryStorage(),
    ...extra,
  });
}

export function memoryStorage() {
  const map = new Map();
  return {
    map,
    get: (k) => (map.has(k) ? map.get(k) : null),
    set: (k, v) => void map.set(k, v),
  };
}

/** Resolves to { ok: true, value } or { ok: false, error }, never throws. */
export async function settle(p) {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The plain fields of a NemoError, for tables and assertions. */
export function errInfo(e) {
  if (!e || typeof e !== 'object') return { kind: '(not an object)', message: String(e) };
  return {
    kind: e.kind,
    name: e.name,
    message: e.message,
    code: e.code,
    status: e.status,
    recovery: e.recovery && e.recovery.action,
  };
}

/** Waits (bounded number of polls, not a time assertion) until `check()` is truthy. */
export async function eventually(check, { tries = 200, everyMs = 25 } = {}) {
  let last;
  for (let i = 0; i < tries; i++) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return last;
}

/** Active handles by type, e.g. { Timeout: 2, TCPSocketWrap: 1 }. */
export function activeResources() {
  const out = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] || 0) + 1;
  return out;
}

/**
 * Waits until no timer is left beyond `baseline` and the emulator has no
 * open SSE stream. Returns what is still open (empty object = clean).
 */
export async function leaksAfter(baseline) {
  const timersClean = await eventually(
    () => (activeResources().Timeout || 0) <= (baseline.Timeout || 0),
    { tries: 200, everyMs: 20 },
  );
  const streamsClean = await eventually(
    async () => (await stats()).global.sse_streams_open === 0,
    { tries: 200, everyMs: 25 },
  );
  const left = {};
  if (!timersClean) left.timers = (activeResources().Timeout || 0) - (baseline.Timeout || 0);
  if (!streamsClean) left.sse_streams_open = (await stats()).global.sse_streams_open;
  return left;
}

/** Turns charged more than once in one session (by message hash). */
export function doubleCharges(sessionStats) {
  const byHash = new Map();
  for (const m of (sessionStats && sessionStats.messages) || []) {
    if (m.charged) byHash.set(m.hash, (byHash.get(m.hash) || 0) + 1);
  }
  return [...byHash.entries()].filter(([, n]) => n > 1);
}

/** Writes a result file under target/reliability/ for the report. */
export function writeResult(name, data) {
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(path.join(OUT_DIR, name), JSON.stringify(data, null, 2));
}

// ---- Media ------------------------------------------------------------------

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A valid RGB PNG of w×h (a gradient), built without any image library. */
export function makePng(w = 64, h = 36) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = (x * 4) & 255;
      raw[o + 1] = (y * 7) & 255;
      raw[o + 2] = 128;
    }
  }
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

// ---- Fetch accounting --------------------------------------------------------

/**
 * Wraps the global fetch (the client calls it at call time) to record every
 * request: method, URL, and the headers as sent. `restore()` puts it back.
 */
export function recordFetches() {
  const original = globalThis.fetch;
  const calls = [];
  globalThis.fetch = function (input, init = {}) {
    const url = typeof input === 'string' ? input : input.url;
    const headers = {};
    const h = init.headers || {};
    if (typeof h.forEach === 'function') h.forEach((v, k) => (headers[k.toLowerCase()] = v));
    else for (const [k, v] of Object.entries(h)) headers[k.toLowerCase()] = String(v);
    calls.push({ method: init.method || 'GET', url, headers });
    return original.call(this, input, init);
  };
  return {
    calls,
    restore() {
      globalThis.fetch = original;
    },
  };
}

/**
 * A loopback server answering with `handler(req, body) → {status, headers, body}`
 * (or handling `res` itself when it returns nothing). Counts requests.
 */
export async function craftedServer(handler) {
  const requests = [];
  const sockets = new Set();
  const server = http.createServer(async (req, res) => {
    const parts = [];
    for await (const c of req) parts.push(c);
    const body = Buffer.concat(parts);
    requests.push({ method: req.method, url: req.url, headers: req.headers, body });
    const r = await handler(req, body, res);
    if (!r) return;
    res.writeHead(r.status ?? 200, r.headers ?? { 'content-type': 'application/json' });
    res.end(r.body ?? '');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The API-shaped JSON replies a crafted server needs for a happy path. */
export const replies = {
  token: () => ({
    body: JSON.stringify({
      code: 0,
      data: { token: 'nmv_usr_crafted0000', user_id: 'anon_crafted', expires_at: '2099-01-01T00:00:00Z', credits: 100 },
    }),
  }),
  session: () => ({ body: JSON.stringify({ code: 0, data: { task_id: 'task_x', session_id: 'sess_x' } }) }),
  credits: () => ({ body: JSON.stringify({ code: 0, data: { available: 100, frozen: 0, total: 100 } }) }),
  state: () => ({
    body: JSON.stringify({
      code: 0,
      data: {
        session_id: 'sess_x',
        task_id: 'task_x',
        state: {
          draft: { t: [{ tt: 0, sg: [{ id: 'v1', s: 0, d: 5000, src: 'https://cdn.example/v.mp4', m: { name: 'clip' } }] }], d: 5000, m: { title: 'x' } },
          canvas_config: { width: 1080, height: 1920 },
        },
      },
    }),
  }),
};
