// One Node-client upload in its own process, so its peak RSS is its own.
//   node bench/upload-node-child.mjs BASE TOKEN FILE
// Prints { wallMs, rssBefore, maxRss } (bytes) as JSON.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PKG, memoryStorage, now } from './lib/common.mjs';

const [base, token, file] = process.argv.slice(2);
const { NemoClient, uploadFile } = await import(join(PKG, 'node.js'));
const client = new NemoClient({ baseUrl: base, token, storage: memoryStorage(), clientId: randomUUID() });
const session = await client.createSession();
// The first fetch (createSession) makes V8 compile undici's HTTP parser on a
// background thread for about 150 ms; on a 2-core machine that compile would
// share the cores with the upload and the emulator. An app has paid it long
// before it uploads, so the clock starts once it is done.
await new Promise((resolve) => setTimeout(resolve, 500));
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;
const t = now();
const files = await uploadFile(session, file);
const wallMs = now() - t;
if (!files || files.length !== 1) throw new Error('upload returned no file');
console.log(JSON.stringify({ wallMs, rssBefore, maxRss: process.resourceUsage().maxRSS * 1024 }));
