// The rough edges a new user hit (issue 18), each fixed in <nemo-studio> and
// each checked here in Chromium: a rejected file never blocks the chat; a 429
// shows its wait; "playing" only when it plays; export progress in the chat;
// focus after each action; the last export and the last known progress
// survive a reload; plain-language 5xx; and the cost preview before spending.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as h from './harness.mjs';

let emu;
let browser;
let close;
let dir;
const fx = h.fixtures();

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'nemo-e2e-edges-'));
  ({ emu, browser, close } = await h.startStudio({ speed: 20, open: false }));
});

after(async () => {
  await close?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function fresh(opts = {}) {
  const page = await h.openPage(browser, emu, opts);
  await h.waitConnected(page);
  return page;
}

/** An .exe renamed .jpg: passes the name check, refused by its bytes. */
function fakePhoto() {
  const file = path.join(dir, 'holiday.jpg');
  const bytes = Buffer.alloc(512);
  bytes.write('MZ', 0, 'latin1');
  bytes.writeUInt32LE(0x80, 0x3c);
  bytes.write('PE\0\0', 0x80, 'latin1');
  writeFileSync(file, bytes);
  return file;
}

test('a rejected file shows its reason on its own row, is never sent, never blocks the chat; Try again and Upload now do not repeat it', async () => {
  const page = await fresh();
  const before = await h.admin(emu, 'stats');
  await h.pickFiles(page, [fakePhoto(), fx.photo]);
  // Both pass the name and size check: the bytes decide.
  assert.equal(await page.locator('#files .file[data-state="ready"]').count(), 2);
  await h.admin(emu, 'faults', { endpoint: 'run_sse', kind: 'out_of_credits', count: 1 });
  await h.say(page, 'animate this photo into a cinematic video clip with camera movement');
  const card = page.locator('#messages .error-card[data-kind="out_of_credits"]');
  await card.waitFor({ timeout: 30000 });
  // The bad file: rejected on its own row, with the reason; the formats once.
  const bad = page.locator('#files .file', { hasText: 'holiday.jpg' });
  assert.equal(await bad.getAttribute('data-state'), 'rejected');
  const reason = await bad.locator('.file-status').textContent();
  assert.match(reason, /"holiday\.jpg" says .* but its content/);
  assert.equal(reason.split('mp4').length - 1, 1, `the accepted formats once: ${reason}`);
  // The good one went up anyway; the chat names the refused file, once.
  assert.equal(await page.locator('#files .file', { hasText: 'city_timelapse.jpg' }).getAttribute('data-state'), 'uploaded');
  const notes = (await h.messages(page, 'note')).filter((n) => n.includes('holiday.jpg'));
  assert.equal(notes.length, 1, JSON.stringify(notes));
  assert.doesNotMatch(notes[0], /Accepted formats/);
  let stats = await h.admin(emu, 'stats');
  assert.equal(stats.global.uploads, before.global.uploads + 1, 'only the real photo was uploaded');
  // Try again: the turn, without the refused file.
  await card.locator('button', { hasText: 'Try again' }).click();
  await h.waitIdle(page);
  await page.waitForSelector('#tracks .track-video .seg');
  assert.equal((await h.messages(page, 'note')).filter((n) => n.includes('holiday.jpg')).length, 1, 'not refused twice');
  assert.equal(await bad.getAttribute('data-state'), 'rejected');
  // Later messages are not blocked by it.
  await h.say(page, 'credits');
  await h.waitIdle(page);
  assert.match((await h.messages(page, 'agent')).at(-1), /You have \d+ credits available/);
  assert.equal(await page.locator('#messages .error-card').count(), 0);
  // Upload now: no "upload" bubble the user never typed.
  const users = await h.messages(page, 'user');
  await h.pickFiles(page, [fx.photo2]);
  await page.click('#upload-btn');
  await h.waitIdle(page);
  assert.deepEqual(await h.messages(page, 'user'), users);
  assert.equal((await h.messages(page, 'agent')).at(-1), 'Uploaded 1 file.');
  stats = await h.admin(emu, 'stats');
  assert.equal(stats.global.uploads, before.global.uploads + 2);
  await h.screenshot(page, 'desktop-rejected-file');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a 429 on the first load, on credits and on state shows the wait and counts it down', async () => {
  const page = await h.openPage(browser, emu, {
    before: async (p) => {
      await p.evaluate(() => sessionStorage.setItem('nemovideo.demo.timing', JSON.stringify({ rateLimitWaitMs: 4000 })));
      await h.admin(emu, 'faults', { endpoint: 'token', kind: 'rate_limit', count: 1 });
    },
  });
  const seen = async (what) => {
    const first = await page.waitForFunction(
      () => {
        const w = window.$studio('#wait');
        const m = w && !w.hidden && /Trying again in (\d+) s/.exec(w.textContent);
        return m ? Number(m[1]) : null;
      },
      null,
      { timeout: 20000, polling: 50 },
    );
    const from = await first.jsonValue();
    assert.ok(from >= 2 && from <= 4, `${what}: counts from the wait (${from})`);
    await page.waitForFunction(
      (n) => {
        const m = /Trying again in (\d+) s/.exec(window.$studio('#wait').textContent);
        return m && Number(m[1]) < n;
      },
      from,
      { timeout: 5000, polling: 50 },
    );
    await page.waitForFunction(() => window.$studio('#wait').hidden, null, { timeout: 20000 });
  };
  await seen('first load');
  await h.waitConnected(page);
  await h.admin(emu, 'faults', { endpoint: 'credits', kind: 'rate_limit', count: 1 });
  await h.say(page, 'credits');
  await seen('credits');
  await h.waitIdle(page);
  assert.match((await h.messages(page, 'agent')).at(-1), /You have \d+ credits available/);
  await h.admin(emu, 'faults', { endpoint: 'state', kind: 'rate_limit', count: 1 });
  await h.say(page, '状态');
  await seen('state');
  await h.waitIdle(page);
  assert.match((await h.messages(page, 'agent')).at(-1), /^Timeline/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a 5xx reads in plain language, with its status and a full stop', async () => {
  const page = await fresh();
  await h.admin(emu, 'faults', { endpoint: 'credits', kind: 'http_502_html', count: 1 });
  await h.say(page, 'credits');
  const card = page.locator('#messages .error-card').last();
  await card.waitFor({ timeout: 30000 });
  assert.equal(await card.locator('.error-title').textContent(), 'The video service is having trouble');
  const text = await card.locator('.error-text').textContent();
  assert.equal(text, 'It answered with a server error (HTTP 502). Nothing you did caused it. Wait a moment, then try again.');
  assert.doesNotMatch(await card.textContent(), /HTML|Bad Gateway|<title>/);
  await card.locator('button', { hasText: 'Try again' }).click();
  await h.waitIdle(page);
  assert.match((await h.messages(page, 'agent')).at(-1), /You have \d+ credits available/);
  await page.close();
});

test('the cost shows next to Send; the studio asks before spending all credits, or on a photo that is not attached', async () => {
  const page = await fresh();
  const stats0 = await h.admin(emu, 'stats');
  await page.fill('#composer-input', 'animate this photo into a cinematic video clip with camera movement');
  await page.waitForFunction(() => window.$studio('#cost').textContent === '≈100 credits');
  assert.match(await page.getAttribute('#cost', 'title'), /estimate/);
  await page.press('#composer-input', 'Enter');
  await page.waitForSelector('#confirm:not([hidden])');
  assert.match(await page.textContent('#confirm-text'), /mentions a photo or clip, but nothing is attached/);
  assert.equal(await page.isVisible('#confirm-attach'), true);
  assert.equal(await h.focused(page), 'confirm-yes');
  await page.click('#confirm-no');
  assert.equal(await page.isHidden('#confirm'), true);
  assert.deepEqual(await h.messages(page, 'user'), [], 'nothing was sent');
  // Free commands say so.
  await page.fill('#composer-input', 'credits');
  await page.waitForFunction(() => window.$studio('#cost').textContent === 'Free');
  await page.fill('#composer-input', 'slow zoom in');
  await page.waitForFunction(() => window.$studio('#cost').textContent === '≈50 credits');
  // With the photo: all of the balance, so it asks again; Escape cancels.
  await h.pickFiles(page, [fx.photo]);
  await page.fill('#composer-input', 'animate this photo into a cinematic video clip with camera movement');
  await page.press('#composer-input', 'Enter');
  await page.waitForSelector('#confirm:not([hidden])');
  assert.match(await page.textContent('#confirm-text'), /about 100 credits, all of the 100 you have/);
  assert.equal(await page.textContent('#cost'), '≈100 credits', 'the cost of what is being sent');
  assert.equal(await page.isVisible('#confirm-attach'), false);
  await h.screenshot(page, 'desktop-confirm-spend');
  await page.keyboard.press('Escape');
  assert.equal(await page.isHidden('#confirm'), true);
  const stats1 = await h.admin(emu, 'stats');
  assert.equal(stats1.global.turns_run, stats0.global.turns_run);
  assert.equal(stats1.global.uploads, stats0.global.uploads);
  // The same in Chinese.
  await page.evaluate(() => document.querySelector('nemo-studio').setAttribute('language', 'zh-CN'));
  await page.fill('#composer-input', '让这张照片动起来');
  await page.waitForFunction(() => window.$studio('#cost').textContent === '约 100 积分');
  assert.equal((await page.textContent('#send-btn')).trim(), '发送');
  await page.close();
});

test('focus moves somewhere sensible: chip → confirmation → composer; Export → Cancel → Download; "playing" only when it plays', async () => {
  const page = await fresh();
  await h.pickFiles(page, [fx.photo]);
  await page.focus('#chips .chip:first-child');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#confirm:not([hidden])');
  assert.equal(await h.focused(page), 'confirm-yes');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.$studio('#send-btn').disabled);
  await page.waitForTimeout(50);
  assert.equal(await h.focused(page), 'composer-input', 'not the body');
  await h.waitIdle(page);
  await page.waitForSelector('#tracks .track-video .seg');
  assert.equal(await h.focused(page), 'composer-input');

  await page.focus('#export-btn');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.$studio('#export-btn').disabled);
  assert.equal(await h.focused(page), 'cancel-export-btn');
  // The progress is in the chat too, in view at 1280×800.
  const bubble = page.locator('#messages .msg-progress');
  await bubble.waitFor();
  const box = await bubble.boundingBox();
  assert.ok(box && box.y >= 0 && box.y + box.height <= h.DESKTOP.height, `in view: ${JSON.stringify(box)}`);
  assert.match(await bubble.textContent(), /Exporting your MP4/);
  assert.equal(await bubble.locator('progress').count(), 1);
  await h.screenshot(page, 'desktop-export-progress-in-chat');
  await page.waitForSelector('#result:not([hidden])', { timeout: 180000 });
  await page.waitForFunction(() => !window.$studio('#messages .msg-progress'));
  assert.equal(await h.focused(page), 'download-link');

  // Ready to play, not "playing", until it plays.
  const reply = (await h.messages(page, 'agent')).at(-1);
  assert.match(reply, /ready to play/);
  assert.doesNotMatch(reply, /playing/i);
  assert.equal(await page.textContent('#play-state'), 'Ready to play');
  const paused = await page.evaluate(() => window.$studio('#player').paused);
  assert.equal(paused, true);
  const codec = await page.evaluate(() => document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E"'));
  if (codec) {
    await page.evaluate(async () => {
      const v = window.$studio('#player');
      v.muted = true;
      await v.play();
    });
    await page.waitForFunction(() => window.$studio('#play-state').textContent === 'Playing');
    await page.evaluate(() => window.$studio('#player').pause());
    await page.waitForFunction(() => window.$studio('#play-state').textContent === 'Paused');
  }
  await page.close();
});

test('a reload after a finished export shows the video again', async () => {
  const page = await h.openPage(browser, emu, { before: async () => h.admin(emu, 'config', { speed: 20 }) });
  await h.waitConnected(page);
  await h.generateClip(page, fx.photo);
  await h.exportAndWait(page);
  const stats = await h.admin(emu, 'stats');
  await page.reload();
  await h.waitConnected(page);
  await page.waitForSelector('#result:not([hidden])');
  const src = await page.getAttribute('#player', 'src');
  assert.match(src, /^http:\/\/127\.0\.0\.1:\d+\/renders\/render_\d+.*\.mp4$/);
  assert.equal(await page.getAttribute('#download-link', 'href'), src);
  assert.match(await page.textContent('#file-size'), /MP4 · [\d.]+ (KB|MB)/);
  assert.match(await page.textContent('#messages'), /Your last export is ready to play/);
  const dur = await page.evaluate(async () => {
    const v = window.$studio('#player');
    if (v.readyState < 1) await new Promise((r) => v.addEventListener('loadedmetadata', r, { once: true }));
    return v.duration;
  });
  assert.ok(dur > 1, `the MP4 loads (duration ${dur})`);
  assert.equal((await h.admin(emu, 'stats')).global.renders_started, stats.global.renders_started, 'not exported again');
  await page.close();
});

test('a reload mid-export keeps the last known progress', async () => {
  const page = await fresh();
  await h.generateClip(page, fx.photo);
  // A render that sits at 37 % for a while (then fails once and is retried).
  await h.admin(emu, 'config', { speed: 0.5 });
  await h.admin(emu, 'faults', { endpoint: 'export', kind: 'render_fail_once', count: 1 });
  await page.click('#export-btn');
  await page.waitForFunction(() => window.$studio('#export-bar').value >= 37, null, { timeout: 60000, polling: 50 });
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('nemovideo.demo.handle')));
  assert.equal(saved.studio.progress.progress, 37);
  assert.equal(saved.studio.progress.renderId, saved.renderId);
  await page.reload();
  const first = await page.waitForFunction(
    () => {
      const p = window.$studio('#export-progress');
      return p && !p.hidden ? { value: window.$studio('#export-bar').value, status: window.$studio('#export-status').textContent } : null;
    },
    null,
    { timeout: 30000, polling: 10 },
  );
  const shown = await first.jsonValue();
  assert.ok(shown.value >= 37, `after the reload the bar starts at the last known progress: ${JSON.stringify(shown)}`);
  assert.doesNotMatch(shown.status, /Queued/);
  await h.admin(emu, 'config', { speed: 20 });
  await page.waitForSelector('#result:not([hidden])', { timeout: 180000 });
  assert.deepEqual(page.errors, []);
  await page.close();
});
