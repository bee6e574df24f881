// (1) The packed tarball, installed into a temp project and imported from
// Node ESM, makes real calls to the emulator; the Node bindings work.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { installedProject, makeMp4, makePhoto, startEmulator, tarball, tempDir } from './helpers.mjs';

let emu;
let project;
let home;
before(async () => {
  emu = await startEmulator();
  // Installed under a `.cursor/` directory: X-Skill-Platform must say so.
  const parent = tempDir('nemo-home-');
  project = installedProject('proj-', join(parent, '.cursor', 'extensions'));
  home = tempDir('nemo-home-');
});
after(() => emu.stop());

function node(script, env = {}, timeout = undefined) {
  const file = join(project, `t${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, [file], {
    cwd: project,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: home, ...env },
    timeout,
  });
  if (r.error && r.error.code === 'ETIMEDOUT') throw new Error(`node did not exit within ${timeout} ms:\n${r.stderr}\n${r.stdout}`);
  if (r.status !== 0) throw new Error(`node failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

test('the tarball holds exactly the package files', () => {
  const list = execFileSync('tar', ['-tzf', tarball()], { encoding: 'utf8' }).trim().split('\n').sort();
  const names = list.map((f) => f.replace(/^package\//, ''));
  for (const f of ['package.json', 'README.md', 'index.js', 'index.d.ts', 'node.js', 'node.d.ts', 'cli.js', 'nemo_video.js', 'nemo_video_bg.wasm']) {
    assert.ok(names.includes(f), `${f} is in the tarball`);
  }
  assert.ok(names.some((f) => /^snippets\/nemo-video-[^/]+\/src\/wasm\/glue\.js$/.test(f)), 'the glue snippet is in the tarball');
  const pkg = JSON.parse(readFileSync(join(project, 'node_modules/nemo-video/package.json'), 'utf8'));
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.dependencies, undefined, 'zero runtime dependencies');
  assert.deepEqual(pkg.bin, { 'nemo-video': './cli.js' });
});

test('imported from Node ESM: credits from the emulator, one error class identity', () => {
  const r = node(`
    import { NemoClient, NemoError, OutOfCreditsError, errorClasses, version, uploadFile } from 'nemo-video';
    import * as browser from 'nemo-video/browser';
    const client = new NemoClient({ baseUrl: ${JSON.stringify(emu.url)} });
    const credits = await client.credits();
    console.log(JSON.stringify({
      credits, version,
      identity: errorClasses().OutOfCreditsError === OutOfCreditsError && browser.OutOfCreditsError === OutOfCreditsError,
      subclass: new OutOfCreditsError('x') instanceof NemoError,
      nodeEntry: typeof uploadFile === 'function',
      wasm: import.meta.resolve('nemo-video/wasm'),
    }));
  `);
  assert.equal(r.credits.available, 1000);
  assert.equal(r.identity, true);
  assert.equal(r.subclass, true);
  assert.equal(r.nodeEntry, true, 'Node resolves the "node" condition');
  assert.match(r.wasm, /nemo_video_bg\.wasm$/);
  assert.match(r.version, /^\d+\.\d+\.\d+/);
});

test('environment variables, the persisted client id and the detected platform', () => {
  const r = node(
    `
    import { NemoClient, detectPlatform, configDir } from 'nemo-video';
    const a = await new NemoClient().connect();
    const b = await new NemoClient().connect();
    console.log(JSON.stringify({ a: a.clientId, b: b.clientId, platform: detectPlatform(), dir: configDir() }));
  `,
    { NEMO_API_URL: emu.url },
  );
  assert.equal(r.a, r.b, 'the client id is reused across clients and runs');
  assert.match(r.a, /^[0-9a-f-]{36}$/);
  const file = join(home, '.config/nemovideo/client_id');
  assert.equal(readFileSync(file, 'utf8').trim(), r.a, 'the file holds the UUID only');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(r.platform, 'cursor', 'installed under .cursor/');

  const given = node(`import { NemoClient } from 'nemo-video'; console.log(JSON.stringify(await new NemoClient().connect()));`, {
    NEMO_API_URL: emu.url,
    NEMO_CLIENT_ID: 'ci-client-id-42',
    SKILL_SOURCE: 'clawhub',
  });
  assert.equal(given.clientId, 'ci-client-id-42');

  const skill = node(`import { detectPlatform } from 'nemo-video'; console.log(JSON.stringify(detectPlatform()));`, { SKILL_SOURCE: 'clawhub' });
  assert.equal(skill, 'clawhub', 'SKILL_SOURCE comes first');

  const token = node(
    `import { NemoClient, TokenExpiredError } from 'nemo-video';
     try { await new NemoClient().credits(); console.log('null'); }
     catch (e) { console.log(JSON.stringify({ kind: e.kind, typed: e instanceof TokenExpiredError })); }`,
    { NEMO_API_URL: emu.url, NEMO_TOKEN: 'nmv_usr_not_a_real_token' },
  );
  assert.deepEqual(token, { kind: 'token_expired', typed: true }, 'NEMO_TOKEN is used as given (and not silently replaced)');
});

test('uploadFile streams from disk: RSS does not grow with the file size', () => {
  const dir = tempDir('nemo-big-');
  const photo = makePhoto(join(dir, 'photo.png'));
  const big = join(dir, 'big.mp4');
  makeMp4(big, 160 * 1024 * 1024);
  const r = node(`
    import { NemoClient, uploadFile } from 'nemo-video';
    const client = new NemoClient({ baseUrl: ${JSON.stringify(emu.url)} });
    const session = await client.createSession();
    const small = await uploadFile(session, ${JSON.stringify(photo)});
    const base = process.memoryUsage().rss;
    let peak = base, calls = 0, last = 0;
    const files = await uploadFile(session, ${JSON.stringify(big)}, {
      onProgress: (sent, total) => { calls++; last = sent / total; peak = Math.max(peak, process.memoryUsage().rss); },
    });
    console.log(JSON.stringify({ small: small[0].fileType, name: files[0].filename, type: files[0].fileType, growthMb: (peak - base) / 1e6, calls, last }));
  `);
  assert.equal(r.small, 'image');
  assert.equal(r.name, 'big.mp4');
  assert.equal(r.type, 'video');
  assert.ok(r.calls > 10, 'upload progress is reported as the body is sent');
  assert.equal(r.last, 1);
  assert.ok(r.growthMb < 80, `RSS grew ${r.growthMb.toFixed(1)} MB for a 160 MB upload (want < 80)`);
});

test('uploadFile in Node: several files, plain Blobs, progress in order, abort mid-body, a file changed on disk', () => {
  const dir = tempDir('nemo-up-');
  const photo = makePhoto(join(dir, 'photo.png'));
  const big = join(dir, 'clip.mp4');
  makeMp4(big, 24 * 1024 * 1024);
  const r = node(`
    import { appendFileSync, readFileSync } from 'node:fs';
    import { NemoClient, openFileBlob, uploadFile } from 'nemo-video';
    const client = new NemoClient({ baseUrl: ${JSON.stringify(emu.url)} });
    const session = await client.createSession();
    const seen = [];
    const both = await uploadFile(session, [${JSON.stringify(photo)}, ${JSON.stringify(big)}], {
      onProgress: (sent, total) => seen.push([sent, total]),
    });
    const ordered = seen.every(([s, t], i) => s <= t && (i === 0 || s >= seen[i - 1][0]));
    // A Blob not backed by a file (bytes in memory) goes through the same transport.
    const bytes = readFileSync(${JSON.stringify(photo)});
    const mem = await session.upload(new Blob([bytes], { type: 'image/png' }), { filename: 'mem.png' });
    // Aborted once a third of the body is out: rejects as an abort, promptly.
    const ac = new AbortController();
    let aborted;
    const t = Date.now();
    try {
      await uploadFile(session, ${JSON.stringify(big)}, {
        signal: ac.signal,
        onProgress: (sent, total) => sent > total / 3 && ac.abort(),
      });
    } catch (e) {
      aborted = { name: e.name, kind: e.kind, ms: Date.now() - t };
    }
    // A file that grows after it was opened is refused, not sent torn.
    const blob = await openFileBlob(${JSON.stringify(big)});
    appendFileSync(${JSON.stringify(big)}, 'more');
    let changed;
    try {
      await session.upload(blob, { filename: 'clip.mp4' });
    } catch (e) {
      changed = { kind: e.kind, message: e.message };
    }
    console.log(JSON.stringify({
      names: both.map((f) => f.filename), ordered, first: seen[0], last: seen[seen.length - 1],
      mem: mem.map((f) => f.filename), aborted, changed,
    }));
  `);
  assert.deepEqual(r.names, ['photo.png', 'clip.mp4']);
  assert.ok(r.ordered, 'progress never goes back and never passes the total');
  assert.equal(r.first[0], 0);
  assert.equal(r.last[0], r.last[1]);
  assert.deepEqual(r.mem, ['mem.png']);
  assert.ok(r.aborted, 'the aborted upload rejected');
  assert.equal(r.aborted.kind, 'aborted');
  assert.ok(r.aborted.ms < 5000, `the abort took ${r.aborted.ms} ms`);
  assert.ok(r.changed, 'the changed file was refused');
  assert.equal(r.changed.kind, 'invalid_input', r.changed.message);
  assert.match(r.changed.message, /could not be read .*choose it again/);
});

test('uploadFile in Node: a stalled upload stops after uploadStallMs, a sent one without a reply after requestTimeoutMs', () => {
  const dir = tempDir('nemo-stall-');
  const photo = makePhoto(join(dir, 'photo.png'));
  const big = join(dir, 'long_take.mp4');
  // Far more than the socket buffers hold: the send stops midway.
  makeMp4(big, 64 * 1024 * 1024);
  // The emulator holds each faulted upload forever without reading it: if a
  // stopped upload kept its socket, this process could not exit (the spawn
  // has a time limit, well past anything the script waits for).
  const r = node(
    `
    import { getEventListeners } from 'node:events';
    import { NemoClient, uploadFile } from 'nemo-video';
    const emu = ${JSON.stringify(emu.url)};
    const admin = (path, body) =>
      fetch(emu + path, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body } : {}).then((r) => r.json());
    const client = new NemoClient({ baseUrl: emu, timing: { uploadStallMs: 300, requestTimeoutMs: 800 } });
    const session = await client.createSession();
    const stalls = async () => (await admin('/__emulator/stats')).global.faults_fired.stall ?? 0;
    const before = await stalls();
    const attempt = async (path) => {
      const ac = new AbortController();
      const seen = [];
      const t = Date.now();
      try {
        await uploadFile(session, path, { signal: ac.signal, onProgress: (sent, total) => seen.push([sent, total]) });
        return { ok: true };
      } catch (e) {
        return {
          name: e.name, kind: e.kind, message: e.message, action: e.recovery && e.recovery.action,
          ms: Date.now() - t, last: seen[seen.length - 1], listeners: getEventListeners(ac.signal, 'abort').length,
        };
      }
    };
    await admin('/__emulator/faults', JSON.stringify({ endpoint: 'upload', kind: 'stall' }));
    const stalled = await attempt(${JSON.stringify(big)});
    await admin('/__emulator/faults', JSON.stringify({ endpoint: 'upload', kind: 'stall' }));
    const unanswered = await attempt(${JSON.stringify(photo)});
    const fired = (await stalls()) - before;
    const after = await uploadFile(session, ${JSON.stringify(photo)});
    console.log(JSON.stringify({ stalled, unanswered, fired, after: after.map((f) => f.fileType) }));
  `,
    {},
    60_000,
  );
  const { stalled, unanswered } = r;
  assert.equal(stalled.name, 'TimeoutError', JSON.stringify(stalled));
  assert.equal(stalled.kind, 'timeout');
  assert.match(stalled.message, /made no progress for 300 ms.*Check your connection/);
  assert.equal(stalled.action, 'check_connection');
  assert.ok(stalled.last[0] < stalled.last[1], `the progress stopped partway: ${stalled.last}`);
  assert.ok(stalled.ms < 30_000, `the stalled upload settled after ${stalled.ms} ms`);
  assert.equal(stalled.listeners, 0, 'nothing left on the signal');
  assert.equal(unanswered.kind, 'timeout', JSON.stringify(unanswered));
  assert.match(unanswered.message, /did not answer the upload within 800 ms/);
  assert.equal(unanswered.action, 'retry');
  assert.equal(unanswered.last[0], unanswered.last[1], 'the whole file was sent');
  assert.equal(unanswered.listeners, 0, 'nothing left on the signal');
  assert.equal(r.fired, 2, 'each upload was sent once, never again');
  assert.deepEqual(r.after, ['image'], 'the next upload works');
});
