// The fault matrix: every emulator fault kind × every client operation it
// can hit. Each cell runs the operation with the fault queued and asserts:
// - the outcome is the expected one: "recovered", or a typed NemoError of
//   the expected kind with a plain-language message;
// - the fault actually fired (the queue is empty afterwards);
// - zero lost text: a recovered turn's final text equals the no-fault text
//   of the same prompt (the emulator's agent is seeded);
// - zero turns charged twice (emulator stats, per message hash);
// - no leaked timers (process.getActiveResourcesInfo back to baseline) and
//   no stream left open (emulator sse_streams_open back to 0).
// The table lands in target/reliability/fault-matrix.json for RELIABILITY.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  EMU, GEN_PROMPT, newClient, settle, errInfo, stats, reset, addFault, pendingFaults, clearFaults,
  activeResources, leaksAfter, doubleCharges, writeResult, makePng,
} from './lib.mjs';

const KINDS = [
  'drop_stream', 'stall', 'stall_forever', 'rate_limit', 'expire_token', 'lose_session',
  'http_500_html', 'http_502_html', 'malformed_json', 'slow', 'render_fail_once', 'out_of_credits',
];
const OPS = ['token', 'session', 'send', 'upload', 'state', 'credits', 'export', 'render_status', 'download'];
const ENDPOINT = {
  token: 'token', session: 'session', send: 'run_sse', upload: 'upload', state: 'state',
  credits: 'credits', export: 'export', render_status: 'render_status', download: 'download',
};

/** Where the emulator can inject each kind (the rest of the table is n/a). */
function applicable(kind, op) {
  if (kind === 'drop_stream') return op === 'send' || op === 'download';
  if (kind === 'render_fail_once') return op === 'export';
  return true;
}

/** The fault spec for a cell. */
function spec(kind, op) {
  const endpoint = ENDPOINT[op];
  switch (kind) {
    case 'drop_stream':
      return op === 'send' ? { endpoint, kind, after_events: 7 } : { endpoint, kind };
    case 'stall':
      return { endpoint, kind, ms: 400, ...(op === 'send' ? { after_events: 7 } : {}) };
    case 'stall_forever':
      return { endpoint, kind: 'stall', ...(op === 'send' ? { after_events: 7 } : {}) };
    case 'slow':
      return { endpoint, kind, ms: 300 };
    default:
      return { endpoint, kind };
  }
}

// What each cell must end in. "recovered" = the call succeeded with the same
// result as without the fault. Anything else is the NemoError kind.
const RECOVERED = 'recovered';
function expected(kind, op) {
  const stream = op === 'send';
  // The download falls back to the documented proxy endpoint (with the
  // token) whenever the direct URL fails or answers with anything but a video.
  if (op === 'download' && kind !== 'stall_forever') return RECOVERED;
  switch (kind) {
    case 'drop_stream':
    case 'stall':
    case 'slow':
    case 'rate_limit':
    case 'render_fail_once':
      return RECOVERED;
    case 'stall_forever':
      // A stalled stream is detected by the client's own stall limit; plain
      // requests by their 60 s time limit (timing.requestTimeoutMs; uploads
      // by 60 s without progress, timing.uploadStallMs), and the caller's
      // signal (1.5 s here) ends them first.
      return stream ? 'stream_stalled' : 'aborted';
    case 'expire_token':
      // One shared re-authentication and one retry, on every authenticated
      // call. The token call itself answered 1001: nothing to renew.
      return op === 'token' ? 'token_expired' : RECOVERED;
    case 'lose_session':
      return 'session_not_found';
    case 'http_500_html':
    case 'http_502_html':
    case 'malformed_json':
      // A failed status poll counts as one poll and polling goes on; the
      // download falls back to the documented endpoint; a broken event
      // line is skipped. Elsewhere: a protocol error naming what came back.
      if (op === 'render_status' || op === 'download') return RECOVERED;
      if (op === 'send' && kind === 'malformed_json') return RECOVERED;
      return 'protocol';
    case 'out_of_credits':
      return 'out_of_credits';
    default:
      throw new Error(kind);
  }
}

const png = makePng();
let baselineText;
let sharedJob; // a completed export, for the download row
let sharedSize;
const table = {};
const notes = [];

before(async () => {
  await reset();
  await clearFaults();
  // The no-fault run of the seeded prompt: the text every recovered turn must equal.
  const c = newClient();
  const s = await c.createSession();
  const r = await s.send(GEN_PROMPT).result;
  baselineText = r.text;
  assert.ok(baselineText.length > 20, 'baseline turn has text');
  sharedJob = s.export();
  const done = await sharedJob;
  sharedSize = done.sizeBytes;
  assert.ok(sharedSize > 1000, 'the baseline export has a size');
});

after(async () => {
  await clearFaults();
  writeResult('fault-matrix.json', { kinds: KINDS, ops: OPS, table, notes, baselineText });
});

/** Prepares what the operation needs, without any fault queued. */
async function setup(op) {
  const client = newClient();
  if (op === 'token') return { client };
  await client.connect();
  if (op === 'session' || op === 'credits') return { client };
  const session = await client.createSession();
  if (op === 'export' || op === 'render_status') await session.send(GEN_PROMPT).result;
  return { client, session };
}

async function run(op, ctx, signal) {
  const { client, session } = ctx;
  switch (op) {
    case 'token':
      return client.connect({ signal });
    case 'session':
      return client.createSession({ signal });
    case 'send': {
      const r = await session.send(GEN_PROMPT, { signal }).result;
      return { text: r.text };
    }
    case 'upload':
      return session.upload(png, { filename: 'photo.png', signal });
    case 'state':
      return session.state({ signal });
    case 'credits':
      return client.credits({ signal });
    case 'export':
    case 'render_status': {
      const job = session.export({ signal });
      const r = await job;
      return r;
    }
    case 'download': {
      const blob = await sharedJob.download({ signal });
      return { size: blob.size, type: blob.type };
    }
  }
  throw new Error(op);
}

for (const kind of KINDS) {
  for (const op of OPS) {
    const name = `${kind} × ${op}`;
    if (!applicable(kind, op)) {
      (table[kind] ||= {})[op] = { outcome: 'n/a' };
      continue;
    }
    test(name, async () => {
      await clearFaults();
      const ctx = await setup(op);
      const baseline = activeResources();
      await addFault(spec(kind, op));
      // Only the "forever" stalls need the caller's signal; it is what a UI's
      // cancel button does. Nothing else is cancelled.
      const controller = new AbortController();
      const timer = kind === 'stall_forever' && op !== 'send' ? setTimeout(() => controller.abort(), 1500) : null;
      const r = await settle(run(op, ctx, controller.signal));
      if (timer) clearTimeout(timer);
      const left = await pendingFaults();
      await clearFaults();
      const outcome = r.ok ? RECOVERED : r.error && r.error.kind;
      const cell = { outcome, expected: expected(kind, op) };
      if (!r.ok) cell.error = errInfo(r.error);
      table[kind] = table[kind] || {};
      table[kind][op] = cell;

      // The fault fired (else the cell tested nothing).
      assert.deepEqual(left, [], `the fault did not fire: ${JSON.stringify(left)}`);
      // A typed error, with a message a person can act on.
      if (!r.ok) {
        assert.ok(r.error instanceof Error, 'errors are Error instances');
        assert.equal(typeof r.error.kind, 'string', `untyped error: ${r.error}`);
        assert.ok(r.error.message.length > 10, `unclear message: "${r.error.message}"`);
        assert.ok(r.error.recovery && r.error.recovery.action, 'a recovery action');
      }
      // Zero lost text / zero truncated downloads.
      if (r.ok && op === 'send') assert.equal(r.value.text, baselineText, 'the recovered turn lost text');
      if (r.ok && op === 'download') assert.equal(r.value.size, sharedSize, 'the download is truncated');
      if (r.ok && op === 'download') assert.match(r.value.type, /^video\//, 'the download is not a video');
      // Zero turns charged twice.
      const st = await stats();
      if (ctx.session) {
        const dup = doubleCharges(st.sessions[ctx.session.sessionId]);
        cell.doubleCharged = dup.length;
        assert.deepEqual(dup, [], 'a turn was charged twice');
      }
      // No leaked timers or open streams.
      const leaks = await leaksAfter(baseline);
      cell.leaks = leaks;
      assert.deepEqual(leaks, {}, 'leaked timers or streams');
      assert.equal(outcome, cell.expected, `outcome ${JSON.stringify(cell.error || outcome)}`);
    });
  }
}

test('no turn was charged twice in the whole matrix', async () => {
  const st = await stats();
  for (const [sid, s] of Object.entries(st.sessions)) {
    assert.deepEqual(doubleCharges(s), [], `session ${sid}`);
  }
  notes.push(`emulator totals: ${st.global.turns_run} turns run, ${st.global.turns_charged} charged, ` +
    `${st.global.turns_resumed} resumed, faults fired ${JSON.stringify(st.global.faults_fired)}`);
  assert.ok(EMU);
});
