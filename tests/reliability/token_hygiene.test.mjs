// Token hygiene: one full run (connect, session, upload, turns, faults that
// force re-authentication and errors, export, download, claim link) with
// every channel captured: console output, turn events, error messages,
// every URL requested (and where the Authorization header went), storage
// entries, the session handle, and the emulator's own log. No token appears
// anywhere but in the Authorization header sent to the API origin.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import util from 'node:util';
import {
  EMU, GEN_PROMPT, newClient, settle, errInfo, addFault, clearFaults, recordFetches, makePng,
  memoryStorage, writeResult,
} from './lib.mjs';

const summary = {};
after(() => writeResult('token-hygiene.json', summary));

test('no token in logs, errors, URLs, storage, handles or the emulator log', async () => {
  await clearFaults();
  const logs = [];
  const orig = {};
  for (const k of ['log', 'info', 'warn', 'error', 'debug']) {
    orig[k] = console[k];
    console[k] = (...a) => logs.push(util.format(...a));
  }
  const rec = recordFetches();
  const storage = memoryStorage();
  const handles = [];
  const events = [];
  const errors = [];
  let claim;
  try {
    const client = newClient({ clientId: undefined, storage, onHandle: (h) => handles.push(JSON.stringify(h)) });
    await client.connect();
    const session = await client.createSession();
    await session.upload(makePng(), { filename: 'photo.png' });
    // A token expiry mid-run: one re-authentication, so two tokens exist.
    await addFault({ endpoint: 'state', kind: 'expire_token' });
    const r = await session.send(GEN_PROMPT, { onEvent: (e) => events.push(JSON.stringify(e)) }).result;
    events.push(JSON.stringify(r));
    // A dropped stream that is resumed, an HTML proxy page and a lost session.
    await addFault({ endpoint: 'run_sse', kind: 'drop_stream', after_events: 3 });
    await session.send('add title "Night Drive"', { onEvent: (e) => events.push(JSON.stringify(e)) }).result;
    // The lost session is really lost (the emulator deletes it): a
    // session of its own, so the export below still has one.
    const lost = await client.createSession();
    for (const [endpoint, kind] of [['credits', 'http_502_html'], ['state', 'lose_session'], ['credits', 'out_of_credits']]) {
      await addFault({ endpoint, kind });
      const x = await settle(endpoint === 'state' ? lost.state() : client.credits());
      if (!x.ok) errors.push(x.error);
    }
    const job = session.export();
    await job;
    await job.download();
    claim = await session.claimLink();
    handles.push(JSON.stringify(session.toJSON()));
  } finally {
    rec.restore();
    Object.assign(console, orig);
    await clearFaults();
  }

  // Every token the client used, from the Authorization headers it sent.
  const tokens = new Set();
  for (const c of rec.calls) {
    const a = c.headers.authorization;
    if (a) tokens.add(a.replace(/^Bearer\s+/i, ''));
  }
  const tokenCalls = rec.calls.filter((c) => c.url.endsWith('/api/auth/anonymous-token')).length;
  assert.ok(tokens.size >= 1 && tokenCalls >= 2, `expected a re-authentication (token calls: ${tokenCalls})`);
  for (const t of tokens) assert.ok(t.length >= 16, 'a real token');

  const emulatorLog = process.env.NEMO_EMULATOR_LOG && fs.existsSync(process.env.NEMO_EMULATOR_LOG)
    ? fs.readFileSync(process.env.NEMO_EMULATOR_LOG, 'utf8') : null;
  const channels = {
    console: logs.join('\n'),
    events: events.join('\n'),
    errors: errors.map((e) => `${e.name} ${e.kind} ${e.message} ${JSON.stringify(e.recovery)} ${util.inspect(e)}`).join('\n'),
    urls: rec.calls.map((c) => c.url).join('\n'),
    storage: JSON.stringify([...storage.map.entries()]),
    handles: handles.join('\n'),
    claimLink: claim,
    emulatorLog: emulatorLog ?? '',
  };
  for (const [name, text] of Object.entries(channels)) {
    for (const t of tokens) assert.ok(!text.includes(t), `a token leaked into ${name}`);
    assert.doesNotMatch(text, /nmv_usr_/, `something token-shaped in ${name}`);
  }
  // The token goes only to the API origin, never to a download or CDN URL
  // (the emulator serves both, so check the paths).
  for (const c of rec.calls) {
    if (c.headers.authorization) {
      assert.ok(c.url.startsWith(EMU + '/'), `token sent to ${c.url}`);
      assert.ok(!/^\/(renders|files)\//.test(new URL(c.url).pathname), `token sent to a public URL ${c.url}`);
    }
  }
  assert.ok(errors.length === 3, `errors: ${errors.map((e) => JSON.stringify(errInfo(e)))}`);
  assert.match(claim, /\/workspace\/claim\?ct=/);
  assert.ok(storage.map.size >= 1, 'the client id is stored');
  Object.assign(summary, {
    tokensSeen: tokens.size,
    tokenCalls,
    requests: rec.calls.length,
    consoleLines: logs.length,
    events: events.length,
    errors: errors.length,
    storageEntries: [...storage.map.keys()],
    handles: handles.length,
    emulatorLogBytes: emulatorLog ? emulatorLog.length : 'not captured (NEMO_EMULATOR_LOG unset)',
    leaks: 0,
  });
});
