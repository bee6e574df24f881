// The built package (pkg/, its Node entry) against a real Google ADK server
// (`adk api_server`, google-adk 2.13.0) serving the scripted agent of
// tests/adk/agents/: every behaviour of tests/adk/cases.mjs, then what ADK
// itself answers to the failures (raw HTTP), so a reader sees both sides.
// Run with `bash tests/adk/run.sh` (it starts and stops the server).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { ERROR_CASES, NODE_ONLY_ERROR_CASES, RELAYS, TURN_CASES } from './cases.mjs';
import { APP, PKG, USER, adkUrl, createSession, getSession, rawRunSse, requirePkg, startRelay } from './lib.mjs';
import { runTurn } from './turn-runner.js';

requirePkg();
const pkg = await import(pathToFileURL(join(PKG, 'node.js')).href);
const ADK = adkUrl();

/**
 * A case as a suite: its turn runs once in Node (through its relay, if it has
 * one, on a fresh ADK session unless it names one), then each check is a test.
 */
function caseSuite(c) {
  describe(c.name, () => {
    const ctx = {};
    let rec;
    before(async () => {
      if (c.relay) ctx.relay = await startRelay(RELAYS[c.relay]);
      const sessionId = c.sessionId ?? (await createSession());
      rec = await runTurn(pkg, { baseUrl: ctx.relay ? ctx.relay.url : ADK, sessionId, text: c.text, sendOptions: c.sendOptions });
    });
    after(() => ctx.relay?.close());
    for (const [label, check] of c.checks) test(label, () => check(rec, ctx));
  });
}

describe('ADK conformance in Node: what a user sees', () => {
  for (const c of TURN_CASES) caseSuite(c);
});

describe('ADK conformance in Node: failures before the stream', () => {
  for (const c of [...ERROR_CASES, ...NODE_ONLY_ERROR_CASES]) caseSuite(c);
});

describe('what ADK itself answers (raw HTTP, the shapes the client reads)', () => {
  let sid;
  before(async () => {
    sid = await createSession();
  });
  const body = (over = {}) => ({ app_name: APP, user_id: USER, session_id: sid, new_message: { parts: [{ text: 'hello' }] }, ...over });

  test('sessions come from ADK\'s own route and keep the turn (the agent ran for real)', async () => {
    const r = await rawRunSse(body({ new_message: { parts: [{ text: 'use a tool' }] } }));
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^text\/event-stream/);
    const s = await getSession(sid);
    assert.equal(s.state.last_city, 'Paris', 'the stateDelta reached the stored session');
    assert.equal(s.state.step, 'weather_done');
  });

  test('unknown session: 404 application/json {"detail":"Session not found: <id>"}', async () => {
    const r = await rawRunSse(body({ session_id: 'no-such-session' }));
    assert.equal(r.status, 404);
    assert.match(r.contentType, /^application\/json/);
    assert.deepEqual(JSON.parse(r.body), { detail: 'Session not found: no-such-session' });
  });

  test('a missing field: 422 with the FastAPI list form naming it', async () => {
    const b = body();
    delete b.user_id;
    const r = await rawRunSse(b);
    assert.equal(r.status, 422);
    const { detail } = JSON.parse(r.body);
    assert.ok(Array.isArray(detail), r.body);
    assert.deepEqual(detail[0].loc, ['body', 'userId']);
    assert.equal(detail[0].msg, 'Field required');
  });

  test('a bad app: 404 {"detail":"Agent not found: …"}; an invalid app name too', async () => {
    const r = await rawRunSse(body({ app_name: 'no_such_app' }));
    assert.equal(r.status, 404);
    assert.match(JSON.parse(r.body).detail, /^Agent not found: 'no_such_app'/);
    const bad = await rawRunSse(body({ app_name: '../x' }));
    assert.ok(bad.status === 400 || bad.status === 404, `status ${bad.status}`);
    assert.match(JSON.parse(bad.body).detail, /Invalid agent name/);
  });

  test('a refused origin: 403 text/plain "Forbidden: origin not allowed"', async () => {
    const r = await rawRunSse(body(), { headers: { origin: 'http://evil.example' } });
    assert.equal(r.status, 403);
    assert.match(r.contentType, /^text\/plain/);
    assert.equal(r.body, 'Forbidden: origin not allowed');
  });
});
