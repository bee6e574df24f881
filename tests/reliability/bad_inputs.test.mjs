// Bad inputs: local files and blobs, URLs, options and server replies. Each
// must end in a typed NemoError (a specific `kind`) with a clear, bounded
// message, and a locally invalid input must make NO network call: the
// global fetch is recorded around the call, and the emulator's request
// counter must not move.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  nv, NemoClient, EMU, TIMING, newClient, settle, errInfo, stats, reset, clearFaults,
  recordFetches, craftedServer, replies, makePng, memoryStorage, writeResult,
} from './lib.mjs';

const KINDS = new Set([
  'token_expired', 'session_not_found', 'out_of_credits', 'unsupported_file', 'file_too_large',
  'export_blocked', 'rate_limited', 'network', 'timeout', 'stream_stalled', 'aborted', 'protocol',
  'invalid_input', 'render_failed',
]);
const { NemoError } = nv.errorClasses();
const png = makePng();
const MiB = 1024 * 1024;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nemo-bad-'));
const results = [];
let session; // an emulator session object (no request is made to create it)
let client;

before(async () => {
  await reset();
  await clearFaults();
  client = newClient();
  // A session object for an id; creating it makes no request. The checks
  // under test run before any request would.
  session = client.session('sess_local_only', 'task_local_only');
});

after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  writeResult('bad-inputs.json', results);
});

function sparseFile(name, size) {
  const p = path.join(tmp, name);
  const fd = fs.openSync(p, 'w');
  fs.ftruncateSync(fd, size); // sparse: no 200 MB is written or allocated
  fs.closeSync(fd);
  return p;
}

function checkError(e, kind, label) {
  assert.ok(e instanceof Error, `${label}: not an Error: ${e}`);
  assert.ok(e instanceof NemoError, `${label}: not a NemoError: ${e && e.name}: ${e && e.message}`);
  assert.ok(KINDS.has(e.kind), `${label}: unknown kind ${e.kind}`);
  assert.equal(e.kind, kind, `${label}: ${JSON.stringify(errInfo(e))}`);
  const m = e.message;
  assert.ok(typeof m === 'string' && m.length >= 15, `${label}: message too short: "${m}"`);
  assert.ok(m.length <= 600, `${label}: message is ${m.length} characters long`);
  assert.doesNotMatch(m, /undefined|\[object |RuntimeError|unreachable|out of bounds|nmv_/, `${label}: "${m}"`);
  assert.ok(e.recovery && typeof e.recovery.action === 'string', `${label}: no recovery`);
}

/** A locally invalid input: typed error, zero fetches, emulator untouched. */
function local(category, label, kind, op) {
  test(`[${category}] ${label}`, async () => {
    const before = (await stats()).global.requests;
    const rec = recordFetches();
    let r;
    try {
      r = await settle((async () => op())());
    } finally {
      rec.restore();
    }
    const afterCount = (await stats()).global.requests;
    results.push({ category, input: label, local: true, outcome: r.ok ? 'accepted' : errInfo(r.error), fetches: rec.calls.length });
    assert.ok(!r.ok, `${label}: accepted`);
    checkError(r.error, kind, label);
    assert.deepEqual(rec.calls.map((c) => c.url), [], `${label}: made a network call`);
    // +1: the second stats request counts itself.
    assert.equal(afterCount - before, 1, `${label}: the emulator saw a request`);
  });
}

// ---- Local files and blobs ----------------------------------------------------
const up = (input, opts) => () => session.upload(input, opts);
local('file', 'empty Uint8Array', 'invalid_input', up(new Uint8Array(0), { filename: 'a.png' }));
local('file', 'empty Blob', 'invalid_input', up(new Blob([]), { filename: 'a.mp4' }));
local('file', 'empty File', 'invalid_input', up(new File([], 'empty.png')));
local('file', '200 MB + 1 byte (sparse file, fs.openAsBlob)', 'file_too_large', async () =>
  session.upload(await fs.openAsBlob(sparseFile('big.mp4', 200 * MiB + 1)), { filename: 'big.mp4' }));
local('file', '200 MB + 1 byte named .png', 'file_too_large', async () =>
  session.upload(await fs.openAsBlob(sparseFile('big.png', 200 * MiB + 1)), { filename: 'big.png' }));
local('file', 'renamed executable (the node binary as clip.mp4)', 'unsupported_file', async () =>
  session.upload(await fs.openAsBlob(process.execPath), { filename: 'clip.mp4' }));
local('file', 'renamed Windows executable (MZ) as photo.png', 'unsupported_file',
  up(new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0, 0, ...new Array(60).fill(0)]), { filename: 'photo.png' }));
local('file', 'truncated PNG (signature cut at 5 bytes)', 'unsupported_file', up(png.slice(0, 5), { filename: 'cut.png' }));
local('file', 'PNG named .jpg', 'unsupported_file', up(png, { filename: 'photo.jpg' }));
local('file', 'HTML page named clip.mp4', 'unsupported_file',
  up(new TextEncoder().encode('<!DOCTYPE html><html><body>hi</body></html>'.padEnd(100, ' ')), { filename: 'clip.mp4' }));
local('file', 'ZIP archive named a.webm', 'unsupported_file',
  up(new Uint8Array([0x50, 0x4b, 0x03, 0x04, ...new Array(60).fill(1)]), { filename: 'a.webm' }));
local('file', 'unsupported extension (.txt)', 'unsupported_file', up(new TextEncoder().encode('hello world'), { filename: 'notes.txt' }));
local('file', 'no extension at all', 'unsupported_file', up(png, { filename: 'photo' }));
local('file', 'unknown bytes with no name', 'unsupported_file', up(new Uint8Array(100).fill(7)));
local('file', 'a plain object', 'invalid_input', up({ size: 3, name: 'x.png' }));
local('file', 'a number', 'invalid_input', up(42));
local('file', 'null', 'invalid_input', up(null));
local('file', 'an ArrayBuffer', 'invalid_input', up(png.buffer));
local('file', 'an empty array', 'invalid_input', up([]));
local('file', 'one good PNG and one bad file: nothing is sent', 'unsupported_file',
  up([png, new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, ...new Array(60).fill(0)])], { filenames: ['ok.png', 'evil.mp4'] }));

// ---- URLs ----------------------------------------------------------------------
const url = (u) => () => session.upload(u);
local('url', 'javascript: URL', 'invalid_input', url('javascript:alert(document.cookie)'));
local('url', 'file: URL', 'invalid_input', url('file:///etc/passwd'));
local('url', 'data: URL', 'invalid_input', url('data:image/png;base64,iVBORw0KGgo='));
local('url', 'relative path', 'invalid_input', url('/files/photo.png'));
local('url', 'protocol-relative //host', 'invalid_input', url('//evil.example/photo.png'));
local('url', 'ftp: URL', 'invalid_input', url('ftp://example.com/clip.mp4'));
local('url', 'no host', 'invalid_input', url('https:///photo.png'));
local('url', 'user:password in the URL', 'invalid_input', url('https://user:pass@example.com/photo.png'));
local('url', 'trailing newline', 'invalid_input', url('https://example.com/photo.png\n'));
local('url', 'port out of range', 'invalid_input', url('https://example.com:99999/photo.png'));
local('url', 'empty string', 'invalid_input', url(''));
local('url', '10,000-character URL', 'invalid_input', url('https://example.com/' + 'a'.repeat(10_000)));

// ---- Options and arguments -------------------------------------------------------------
const ctor = (opts) => () => new NemoClient(opts);
local('option', 'baseUrl javascript:', 'invalid_input', ctor({ baseUrl: 'javascript:alert(1)' }));
local('option', 'baseUrl file:', 'invalid_input', ctor({ baseUrl: 'file:///tmp/api' }));
local('option', 'baseUrl relative', 'invalid_input', ctor({ baseUrl: '/api' }));
local('option', 'baseUrl a number', 'invalid_input', ctor({ baseUrl: 8787 }));
local('option', 'webUrl data:', 'invalid_input', ctor({ baseUrl: EMU, webUrl: 'data:text/html,hi' }));
local('option', 'clientId with spaces', 'invalid_input', ctor({ baseUrl: EMU, clientId: 'not valid id' }));
local('option', 'clientId of 65 characters', 'invalid_input', ctor({ baseUrl: EMU, clientId: 'a'.repeat(65) }));
local('option', 'clientId a number', 'invalid_input', ctor({ baseUrl: EMU, clientId: 12345 }));
local('option', 'token an object', 'invalid_input', ctor({ baseUrl: EMU, token: { value: 'x' } }));
local('option', 'options a string', 'invalid_input', ctor('http://127.0.0.1:1'));
local('option', 'send() a number', 'invalid_input', () => session.send(42).result);
local('option', 'send() an empty message', 'invalid_input', () => session.send('   ').result);
local('option', 'handle() an object', 'invalid_input', () => session.handle({ text: 'hi' }));
local('option', 'session() id a number', 'invalid_input', () => client.session(7));
local('option', 'resume() a handle without sessionId', 'invalid_input', () => NemoClient.resume({ v: 1 }, { baseUrl: EMU }));
local('option', 'resume() a handle that is not JSON', 'invalid_input', () => NemoClient.resume('{not json', { baseUrl: EMU }));

// ---- Server replies (a crafted loopback server) ---------------------------------------
const BAD_UTF8 = Buffer.concat([Buffer.from('{"code":0,'), Buffer.from([0xff, 0xfe]), Buffer.from('"data":{}}')]);
const HUGE = '{"code":0,"data":{"session_id":"' + 'x'.repeat(20 * MiB); // never closed
const SERVER_CASES = [
  // [label, which call, reply for that call, expected kind]
  ['HTML page with HTTP 200 (token)', 'token', { headers: { 'content-type': 'text/html' }, body: '<html><head><title>Login required</title></head></html>' }, 'protocol'],
  ['HTML 502 from a proxy (session)', 'session', { status: 502, headers: { 'content-type': 'text/html' }, body: '<html><title>502 Bad Gateway</title></html>' }, 'protocol'],
  ['truncated JSON (session)', 'session', { body: '{"code":0,"data":{"task_id":"t","sess' }, 'protocol'],
  ['empty body with HTTP 200 (credits)', 'credits', { body: '' }, 'protocol'],
  ['invalid UTF-8 inside the JSON (credits)', 'credits', { body: BAD_UTF8 }, 'protocol'],
  ['a 20 MB line that never ends (session)', 'session', { body: HUGE }, 'protocol'],
  ['token of the wrong type', 'token', { body: '{"code":0,"data":{"token":{"v":1},"user_id":"anon_1"}}' }, 'protocol'],
  ['session ids of the wrong type', 'session', { body: '{"code":0,"data":{"task_id":1,"session_id":2}}' }, 'protocol'],
  ['credits "NaN"', 'credits', { body: '{"code":0,"data":{"available":"NaN","frozen":0}}' }, 'protocol'],
  ['credits 1e999', 'credits', { body: '{"code":0,"data":{"available":1e999}}' }, 'protocol'],
  ['credits "lots"', 'credits', { body: '{"code":0,"data":{"available":"lots"}}' }, 'protocol'],
  ['data is an array (state)', 'state', { body: '{"code":0,"data":[]}' }, 'protocol'],
  ['upload reply without files', 'upload', { body: '{"code":0,"data":{"files":"none"}}' }, 'protocol'],
  ['unknown error code', 'credits', { body: '{"code":9999,"msg":"something odd"}' }, 'protocol'],
  ['code 0 with HTTP 500', 'credits', { status: 500, body: '{"code":0,"data":{"available":1}}' }, 'protocol'],
  ['HTTP 400 with no body (token)', 'token', { status: 400, body: '' }, 'protocol'],
  ['JSON where the event stream belongs: 1002', 'send', { body: '{"code":1002,"msg":"session not found"}' }, 'session_not_found'],
  ['HTML 500 where the event stream belongs', 'send', { status: 500, headers: { 'content-type': 'text/html' }, body: '<html><title>500</title></html>' }, 'protocol'],
  ['render status of the wrong type', 'export', 'status42', 'timeout'],
];

function routeOf(req) {
  const p = req.url.split('?')[0];
  if (p === '/api/auth/anonymous-token') return 'token';
  if (p.startsWith('/api/tasks/me/with-session/')) return 'session';
  if (p === '/api/credits/balance/simple') return 'credits';
  if (p.startsWith('/api/state/')) return 'state';
  if (p.startsWith('/api/upload-video/')) return 'upload';
  if (p === '/run_sse') return 'send';
  if (p === '/api/render/proxy/lambda') return 'export';
  if (p.startsWith('/api/render/proxy/lambda/')) return 'render_status';
  return 'other';
}

for (const [label, call, reply, kind] of SERVER_CASES) {
  test(`[reply] ${label}`, async () => {
    const server = await craftedServer((req) => {
      const r = routeOf(req);
      if (r === call && reply !== 'status42') return reply;
      if (reply === 'status42' && r === 'export') return { body: '{"success":true,"data":{"id":"r1","status":"pending"}}' };
      if (reply === 'status42' && r === 'render_status') return { body: '{"success":true,"data":{"status":42,"progress":"x"}}' };
      if (replies[r]) return replies[r]();
      return { status: 404, body: '{"code":404,"msg":"not here"}' };
    });
    try {
      const c = new NemoClient({
        baseUrl: server.url, clientId: 'crafted-1', storage: memoryStorage(),
        timing: { ...TIMING, renderMaxPolls: 3, renderPollMs: 5 },
      });
      const s = c.session('sess_x', 'task_x');
      const op = {
        token: () => c.connect(),
        session: () => new NemoClient({ baseUrl: server.url, token: 'nmv_usr_given', timing: TIMING }).createSession(),
        credits: () => c.credits(),
        state: () => s.state(),
        upload: () => s.upload(png, { filename: 'p.png' }),
        send: () => s.send('hello').result,
        export: () => s.export(),
      }[call];
      const r = await settle(op());
      results.push({ category: 'reply', input: label, local: false, outcome: r.ok ? 'accepted' : errInfo(r.error) });
      assert.ok(!r.ok, `${label}: accepted ${JSON.stringify(r.value)}`);
      checkError(r.error, kind, label);
      assert.ok(server.requests.length > 0);
    } finally {
      await server.close();
    }
  });
}

test('[reply] an SSE line over the 16 MiB event limit is skipped with a notice; the turn still ends', async () => {
  const big = 'data: ' + 'y'.repeat(17 * MiB) + '\n\n';
  const good = 'id: t:1\ndata: {"content":{"parts":[{"text":"after the huge line"}],"role":"model"},"author":"a"}\n\n';
  const server = await craftedServer((req, _body, res) => {
    const r = routeOf(req);
    if (r === 'send') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(big);
      res.end(good);
      return;
    }
    return replies[r] ? replies[r]() : { status: 404, body: '{}' };
  });
  try {
    const c = new NemoClient({ baseUrl: server.url, token: 'nmv_usr_given', timing: TIMING });
    const notices = [];
    const r = await c.session('sess_x', 'task_x').send('hello', {
      onEvent: (e) => e.type === 'notice' && notices.push(e.message),
    }).result;
    results.push({ category: 'reply', input: 'SSE line over 16 MiB', local: false, outcome: `notice "${notices[0]}", turn ended with the text that followed` });
    assert.equal(r.text, 'after the huge line');
    assert.equal(notices.length, 1);
    assert.ok(notices[0].length < 300);
  } finally {
    await server.close();
  }
});

test('at least 40 bad inputs were tried', () => {
  assert.ok(results.length >= 40, `${results.length} cases`);
});

test('the emulator is untouched by the local cases (sanity)', async () => {
  const s = await stats();
  assert.equal(s.global.uploads, 0);
  assert.ok(EMU);
});
