// (4) A minimal MV3 extension whose service worker statically imports the
// package and instantiates the wasm with initSync (no import(), no top-level
// await), loaded into Chromium with --load-extension: it gets credits from the
// emulator (host_permissions cover loopback), and uploads a file through the
// plain-fetch transport (no XMLHttpRequest there).
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { CHROMIUM, CHROMIUM_ARGS, installedProject, playwright, startEmulator, tempDir } from './helpers.mjs';

let emu;
let context;
after(async () => {
  if (context) await context.close();
  if (emu) emu.stop();
});

test('an MV3 service worker uses initSync and gets credits', async () => {
  emu = await startEmulator();
  const project = installedProject('nemo-ext-pkg-');
  const ext = tempDir('nemo-ext-');
  cpSync(join(project, 'node_modules/nemo-video'), join(ext, 'nemo-video'), { recursive: true });
  writeFileSync(
    join(ext, 'manifest.json'),
    JSON.stringify(
      {
        manifest_version: 3,
        name: 'nemo-video test extension',
        version: '1.0',
        background: { service_worker: 'background.js', type: 'module' },
        permissions: ['storage'],
        host_permissions: ['http://127.0.0.1/*'],
        content_security_policy: { extension_pages: "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'" },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(ext, 'background.js'),
    `import { initSync, NemoClient, NemoError } from './nemo-video/index.js';

const ready = fetch(chrome.runtime.getURL('nemo-video/nemo_video_bg.wasm'))
  .then((r) => r.arrayBuffer())
  .then((bytes) => initSync({ module: bytes }));

self.nemoCredits = async (baseUrl) => {
  await ready;
  try {
    const client = new NemoClient({ baseUrl });
    const info = await client.connect();
    const stored = await chrome.storage.local.get('nemovideo.client_id');
    return { credits: info.credits, clientId: info.clientId, stored: stored['nemovideo.client_id'] ?? null };
  } catch (e) {
    return { error: (e instanceof NemoError ? e.kind + ': ' : '') + e.message };
  }
};

// A service worker has no XMLHttpRequest, so uploads go through a plain fetch
// without progress events: the stall limit cannot tell a stall from a slow
// link there and must not cut the upload off.
self.nemoUpload = async (baseUrl) => {
  await ready;
  try {
    const client = new NemoClient({ baseUrl, timing: { uploadStallMs: 300, requestTimeoutMs: 800 } });
    const session = await client.createSession();
    // The emulator holds the upload 1.5 s before reading it: past both limits.
    await fetch(baseUrl + '/__emulator/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'upload', kind: 'stall', ms: 1500 }),
    });
    const png = new Uint8Array(4096);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const seen = [];
    const files = await session.upload(png, { filename: 'held.png', onProgress: (sent, total) => seen.push([sent, total]) });
    return { files: files.map((f) => f.filename), seen };
  } catch (e) {
    return { error: (e instanceof NemoError ? e.kind + ': ' : '') + e.message };
  }
};
`,
  );
  const chromium = await playwright();
  context = await chromium.launchPersistentContext(tempDir('nemo-chrome-ext-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, `--disable-extensions-except=${ext}`, `--load-extension=${ext}`],
  });
  let [worker] = context.serviceWorkers();
  if (!worker) worker = await context.waitForEvent('serviceworker', { timeout: 30000 });
  const r = await worker.evaluate((url) => self.nemoCredits(url), emu.url);
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.credits.available, 1000);
  assert.equal(r.stored, r.clientId, 'the client id is kept in chrome.storage.local');

  const up = await worker.evaluate((url) => self.nemoUpload(url), emu.url);
  assert.equal(up.error, undefined, up.error);
  assert.deepEqual(up.files, ['held.png'], 'a held upload is not cut off where progress cannot be seen');
  assert.deepEqual(up.seen, [
    [0, 4096],
    [4096, 4096],
  ]);
});
