// Errors in plain language with a one-step retry (out of credits with the
// registration link, HTTP 402 explained), and agent text that carries
// markup rendered inert.

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

test('out of credits: plain explanation, registration link, one-step retry', async () => {
  await h.admin(emu, 'faults', { endpoint: 'run_sse', kind: 'out_of_credits', count: 1 });
  await h.pickFiles(page, [fx.photo]);
  await h.clickChip(page);
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
  const countBefore = await page.evaluate(() => window.$$studio('#messages *').length);
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
    imgs: window.$$studio('#messages img, #messages script, #messages b, #injected, [onerror]').length + document.querySelectorAll('#injected, [onerror]').length,
    tags: [...new Set(window.$$studio('#messages *').map((n) => n.tagName.toLowerCase()))].sort(),
    count: window.$$studio('#messages *').length,
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

test('rate limit: the retry button counts down from recovery.waitMs, then retries in one step', async () => {
  // Two 429s in a row on the balance: the client waits once (the page's
  // loopback timing makes that 1 s), then surfaces the RateLimitedError, whose
  // card counts down from its recovery.waitMs (30 s, run fast by the clock).
  await page.clock.install();
  await page.evaluate(() => sessionStorage.setItem('nemovideo.demo.timing', JSON.stringify({ rateLimitWaitMs: 1000 })));
  await page.reload();
  await h.waitConnected(page);
  await h.admin(emu, 'faults', { endpoint: 'credits', kind: 'rate_limit', count: 2 });
  await h.say(page, 'credits');
  const card = page.locator('#messages .error-card[data-kind="rate_limited"]');
  await card.waitFor({ timeout: 30000 });
  const button = card.locator('button');
  assert.equal(await button.isDisabled(), true);
  assert.match(await button.textContent(), /Try again in (30|29)s/);
  assert.match(await card.textContent(), /Too many requests/);
  await page.clock.fastForward(10000);
  await page.waitForFunction(() => /Try again in (20|19)s/.test(window.$studio('#messages .error-card[data-kind="rate_limited"] button').textContent));
  await page.clock.fastForward(21000);
  await page.waitForFunction(() => !window.$studio('#messages .error-card[data-kind="rate_limited"] button').disabled, null, { timeout: 5000 });
  assert.equal(await button.textContent(), 'Try again');
  await button.click();
  await h.waitIdle(page);
  assert.equal(await card.count(), 0);
  assert.match((await h.messages(page, 'agent')).at(-1), /You have \d+ credits available/);
  await page.evaluate(() => sessionStorage.removeItem('nemovideo.demo.timing'));
});

test('a bad token is reported without ever being shown', async () => {
  const secret = 'nmv_usr_e2e_secret_token_123456';
  await page.click('#settings-btn');
  await page.fill('#api-token', secret);
  await page.click('#settings-save');
  const card = page.locator('#banner .error-card[data-kind="token_expired"]');
  await card.waitFor({ timeout: 30000 });
  assert.match(await card.textContent(), /token is no longer valid/);
  assert.equal((await page.content()).includes(secret), false, 'the token is not in the DOM');
  // One step: the card opens the settings, where the field is empty.
  await card.locator('button').click();
  await page.waitForSelector('#settings[open]');
  assert.equal(await page.inputValue('#api-token'), '');
  assert.match(await page.getAttribute('#api-token', 'placeholder'), /saved for this tab \(hidden\)/);
  await page.check('#forget-token');
  await page.click('#settings-save');
  await h.waitConnected(page);
});

test('an API origin the CSP does not allow is explained', async () => {
  await page.click('#settings-btn');
  await page.fill('#api-url', 'https://api.example.com');
  await page.click('#settings-save');
  const card = page.locator('#banner .error-card');
  await card.waitFor({ timeout: 30000 });
  // The violation event may come a moment after the failure: the card updates.
  await page.waitForFunction(
    () => /Content-Security-Policy does not allow connecting to https:\/\/api\.example\.com/.test(window.$studio('#banner').textContent),
    null,
    { timeout: 5000 },
  );
  // Back to this origin.
  await page.click('#settings-btn');
  await page.fill('#api-url', '');
  await page.click('#settings-save');
  await h.waitConnected(page);
});
