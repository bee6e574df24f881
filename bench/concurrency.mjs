// Figure 7: the emulator under N concurrent SSE turns on loopback.
//   node bench/concurrency.mjs [--smoke] [--n 100,300,600,1200] [--rounds 4] [--speed 1]
//                              [--phases kept,cleared,capped]
// For each N, a fresh emulator (`--speed 1`: a help reply streams ~15 text
// deltas over 3–4 s, so the turns really overlap). Each round gives every turn
// its own client id, token and session (made before the clock starts), then
// opens the N turns at once from this one Node process, each on its own new
// TCP connection (node:http, no pooling), and reads each body to its end. This measures the emulator, not our
// client, so there is no SSE library here: frames are split on "\n\n" and
// only the last `data:` is parsed. A turn counts as completed when its stream
// ends normally and its last event is the complete (non-partial) text.
// The emulator's RSS (VmRSS in /proc/<pid>/status) is sampled every 20 ms
// during each round; RSS "after" is read once the streams have closed. The
// same N runs `--rounds` times in three phases, each on a fresh emulator:
// - kept: no reset between rounds, as the emulator normally runs. It keeps
//   every token, session and finished turn up to its caps (10,000 tokens and
//   sessions, 2,000 finished turns, 15 min), so RSS grows with the turns it
//   has served; the result reports that growth per turn.
// - cleared: `POST /__emulator/reset` before each round. What still grows
//   from round to round then is not the state it keeps (a leak, or the
//   allocator settling).
// - capped: no reset, but the emulator's caps
//   (--max-tokens, --max-sessions, --replay-turns) set to one round's worth
//   plus 1/8 (it evicts in batches down to 15/16 of a cap, and an exact cap
//   would take a few of the round's own clients), so from round 2 on it
//   forgets as much as it learns: the sustained-load case, where RSS must
//   level off.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { ROOT, SMOKE, arg, emit, now, quantile, skillHeaders, startEmulator, stats, stopEmulator } from './lib/common.mjs';

const NS = arg('n', SMOKE ? '5' : '100,300,600,1200').split(',').map(Number);
const ROUNDS = Number(arg('rounds', SMOKE ? 2 : 4));
const SPEED = arg('speed', SMOKE ? '10' : '1');
const PROMPT = 'hello'; // free: the scripted help reply
const EMU = 'bench-concurrency';
const PHASES = arg('phases', 'kept,cleared,capped').split(',');
const SETUP_PARALLEL = 16;
const SKILL = skillHeaders(); // read pkg/package.json once

const emuPid = () => Number(readFileSync(join(ROOT, '.emulator', EMU, 'pid'), 'utf8').trim());
function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
const CLK_TCK = 100;
function cpuSecs(pid) {
  // /proc/<pid>/stat: fields after the ")" of comm; utime and stime are 14 and 15.
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
/** System-wide TcpExt counters (/proc/net/netstat): a full accept queue drops SYNs. */
function listenOverflows() {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0].split(' ');
  const vals = lines[1].split(' ');
  return Number(vals[names.indexOf('ListenOverflows')]);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function mapLimit(n, limit, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, limit) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** A client id, its token and a fresh session. */
async function client(base) {
  const clientId = randomUUID();
  const t = await (await fetch(`${base}/api/auth/anonymous-token`, { method: 'POST', headers: { 'X-Client-Id': clientId, ...SKILL } })).json();
  if (t.code !== 0) throw new Error(`token: ${JSON.stringify(t)}`);
  const headers = { Authorization: `Bearer ${t.data.token}`, ...SKILL };
  const s = await (
    await fetch(`${base}/api/tasks/me/with-session/nemo_agent`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ task_name: 'bench', language: 'en' }),
    })
  ).json();
  if (s.code !== 0) throw new Error(`session: ${JSON.stringify(s)}`);
  return { headers, sessionId: s.data.session_id };
}

/**
 * One live turn on its own fresh TCP connection (node:http, `agent: false`),
 * as N separate clients would open it. (fetch would pool the connections and
 * reuse the previous round's idle ones, so only round 1 would connect.)
 * Resolves to its outcome; never rejects.
 */
function turn(base, c, t0) {
  const r = { ok: false, events: 0, bytes: 0, headersMs: NaN, endMs: NaN, error: null };
  const body = JSON.stringify({ app_name: 'nemo_agent', user_id: 'me', session_id: c.sessionId, new_message: { parts: [{ text: PROMPT }] } });
  return new Promise((resolve) => {
    const fail = (e) => {
      if (!r.error) r.error = `${e.code || e.name}: ${e.message}`.slice(0, 120);
      resolve(r);
    };
    const req = http.request(
      `${base}/run_sse`,
      {
        method: 'POST',
        agent: false,
        headers: { ...c.headers, 'Content-Type': 'application/json', Accept: 'text/event-stream', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        r.headersMs = now() - t0;
        const sse = (res.headers['content-type'] || '').startsWith('text/event-stream');
        if (res.statusCode !== 200 || !sse) r.error = `HTTP ${res.statusCode}${sse ? '' : ` ${res.headers['content-type']}`}`;
        res.setEncoding('utf8');
        let buf = '';
        let last = null;
        res.on('data', (chunk) => {
          r.bytes += Buffer.byteLength(chunk);
          buf += chunk;
          let k;
          while ((k = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, k);
            buf = buf.slice(k + 2);
            for (const line of frame.split('\n')) {
              if (line.startsWith('data:') && line.length > 5) {
                r.events++;
                last = line.slice(5).trimStart();
              }
            }
          }
        });
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('response aborted')));
        res.on('end', () => {
          r.endMs = now() - t0;
          if (!r.error) {
            let ev = null;
            try {
              ev = last && JSON.parse(last);
            } catch {
              // reported below
            }
            r.ok = Boolean(ev && !ev.error && ev.partial !== true && ev.content?.parts?.some((p) => typeof p.text === 'string' && !p.thought));
            if (!r.ok) r.error = `stream ended on ${last ? last.slice(0, 80) : 'no event'}`;
          }
          resolve(r);
        });
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

/** The largest number of [start, end) intervals open at once. */
function maxOverlap(intervals) {
  const pts = [];
  for (const [a, b] of intervals) pts.push([a, 1], [b, -1]);
  pts.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let cur = 0;
  let best = 0;
  for (const [, d] of pts) best = Math.max(best, (cur += d));
  return best;
}

/**
 * ROUNDS rounds of N concurrent turns on a fresh emulator; `reset`: clear its
 * state before each; `capped`: caps of one round's worth (N tokens, sessions
 * and finished turns, plus 1/8).
 */
async function phase(N, reset, capped = false) {
  const cap = String(Math.ceil((N * 9) / 8));
  const caps = capped ? ['--max-tokens', cap, '--max-sessions', cap, '--replay-turns', cap] : [];
  const base = startEmulator(EMU, ['--speed', SPEED, '--tokens-per-ip', '10000000', '--credits', '1000000', ...caps]);
  try {
    const pid = emuPid();
    await sleep(200);
    const rssStart = rssBytes(pid);
    const rounds = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (reset) {
        const r = await fetch(`${base}/__emulator/reset`, { method: 'POST' });
        if (!r.ok) throw new Error(`reset: HTTP ${r.status}`);
        await r.arrayBuffer();
      }
      const clients = await mapLimit(N, SETUP_PARALLEL, () => client(base));
      await sleep(SMOKE ? 50 : 200);
      const rssBefore = rssBytes(pid);
      const cpuBefore = cpuSecs(pid);
      const clientCpuBefore = process.cpuUsage();
      const overflowsBefore = listenOverflows();
      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, rssBytes(pid));
      }, 20);
      const t0 = now();
      const outs = await Promise.all(clients.map((c) => turn(base, c, t0)));
      const wallMs = now() - t0;
      clearInterval(sampler);
      rssPeak = Math.max(rssPeak, rssBytes(pid));
      const cpu = cpuSecs(pid) - cpuBefore;
      const cc = process.cpuUsage(clientCpuBefore);
      const overflows = listenOverflows() - overflowsBefore;
      await sleep(SMOKE ? 100 : 500); // let the emulator drop the closed connections
      const rssAfter = rssBytes(pid);
      const g = (await (await fetch(`${base}/__emulator/stats`)).json()).global;
      const ok = outs.filter((o) => o.ok);
      const errors = {};
      for (const o of outs) if (o.error) errors[o.error] = (errors[o.error] || 0) + 1;
      const events = outs.reduce((a, o) => a + o.events, 0);
      const x = {
        completed: ok.length,
        failed: N - ok.length,
        errors,
        wallMs,
        events,
        eventsPerSec: events / (wallMs / 1000),
        bytes: outs.reduce((a, o) => a + o.bytes, 0),
        headersMs: { median: quantile(ok.map((o) => o.headersMs), 0.5), max: Math.max(...ok.map((o) => o.headersMs)) },
        turnMs: { min: Math.min(...ok.map((o) => o.endMs - o.headersMs)), median: quantile(ok.map((o) => o.endMs - o.headersMs), 0.5), max: Math.max(...ok.map((o) => o.endMs - o.headersMs)) },
        peakOpen: maxOverlap(ok.map((o) => [o.headersMs, o.endMs])),
        emuCpuSecs: cpu,
        clientCpuSecs: (cc.user + cc.system) / 1e6,
        listenOverflows: overflows,
        rssBefore,
        rssPeak,
        rssAfter,
        emuStreamsOpenAfter: g.sse_streams_open,
        emuTurnsRun: g.turns_run,
      };
      rounds.push(x);
      const M = (b) => (b / 2 ** 20).toFixed(1);
      console.log(
        `N=${N}${reset ? ' (reset)' : capped ? ' (capped)' : ''} round ${round + 1}: ${ok.length}/${N} completed in ${(wallMs / 1000).toFixed(2)} s ` +
          `(headers median ${x.headersMs.median.toFixed(0)} ms, max ${x.headersMs.max.toFixed(0)} ms; turn median ${(x.turnMs.median / 1000).toFixed(2)} s, max ${(x.turnMs.max / 1000).toFixed(2)} s), ` +
          `peak open ${x.peakOpen}, CPU emulator ${cpu.toFixed(2)} s / this process ${x.clientCpuSecs.toFixed(2)} s, listen overflows ${overflows}, RSS ${M(rssBefore)} → peak ${M(rssPeak)} → after ${M(rssAfter)} MiB` +
          `${Object.keys(errors).length ? `, errors ${JSON.stringify(errors)}` : ''}`,
      );
    }
    const afters = rounds.map((r) => r.rssAfter);
    const growth = afters.slice(1).map((a, i) => a - afters[i]);
    return {
      reset,
      capped,
      rounds,
      rssStart,
      rssPeak: Math.max(...rounds.map((r) => r.rssPeak)),
      rssAfterFirst: afters[0],
      rssAfterLast: afters.at(-1),
      rssGrowthPerRound: stats(growth),
      rssGrowthPerTurn: growth.length ? (afters.at(-1) - afters[0]) / (N * (ROUNDS - 1)) : NaN,
    };
  } finally {
    stopEmulator(EMU);
  }
}

const results = [];
for (const N of NS) {
  // State kept between rounds (how the emulator runs), then a reset before
  // every round: what is left then is not the sessions and turns it keeps.
  const kept = PHASES.includes('kept') ? await phase(N, false) : null;
  const cleared = PHASES.includes('cleared') ? await phase(N, true) : null;
  const capped = PHASES.includes('capped') ? await phase(N, false, true) : null;
  const all = [...(kept?.rounds ?? []), ...(cleared?.rounds ?? []), ...(capped?.rounds ?? [])];
  results.push({
    n: N,
    completed: stats(all.map((r) => r.completed)),
    failed: all.reduce((a, r) => a + r.failed, 0),
    errors: all.reduce((a, r) => {
      for (const [k, v] of Object.entries(r.errors)) a[k] = (a[k] || 0) + v;
      return a;
    }, {}),
    wallMs: stats(all.map((r) => r.wallMs)),
    eventsPerSec: stats(all.map((r) => r.eventsPerSec)),
    turnMs: stats(all.map((r) => r.turnMs.median)),
    turnMaxMs: stats(all.map((r) => r.turnMs.max)),
    headersMs: stats(all.map((r) => r.headersMs.median)),
    headersMaxMs: stats(all.map((r) => r.headersMs.max)),
    peakOpen: stats(all.map((r) => r.peakOpen)),
    emuCpuMsPerTurn: stats(all.map((r) => (r.emuCpuSecs * 1000) / N)),
    clientCpuSecs: stats(all.map((r) => r.clientCpuSecs)),
    listenOverflows: stats(all.map((r) => r.listenOverflows)),
    kept,
    cleared,
    capped,
  });
}

emit({ section: 'concurrency', speed: Number(SPEED), prompt: PROMPT, rounds: ROUNDS, results });
