// (3) A Vite production build of a small app that uses the package, served
// by the emulator (--www) and run in Chromium under a strict CSP
// (script-src 'self' 'wasm-unsafe-eval'): it shows the credits.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';

import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, installedProject, playwright, startEmulator, tempDir } from './helpers.mjs';

let emu;
let context;
after(async () => {
  if (context) await context.close();
  if (emu) emu.stop();
});

test('a Vite production build runs in Chromium against the emulator', async () => {
  const app = installedProject('nemo-vite-');
  writeFileSync(
    join(app, 'index.html'),
    `<!doctype html>
<html>
  <head>
    <meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'">
    <title>nemo-video vite app</title>
  </head>
  <body>
    <p id="out" data-state="loading">loading…</p>
    <script type="module" src="/main.js"></script>
  </body>
</html>
`,
  );
  writeFileSync(
    join(app, 'main.js'),
    `import init, { NemoClient, NemoError } from 'nemo-video';

const out = document.getElementById('out');
async function main() {
  await init();
  const client = new NemoClient({ baseUrl: location.origin });
  const credits = await client.credits();
  out.textContent = 'credits: ' + credits.available;
  out.dataset.state = 'ok';
}
main().catch((e) => {
  out.textContent = 'error: ' + (e instanceof NemoError ? e.kind + ' ' : '') + e.message;
  out.dataset.state = 'error';
});
`,
  );
  const { build } = await import(pathToFileURL(join(ROOT, 'tests/node_modules/vite/dist/node/index.js')).href);
  await build({ root: app, logLevel: 'warn', configFile: false, build: { outDir: 'dist', emptyOutDir: true } });
  const assets = readdirSync(join(app, 'dist/assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `the wasm is emitted as an asset: ${assets}`);
  const js = assets.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(app, 'dist/assets', f), 'utf8')).join('\n');
  assert.ok(!/\bimport\(/.test(js), 'no dynamic import() in the bundle');

  emu = await startEmulator(['--www', join(app, 'dist')]);
  const chromium = await playwright();
  context = await chromium.launchPersistentContext(tempDir('nemo-chrome-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(`${emu.url}/`);
  await page.waitForFunction(() => document.getElementById('out').dataset.state !== 'loading', null, { timeout: 30000 });
  const text = await page.textContent('#out');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'vite-app.png') });
  assert.equal(text, 'credits: 1000', `page says: ${text}\n${logs.join('\n')}`);
});
