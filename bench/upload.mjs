// Figure 4: a 200 MB upload from disk to the emulator.
//   node bench/upload.mjs [--smoke] [--mb 200] [--reps 3]
// - Node: `uploadFile` from pkg/node.js (fs.openAsBlob, streamed) in a child
//   process of its own, vs `curl -F` (same emulator, same headers). Wall time
//   (spawn to exit for curl, the `uploadFile` call for Node) and peak RSS
//   (/usr/bin/time %M for curl; process.resourceUsage().maxRSS for Node,
//   whose growth is counted from the RSS just before the call).
// - Chromium: a File of the same size built in the page, uploaded with
//   `session.upload`; the wasm memory size is sampled every 5 ms.
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  BENCH, DATA, SMOKE, anonymousToken, arg, emit, memoryStorage, now, run, skillHeaders, startEmulator, stats, stopEmulator,
} from './lib/common.mjs';
import { benchWww, chromiumAvailable, launch } from './lib/browser.mjs';
import { rng } from './lib/gen.mjs';

const MB = Number(arg('mb', SMOKE ? 2 : 200));
const REPS = Number(arg('reps', SMOKE ? 1 : 3));
const SIZE = Math.round(MB * 1e6);

// An "mp4" the emulator accepts: an ftyp box, then noise.
mkdirSync(DATA, { recursive: true });
const file = join(DATA, `upload-${MB}mb.mp4`);
if (!existsSync(file) || statSync(file).size !== SIZE) {
  const fd = openSync(file, 'w');
  const block = new Uint8Array(1 << 20);
  const r = rng(7);
  for (let i = 0; i < block.length; i++) block[i] = Math.floor(r() * 256);
  block.set([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0, 0, 2, 0, 0x69, 0x73, 0x6f, 0x6d, 0x6d, 0x70, 0x34, 0x31]);
  for (let at = 0; at < SIZE; at += block.length) writeSync(fd, block, 0, Math.min(block.length, SIZE - at));
  closeSync(fd);
}

const EMU = 'bench-upload';
const www = benchWww();
const base = startEmulator(EMU, ['--speed', '1000', '--tokens-per-ip', '100000', '--www', www]);
const out = { section: 'upload', bytes: SIZE };
try {
  const token = await anonymousToken(base, randomUUID());
  const headers = { Authorization: `Bearer ${token}`, ...skillHeaders() };
  async function newSession() {
    const res = await fetch(`${base}/api/tasks/me/with-session/nemo_agent`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ task_name: 'bench', language: 'en' }),
    });
    return (await res.json()).data.session_id;
  }
  const node = [];
  const curl = [];
  for (let i = 0; i < REPS; i++) {
    await fetch(`${base}/__emulator/reset`, { method: 'POST' }); // frees the previous uploads
    const tok = await anonymousToken(base, randomUUID());
    const r1 = await run(process.execPath, ['--expose-gc', join(BENCH, 'upload-node-child.mjs'), base, tok, file]);
    if (r1.code !== 0) throw new Error(`node upload failed: ${r1.stderr}`);
    node.push(JSON.parse(r1.stdout.trim().split('\n').pop()));

    await fetch(`${base}/__emulator/reset`, { method: 'POST' });
    const tok2 = await anonymousToken(base, randomUUID());
    headers.Authorization = `Bearer ${tok2}`;
    const sid = await newSession();
    const hdr = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
    const t = now();
    const r2 = await run('/usr/bin/time', ['-f', '@@%M', 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', ...hdr,
      '-F', `files=@${file};type=video/mp4`, `${base}/api/upload-video/nemo_agent/me/${sid}`]);
    const wallMs = now() - t;
    if (r2.code !== 0 || !r2.stdout.startsWith('200')) throw new Error(`curl failed: ${r2.stdout} ${r2.stderr}`);
    curl.push({ wallMs, maxRss: Number(/@@(\d+)/.exec(r2.stderr)[1]) * 1024 });
  }
  out.node = {
    wallMs: stats(node.map((x) => x.wallMs)),
    peakRss: stats(node.map((x) => x.maxRss)),
    rssGrowth: stats(node.map((x) => x.maxRss - x.rssBefore)),
  };
  out.curl = { wallMs: stats(curl.map((x) => x.wallMs)), peakRss: stats(curl.map((x) => x.maxRss)) };
  out.wallRatio = stats(node.map((x, i) => x.wallMs / curl[i].wallMs));

  // ---- Chromium: wasm memory during a File upload ----
  if (chromiumAvailable()) {
    await fetch(`${base}/__emulator/reset`, { method: 'POST' });
    const tok = await anonymousToken(base, randomUUID());
    const browser = await launch();
    try {
      const runs = [];
      for (let i = 0; i < REPS; i++) {
        await fetch(`${base}/__emulator/reset`, { method: 'POST' });
        const tk = await anonymousToken(base, randomUUID());
        const page = await browser.newPage();
        await page.goto(`${base}/index.html`);
        runs.push(
          await page.evaluate(async ({ size, token }) => {
            const m = await import('/pkg/index.js');
            const wasm = await m.default();
            const mem = () => wasm.memory.buffer.byteLength;
            const store = new Map();
            const client = new m.NemoClient({ baseUrl: location.origin, token, storage: { get: (k) => store.get(k) ?? null, set: (k, v) => void store.set(k, v) } });
            const session = await client.createSession();
            const head = new Uint8Array([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0, 0, 2, 0, 0x69, 0x73, 0x6f, 0x6d, 0x6d, 0x70, 0x34, 0x31]);
            const f = new File([head, new Uint8Array(size - head.length)], 'clip.mp4', { type: 'video/mp4' });
            const before = mem();
            let peak = before;
            const timer = setInterval(() => (peak = Math.max(peak, mem())), 5);
            const t = performance.now();
            const files = await session.upload(f);
            const wallMs = performance.now() - t;
            clearInterval(timer);
            peak = Math.max(peak, mem());
            if (files.length !== 1) throw new Error('no file');
            return { before, after: mem(), peak, wallMs };
          }, { size: SIZE, token: tk }),
        );
        await page.close();
      }
      out.chromium = {
        memBefore: stats(runs.map((r) => r.before)),
        growth: stats(runs.map((r) => r.peak - r.before)),
        wallMs: stats(runs.map((r) => r.wallMs)),
      };
    } finally {
      await browser.close();
    }
  }
} finally {
  stopEmulator(EMU);
}
emit(out);
