// The built package (pkg/, its browser entry, unbundled) in headless Chromium
// against the real ADK server: the page is served from the origin ADK was
// started with in --allow_origins (NEMO_ADK_PAGE_PORT), loads /pkg/index.js
// and /turn-runner.js, and runs every case of tests/adk/cases.mjs; the
// assertions are the same as in Node. Then a page on a second origin, which
// ADK refuses. Run with `bash tests/adk/run.sh`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';

// One Chromium and one set of launch flags for every browser test.
import { CHROMIUM, CHROMIUM_ARGS } from '../package/helpers.mjs';
import { ERROR_CASES, RELAYS, TURN_CASES } from './cases.mjs';
import { APP, ROOT, USER, adkUrl, createSession, pagePort, rawRunSse, requirePkg, startPageServer, startRelay } from './lib.mjs';


requirePkg();
const ADK = adkUrl();
const { chromium } = await import(pathToFileURL(join(ROOT, 'tests/node_modules/playwright-core/index.mjs')).href);

let context;
let profile;
const servers = [];
before(async () => {
  profile = mkdtempSync(join(tmpdir(), 'nemo-adk-chrome-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});
after(async () => {
  await context?.close().catch(() => {});
  for (const s of servers) await s.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** A page of `server`, with the package initialised; its errors are collected. */
async function openPage(server) {
  const page = await context.newPage();
  page.logs = [];
  page.on('console', (m) => page.logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => page.logs.push(`pageerror: ${e.message}`));
  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => window.nemoReady !== undefined, null, { timeout: 30000 });
  const ready = await page.evaluate(() => window.nemoReady);
  assert.equal(ready, true, `the package initialised in the page: ${ready}\n${page.logs.join('\n')}`);
  return page;
}

function caseSuite(getPage, c) {
  describe(c.name, () => {
    const ctx = {};
    let rec;
    before(async () => {
      if (c.relay) ctx.relay = await startRelay(RELAYS[c.relay]);
      const sessionId = c.sessionId ?? (await createSession());
      const opts = { baseUrl: ctx.relay ? ctx.relay.url : ADK, sessionId, text: c.text, sendOptions: c.sendOptions };
      rec = await getPage().evaluate((o) => window.runTurn(o), opts);
    });
    after(() => ctx.relay?.close());
    for (const [label, check] of c.checks) test(label, () => check(rec, ctx));
  });
}

describe('ADK conformance in Chromium (a page on an allowed origin)', () => {
  let page;
  before(async () => {
    const server = await startPageServer(pagePort());
    servers.push(server);
    page = await openPage(server);
  });
  describe('what a user sees', () => {
    for (const c of TURN_CASES) caseSuite(() => page, c);
  });
  describe('failures before the stream', () => {
    for (const c of ERROR_CASES) caseSuite(() => page, c);
  });
});

describe('ADK conformance in Chromium: a page on an origin ADK does not allow', () => {
  let page;
  let server;
  let rec;
  let sessionId;
  before(async () => {
    server = await startPageServer(0);
    servers.push(server);
    page = await openPage(server);
    sessionId = await createSession();
    rec = await page.evaluate((o) => window.runTurn(o), { baseUrl: ADK, sessionId, text: 'hello' });
  });

  test('ADK answers that origin 403 text/plain "Forbidden: origin not allowed" (seen from Node)', async () => {
    const body = { app_name: APP, user_id: USER, session_id: sessionId, new_message: { parts: [{ text: 'hello' }] } };
    const r = await rawRunSse(body, { headers: { origin: server.origin } });
    assert.equal(r.status, 403);
    assert.match(r.contentType, /^text\/plain/);
    assert.equal(r.body, 'Forbidden: origin not allowed');
  });

  test('the browser hides that answer from the page: a plain fetch rejects (CORS)', async () => {
    const r = await page.evaluate(
      ({ url, body }) => window.rawFetch(`${url}/run_sse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
      { url: ADK, body: JSON.stringify({ app_name: APP, user_id: USER, session_id: sessionId, new_message: { parts: [{ text: 'hello' }] } }) },
    );
    assert.match(r.thrown ?? '', /^TypeError/, JSON.stringify(r));
  });

  test('the turn fails promptly with a NemoError and shows nothing (the reason is unreadable in a browser)', (t) => {
    t.diagnostic(`the error: ${JSON.stringify(rec.error)}`);
    assert.equal(rec.result, null, `the turn resolved: ${JSON.stringify(rec.result)}`);
    assert.ok(rec.error?.isNemoError, `a NemoError: ${JSON.stringify(rec.error)}`);
    assert.ok(rec.iterError, 'for await threw too');
    assert.equal(rec.events.filter((e) => e.type === 'text').length, 0);
    assert.equal(rec.error.status, undefined, `no status the page could read: ${JSON.stringify(rec.error)}`);
    assert.equal(rec.error.code, undefined, `no code: ${JSON.stringify(rec.error)}`);
    assert.ok(rec.ms < 30000, `it failed within ${rec.ms.toFixed(0)} ms`);
  });
});
