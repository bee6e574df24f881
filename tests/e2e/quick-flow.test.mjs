// The quick flow on a desktop: connect → upload a photo → "animate this
// photo…" → timeline → export with progress → the MP4 plays inline, with a
// download link, its size and the claim link. Also: routed commands
// ("credits", "状态", "export") and the Content-Security-Policy.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

let emu;
let page;
let close;
const fx = h.fixtures();

before(async () => {
  // Not waiting for the connection: the first test watches it happen.
  ({ emu, page, close } = await h.startStudio({ speed: 20 }));
});

after(async () => {
  await close?.();
});

test('connects: "Setting things up…" then connected with credits', async () => {
  const html = await (await fetch(`${emu.url}/`)).text();
  // Before the element is defined, its placeholder says so (first paint).
  assert.match(html, /<p id="studio-loading"[^>]*>Setting things up…<\/p>/);
  const credits = await h.waitConnected(page);
  assert.equal(credits, 100);
  assert.match(await page.textContent('#conn-text'), /Connected/);
  // The CSP is the strict one, delivered with the page.
  const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(await page.locator('script:not([src])').count(), 0, 'no inline scripts');
  assert.equal(await page.locator('[style]').count(), 0, 'no style attributes');
  await h.screenshot(page, 'desktop-start');
});

test('a routed "credits" command answers from the balance endpoint, not the agent', async () => {
  const before = await h.admin(emu, 'stats');
  await h.say(page, 'credits');
  await h.waitIdle(page);
  const agent = await h.messages(page, 'agent');
  assert.match(agent.at(-1), /You have 100 credits available/);
  const after = await h.admin(emu, 'stats');
  assert.equal(after.global.turns_run, before.global.turns_run, 'no agent turn was started');
});

test('quick flow: photo → cinematic clip → timeline tracks', async () => {
  await h.pickFiles(page, [fx.photo]);
  // Validated and shown with a thumbnail before anything is sent.
  await page.waitForSelector('#files .file[data-state="ready"] .thumb img');
  await h.clickChip(page);
  // A quiet activity line with the elapsed time while the clip is generated.
  const activity = await page.waitForFunction(
    () => {
      const a = window.$studio('#activity');
      const t = window.$studio('#activity-text').textContent;
      return !a.hidden && /Generating video/.test(t) ? `${t} ${window.$studio('#activity-time').textContent}` : null;
    },
    null,
    { timeout: 30000, polling: 50 },
  );
  assert.match(await activity.jsonValue(), /^Generating video… \d+:\d\d$/);
  // The file's own progress bar, then the reply.
  await page.waitForSelector('#files .file[data-state="uploaded"]', { timeout: 30000 });
  await h.waitIdle(page);
  await page.waitForSelector('#tracks .track-video .seg');
  const agent = await h.messages(page, 'agent');
  const reply = agent.at(-1);
  assert.ok(reply.length > 10, `a reply was shown: ${reply}`);
  // Streamed deltas were replaced by the final text, never shown twice.
  const first = reply.slice(0, 18);
  const all = await page.textContent('#messages');
  assert.equal(all.split(first).length - 1, 1, `"${first}" appears once`);
  assert.equal(await page.locator('#messages .streaming').count(), 0);
  // The timeline: tracks and the summary line from the draft.
  const summary = await page.textContent('#timeline-summary');
  assert.match(summary, /^Timeline \(\d tracks?\): 1\. Video: /);
  const kinds = await page.$$eval('#tracks .track', (ns) => ns.map((n) => n.className));
  assert.ok(kinds.some((k) => k.includes('track-video')));
  // Credits went down for the generation.
  await page.waitForFunction(() => window.$studio('#credits-value').textContent !== '100');
  assert.equal(await page.isEnabled('#export-btn'), true);
});

test('routed "状态" shows the track summary', async () => {
  await h.say(page, '状态');
  await h.waitIdle(page);
  const agent = await h.messages(page, 'agent');
  assert.match(agent.at(-1), /^Timeline \(\d tracks?\)/);
});

test('export: progress bar, then the MP4 plays inline with download, size and claim link', async () => {
  await page.click('#export-btn');
  await page.waitForSelector('#export-progress:not([hidden])');
  // A real progress value is reported while rendering.
  const seen = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const values = new Set();
        const bar = window.$studio('#export-bar');
        const t = setInterval(() => {
          values.add(bar.value);
          if (!window.$studio('#result').hidden) {
            clearInterval(t);
            resolve([...values]);
          }
        }, 50);
      }),
  );
  assert.ok(seen.length >= 2, `progress moved: ${seen}`);
  const size = await page.textContent('#file-size');
  assert.match(size, /MP4 · [\d.]+ (KB|MB)/);
  const href = await page.getAttribute('#download-link', 'href');
  assert.match(href, /^blob:/);
  assert.match(await page.getAttribute('#download-link', 'download'), /\.mp4$/);
  await page.waitForSelector('#claim-link:not([hidden])');
  assert.match(await page.getAttribute('#claim-link', 'href'), /\/workspace\/claim\?ct=/);

  const codec = await page.evaluate(() => document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E"'));
  const playback = await page.evaluate(async (canPlay) => {
    const v = window.$studio('#player');
    if (v.readyState < 1) await new Promise((r) => v.addEventListener('loadedmetadata', r, { once: true }));
    const out = { duration: v.duration, width: v.videoWidth, height: v.videoHeight };
    if (!canPlay) return out;
    v.muted = true;
    await v.play();
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no playback progress')), 15000);
      const check = () => {
        if (v.currentTime > 0) {
          clearTimeout(t);
          resolve();
        } else requestAnimationFrame(check);
      };
      check();
    });
    out.currentTime = v.currentTime;
    return out;
  }, codec !== '');
  assert.ok(playback.duration > 1 && playback.duration < 120, `duration ${playback.duration}`);
  assert.ok(playback.width > 0 && playback.height > 0);
  if (codec !== '') assert.ok(playback.currentTime > 0, 'the video played');
  else console.log('# this Chromium cannot play H.264; checked metadata only');
  await page.evaluate(() => {
    window.$studio('#player').pause();
    window.scrollTo(0, 0);
  });
  await h.screenshot(page, 'desktop-result', { fullPage: true });
  await page.evaluate(() => window.$studio('#result').scrollIntoView({ block: 'center' }));
  await h.screenshot(page, 'desktop-result-viewport');
});

test('a routed "export" in the chat exports again and replies', async () => {
  await h.say(page, 'export');
  await page.waitForSelector('#export-progress:not([hidden])');
  await h.waitIdle(page, 180000);
  const agent = await h.messages(page, 'agent');
  assert.match(agent.at(-1), /Your video is ready/);
  await page.waitForSelector('#result:not([hidden])');
});

test('CSP: no violations during the flow, and injected inline script does not run', async () => {
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  assert.deepEqual(page.errors, [], 'no page errors');
  assert.deepEqual(page.failed, [], 'no failed requests');
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inline = 1';
    document.body.append(s);
  });
  await page.waitForFunction(() => window.__csp.length > 0);
  assert.equal(await page.evaluate(() => window.__inline), undefined);
  const v = await page.evaluate(() => window.__csp);
  assert.match(v[0].directive, /^script-src/);
});
