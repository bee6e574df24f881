// (5) The CLI from the installed tarball: `generate` makes a real MP4 (H.264)
// from an image against the emulator; --json, exit codes, Ctrl-C during a
// render prints the resume command, which then finishes the job; and sizes
// are shown in the binary units of the 200 MB upload limit.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { ARTIFACTS, ffprobe, installedProject, makeMp4, makePhoto, run, startEmulator, tempDir } from './helpers.mjs';

let emu;
let project;
let home;
let photo;
before(async () => {
  emu = await startEmulator();
  project = installedProject('nemo-cli-');
  home = tempDir('nemo-cli-home-');
  photo = makePhoto(join(project, 'photo.png'));
});
after(() => emu.stop());

const cli = (args, opts = {}) =>
  run(join(project, 'node_modules/.bin/nemo-video'), args, {
    cwd: project,
    env: { PATH: process.env.PATH, HOME: home, ...(opts.env ?? {}) },
    onSpawn: opts.onSpawn,
  });

test('generate: image + prompt → an H.264 MP4 on disk', async () => {
  const r = await cli(['generate', '--api', emu.url, '--image', photo, 'animate this photo into a cinematic video clip with camera movement', '-o', 'clip.mp4']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), join(project, 'clip.mp4'));
  for (const phase of ['upload', 'generate', 'render', 'download']) assert.match(r.stderr, new RegExp(`✓ ${phase}`), `${phase} progress:\n${r.stderr}`);
  const streams = ffprobe(join(project, 'clip.mp4'));
  const video = streams.find((s) => s.codec_type === 'video');
  assert.equal(video.codec_name, 'h264');
  assert.ok(video.width > 0 && video.height > 0);
  copyFileSync(join(project, 'clip.mp4'), join(ARTIFACTS, 'cli-clip.mp4'));
  const saved = JSON.parse(readFileSync(join(home, '.config/nemovideo/session.json'), 'utf8'));
  assert.equal(saved.baseUrl, emu.url);
  assert.ok(saved.sessionId);
  assert.ok(!JSON.stringify(saved).includes('nmv_'), 'no token in the saved handle');
});

test('--json: one object on stdout; status and credits reuse the saved session', async () => {
  const status = await cli(['status', '--json', '--api', emu.url]);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout);
  assert.equal(s.ok, true);
  assert.match(s.summary, /^Timeline \(\d+ tracks?\): 1\. Video: /);
  assert.equal(s.readyForExport, true);
  const credits = await cli(['credits', '--json'], { env: { NEMO_API_URL: emu.url } });
  assert.equal(credits.code, 0, credits.stderr);
  const c = JSON.parse(credits.stdout);
  assert.equal(typeof c.credits.available, 'number');
  assert.equal(credits.stdout.trim().split('\n').length, 1);
});

test('exit codes: usage 2, missing file 4, no session 4, network 5', async () => {
  assert.equal((await cli(['frobnicate'])).code, 2);
  assert.equal((await cli(['generate', '--api', emu.url])).code, 2, 'no prompt');
  assert.equal((await cli(['credits', '--bogus'])).code, 2);
  const missing = await cli(['generate', '--api', emu.url, '--image', 'nope.png', 'animate it', '--json']);
  assert.equal(missing.code, 4);
  assert.equal(JSON.parse(missing.stdout).error.kind, 'invalid_input');
  assert.equal((await cli(['status', '--api', 'http://127.0.0.1:9'])).code, 4, 'no saved session for that API');
  assert.equal((await cli(['credits', '--api', 'http://127.0.0.1:9'])).code, 5, 'connection refused');
  const help = await cli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Exit codes:/);
});

test('Ctrl-C during a render prints the resume command; export picks the render up', async () => {
  // Hold the first render status poll so the render is surely in flight.
  await fetch(`${emu.url}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint: 'render_status', kind: 'slow', ms: 4000 }),
  });
  const r = await cli(['generate', '--api', emu.url, '--image', photo, 'animate this photo into a cinematic video clip with camera movement', '-o', 'c2.mp4'], {
    onSpawn: (child) => {
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
        if (/render…/.test(err) && !child.sent) {
          child.sent = true;
          setTimeout(() => child.kill('SIGINT'), 300);
        }
      });
    },
  });
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /Interrupted\. The render (render_\d+) keeps running/);
  const renderId = r.stderr.match(/The render (render_\d+)/)[1];
  assert.match(r.stderr, new RegExp(`nemo-video export -o c2\\.mp4 --api ${emu.url.replace(/\./g, '\\.')}`));
  assert.match(r.stderr, /Handle: \{.*"renderId":"render_\d+"/);
  const saved = JSON.parse(readFileSync(join(home, '.config/nemovideo/session.json'), 'utf8'));
  assert.equal(saved.renderId, renderId, 'the handle on disk names the render');

  const resumed = await cli(['export', '-o', 'c2.mp4', '--api', emu.url, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const out = JSON.parse(resumed.stdout);
  assert.equal(out.renderId, renderId, 'the same render was picked up, not a new one');
  assert.equal(ffprobe(join(project, 'c2.mp4')).find((s) => s.codec_type === 'video').codec_name, 'h264');
});

test('sizes are in binary units: a file at the 200 MB limit reads "200 MB"; one byte over is refused before sending', async () => {
  // Sparse MP4s (an ftyp box, then a hole made by truncate): no disk to speak of.
  const LIMIT = 200 * 1024 * 1024; // 209,715,200 bytes, MAX_UPLOAD_BYTES
  const atLimit = join(project, 'at-limit.mp4');
  const overLimit = join(project, 'over-limit.mp4');
  makeMp4(atLimit, LIMIT);
  makeMp4(overLimit, LIMIT + 1);
  const stats = async () => (await (await fetch(`${emu.url}/__emulator/stats`)).json()).global;
  const before = await stats();

  // At the limit: the upload line says 200 MB (decimal units would say 210 MB).
  // The emulator answers that upload with an injected 500 (reading the body
  // and dropping it), so nothing is stored.
  await fetch(`${emu.url}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint: 'upload', kind: 'http_500_html', count: 1 }),
  });
  const at = await cli(['upload', '--api', emu.url, atLimit]);
  assert.match(at.stderr, /^upload… at-limit\.mp4 \(200 MB\)$/m, at.stderr);
  assert.doesNotMatch(at.stderr, /MB, over the/, 'not refused as too large');
  assert.notEqual(at.code, 0, 'the injected 500 failed the upload');

  // One byte over: refused locally (exit 4), the limit in the same units, bytes to tell them apart.
  const over = await cli(['upload', '--api', emu.url, '--json', overLimit]);
  assert.equal(over.code, 4, over.stderr);
  assert.match(over.stderr, /^upload… over-limit\.mp4 \(200 MB\)$/m);
  const error = JSON.parse(over.stdout).error;
  assert.equal(error.kind, 'file_too_large');
  assert.match(error.message, /"over-limit\.mp4" is 200 MB \(209715201 bytes\), over the 200 MB \(209715200 bytes\) limit/);
  assert.match(over.stderr, /over the 200 MB \(209715200 bytes\) limit/);

  const after = await stats();
  assert.equal(after.uploads, before.uploads, 'no file was stored');
});
