// One Node cold start in a fresh process: import the glue, read + compile +
// instantiate the wasm (initSync), construct a client. Prints ms as JSON.
const t0 = performance.now();
const { join } = await import('node:path');
const { readFileSync } = await import('node:fs');
const { PKG, memoryStorage } = await import('./lib/common.mjs');
const t1 = performance.now();
const m = await import(join(PKG, 'index.js'));
const t2 = performance.now();
m.initSync({ module: readFileSync(join(PKG, 'nemo_video_bg.wasm')) });
const t3 = performance.now();
const client = new m.NemoClient({ baseUrl: 'http://127.0.0.1:9', token: 'nmv_usr_bench', clientId: 'bench', storage: memoryStorage() });
const t4 = performance.now();
if (!client.baseUrl) throw new Error('no client');
console.log(JSON.stringify({ importMs: t2 - t1, instantiateMs: t3 - t2, constructMs: t4 - t3, totalMs: t4 - t1, harnessMs: t1 - t0 }));
