// Byte sizes on the page follow the package's one rule (`formatBytes`, binary
// units, the units of the 200 MB upload limit: 209,715,200 bytes): a file
// exactly at the limit is listed as 200 MB and accepted; one byte more is
// refused before anything is sent, with the limit in the same units.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as h from './harness.mjs';

const LIMIT = 200 * 1024 * 1024; // MAX_UPLOAD_BYTES

let emu;
let page;
let close;
let dir;
const fx = h.fixtures();

/** A sparse MP4 of `bytes` (an `ftyp` box, then a hole): no disk to speak of. */
function sparseMp4(name, bytes) {
  const file = path.join(dir, name);
  const head = Buffer.alloc(32);
  head.writeUInt32BE(24, 0);
  head.write('ftypisom', 4, 'latin1');
  head.writeUInt32BE(0x200, 12);
  head.write('isommp41', 16, 'latin1');
  head.writeUInt32BE(8, 24);
  head.write('free', 28, 'latin1');
  writeFileSync(file, head);
  truncateSync(file, bytes);
  return file;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'nemo-e2e-sizes-'));
  // Connected: the client's wasm (and so formatBytes) is ready.
  ({ emu, page, close } = await h.startStudio({ speed: 20, connected: true }));
});

after(async () => {
  await close?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a file at the 200 MB limit is listed as 200 MB; one byte more is refused with the limit in the same units', async () => {
  const atLimit = sparseMp4('at_limit.mp4', LIMIT);
  const overLimit = sparseMp4('over_limit.mp4', LIMIT + 1);
  const statsBefore = await h.admin(emu, 'stats');
  await h.pickFiles(page, [atLimit, overLimit]);

  const at = page.locator('#files .file', { hasText: 'at_limit.mp4' });
  assert.equal(await at.getAttribute('data-state'), 'ready');
  assert.equal(await at.locator('.file-meta').textContent(), '200 MB');

  const over = page.locator('#files .file', { hasText: 'over_limit.mp4' });
  assert.equal(await over.getAttribute('data-state'), 'rejected');
  assert.equal(await over.locator('.file-meta').textContent(), '200 MB');
  const reason = await over.locator('.file-status').textContent();
  assert.match(reason, /^Too large \(200 MB\b[^)]*\)/, reason);
  assert.match(reason, /the limit is 200 MB\b/, reason);
  // Rounded, it would read "200 MB" over a "200 MB" limit: the exact counts say why.
  assert.match(reason, /209,715,201 bytes, over 209,715,200/, reason);

  // Nothing was sent: the refusal is the page's own check.
  await over.locator('button').click();
  await at.locator('button').click();
  const statsAfter = await h.admin(emu, 'stats');
  assert.equal(statsAfter.global.uploads, statsBefore.global.uploads);
  assert.deepEqual(page.errors, []);
});

test('every size on the page is the package formatBytes: small files too', async () => {
  await h.pickFiles(page, [fx.photo]);
  const row = page.locator('#files .file', { hasText: path.basename(fx.photo) });
  const shown = await row.locator('.file-meta').textContent();
  const rule = await page.evaluate(async (n) => (await import('/pkg/index.js')).formatBytes(n), statSync(fx.photo).size);
  assert.equal(shown, rule);
  assert.match(shown, /^\d+(\.\d)? (bytes|KB)$/);
  const edges = await page.evaluate(async () => {
    const { formatBytes } = await import('/pkg/index.js');
    return [0, 1023, 1024, 1536 * 1024, 209715200, 209715201, NaN, -1, Infinity].map((n) => formatBytes(n));
  });
  assert.deepEqual(edges, ['0 bytes', '1023 bytes', '1 KB', '1.5 MB', '200 MB', '200 MB', '', '', '']);
  await row.locator('button').click();
  assert.deepEqual(page.errors, []);
});
