// Figure 1: SSE bytes → typed agent events, in one Node process.
//   node bench/decode.mjs [--smoke] [--mb 64] [--reps 5] [--chunks 1024,16384,65536]
// Contenders (every one ends with the same JS objects {kind,text,partial,name,error}):
//   - wasm AgentDecoder: SSE + ADK fields decoded inside wasm, one crossing per chunk;
//   - wasm SseDecoder + JSON.parse: our framing, the event data crosses as strings;
//   - eventsource-parser + TextDecoder + JSON.parse (the peer);
// and, framing only (no JSON): eventsource-parser, our SseDecoder, and a bare
// indexOf("\n\n") scan over TextDecoder output. The native Rust ceiling runs
// in its own process (examples/bench_sse.rs), driven by run.mjs.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createParser } from 'eventsource-parser';
import { DATA, PKG, ROOT, SMOKE, arg, emit, now, stats } from './lib/common.mjs';
import { generate } from './lib/gen.mjs';

const MB = Number(arg('mb', SMOKE ? 0.25 : 64));
const REPS = Number(arg('reps', SMOKE ? 1 : 5));
const CHUNKS = arg('chunks', '1024,16384,65536').split(',').map(Number);
const wasmDir = arg('wasm-dir', PKG);
// --only-agent: just the AgentDecoder row (used for a non-shipped build variant).
const ONLY_AGENT = process.argv.includes('--only-agent');

// The input, cached on disk so the native ceiling reads the very same bytes.
mkdirSync(DATA, { recursive: true });
const file = arg('file') ?? join(DATA, `adk-${MB}mb.sse`);
let bytes;
if (existsSync(file)) bytes = new Uint8Array(readFileSync(file));
else {
  bytes = generate(Math.round(MB * 1024 * 1024)).bytes;
  writeFileSync(file, bytes);
}

const glue = await import(join(wasmDir, 'nemo_video.js'));
glue.initSync({ module: readFileSync(join(wasmDir, 'nemo_video_bg.wasm')) });
const { SseDecoder, AgentDecoder } = glue;

// ---- the same typed objects from parsed JSON (what a JS client must do) ----
function lite(kind, text, partial, name, error) {
  return { kind, text, partial, name, error };
}
function toLite(data, out) {
  if (data === '') return void out.push(lite('heartbeat', undefined, false, undefined, undefined));
  let o;
  try {
    o = JSON.parse(data);
  } catch (e) {
    return void out.push(lite('invalid', undefined, false, undefined, String(e.message)));
  }
  const partial = o.partial === true;
  const parts = o.content && o.content.parts;
  if (Array.isArray(parts)) {
    for (const p of parts) {
      if (p.functionCall) out.push(lite('tool_call', undefined, false, p.functionCall.name ?? '', undefined));
      if (p.functionResponse) out.push(lite('tool_result', undefined, false, p.functionResponse.name ?? '', undefined));
      if (typeof p.text === 'string' && p.text !== '') out.push(lite(p.thought === true ? 'thought' : 'text', p.text, partial, undefined, undefined));
    }
  }
  const sd = o.actions && o.actions.stateDelta;
  if (sd && typeof sd === 'object' && Object.keys(sd).length > 0) out.push(lite('state_delta', undefined, false, undefined, undefined));
  if (o.error != null) out.push(lite('error', undefined, false, undefined, typeof o.error === 'string' ? o.error : JSON.stringify(o.error)));
}

// What each contender's output adds up to; must be equal across contenders.
function tally(events, acc) {
  for (const e of events) {
    acc.events++;
    if (e.text !== undefined) {
      acc.texts++;
      acc.textUnits += e.text.length;
    }
  }
}
const newAcc = () => ({ events: 0, texts: 0, textUnits: 0 });

function chunked(size) {
  const out = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, Math.min(bytes.length, i + size)));
  return out;
}

const contenders = {
  'wasm AgentDecoder (batched typed events)': AgentDecoder && ((chunks) => {
    const d = new AgentDecoder();
    const acc = newAcc();
    for (const c of chunks) tally(d.push(c), acc);
    d.finish();
    d.free();
    return acc;
  }),
  'wasm SseDecoder + JSON.parse': (chunks) => {
    const d = new SseDecoder();
    const acc = newAcc();
    const out = [];
    for (const c of chunks) {
      out.length = 0;
      for (const ev of d.push(c)) toLite(ev.data, out);
      tally(out, acc);
    }
    d.free();
    return acc;
  },
  'eventsource-parser + TextDecoder + JSON.parse': (chunks) => {
    const acc = newAcc();
    const out = [];
    const parser = createParser({ onEvent: (ev) => toLite(ev.data, out) });
    const td = new TextDecoder();
    for (const c of chunks) {
      out.length = 0;
      parser.feed(td.decode(c, { stream: true }));
      tally(out, acc);
    }
    return acc;
  },
  'framing only: eventsource-parser + TextDecoder': (chunks) => {
    const acc = newAcc();
    const parser = createParser({ onEvent: () => acc.events++ });
    const td = new TextDecoder();
    for (const c of chunks) parser.feed(td.decode(c, { stream: true }));
    return acc;
  },
  'framing only: wasm SseDecoder': (chunks) => {
    const d = new SseDecoder();
    const acc = newAcc();
    for (const c of chunks) acc.events += d.push(c).length;
    d.free();
    return acc;
  },
  'framing only: TextDecoder + bare indexOf("\\n\\n")': (chunks) => {
    const acc = newAcc();
    const td = new TextDecoder();
    let rest = '';
    for (const c of chunks) {
      const s = rest + td.decode(c, { stream: true });
      let at = 0;
      for (let i = s.indexOf('\n\n'); i !== -1; i = s.indexOf('\n\n', at)) {
        acc.events++;
        at = i + 2;
      }
      rest = s.slice(at);
    }
    return acc;
  },
};

const results = [];
for (const size of CHUNKS) {
  const chunks = chunked(size);
  const names = Object.keys(contenders).filter((n) => contenders[n] && (!ONLY_AGENT || n.includes('AgentDecoder')));
  const secs = Object.fromEntries(names.map((n) => [n, []]));
  const counts = {};
  // Warm up once each, then interleave the contenders rep by rep so machine
  // noise hits them alike.
  for (const n of names) counts[n] = contenders[n](chunks);
  for (let rep = 0; rep < REPS; rep++) {
    for (const n of names) {
      globalThis.gc?.();
      const t = now();
      counts[n] = contenders[n](chunks);
      secs[n].push((now() - t) / 1000);
    }
  }
  for (const n of names) {
    const s = secs[n];
    results.push({
      chunk: size,
      contender: n,
      mbps: stats(s.map((x) => bytes.length / 1e6 / x)),
      meventsps: stats(s.map((x) => counts[n].events / 1e6 / x)),
      counts: counts[n],
    });
  }
}
// Not a timing check: every full contender must have produced the same
// events (a decoder that drops or mangles events would look fast).
for (const size of CHUNKS) {
  const full = results.filter((r) => r.chunk === size && !r.contender.startsWith('framing only'));
  const want = JSON.stringify(full[0].counts);
  for (const r of full) {
    if (JSON.stringify(r.counts) !== want) {
      console.error(`decode: ${r.contender} at ${size} B chunks produced ${JSON.stringify(r.counts)}, others ${want}`);
      process.exit(1);
    }
  }
}
emit({
  section: 'decode',
  bytes: bytes.length,
  file: relative(ROOT, file), // repository-relative: no machine's path in BENCHMARKS.json
  reps: REPS,
  agentDecoder: Boolean(AgentDecoder),
  results,
});
