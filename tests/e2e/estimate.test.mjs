// The cost preview in Chromium: `session.estimate` from the built package
// (the page's own copy in www/pkg/) against the emulator, English and
// Chinese, with a File attached and without.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

let emu;
let page;
let close;

before(async () => {
  ({ emu, page, close } = await h.startStudio({ speed: 20, args: ['--credits', '100'] }));
});

after(async () => {
  await close?.();
});

test('session.estimate in Chromium: price, balance, confirmation and the missing photo', async () => {
  const before = await h.admin(emu, 'stats');
  const r = await page.evaluate(async () => {
    const nemo = await import('/pkg/index.js');
    await nemo.default();
    const client = new nemo.NemoClient({ baseUrl: location.origin });
    const session = await client.createSession();
    const photo = new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])], 'photo.jpg', { type: 'image/jpeg' });
    const pick = (e) => [e.action, e.intent ?? null, e.credits, e.available, e.enough, e.confirm, e.needsAttachment, e.estimate];
    return {
      bare: pick(await session.estimate('animate this photo into a cinematic video clip with camera movement')),
      attached: pick(await session.estimate('animate this photo into a cinematic video clip with camera movement', { files: [photo] })),
      zh: pick(await session.estimate('让这张照片动起来')),
      edit: pick(await session.estimate('slow zoom in')),
      exportZh: pick(await session.estimate('导出')),
      creditsZh: pick(await session.estimate('积分')),
    };
  });
  assert.deepEqual(r.bare, ['chat', 'generate', 100, 100, true, true, true, true]);
  assert.deepEqual(r.attached, ['chat', 'generate', 100, 100, true, true, false, true]);
  assert.deepEqual(r.zh, ['chat', 'generate', 100, 100, true, true, true, true]);
  assert.deepEqual(r.edit, ['chat', 'camera_move', 50, 100, true, false, false, true]);
  assert.deepEqual(r.exportZh, ['export', null, 0, 100, true, false, false, true]);
  assert.deepEqual(r.creditsZh, ['credits', null, 0, 100, true, false, false, true]);
  const after = await h.admin(emu, 'stats');
  assert.equal(after.global.turns_run, before.global.turns_run, 'nothing was sent to the agent');
  assert.equal(after.global.uploads, before.global.uploads, 'nothing was uploaded');
});
