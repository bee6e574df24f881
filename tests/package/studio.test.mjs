// (8) <nemo-studio> embedded the ways integrators embed it, in Chromium
// against the emulator, from the packed tarball:
//   - a plain HTML page served as static files from another origin, with a
//     strict CSP (no 'unsafe-inline'): the whole flow (upload, generate,
//     export, play), the events, ::part() and --nemo-* theming, light and
//     dark, 360 px, and the linked-sheet fallback without adoptedStyleSheets;
//   - two elements on one page, English and Chinese: no shared state;
//   - a Vite + React app (vite 7, React 19, JSX by esbuild).
// Screenshots: tests/artifacts/package/studio-*.png.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';

import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, installedProject, makePhoto, playwright, startEmulator, tempDir } from './helpers.mjs';

let emu;
let server;
let origin;
let project;
let context;
let photo;

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml' };

/** A static file server for `dir` (no framework), every page with `csp` as a header. */
function serveStatic(dir, csp) {
  return new Promise((resolve) => {
    const srv = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
      let file = join(dir, path);
      if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
      if (!file.startsWith(dir) || !existsSync(file)) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'content-security-policy': csp });
      res.end(readFileSync(file));
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

async function newPage(viewport = { width: 1280, height: 860 }) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.errors.push(`console: ${m.text()}`);
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}

/** Sends `text` in the `n`th studio of the page, answering the cost question when asked. */
async function say(page, text, n = 0) {
  const root = `nemo-studio >> nth=${n}`;
  await page.locator(root).locator('#composer-input').fill(text);
  await page.locator(root).locator('#composer-input').press('Enter');
  await page.waitForFunction((i) => document.querySelectorAll('nemo-studio')[i].shadowRoot.querySelector('#composer').dataset.phase !== 'estimating', n);
  if (await page.locator(root).locator('#confirm').isVisible()) await page.locator(root).locator('#confirm-yes').click();
  await page.waitForFunction(
    (i) => {
      const r = document.querySelectorAll('nemo-studio')[i].shadowRoot;
      return r.querySelector('#composer').dataset.phase === 'idle' && !r.querySelector('#send-btn').disabled && r.querySelector('#activity').hidden;
    },
    n,
    { timeout: 120000 },
  );
}

before(async () => {
  emu = await startEmulator();
  project = installedProject('nemo-studio-');
  photo = makePhoto(join(project, 'photo.png'));
  const csp = [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    `connect-src 'self' ${emu.url}`,
    `media-src 'self' blob: ${emu.url}`,
    "img-src 'self' blob:",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
  ].join('; ');
  writeFileSync(
    join(project, 'index.html'),
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>A plain page with one tag</title>
<link rel="stylesheet" href="./page.css">
<script type="module" src="./main.js"></script>
</head>
<body>
<h1>My video page</h1>
<nemo-studio api="${emu.url}" storage-key="plain"></nemo-studio>
</body>
</html>
`,
  );
  writeFileSync(
    join(project, 'page.css'),
    `body { margin: 0; padding: 8px; font-family: sans-serif; }
nemo-studio { --nemo-accent: rgb(0, 128, 96); }
nemo-studio::part(send) { background: rgb(1, 2, 3); }
`,
  );
  writeFileSync(
    join(project, 'main.js'),
    `import './node_modules/nemo-video/studio.js';
window.__events = [];
for (const type of ['nemo-ready', 'nemo-turn', 'nemo-export', 'nemo-credits', 'nemo-error']) {
  document.addEventListener(type, (e) => {
    window.__events.push({ type, composed: e.composed, bubbles: e.bubbles, tag: e.target.tagName, kind: e.detail && e.detail.kind,
      blob: !!(e.detail && e.detail.blob), url: e.detail && typeof e.detail.url === 'string' ? e.detail.url : null,
      available: e.detail && e.detail.available, error: e.detail && e.detail.error && e.detail.error.kind });
  });
}
`,
  );
  writeFileSync(
    join(project, 'two.html'),
    `<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>Two studios</title><script type="module" src="./two.js"></script></head>
<body>
<nemo-studio id="a" api="${emu.url}" storage-key="two.a" language="en"></nemo-studio>
<nemo-studio id="b" api="${emu.url}" storage-key="two.b"></nemo-studio>
</body>
</html>
`,
  );
  writeFileSync(join(project, 'two.js'), "import './node_modules/nemo-video/studio.js';\n");
  server = await serveStatic(project, csp);
  origin = `http://127.0.0.1:${server.address().port}`;
  const chromium = await playwright();
  context = await chromium.launchPersistentContext(tempDir('nemo-chrome-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
  });
});

after(async () => {
  if (context) await context.close();
  if (server) server.close();
  if (emu) emu.stop();
});

test('a plain HTML page, static files, strict CSP: one tag gives a working studio (events, theming, light and dark)', async () => {
  const page = await newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => window.__events.some((e) => e.type === 'nemo-ready'), null, { timeout: 30000 });
  // English from the page's lang; the words are text, the styles adopted.
  assert.equal((await page.locator('nemo-studio #send-btn').textContent()).trim(), 'Send');
  const style = await page.evaluate(() => {
    const s = document.querySelector('nemo-studio');
    const send = s.shadowRoot.querySelector('#send-btn');
    return { adopted: s.shadowRoot.adoptedStyleSheets.length, send: getComputedStyle(send).backgroundColor, inline: s.shadowRoot.querySelectorAll('style').length };
  });
  assert.deepEqual(style, { adopted: 1, send: 'rgb(1, 2, 3)', inline: 0 });
  // Roles and names for screen readers.
  for (const sel of ['#messages[role="log"][aria-live="polite"]', '#activity[role="status"]', '#conn[role="status"]', '#export-progress[role="status"]', 'textarea#composer-input']) {
    assert.equal(await page.locator(`nemo-studio ${sel}`).count(), 1, sel);
  }
  await page.screenshot({ path: join(ARTIFACTS, 'studio-plain-light.png') });

  // The flow: a photo, a generation (asked first: it uses all 100 credits), an export.
  await page.locator('nemo-studio #file-input').setInputFiles(photo);
  await say(page, 'animate this photo into a cinematic video clip with camera movement');
  await page.waitForSelector('nemo-studio #tracks .track-video .seg');
  await page.click('nemo-studio #export-btn');
  await page.waitForFunction(() => window.__events.some((e) => e.type === 'nemo-export'), null, { timeout: 120000 });
  const ev = await page.evaluate(() => window.__events);
  const types = new Set(ev.map((e) => e.type));
  for (const t of ['nemo-ready', 'nemo-credits', 'nemo-turn', 'nemo-export']) assert.ok(types.has(t), `${t} fired: ${[...types]}`);
  assert.ok(ev.every((e) => e.bubbles && e.composed && e.tag === 'NEMO-STUDIO'), 'bubbling, composed, from the element');
  const exp = ev.find((e) => e.type === 'nemo-export');
  assert.equal(exp.blob, true);
  assert.match(exp.url, /\/renders\/render_\d+.*\.mp4$/);
  assert.ok(ev.some((e) => e.type === 'nemo-turn' && e.kind === 'chat'));
  const dur = await page.evaluate(async () => {
    const v = document.querySelector('nemo-studio').shadowRoot.querySelector('#player');
    if (v.readyState < 1) await new Promise((r) => v.addEventListener('loadedmetadata', r, { once: true }));
    return v.duration;
  });
  assert.ok(dur > 1);
  // Dark: the page's color scheme.
  const light = await page.evaluate(() => getComputedStyle(document.querySelector('nemo-studio').shadowRoot.querySelector('.card')).backgroundColor);
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await page.evaluate(() => getComputedStyle(document.querySelector('nemo-studio').shadowRoot.querySelector('.card')).backgroundColor);
  assert.notEqual(light, dark);
  await page.screenshot({ path: join(ARTIFACTS, 'studio-plain-dark.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  // An error is a typed event too.
  await say(page, 'fail: boom');
  assert.ok((await page.evaluate(() => window.__events)).some((e) => e.type === 'nemo-error' && typeof e.error === 'string'));
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  assert.deepEqual(page.errors, []);

  // 360 px: nothing wider than the screen, inside the shadow root either.
  await page.setViewportSize({ width: 360, height: 740 });
  const wide = await page.evaluate(() => {
    const out = [];
    const walk = (r) => {
      for (const n of r.querySelectorAll('*')) {
        const b = n.getBoundingClientRect();
        if (b.width && b.right > 360.5 && !n.closest('.chips, .messages, .visually-hidden') && getComputedStyle(n).position !== 'fixed') out.push(n.id || n.className || n.tagName);
        if (n.shadowRoot) walk(n.shadowRoot);
      }
    };
    walk(document);
    return { out: out.slice(0, 8), scroll: document.documentElement.scrollWidth };
  });
  assert.ok(wide.scroll <= 360, `scrollWidth ${wide.scroll}: ${wide.out}`);
  await page.screenshot({ path: join(ARTIFACTS, 'studio-plain-360.png'), fullPage: true });
  // The session handle was saved under the element's key, and resumes.
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('plain.handle')));
  assert.match(saved.sessionId, /\S/);
  await page.reload();
  await page.waitForFunction(() => /restored/.test(document.querySelector('nemo-studio').shadowRoot.querySelector('#conn-text').textContent), null, { timeout: 30000 });
  await page.waitForSelector('nemo-studio #result:not([hidden])');
  await page.close();
});

test('importing nemo-video/studio outside a browser (SSR, Node) is harmless', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('nemo-video/studio'); console.log(typeof m.NemoStudio, Object.keys(m.strings).join(','));"], { cwd: project, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'function en,zh-CN');
});

test('without adoptedStyleSheets the element links its stylesheet (still no inline style)', async () => {
  const page = await newPage();
  await page.addInitScript(() => {
    delete ShadowRoot.prototype.adoptedStyleSheets;
  });
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.querySelector('nemo-studio')?.shadowRoot?.querySelector('#conn[data-state="ok"]'), null, { timeout: 30000 });
  const r = await page.evaluate(() => {
    const root = document.querySelector('nemo-studio').shadowRoot;
    const link = root.querySelector('link[rel="stylesheet"]');
    return { href: link && new URL(link.href).pathname, radius: getComputedStyle(root.querySelector('.card')).borderTopLeftRadius };
  });
  assert.equal(r.href, '/node_modules/nemo-video/studio.css');
  assert.equal(r.radius, '14px');
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  await page.close();
});

test('two studios on one page share nothing: own session, storage, words and conversation', async () => {
  const page = await newPage({ width: 1280, height: 1600 });
  await page.goto(`${origin}/two.html`);
  for (const id of ['a', 'b']) {
    await page.waitForFunction((i) => document.getElementById(i)?.shadowRoot?.querySelector('#conn[data-state="ok"]'), id, { timeout: 30000 });
  }
  const ids = await page.evaluate(() => ['a', 'b'].map((i) => document.getElementById(i).session.sessionId));
  assert.notEqual(ids[0], ids[1]);
  // English by attribute; Chinese from the page's lang.
  assert.equal((await page.locator('#a #send-btn').textContent()).trim(), 'Send');
  assert.equal((await page.locator('#b #send-btn').textContent()).trim(), '发送');
  assert.match(await page.locator('#b #conn-text').textContent(), /已连接/);
  await say(page, 'credits', 0);
  await say(page, '积分', 1);
  const a = await page.locator('#a #messages .msg-agent:not(.msg-intro)').allTextContents();
  const b = await page.locator('#b #messages .msg-agent:not(.msg-intro)').allTextContents();
  assert.equal(a.length, 1);
  assert.equal(b.length, 1);
  assert.match(a[0], /You have \d+ credits/);
  assert.equal(await page.locator('#a #messages .msg-user').count(), 1);
  assert.equal(await page.locator('#b #messages .msg-user').count(), 1);
  const keys = await page.evaluate(() => Object.keys(localStorage).sort());
  assert.ok(keys.includes('two.a.handle') && keys.includes('two.b.handle'), keys.join(','));
  const handles = await page.evaluate(() => ['two.a.handle', 'two.b.handle'].map((k) => JSON.parse(localStorage.getItem(k)).sessionId));
  assert.deepEqual(handles, ids);
  // One element's strings override stays its own; the shared table extends both.
  await page.evaluate(() => {
    document.getElementById('a').strings = { send: 'Go' };
  });
  assert.equal((await page.locator('#a #send-btn').textContent()).trim(), 'Go');
  assert.equal((await page.locator('#b #send-btn').textContent()).trim(), '发送');
  await page.screenshot({ path: join(ARTIFACTS, 'studio-two.png'), fullPage: true });
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a Vite + React app: the element in JSX, its events in React state', async () => {
  const app = installedProject('nemo-react-');
  // React from the test harness's own node_modules (a devDependency there).
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  for (const dep of ['react', 'react-dom', 'scheduler']) {
    const from = join(ROOT, 'tests/node_modules', dep);
    if (existsSync(from)) symlinkSync(from, join(app, 'node_modules', dep), 'dir');
  }
  writeFileSync(
    join(app, 'index.html'),
    `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; media-src 'self' blob:; img-src 'self' blob:; style-src 'self'">
    <title>nemo-studio in React</title>
  </head>
  <body>
    <div id="root"></div>
    <script type="module" src="/main.jsx"></script>
  </body>
</html>
`,
  );
  writeFileSync(
    join(app, 'main.jsx'),
    `import { useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import 'nemo-video/studio';

function App() {
  const studio = useRef(null);
  const [credits, setCredits] = useState(null);
  const [turns, setTurns] = useState(0);
  useEffect(() => {
    const el = studio.current;
    const onCredits = (e) => setCredits(e.detail.available);
    const onTurn = () => setTurns((n) => n + 1);
    el.addEventListener('nemo-credits', onCredits);
    el.addEventListener('nemo-turn', onTurn);
    return () => {
      el.removeEventListener('nemo-credits', onCredits);
      el.removeEventListener('nemo-turn', onTurn);
    };
  }, []);
  return (
    <main>
      <p id="react-credits">{credits === null ? 'loading' : 'credits: ' + credits}</p>
      <p id="react-turns">{'turns: ' + turns}</p>
      <nemo-studio ref={studio} api={location.origin} storage-key="react-app" language="en"></nemo-studio>
    </main>
  );
}

createRoot(document.getElementById('root')).render(<App />);
`,
  );
  const { build } = await import(pathToFileURL(join(ROOT, 'tests/node_modules/vite/dist/node/index.js')).href);
  await build({ root: app, logLevel: 'warn', configFile: false, esbuild: { jsx: 'automatic' }, build: { outDir: 'dist', emptyOutDir: true } });
  const react = await startEmulator(['--www', join(app, 'dist')]);
  try {
    const page = await newPage();
    await page.goto(`${react.url}/`);
    await page.waitForFunction(() => document.getElementById('react-credits').textContent === 'credits: 1000', null, { timeout: 30000 });
    await say(page, 'credits');
    await page.waitForFunction(() => document.getElementById('react-turns').textContent === 'turns: 1');
    assert.match((await page.locator('nemo-studio #messages .msg-agent:not(.msg-intro)').allTextContents()).at(-1), /You have 1000 credits/);
    await page.screenshot({ path: join(ARTIFACTS, 'studio-react.png') });
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    react.stop();
  }
});
