// A batch: several files in one session, validated first, each with its
// own thumbnail and progress bar; then each gets its own instruction and
// its own render.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as h from './harness.mjs';

let emu;
let page;
let close;
const fx = h.fixtures();

before(async () => {
  // Enough credits for two generations.
  ({ emu, page, close } = await h.startStudio({ speed: 20, args: ['--credits', '500'], connected: true }));
});

after(async () => {
  await close?.();
});

test('two files upload together, each with its own progress; a bad one is refused before sending', async () => {
  await h.pickFiles(page, [fx.photo2, fx.clip, fx.notes]);
  const rows = page.locator('#files .file');
  assert.equal(await rows.count(), 3);
  // Validation before anything is sent.
  const bad = page.locator('#files .file[data-state="rejected"]');
  assert.equal(await bad.count(), 1);
  assert.match(await bad.textContent(), /notes\.txt.*Not a supported file type \(\.txt\)/);
  // Thumbnails: an image and a video (object URLs).
  assert.match(await page.getAttribute('#files .file .thumb img', 'src'), /^blob:/);
  assert.match(await page.getAttribute('#files .file .thumb video', 'src'), /^blob:/);
  assert.match(await page.textContent('#attach-note'), /2 files will go with your next message/);
  await bad.locator('button').click();
  assert.equal(await rows.count(), 2);

  const statsBefore = await h.admin(emu, 'stats');
  await page.click('#upload-btn');
  await h.waitIdle(page);
  assert.equal(await page.locator('#files .file[data-state="uploaded"]').count(), 2);
  const bars = await page.$$eval('#files .file progress', (ns) => ns.map((n) => n.value));
  assert.deepEqual(bars, [100, 100]);
  const agent = await h.messages(page, 'agent');
  assert.equal(agent.at(-1), 'Uploaded 2 files.');
  const statsAfter = await h.admin(emu, 'stats');
  assert.equal(statsAfter.global.turns_run, statsBefore.global.turns_run, 'an upload is not an agent turn');
  await h.screenshot(page, 'desktop-batch-uploaded');
});

test('each file gets its own instruction and its own render', async () => {
  const names = [];
  for (const [i, prompt] of [
    [1, 'animate photo 1 into a cinematic video clip with a slow zoom in'],
    [2, 'animate photo 2 into a cinematic video clip with camera movement'],
  ]) {
    await h.say(page, prompt);
    await h.waitIdle(page);
    await page.waitForSelector('#tracks .track-video .seg');
    names.push(await page.textContent('#tracks .track-video .seg'));
    await h.exportAndWait(page);
    assert.match(await page.textContent('#file-size'), /MP4/);
    void i;
  }
  assert.match(names[0], /sunset beach/i);
  assert.match(names[1], /street clip/i);
  const stats = await h.admin(emu, 'stats');
  assert.equal(stats.global.renders_completed, 2);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  void path;
});

test('drag and drop adds files the same way', async () => {
  await page.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 64;
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#c026d3';
    ctx.fillRect(0, 0, 64, 64);
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    const dt = new DataTransfer();
    dt.items.add(new File([blob], 'dropped.png', { type: 'image/png' }));
    const zone = window.$studio('#dropzone');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  const row = page.locator('#files .file', { hasText: 'dropped.png' });
  await row.waitFor();
  assert.equal(await row.getAttribute('data-state'), 'ready');
  assert.match(await row.locator('.thumb img').getAttribute('src'), /^blob:/);
  await row.locator('button').click();
  assert.equal(await row.count(), 0);
});

test('edits update the drawn timeline after every turn, silent ones included', async () => {
  await h.clickChip(page, '#chips .chip:has-text("add lo-fi BGM at 35%")');
  await h.waitIdle(page);
  await page.waitForFunction(() => /35%/.test(window.$studio('#tracks .track-audio')?.textContent || ''));
  await h.clickChip(page, '#chips .chip:has-text("add title Urban Dreams")');
  await h.waitIdle(page);
  await page.waitForFunction(() => /Urban Dreams/.test(window.$studio('#tracks .track-text')?.textContent || ''));
  assert.match(await page.textContent('#timeline-summary'), /BGM: .*35%.*Title: "Urban Dreams"/);
  await h.say(page, 'make it 1:1');
  await h.waitIdle(page);
  await page.waitForFunction(() => window.$studio('#timeline-aspect').textContent === '1:1');
  // Every turn answered with something: text, or the change in words.
  const agent = await h.messages(page, 'agent');
  assert.ok(agent.slice(-3).every((t) => t.length > 0));
  await page.evaluate(() => window.scrollTo(0, 0));
  await h.screenshot(page, 'desktop-edits');
});
