// Figure 2 (end to end over loopback, against the emulator) and figure 3
// (request overhead).
//   node bench/e2e.mjs [--smoke] [--turns 8] [--replays 30] [--calls 1000] [--reps 5] [--only credits]
// `--only credits` runs only the request-overhead part (for quick iterations;
// `make bench` always runs everything).
// - Latency, server write → app callback: the emulator stamps each ADK event
//   with `timestamp` (epoch seconds, µs) when it emits it; the app notes the
//   wall clock when its callback sees the event. Ours: `session.send` with
//   `onEvent` (text-delta events; their stamps are read back from a replay of
//   the same turn, matched in order). Peer: raw fetch + eventsource-parser +
//   JSON.parse on a live turn of the same prompt. One discarded turn of
//   each, then the turns alternate which contender goes first.
// - Throughput: a live turn is paced by the emulator's scripted pauses, so
//   events/s is measured on the resume path, which replays a recorded turn
//   at full speed: ours `NemoClient.resume(handle).resumeTurn()`, peer a raw
//   fetch with `Last-Event-ID` + eventsource-parser + JSON.parse.
// - Request overhead: `credits()` N times in a row vs raw fetch with the
//   same headers, same token; after one discarded rep of each, alternating
//   which goes first.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import {
  PKG, SMOKE, anonymousToken, arg, emit, epochMs, memoryStorage, now, quantile, skillHeaders, startEmulator, stats, stopEmulator,
} from './lib/common.mjs';

const TURNS = Number(arg('turns', SMOKE ? 1 : 8));
const REPLAYS = Number(arg('replays', SMOKE ? 2 : 30));
const CALLS = Number(arg('calls', SMOKE ? 20 : 1000));
const REPS = Number(arg('reps', SMOKE ? 1 : 5));
const SPEED = arg('speed', '20');
const PROMPT = 'hello';
const ONLY_CREDITS = arg('only', '') === 'credits';

const { NemoClient } = await import(join(PKG, 'node.js'));
const EMU = 'bench-e2e';
const base = startEmulator(EMU, ['--speed', SPEED, '--tokens-per-ip', '100000', '--credits', '1000000']);
try {
  const token = await anonymousToken(base, randomUUID());
  const headers = { Authorization: `Bearer ${token}`, ...skillHeaders() };
  const opts = { baseUrl: base, token, storage: memoryStorage(), clientId: randomUUID() };
  const client = new NemoClient(opts);
  const session = await client.createSession();
  // `streaming: true`, as the client sends by default: without it the
  // emulator sends no partial deltas (docs/protocol.md).
  const body = (text) =>
    JSON.stringify({ app_name: 'nemo_agent', user_id: 'me', session_id: session.sessionId, new_message: { parts: [{ text }] }, streaming: true });

  /** Raw fetch + eventsource-parser + JSON.parse; calls onData(obj, receivedAtMs) per event. */
  async function rawTurn(text, lastEventId, onData) {
    const h = { ...headers, 'Content-Type': 'application/json', Accept: 'text/event-stream' };
    if (lastEventId) h['Last-Event-ID'] = lastEventId;
    const res = await fetch(`${base}/run_sse`, { method: 'POST', headers: h, body: body(text) });
    const parser = createParser({
      onEvent: (ev) => {
        const at = epochMs();
        if (ev.data === '') return;
        onData(JSON.parse(ev.data), at);
      },
    });
    const td = new TextDecoder();
    for await (const chunk of res.body) parser.feed(td.decode(chunk, { stream: true }));
  }
  const isDelta = (o) => o.partial === true && o.content?.parts?.some((p) => typeof p.text === 'string' && !p.thought);

  async function lastTurnId() {
    const s = await (await fetch(`${base}/__emulator/stats`)).json();
    const msgs = s.sessions[session.sessionId].messages;
    return msgs[msgs.length - 1].turn_id;
  }

  let latency = null;
  let replay = null;
  if (!ONLY_CREDITS) ({ latency, replay } = await latencyAndReplay());
  async function latencyAndReplay() {
    // ---- latency ----
    const oursLat = [];
    const peerLat = [];
    let deltasPerTurn = 0;
    const oursTurn = async (into) => {
      const seen = [];
      const turn = session.send(PROMPT, { onEvent: (ev) => ev.type === 'text-delta' && seen.push(epochMs()) });
      await turn.result;
      const stamps = [];
      await rawTurn(PROMPT, `${await lastTurnId()}:0`, (o) => isDelta(o) && stamps.push(o.timestamp * 1000));
      if (stamps.length !== seen.length) throw new Error(`matched ${seen.length} callbacks to ${stamps.length} stamps`);
      seen.forEach((at, i) => into.push(at - stamps[i]));
      deltasPerTurn = seen.length;
    };
    const peerTurn = (into) => rawTurn(PROMPT, null, (o, at) => isDelta(o) && into.push(at - o.timestamp * 1000));
    // One discarded turn of each first (JIT tiers of both paths, undici's
    // stream code), then the turns, alternating which goes first: the
    // first turns otherwise charge one contender's warm-up to the tail.
    await oursTurn([]);
    await peerTurn([]);
    for (let t = 0; t < TURNS; t++) {
      if (t % 2 === 0) {
        await oursTurn(oursLat);
        await peerTurn(peerLat);
      } else {
        await peerTurn(peerLat);
        await oursTurn(oursLat);
      }
    }
    const lat = (xs) => ({ median: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: Math.max(...xs), n: xs.length });

    // ---- throughput on the replay path ----
    const turnId = await lastTurnId();
    let replayEvents = 0;
    await rawTurn(PROMPT, `${turnId}:0`, () => replayEvents++);
    const oursSecs = [];
    const peerSecs = [];
    let oursCount = 0;
    let replayBytes = 0;
    const handle = { v: 1, baseUrl: base, sessionId: session.sessionId, taskId: session.taskId, lastEventId: `${turnId}:0`, turnText: PROMPT };
    for (let i = 0; i < REPLAYS; i++) {
      let n = 0;
      let t = now();
      const s2 = NemoClient.resume(handle, opts);
      const turn = s2.resumeTurn({ onEvent: () => n++ });
      await turn.result;
      oursSecs.push((now() - t) / 1000);
      oursCount = n;
      n = 0;
      t = now();
      await rawTurn(PROMPT, `${turnId}:0`, () => n++);
      peerSecs.push((now() - t) / 1000);
    }
    {
      const h = { ...headers, 'Content-Type': 'application/json', Accept: 'text/event-stream', 'Last-Event-ID': `${turnId}:0` };
      replayBytes = (await (await fetch(`${base}/run_sse`, { method: 'POST', headers: h, body: body(PROMPT) })).arrayBuffer()).byteLength;
    }
    return {
      latency: { turns: TURNS, deltasPerTurn, ours: lat(oursLat), peer: lat(peerLat) },
      replay: {
        replays: REPLAYS,
        events: replayEvents,
        bytes: replayBytes,
        oursCallbacks: oursCount,
        ours: stats(oursSecs.map((s) => replayEvents / s)),
        peer: stats(peerSecs.map((s) => replayEvents / s)),
        oursMs: stats(oursSecs.map((s) => s * 1000)),
        peerMs: stats(peerSecs.map((s) => s * 1000)),
      },
    };
  }

  // ---- request overhead: credits() ----
  // Two pairs, each interleaved run by run:
  // - the budget's pair: credits() with no client-side time limit
  //   (timing.requestTimeoutMs: 0) vs raw fetch with the same headers;
  // - like for like: credits() with its default 60 s limit (which hands
  //   fetch an AbortSignal) vs raw fetch with AbortSignal.timeout(60 s).
  const unlimited = new NemoClient({ ...opts, timing: { requestTimeoutMs: 0 } });
  const url = `${base}/api/credits/balance/simple`;
  const loop = (call) => async (n) => {
    const t = now();
    for (let i = 0; i < n; i++) await call();
    return now() - t;
  };
  const raw = (init) => async () => {
    const res = await fetch(url, init());
    const j = await res.json();
    if (j.code !== 0) throw new Error('credits failed');
  };
  const pairs = {
    unlimited: [loop(() => unlimited.credits()), loop(raw(() => ({ headers })))],
    limited: [loop(() => client.credits()), loop(raw(() => ({ headers, signal: AbortSignal.timeout(60_000) })))],
  };
  const credits = { calls: CALLS };
  for (const [name, [oursLoop, rawLoop]] of Object.entries(pairs)) {
    // One discarded rep of each (JIT tiers, the keep-alive connection), then
    // the reps, alternating which loop goes first so neither always runs on
    // the other's warm-up.
    await oursLoop(CALLS);
    await rawLoop(CALLS);
    const runs = [];
    for (let r = 0; r < REPS; r++) {
      let ours;
      let rawMs;
      if (r % 2 === 0) {
        ours = await oursLoop(CALLS);
        rawMs = await rawLoop(CALLS);
      } else {
        rawMs = await rawLoop(CALLS);
        ours = await oursLoop(CALLS);
      }
      runs.push({ oursMs: ours, rawMs, ratio: ours / rawMs });
    }
    credits[name] = {
      oursMs: stats(runs.map((r) => r.oursMs)),
      rawMs: stats(runs.map((r) => r.rawMs)),
      ratio: stats(runs.map((r) => r.ratio)),
    };
  }

  emit({
    section: 'e2e',
    speed: Number(SPEED),
    prompt: PROMPT,
    latency,
    replay,
    credits,
  });
} finally {
  stopEmulator(EMU);
}
