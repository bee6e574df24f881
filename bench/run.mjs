// `make bench`: every figure, us and the peers in one run, written to
// BENCHMARKS.md (tables + what they mean, from bench/NOTES.md) and
// BENCHMARKS.json. Each section runs in a fresh Node process.
//   node bench/run.mjs            the full run (several minutes)
//   node bench/run.mjs --smoke    tiny inputs, to check the harness works;
//                                 writes to target/bench-smoke/, asserts no time
//   --only decode,e2e,...         a subset (sections: decode e2e upload size
//                                 coldstart concurrency) (writes to target/bench-partial/)
//   --render                      rewrite BENCHMARKS.md from BENCHMARKS.json
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BENCH, DATA, PKG, ROOT, SMOKE, arg, havePkg, run } from './lib/common.mjs';
import { generate } from './lib/gen.mjs';

const ONLY = arg('only', '').split(',').filter(Boolean);
const want = (s) => ONLY.length === 0 || ONLY.includes(s);
const outDir = SMOKE ? join(ROOT, 'target', 'bench-smoke') : ONLY.length ? join(ROOT, 'target', 'bench-partial') : ROOT;
mkdirSync(outDir, { recursive: true });

// --render: rewrite BENCHMARKS.md from BENCHMARKS.json (e.g. after editing
// bench/NOTES.md), without measuring anything.
if (process.argv.includes('--render')) {
  const saved = JSON.parse(readFileSync(join(outDir, 'BENCHMARKS.json'), 'utf8'));
  writeFileSync(join(outDir, 'BENCHMARKS.md'), render(saved.machine, saved.results));
  console.log(`bench: re-rendered ${join(outDir, 'BENCHMARKS.md')}`);
  process.exit(0);
}
if (!havePkg()) {
  console.error(`bench: no package in ${PKG}; run \`make pkg\` first`);
  process.exit(1);
}
if (!existsSync(join(BENCH, 'node_modules', 'eventsource-parser'))) {
  console.error('bench: bench/node_modules is missing; run `make bench` (it installs them)');
  process.exit(1);
}

const sh = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};
const machine = {
  date: new Date().toISOString(),
  cpu: os.cpus()[0]?.model,
  cores: os.cpus().length,
  memGB: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`,
  node: process.version,
  rustc: sh('rustc', ['--version']),
  chromium: sh('/usr/bin/chromium', ['--version']),
  curl: sh('curl', ['--version'])?.split('\n')[0],
  commit: sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
  dirty: Boolean(sh('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'])),
  loadBefore: os.loadavg().map((x) => +x.toFixed(2)),
  smoke: SMOKE,
};
console.log(`bench: ${SMOKE ? 'smoke run' : 'full run'} on ${machine.cores} × ${machine.cpu}, load ${machine.loadBefore.join(' ')}`);

async function section(name, script, args = []) {
  const t = performance.now();
  process.stdout.write(`bench: ${name} … `);
  const r = await run(process.execPath, ['--expose-gc', join(BENCH, script), ...(SMOKE ? ['--smoke'] : []), ...args], { cwd: BENCH });
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
  if (r.code !== 0 || !line) {
    console.log('FAILED');
    console.error(r.stdout.slice(-2000), r.stderr.slice(-4000));
    return { section: name, error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') };
  }
  console.log(`${((performance.now() - t) / 1000).toFixed(1)} s`);
  return JSON.parse(line.slice(9));
}

const results = {};
const MB = SMOKE ? 0.25 : 64;
const sseFile = join(DATA, `adk-${MB}mb.sse`);
if (want('decode')) {
  mkdirSync(DATA, { recursive: true });
  if (!existsSync(sseFile)) writeFileSync(sseFile, generate(Math.round(MB * 1024 * 1024)).bytes);
  results.decode = await section('SSE decode (Node)', 'decode.mjs', ['--file', sseFile, '--mb', String(MB)]);
  // Native ceiling: the same core code, natively, opt-level 3.
  const native = join(ROOT, 'target', 'bench-o3', 'release', 'examples', 'bench_sse');
  if (!SMOKE || existsSync(native)) {
    if (!SMOKE) {
      process.stdout.write('bench: building the native ceiling (opt-level 3) … ');
      execFileSync('cargo', ['build', '--quiet', '--release', '--example', 'bench_sse'], {
        cwd: ROOT,
        env: { ...process.env, CARGO_TARGET_DIR: join(ROOT, 'target', 'bench-o3'), CARGO_PROFILE_RELEASE_OPT_LEVEL: '3' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      console.log('done');
    }
    process.stdout.write('bench: SSE decode (native ceiling) … ');
    const r = await run(native, [sseFile, SMOKE ? '1' : '5']);
    results.native = r.code === 0 ? JSON.parse(r.stdout) : { error: r.stderr };
    console.log(r.code === 0 ? 'done' : 'FAILED');
  }
}
if (want('e2e')) results.e2e = await section('end to end + credits() (emulator)', 'e2e.mjs');
if (want('upload')) results.upload = await section('upload (Node, curl, Chromium)', 'upload.mjs');
if (want('size')) results.size = await section('size', 'size.mjs');
if (want('coldstart')) results.coldstart = await section('cold start (Node, Chromium)', 'coldstart.mjs');
if (want('concurrency')) results.concurrency = await section('concurrent SSE turns (emulator)', 'concurrency.mjs');
machine.loadAfter = os.loadavg().map((x) => +x.toFixed(2));

writeFileSync(join(outDir, 'BENCHMARKS.json'), `${JSON.stringify({ machine, results }, null, 1)}\n`);
writeFileSync(join(outDir, 'BENCHMARKS.md'), render(machine, results));
const failed = Object.values(results).filter((r) => r && r.error);
console.log(`bench: wrote ${join(outDir, 'BENCHMARKS.md')} and BENCHMARKS.json${failed.length ? ` (${failed.length} section(s) failed)` : ''}`);
process.exit(failed.length ? 1 : 0);

// ---------------------------------------------------------------------------

function f(x, d = 1) {
  if (x === undefined || x === null || Number.isNaN(x)) return '–';
  return Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}
// Run-by-run ratio of two interleaved contenders, as min / median / max.
function pairedRatio(a, b) {
  if (!a || !b) return '–';
  if (a === b) return '1.00×';
  const n = Math.min(a.runs?.length ?? 0, b.runs?.length ?? 0);
  if (n === 0) return `${f(a.median / b.median, 2)}×`;
  const xs = Array.from({ length: n }, (_, i) => a.runs[i] / b.runs[i]).sort((p, q) => p - q);
  return `${f(xs[0], 2)} / **${f(xs[Math.floor(n / 2)], 2)}** / ${f(xs[n - 1], 2)}×`;
}

function mmm(s, d = 1, k = 1) {
  return s ? `${f(s.min * k, d)} / **${f(s.median * k, d)}** / ${f(s.max * k, d)}` : '–';
}
function kb(b) {
  return f(b / 1024, 1);
}
function MiB(b) {
  return f(b / 2 ** 20, 1);
}

// ---- The summary: every figure against its budget (bench/BUDGETS.md) -----
//
// The budgets below are the ones in bench/BUDGETS.md, as data; change both
// together. A row says what was measured for us and for the peer in this
// run, their ratio, the budget and whether this run met it.

/** Median of the run-by-run ratios of two interleaved contenders (`stats` objects). */
function pairedMedian(a, b) {
  const n = Math.min(a?.runs?.length ?? 0, b?.runs?.length ?? 0);
  if (n === 0) return a && b ? a.median / b.median : NaN;
  const xs = Array.from({ length: n }, (_, i) => a.runs[i] / b.runs[i]).sort((p, q) => p - q);
  return n % 2 ? xs[(n - 1) / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

function summaryRows(r) {
  const rows = [];
  const row = (figure, ours, peer, ratio, budget, met) => rows.push({ figure, ours, peer, ratio, budget, met });
  const d = r.decode;
  if (d && !d.error) {
    const at = (chunk, prefix) => d.results.find((x) => x.chunk === chunk && x.contender.startsWith(prefix));
    const mbps = (x) => (x ? `${f(x.mbps.median, 0)} MB/s` : '–');
    for (const [num, chunk, label, oursName, peerName, goal, stretch] of [
      ['1', 16384, '`AgentDecoder`: SSE bytes → agent event objects, 16 KiB chunks', 'wasm AgentDecoder', 'eventsource-parser + TextDecoder + JSON', 3.0],
      ['1b', 1024, 'the same, 1 KiB chunks', 'wasm AgentDecoder', 'eventsource-parser + TextDecoder + JSON', 2.5],
      ['1c', 16384, '`SseDecoder`, framing only, 16 KiB', 'framing only: wasm SseDecoder', 'framing only: eventsource-parser', 1.0, 1.5],
      ['1d', 16384, '`SseDecoder` + `JSON.parse`, 16 KiB', 'wasm SseDecoder + JSON.parse', 'eventsource-parser + TextDecoder + JSON', 1.0],
    ]) {
      const ours = at(chunk, oursName);
      const peer = at(chunk, peerName);
      if (!ours || !peer) continue;
      const x = pairedMedian(ours.mbps, peer.mbps);
      const budget = `≥ ${f(goal, 1)}×${stretch ? ` (stretch ${f(stretch, 1)}×)` : ''}`;
      const met = x >= goal ? (stretch && x >= stretch ? 'yes, stretch too' : 'yes') : 'no';
      row(`${num}. ${label}`, mbps(ours), `${mbps(peer)} (${peerName.replace(/ \+ JSON$/, ' + JSON.parse')})`, `${f(x, 2)}×`, budget, met);
    }
  }
  const e = r.e2e;
  if (e && !e.error) {
    const lt = e.latency;
    if (lt && lt.peer.n > 0) {
      row('2. server write → app callback, median', `${f(lt.ours.median, 2)} ms`, `${f(lt.peer.median, 2)} ms (raw fetch + eventsource-parser)`, `${f(lt.ours.median / lt.peer.median, 2)}×`, '≤ 1 ms', lt.ours.median <= 1 ? 'yes' : 'no');
      const x = lt.ours.p99 / lt.peer.p99;
      row('2. the same, p99', `${f(lt.ours.p99, 2)} ms`, `${f(lt.peer.p99, 2)} ms`, `${f(x, 2)}×`, '≤ 1.2×', x <= 1.2 ? 'yes' : 'no');
    }
    const rp = e.replay;
    if (rp) {
      const x = rp.oursMs.median / rp.peerMs.median;
      row('2b. a recorded turn replayed over loopback, wall', `${f(rp.oursMs.median, 2)} ms`, `${f(rp.peerMs.median, 2)} ms (raw fetch + eventsource-parser)`, `${f(x, 2)}×`, '≤ 1.2×', x <= 1.2 ? 'yes' : 'no');
    }
    const c = e.credits?.unlimited;
    if (c) {
      const x = c.ratio.median;
      row(`3. ${e.credits.calls} sequential \`credits()\``, `${f(c.oursMs.median, 0)} ms`, `${f(c.rawMs.median, 0)} ms (raw fetch)`, `${f(x, 3)}×`, '≤ 1.05×', x <= 1.05 ? 'yes' : 'no');
    }
  }
  const u = r.upload;
  if (u && !u.error) {
    const x = u.wallRatio.median;
    const growth = u.node.rssGrowth.median / 2 ** 20;
    const wasm = u.chromium ? u.chromium.growth.max : null;
    const met = x <= 1.1 && growth <= 32 && (wasm === null || wasm === 0);
    row(`4. ${f(u.bytes / 1e6, 0)} MB upload from disk: wall; RSS growth; wasm growth in Chromium`, `${f(u.node.wallMs.median, 0)} ms; ${f(growth, 1)} MiB; ${wasm === null ? '–' : `${wasm} B`}`, `${f(u.curl.wallMs.median, 0)} ms (\`curl -F\`)`, `${f(x, 2)}×`, '≤ 1.1×; ≤ 32 MiB; 0', met ? 'yes' : 'no');
  }
  const s = r.size;
  if (s && !s.error) {
    const kib = s.ours.totalGzip / 1024;
    const peers = Object.entries(s.peers).filter(([, p]) => !p.error).map(([n, p]) => `${n} ${kb(p.minGzip)} KiB`).join(', ');
    row('5. the package: browser entry bundled + minified, plus the wasm, gzip', `${f(kib, 1)} KiB`, peers || '–', '', '≤ 100 KiB (stretch 80)', kib <= 80 ? 'yes, stretch too' : kib <= 100 ? 'yes' : 'no');
  }
  const c = r.coldstart;
  if (c && !c.error) {
    const ms = c.node.totalMs.median;
    row('6. instantiate the wasm and construct a client, Node', `${f(ms, 1)} ms`, '–', '', '≤ 10 ms', ms <= 10 ? 'yes' : 'no');
  }
  const k = r.concurrency;
  if (k && !k.error && k.results.length) {
    const clean = k.results.filter((x) => x.failed === 0).map((x) => x.n);
    const top = clean.length ? Math.max(...clean) : 0;
    const biggest = k.results.find((x) => x.n === top);
    // Flat: under the caps of one round, the last round's RSS is within 10 % of the one before.
    const capped = biggest?.capped?.rounds?.map((x) => x.rssAfter) ?? [];
    const flat = capped.length >= 2 && capped.at(-1) <= capped.at(-2) * 1.1;
    row('7. the emulator: concurrent SSE turns, each on its own connection', `${top} with 0 failures${capped.length ? `; RSS ${capped.map((x) => MiB(x)).join(' → ')} MiB` : ''}`, '–', '', '≥ 300, flat memory', top >= 300 && flat ? 'yes' : 'no');
  }
  return rows;
}

function render(m, r) {
  const L = [];
  // The 1-minute load beyond the benchmark's own (about one core) means other work shared the cores.
  const busy = Math.max(m.loadBefore[0], m.loadAfter?.[0] ?? 0) > m.cores * 0.75;
  L.push('# Benchmarks');
  L.push('');
  L.push('Generated by `make bench` (`node bench/run.mjs`); do not edit by hand. Budgets: `bench/BUDGETS.md`;');
  L.push('the prose under the tables comes from `bench/NOTES.md`; every run\'s figures: `BENCHMARKS.json`.');
  L.push('');
  L.push('## Summary');
  L.push('');
  L.push(`Medians of this run (${m.date.slice(0, 10)}, commit ${m.commit}${m.dirty ? ', with uncommitted changes' : ''}); a ratio is ours / the peer's, measured in the same run.${busy ? ` **The ${m.cores} cores were shared with other work during this run** (load ${Math.max(m.loadBefore[0], m.loadAfter?.[0] ?? 0)}): absolute figures are noisy, the interleaved ratios less so.` : ''}`);
  L.push('');
  L.push('| figure | ours | peer | ratio | budget | met |');
  L.push('|---|---|---|---|---|---|');
  for (const x of summaryRows(r)) L.push(`| ${x.figure} | ${x.ours} | ${x.peer} | ${x.ratio} | ${x.budget} | ${x.met} |`);
  L.push('');
  L.push('The details follow. Benchmarks are not tests: nothing asserts a time. Every figure below is');
  L.push('**min / median / max** over repeated runs (median in bold).');
  L.push('');
  L.push('## Machine');
  L.push('');
  L.push(`${m.cores} × ${m.cpu}, ${m.memGB} GB RAM, ${m.os}; Node ${m.node}; ${m.rustc}; ${m.chromium}; ${m.curl}.`);
  L.push(`Commit ${m.commit}${m.dirty ? ' (with uncommitted changes)' : ''}, ${m.date}. Load average (1/5/15 min) ${m.loadBefore.join(' / ')} at the start, ${m.loadAfter.join(' / ')} at the end.`);
  if (busy) {
    L.push(`**The ${m.cores} cores were shared with other work during this run**: absolute`);
    L.push('figures are noisy (see the min–max spread); ratios measured in the same process, interleaved run by');
    L.push('run, are the figures to trust.');
  } else {
    L.push('Nothing else ran during this run. Ratios measured in the same process, interleaved run by run, are');
    L.push('still the figures to compare across machines.');
  }
  L.push('');

  const d = r.decode;
  if (d && !d.error) {
    L.push('## 1. SSE decode: bytes → typed agent events, one Node process');
    L.push('');
    L.push(`Input: ${f(d.bytes / 2 ** 20, 1)} MiB of ADK-shaped events generated from the captured shapes (\`bench/lib/gen.mjs\`: 70 % partial text deltas, complete texts up to 1500 characters, thoughts, tool calls and results, state deltas, heartbeats; one text in five in Chinese), ${d.results[0]?.counts.events.toLocaleString('en-US')} agent events. Chunks are views into one buffer; each contender ends with the same objects \`{kind, text, partial, name, error}\` (event and text counts are checked equal). ${d.reps} timed runs per cell after one warm-up, contenders interleaved run by run.`);
    L.push('');
    L.push('The ratio is taken run by run (each contender\'s run *i* against the peer\'s run *i*, interleaved, so both saw the same load), then min / median / max over the runs. The native ceiling runs in its own process, so its ratio is of medians.');
    L.push('');
    L.push('| chunk | contender | MB/s | M events/s | vs eventsource-parser |');
    L.push('|---|---|---|---|---|');
    const all = d.results;
    for (const size of [...new Set(all.map((x) => x.chunk))]) {
      const rows = all.filter((x) => x.chunk === size);
      const peer = rows.find((x) => x.contender.startsWith('eventsource-parser + TextDecoder + JSON'));
      const peerFraming = rows.find((x) => x.contender === 'framing only: eventsource-parser + TextDecoder');
      for (const x of rows) {
        const ref = x.contender.startsWith('framing only') ? peerFraming : peer;
        L.push(`| ${size / 1024} KiB | ${x.contender} | ${mmm(x.mbps)} | ${mmm(x.meventsps, 3)} | ${pairedRatio(x.mbps, ref?.mbps)} |`);
      }
      const nat = r.native && !r.native.error && r.native.runs.filter((x) => x.chunk === size);
      if (nat) {
        for (const n of nat) {
          const mbps = n.secs.map((s) => r.native.bytes / 1e6 / s);
          const evs = n.secs.map((s) => n.events / 1e6 / s);
          const st = (xs) => ({ min: Math.min(...xs), median: [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)], max: Math.max(...xs) });
          const ref = n.mode === 'agent' ? peer : peerFraming;
          L.push(`| ${size / 1024} KiB | native Rust ceiling (${n.mode === 'agent' ? 'core::event_batch, the AgentDecoder\'s own code' : 'core::sse, framing only'}; opt-level 3, own process) | ${mmm(st(mbps))} | ${mmm(st(evs), 3)} | ${ref ? f(st(mbps).median / ref.mbps.median, 2) : '–'}× |`);
        }
      }
    }
    L.push('');
  }

  const e = r.e2e;
  if (e && !e.error) {
    L.push('## 2. End to end over loopback (emulator) and 3. request overhead');
    L.push('');
    L.push(`Emulator at \`--speed ${e.speed}\`, prompt "${e.prompt}" (a free scripted reply: ${e.latency.deltasPerTurn} partial text deltas per turn, then the complete text). Ours: \`pkg/node.js\` \`NemoClient\`. Peer: raw \`fetch\` + eventsource-parser + \`JSON.parse\`.`);
    L.push('');
    L.push('| figure | ours | peer | ratio (ours / peer, median) |');
    L.push('|---|---|---|---|');
    const lt = e.latency;
    L.push(`| server write → app callback, median (ms; ${lt.ours.n} / ${lt.peer.n} deltas over ${lt.turns} turns each) | ${f(lt.ours.median, 2)} | ${f(lt.peer.median, 2)} | ${f(lt.ours.median / lt.peer.median, 2)}× |`);
    L.push(`| server write → app callback, p99 (ms) | ${f(lt.ours.p99, 2)} | ${f(lt.peer.p99, 2)} | ${f(lt.ours.p99 / lt.peer.p99, 2)}× |`);
    L.push(`| server write → app callback, max (ms) | ${f(lt.ours.max, 2)} | ${f(lt.peer.max, 2)} | |`);
    const rp = e.replay;
    L.push(`| replay of a recorded turn (${rp.events} events, ${f(rp.bytes / 1024, 1)} KiB), wall ms, ${rp.replays} runs; ours includes a state GET first (see notes) | ${mmm(rp.oursMs, 1)} | ${mmm(rp.peerMs, 1)} | ${f(rp.oursMs.median / rp.peerMs.median, 2)}× |`);
    L.push(`| same, events/s | ${mmm(rp.ours, 0)} | ${mmm(rp.peer, 0)} | ${f(rp.ours.median / rp.peer.median, 2)}× |`);
    const c = e.credits;
    const cu = c.unlimited;
    const cl = c.limited;
    L.push(`| ${c.calls} sequential \`credits()\` with no client-side time limit (\`requestTimeoutMs: 0\`) vs raw \`fetch\`, same headers and token (ms), ${cu.ratio.n} runs | ${mmm(cu.oursMs, 0)} | ${mmm(cu.rawMs, 0)} | ${mmm(cu.ratio, 3)}× |`);
    L.push(`| the same with the default 60 s limit vs raw \`fetch\` with \`AbortSignal.timeout(60 s)\` (ms) | ${mmm(cl.oursMs, 0)} | ${mmm(cl.rawMs, 0)} | ${mmm(cl.ratio, 3)}× |`);
    L.push('');
  }

  const u = r.upload;
  if (u && !u.error) {
    L.push('## 4. Upload from disk to the emulator');
    L.push('');
    L.push(`${f(u.bytes / 1e6, 0)} MB file (an \`ftyp\` box, then noise), ${u.node.wallMs.n} runs each, alternating; the emulator is reset between runs.`);
    L.push('');
    L.push('| figure | Node client (`uploadFile`, pkg/node.js) | `curl -F` | ratio (median) |');
    L.push('|---|---|---|---|');
    L.push(`| wall time (ms) | ${mmm(u.node.wallMs, 0)} | ${mmm(u.curl.wallMs, 0)} | ${mmm(u.wallRatio, 2)}× |`);
    L.push(`| peak RSS of the process (MiB) | ${mmm(u.node.peakRss, 1, 1 / 2 ** 20)} | ${mmm(u.curl.peakRss, 1, 1 / 2 ** 20)} | |`);
    L.push(`| peak RSS growth during the upload (MiB) | ${mmm(u.node.rssGrowth, 1, 1 / 2 ** 20)} | (whole process above) | |`);
    if (u.chromium) {
      L.push(`| Chromium: wasm memory growth during a ${f(u.bytes / 1e6, 0)} MB \`File\` upload (bytes; memory was ${MiB(u.chromium.memBefore.median)} MiB before) | ${mmm(u.chromium.growth, 0)} | | |`);
      L.push(`| Chromium: upload wall time (ms) | ${mmm(u.chromium.wallMs, 0)} | | |`);
    }
    L.push('');
  }

  const s = r.size;
  if (s && !s.error) {
    L.push('## 5. Size');
    L.push('');
    L.push('gzip -9 throughout. Peers: `export * from "<package>"` bundled with esbuild (`--bundle --minify --format=esm --platform=browser`), then gzipped. Ours: the browser entry `pkg/index.js` bundled the same way, plus the wasm.');
    L.push('');
    L.push('| package | minified + gzip | of which wasm | of which JS |');
    L.push('|---|---|---|---|');
    L.push(`| **nemo-video** (pkg/) | **${kb(s.ours.totalGzip)} KB** | ${kb(s.ours.wasmGzip)} KB (${kb(s.ours.wasmRaw)} KB raw) | ${kb(s.ours.jsMinGzip)} KB (unbundled JS files: ${kb(s.ours.jsGzip)} KB gzip, ${kb(s.ours.jsRaw)} KB raw) |`);
    for (const [name, p] of Object.entries(s.peers)) {
      L.push(p.error ? `| ${name} | (failed: ${p.error}) | | |` : `| ${name} ${p.version} | ${kb(p.minGzip)} KB | – | ${kb(p.minGzip)} KB (${kb(p.minRaw)} KB minified) |`);
    }
    L.push('');
    if (s.ours.studioMinGzip !== undefined) {
      L.push(`The \`<nemo-studio>\` element is a separate entry (\`nemo-video/studio\`): the browser entry above holds none of it, so importing \`nemo-video\` alone costs nothing more; importing the studio (which brings the client) bundles to ${kb(s.ours.studioMinGzip)} KB of JS, ${kb(s.ours.studioAddsGzip)} KB more than the client alone, plus the same wasm.`);
      L.push('');
    }
    if (s.breakdown) {
      L.push(`What takes the bytes in our wasm (twiggy on \`${s.breakdown.file.replace(ROOT + '/', '')}\`: the same build with names kept; ${kb(s.breakdown.totalWithoutNames)} KB without the name section, raw, before gzip), grouped by owner:`);
      L.push('');
      L.push('| owner | bytes (raw) | share |');
      L.push('|---|---|---|');
      for (const g of s.breakdown.groups.slice(0, 16)) L.push(`| ${g.group} | ${g.bytes.toLocaleString('en-US')} | ${f((100 * g.bytes) / s.breakdown.totalWithoutNames, 1)} % |`);
      L.push('');
      L.push('The largest single items:');
      L.push('');
      L.push('| item | bytes |');
      L.push('|---|---|');
      for (const t of s.breakdown.top) L.push(`| \`${t.name.replace(/\|/g, '\\|')}\` | ${t.bytes.toLocaleString('en-US')} |`);
      L.push('');
    }
  }

  const c = r.coldstart;
  if (c && !c.error) {
    L.push('## 6. Cold start');
    L.push('');
    L.push('Node: a fresh `node` process per run (import the glue; read + compile + instantiate the wasm with `initSync`; `new NemoClient`). Chromium: a fresh context per run (import the glue; `init()` = fetch + `instantiateStreaming`; `new NemoClient`). Milliseconds.');
    L.push('');
    L.push('| where | import glue | instantiate wasm | construct client | total |');
    L.push('|---|---|---|---|---|');
    L.push(`| Node (${c.node.totalMs.n} runs) | ${mmm(c.node.importMs, 2)} | ${mmm(c.node.instantiateMs, 2)} | ${mmm(c.node.constructMs, 2)} | ${mmm(c.node.totalMs, 2)} |`);
    if (c.chromium) L.push(`| Chromium (${c.chromium.totalMs.n} runs) | ${mmm(c.chromium.importMs, 1)} | ${mmm(c.chromium.instantiateMs, 1)} | ${mmm(c.chromium.constructMs, 1)} | ${mmm(c.chromium.totalMs, 1)} |`);
    L.push('');
  }

  const k = r.concurrency;
  if (k && !k.error && k.results.length) {
    const R = k.rounds;
    const phases = k.results[0].capped ? 3 : 2;
    const idle = Math.min(...k.results.map((x) => x.kept.rssStart));
    const after = (ph) => ph.rounds.map((x) => MiB(x.rssAfter)).join(' → ');
    L.push('## 7. Emulator: concurrent SSE turns on loopback');
    L.push('');
    L.push(`Emulator (\`nemo-emulator\`) at \`--speed ${k.speed}\`, prompt "${k.prompt}" (the free scripted help reply: ${k.results[0].kept.rounds[0].events / k.results[0].n} events over about ${f(k.results[0].turnMs.median / 1000, 1)} s, so all N turns overlap). One Node process opens N turns at once, each on its own new TCP connection (\`node:http\`, no pooling; each with its own client id, token and session, made before the clock starts), and reads every body to its end; a turn is completed when its stream ends on the complete text. Each N runs ${R} rounds on a fresh emulator that keeps its state (up to its default caps: 10,000 tokens and sessions, 2,000 finished turns), ${R} rounds on a fresh emulator reset (\`POST /__emulator/reset\`) before each round, and ${R} rounds on a fresh emulator whose caps are one round's worth plus 1/8 (\`--max-tokens\`, \`--max-sessions\`, \`--replay-turns\`: sustained load, where it forgets as much as it learns); wall and events/s are min / median / max over all ${phases * R} rounds, time to headers the median of the rounds' medians and the largest of any round. RSS is the emulator's \`VmRSS\`, sampled every 20 ms (${MiB(idle)} MiB idle); "after" is read once the round's streams have closed. Budget: ≥ 300 concurrent turns, with flat memory.`);
    L.push('');
    L.push(`| N turns at once | completed / failed (${phases * R} rounds) | wall (s) | events/s | time to response headers (ms): median, max | peak RSS (MiB) | RSS after each round, state kept (MiB) | retained per turn, state kept (KB) | RSS after each round, reset before each (MiB) | RSS after each round, caps of one round (MiB) | listen-queue overflows (system-wide counter, all rounds) |`);
    L.push('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const x of k.results) {
      const done = x.completed.runs.reduce((a, b) => a + b, 0);
      const peak = Math.max(x.kept.rssPeak, x.cleared.rssPeak, x.capped?.rssPeak ?? 0);
      L.push(`| ${x.n} | ${done} / ${x.failed} | ${mmm(x.wallMs, 2, 1 / 1000)} | ${mmm(x.eventsPerSec, 0)} | ${f(x.headersMs.median, 0)}, ${f(x.headersMaxMs.max, 0)} | ${MiB(peak)} | ${after(x.kept)} | ${f(x.kept.rssGrowthPerTurn / 1024, 1)} | ${after(x.cleared)} | ${x.capped ? after(x.capped) : '–'} | ${x.listenOverflows.runs.reduce((a, b) => a + b, 0)} |`);
    }
    L.push('');
  }

  const failed = Object.values(r).filter((x) => x && x.error);
  if (failed.length) {
    L.push('## Sections that failed in this run');
    L.push('');
    for (const x of failed) L.push(`- ${x.section}: ${x.error}`);
    L.push('');
  }
  const notes = join(BENCH, 'NOTES.md');
  if (existsSync(notes)) L.push(readFileSync(notes, 'utf8').trim(), '');
  return `${L.join('\n')}\n`;
}
