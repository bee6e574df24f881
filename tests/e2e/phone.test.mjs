// Phone width (390 px): the whole flow with nothing overflowing
// horizontally, keyboard-only use of the main controls, and screenshots.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

let page;
let close;
const fx = h.fixtures();

before(async () => {
  ({ page, close } = await h.startStudio({ speed: 20, viewport: h.PHONE }));
});

after(async () => {
  await close?.();
});

async function assertNoOverflow(step) {
  const o = await h.overflow(page);
  assert.ok(o.scrollWidth <= h.PHONE.width, `${step}: scrollWidth ${o.scrollWidth} > ${h.PHONE.width} (${o.wide.join(', ')})`);
  assert.deepEqual(o.wide, [], `${step}: elements past the right edge`);
}

test('390 px: connect, upload, generate and export with nothing overflowing', async () => {
  await h.waitConnected(page);
  await assertNoOverflow('connected');
  await h.screenshot(page, 'phone-start');

  await h.pickFiles(page, [fx.photo, fx.photo2]);
  await assertNoOverflow('files picked');
  // Keyboard only: focus the composer, type, Enter.
  await page.focus('#composer-input');
  await page.keyboard.type('animate this photo into a cinematic video clip with camera movement');
  await page.keyboard.press('Enter');
  // It uses all 100 credits, so the studio asks first; the answer has focus.
  assert.equal(await h.confirmIfAsked(page, { confirm: false }), true);
  await page.keyboard.press('Enter');
  await h.waitIdle(page);
  await page.waitForSelector('#tracks .track-video .seg');
  await assertNoOverflow('generated');
  await h.say(page, 'status');
  await h.waitIdle(page);

  // Tab reaches the export button; Enter starts it.
  await page.focus('#tracks');
  await page.evaluate(() => window.$studio('#export-btn').scrollIntoView());
  await page.focus('#export-btn');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#export-progress:not([hidden])');
  await assertNoOverflow('exporting');
  await h.screenshot(page, 'phone-exporting');
  await page.waitForSelector('#result:not([hidden])', { timeout: 180000 });
  await page.waitForSelector('#claim-link:not([hidden])');
  await page.evaluate(async () => {
    const v = window.$studio('#player');
    if (v.readyState < 1) await new Promise((r) => v.addEventListener('loadedmetadata', r, { once: true }));
  });
  await assertNoOverflow('exported');
  await page.evaluate(() => window.scrollTo(0, 0));
  await h.screenshot(page, 'phone-result', { fullPage: true });

  // The settings dialog fits too, and the token field is a password field.
  await page.click('#settings-btn');
  await page.waitForSelector('#settings[open]');
  assert.equal(await page.getAttribute('#api-token', 'type'), 'password');
  await assertNoOverflow('settings');
  await h.screenshot(page, 'phone-settings');
  await page.keyboard.press('Escape');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
});

test('every control has an accessible name', async () => {
  const unnamed = await page.evaluate(() =>
    window.$deepAll(document.body).filter((n) => n.matches('button, a[href], input, textarea, select'))
      .filter((n) => !n.closest('[hidden]') && n.type !== 'hidden')
      .filter((n) => {
        const label = n.getAttribute('aria-label') || n.textContent.trim() || (n.labels && n.labels.length && n.labels[0].textContent.trim()) || n.title;
        return !label;
      })
      .map((n) => n.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unnamed, []);
});
