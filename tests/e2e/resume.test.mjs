// Reload in the middle of an export: the page saved the session handle
// (through the client's onHandle) and picks the same render up again: no
// second render, the MP4 arrives and plays.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

let emu;
let page;
let close;
const fx = h.fixtures();

before(async () => {
  ({ emu, page, close } = await h.startStudio({ speed: 20, connected: true }));
});

after(async () => {
  await close?.();
});

test('reload during export resumes the same render from the saved handle', async () => {
  await h.generateClip(page, fx.photo);
  const userMessages = await h.messages(page, 'user');
  // A slow render queue (speed 0.2: about 10 s pending) leaves time to reload.
  await h.admin(emu, 'config', { speed: 0.2 });
  await page.click('#export-btn');
  const handle = await page.waitForFunction(
    () => {
      const h = JSON.parse(localStorage.getItem('nemovideo.demo.handle') || 'null');
      return h && h.renderId ? h : null;
    },
    null,
    { timeout: 30000 },
  );
  const saved = await handle.jsonValue();
  assert.match(saved.renderId, /^render_\d+/);
  assert.equal(JSON.stringify(saved).includes('nmv_'), false, 'the handle holds no token');
  await page.waitForSelector('#export-progress:not([hidden])');

  await page.reload();
  await h.waitConnected(page);
  assert.match(await page.textContent('#conn-text'), /restored/);
  await page.waitForSelector('#export-progress:not([hidden])');
  assert.match(await page.textContent('#messages'), /Picking up the export/);
  // The conversation and the timeline came back too.
  assert.deepEqual(await h.messages(page, 'user'), userMessages);
  await page.waitForSelector('#tracks .track-video .seg');
  await h.admin(emu, 'config', { speed: 20 });

  await page.waitForSelector('#result:not([hidden])', { timeout: 180000 });
  const stats = await h.admin(emu, 'stats');
  assert.equal(stats.global.renders_started, 1, 'the render was resumed, not submitted again');
  assert.equal(stats.global.renders_completed, 1);
  const after = JSON.parse(await page.evaluate(() => localStorage.getItem('nemovideo.demo.handle')));
  assert.equal(after.renderId, undefined, 'the finished render is cleared from the handle');
  const dur = await page.evaluate(async () => {
    const v = window.$studio('#player');
    if (v.readyState < 1) await new Promise((r) => v.addEventListener('loadedmetadata', r, { once: true }));
    return v.duration;
  });
  assert.ok(dur > 1, `the MP4 loaded (duration ${dur})`);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  assert.deepEqual(page.errors, []);
});
