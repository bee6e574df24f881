// Figure 6: cold start. Node: each run is a fresh `node` process (import the
// glue; read, compile and instantiate the wasm with initSync; construct a
// client). Chromium: each run is a fresh browser context and page (import
// the glue; `init()` = fetch + instantiateStreaming; construct a client).
//   node bench/coldstart.mjs [--smoke] [--reps 15]
import { join } from 'node:path';
import { BENCH, SMOKE, arg, emit, run, startEmulator, stats, stopEmulator } from './lib/common.mjs';
import { benchWww, chromiumAvailable, launch } from './lib/browser.mjs';

const REPS = Number(arg('reps', SMOKE ? 2 : 15));
const node = [];
for (let i = 0; i < REPS; i++) {
  const r = await run(process.execPath, [join(BENCH, 'coldstart-child.mjs')]);
  if (r.code !== 0) throw new Error(r.stderr);
  node.push(JSON.parse(r.stdout.trim().split('\n').pop()));
}
const pick = (xs, k) => stats(xs.map((x) => x[k]));
const out = {
  section: 'coldstart',
  node: { importMs: pick(node, 'importMs'), instantiateMs: pick(node, 'instantiateMs'), constructMs: pick(node, 'constructMs'), totalMs: pick(node, 'totalMs') },
};
if (chromiumAvailable()) {
  const EMU = 'bench-cold';
  const base = startEmulator(EMU, ['--www', benchWww()]);
  const browser = await launch();
  try {
    const runs = [];
    for (let i = 0; i < REPS; i++) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${base}/index.html`);
      runs.push(
        await page.evaluate(async () => {
          const t0 = performance.now();
          const m = await import('/pkg/index.js');
          const t1 = performance.now();
          await m.default();
          const t2 = performance.now();
          const store = new Map();
          const c = new m.NemoClient({ baseUrl: location.origin, token: 'nmv_usr_bench', clientId: 'bench', storage: { get: (k) => store.get(k) ?? null, set: (k, v) => void store.set(k, v) } });
          const t3 = performance.now();
          if (!c.baseUrl) throw new Error('no client');
          return { importMs: t1 - t0, instantiateMs: t2 - t1, constructMs: t3 - t2, totalMs: t3 - t0 };
        }),
      );
      await ctx.close();
    }
    out.chromium = { importMs: pick(runs, 'importMs'), instantiateMs: pick(runs, 'instantiateMs'), constructMs: pick(runs, 'constructMs'), totalMs: pick(runs, 'totalMs') };
  } finally {
    await browser.close();
    stopEmulator(EMU);
  }
}
emit(out);
