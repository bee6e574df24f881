// Errors in plain language with a one-step retry (out of credits with the
// registration link, HTTP 402 explained), and agent text that carries
// markup rendered inert.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

let emu;
let browser;
let page;
const fx = h.fixtures();

before(async () => {
  emu = await h.startEmulator({ speed: 20 });
  browser = await h.launchBrowser();
  page = await h.openPage(browser, emu);
  await h.waitConnected(page);
});

after(async () => {
  await browser?.close();
  await emu?.stop();
});

test('out of credits: plain explanation, registration link, one-step retry', async () => {
  await h.admin(emu, 'faults', { endpoint: 'run_sse', kind: 'out_of_credits', count: 1 });
  await h.pickFiles(page, [fx.photo]);
  await page.click('#chips .chip:first-child');
  const card = page.locator('#messages .error-card[data-kind="out_of_credits"]');
  await card.waitFor({ timeout: 30000 });
  assert.match(await card.textContent(), /You're out of credits/);
  const link = card.locator('a');
  assert.equal(await link.textContent(), 'Create a free account');
  assert.match(await link.getAttribute('href'), /^https:\/\/nemovideo\.com\/register\?bind=anon_/);
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  // The file still went up: the retry does not upload it again.
  await page.waitForSelector('#files .file[data-state="uploaded"]');
  await h.screenshot(page, 'desktop-out-of-credits');
  await card.locator('button', { hasText: 'Try again' }).click();
  await h.waitIdle(page);
  await page.waitForSelector('#tracks .track-video .seg');
  assert.equal(await card.count(), 0, 'the card went away');
  const stats = await h.admin(emu, 'stats');
  assert.equal(stats.global.uploads, 1);
});

test('HTTP 402 on export: explained as not a credit problem, retry works', async () => {
  const creditsBefore = await page.textContent('#credits-value');
  // A proxy that strips the attribution headers: the emulator answers 402,
  // exactly like the service.
  const strip = async (route) => {
    const headers = { ...route.request().headers() };
    for (const k of Object.keys(headers)) if (k.startsWith('x-skill-')) delete headers[k];
    await route.continue({ headers });
  };
  await page.route('**/api/render/proxy/lambda', strip);
  await page.click('#export-btn');
  const card = page.locator('#export .error-card[data-kind="export_blocked"]');
  await card.waitFor({ timeout: 30000 });
  const text = await card.textContent();
  assert.match(text, /402/);
  assert.match(text, /not a credit problem/);
  assert.equal(await page.textContent('#credits-value'), creditsBefore, 'credits untouched');
  await page.evaluate(() => window.scrollTo(0, 0));
  await h.screenshot(page, 'desktop-export-402', { fullPage: true });
  await page.unroute('**/api/render/proxy/lambda', strip);
  await card.locator('button', { hasText: 'Try again' }).click();
  await page.waitForSelector('#result:not([hidden])', { timeout: 180000 });
  assert.equal(await card.count(), 0);
});

test('agent text with markup is shown as text and never runs', async () => {
  const payload = '<img src=x onerror=window.__pwned=1>';
  const countBefore = await page.evaluate(() => document.querySelectorAll('#messages *').length);
  await h.say(page, `echo: ${payload}`);
  await h.waitIdle(page);
  const agent = await h.messages(page, 'agent');
  assert.ok(agent.at(-1).includes(payload), `literal text shown: ${agent.at(-1)}`);
  // A second vector: an agent error message carrying markup.
  await h.say(page, 'fail: <script>window.__pwned=2</script><b id=injected>bold</b>');
  await page.locator('#messages .error-card').last().waitFor();
  await h.waitIdle(page);
  await page.waitForTimeout(300);
  const r = await page.evaluate(() => ({
    pwned: window.__pwned,
    imgs: document.querySelectorAll('#messages img, #messages script, #messages b, #injected, [onerror]').length,
    tags: [...new Set([...document.querySelectorAll('#messages *')].map((n) => n.tagName.toLowerCase()))].sort(),
    count: document.querySelectorAll('#messages *').length,
    csp: window.__csp,
  }));
  assert.equal(r.pwned, undefined);
  assert.equal(r.imgs, 0);
  // Only the page's own elements: bubbles, paragraphs, error cards, icons.
  for (const t of r.tags) assert.ok(['li', 'p', 'svg', 'path', 'div', 'strong', 'button', 'span', 'kbd', 'a'].includes(t), `unexpected <${t}>`);
  assert.ok(r.count > countBefore);
  assert.deepEqual(r.csp, []);
  assert.deepEqual(page.errors, []);
});
