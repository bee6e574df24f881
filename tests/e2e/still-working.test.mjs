// The "still working" notice: while the agent sends only heartbeats (the
// long GPU run of a generation), the page says it is still working, on the
// protocol's cadence. The cadence (2 min) is shortened for the test through
// the demo's loopback-only timing override in sessionStorage.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

let page;
let close;
const fx = h.fixtures();

before(async () => {
  ({ page, close } = await h.startStudio({ speed: 20 }));
  await page.evaluate(() => sessionStorage.setItem('nemovideo.demo.timing', JSON.stringify({ stillWorkingMs: 400 })));
  await page.reload();
  await h.waitConnected(page);
});

after(async () => {
  await close?.();
});

test('a long silent stretch shows "still working", and the turn still completes', async () => {
  await h.generateClip(page, fx.photo);
  const notes = await h.messages(page, 'note');
  assert.ok(
    notes.some((n) => /^Still working on it/.test(n)),
    `a still-working note was shown; notes: ${JSON.stringify(notes)}`,
  );
  // Notices are not saved with the transcript, and the turn's result is there.
  const agent = await h.messages(page, 'agent');
  assert.ok(agent.length > 0, 'the agent answered');
  assert.deepEqual(page.errors, []);
});
