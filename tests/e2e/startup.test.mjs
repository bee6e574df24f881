// Page start-up: the client's wasm is preloaded by index.html, so it
// downloads alongside the scripts. A preload whose request does not match
// init()'s fetch (mode, credentials) is wasted: the browser then downloads
// the wasm twice and warns that the preload went unused.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

let emu;
let browser;
let close;

before(async () => {
  // A page of its own, opened by the test: no storage clearing, no recorders.
  ({ emu, browser, close } = await h.startStudio({ speed: 20, open: false }));
});

after(async () => {
  await close?.();
});

test('the wasm is fetched once, by the preload, and the page connects', async () => {
  const page = await browser.context.newPage();
  const wasmRequests = [];
  const warnings = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.endsWith('/nemo_video_bg.wasm')) wasmRequests.push(r.resourceType());
  });
  page.on('console', (m) => {
    if (/preload/i.test(m.text())) warnings.push(m.text());
  });
  await page.goto(`${emu.url}/`);
  await h.waitConnected(page);
  // Chromium reports an unused preload a few seconds after the load event.
  await page.waitForTimeout(3500);
  assert.equal(wasmRequests.length, 1, `wasm requests: ${wasmRequests.join(', ')}`);
  // Resource Timing names who started the download: the <link>, not fetch().
  const initiators = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e) => new URL(e.name).pathname.endsWith('/nemo_video_bg.wasm'))
      .map((e) => e.initiatorType),
  );
  assert.deepEqual(initiators, ['link']);
  assert.deepEqual(warnings, []);
  await page.close();
});
