// Shared set-up for the demo page's end-to-end tests: an emulator serving
// www/ (one per test file, so faults and speed changes never leak between
// files), Debian's Chromium through playwright-core, fixtures made with
// ffmpeg, and page helpers.
//
// Env:
//   NEMO_E2E_EMULATOR_URL  use a running emulator (started with --www www)
//                          instead of starting one;
//   NEMO_EMULATOR_BIN      the emulator binary (default target/release/nemo-emulator);
//   CHROMIUM               the browser (default /usr/bin/chromium).

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// One Chromium and one set of launch flags for every browser test.
import { CHROMIUM, CHROMIUM_ARGS } from '../package/helpers.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
export const SCREENSHOTS = path.join(ARTIFACTS, 'screenshots');
const FIXTURES = path.join(ARTIFACTS, 'fixtures');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Starts an emulator serving www/ on a free port; `stop()` ends it. */
export async function startEmulator({ speed = 20, args = [] } = {}) {
  if (process.env.NEMO_E2E_EMULATOR_URL) {
    return { url: process.env.NEMO_E2E_EMULATOR_URL.replace(/\/$/, ''), stop: async () => {}, shared: true };
  }
  if (!existsSync(path.join(ROOT, 'www/pkg/index.js'))) {
    throw new Error('www/pkg/index.js is missing: run `make pkg` (scripts/build-pkg.sh copies pkg/ to www/pkg/)');
  }
  const bin =
    process.env.NEMO_EMULATOR_BIN ||
    path.join(path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target'), 'release/nemo-emulator');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`make emulator\``);
  const child = spawn(bin, ['--port', '0', '--www', path.join(ROOT, 'www'), '--speed', String(speed), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  // Never leave an emulator behind, even when the test process is killed.
  const killChild = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killChild);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      killChild();
      process.exit(130);
    });
  }
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`emulator did not start:\n${log}`)), 15000);
    const onData = (d) => {
      log += d;
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited (${code}):\n${log}`));
    });
  });
  return {
    url,
    shared: false,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Calls an emulator admin endpoint (`/__emulator/…`). */
export async function admin(emu, route, body, method = body === undefined ? 'GET' : 'POST') {
  const res = await fetch(`${emu.url}/__emulator/${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} /__emulator/${route}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Launches Debian's Chromium headless, with a fresh profile. */
export async function launchBrowser() {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'nemo-e2e-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
    viewport: DESKTOP,
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the page in a new tab of `browser`, with a CSP-violation recorder
 * installed before any page script runs (`window.__csp`), page errors
 * collected in `page.errors`, and the viewport set.
 */
export async function openPage(browser, emu, { viewport = DESKTOP, clearStorage = true, before = null } = {}) {
  const page = await browser.context.newPage();
  await page.setViewportSize(viewport);
  page.errors = [];
  page.failed = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    // Failed requests are recorded with their URL below instead.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.errors.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) page.failed.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  await page.addInitScript(() => {
    // The studio is one element with an open shadow root: `$studio(sel)` and
    // `$$studio(sel)` query inside it (the first <nemo-studio> on the page).
    window.$studio = (sel) => document.querySelector('nemo-studio')?.shadowRoot?.querySelector(sel) ?? null;
    window.$$studio = (sel) => [...(document.querySelector('nemo-studio')?.shadowRoot?.querySelectorAll(sel) ?? [])];
    // Every element under `root`, inside open shadow roots too.
    window.$deepAll = (root = document.body) => {
      const out = [];
      const walk = (r) => {
        for (const n of r.querySelectorAll('*')) {
          out.push(n);
          if (n.shadowRoot) walk(n.shadowRoot);
        }
      };
      walk(root);
      return out;
    };
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
    });
  });
  if (clearStorage) {
    // A fresh project for every page (the profile is shared within a file).
    await page.goto(`${emu.url}/favicon.svg`);
    await page.evaluate(() => {
      localStorage.clear();
      sessionStorage.clear();
    });
  }
  // Set-up that must happen before the page loads (storage, faults).
  if (before) await before(page);
  await page.goto(`${emu.url}/`);
  return page;
}

/**
 * The set-up every e2e file shares: its own emulator serving www/ (`speed`,
 * extra `args`), a fresh Chromium, and unless `open` is false the page opened
 * in it (`viewport`; `connected: true` also waits until it is connected).
 * Resolves `{ emu, browser, page, close }`; `close()` ends the browser, then
 * the emulator. If a step fails, what was started is ended before rejecting.
 */
export async function startStudio({ speed = 20, args = [], open = true, viewport = DESKTOP, connected = false } = {}) {
  const emu = await startEmulator({ speed, args });
  let browser;
  const close = async () => {
    await browser?.close();
    await emu.stop();
  };
  try {
    browser = await launchBrowser();
    const page = open ? await openPage(browser, emu, { viewport }) : null;
    if (page && connected) await waitConnected(page);
    return { emu, browser, page, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The id of the focused element, looking inside the studio's shadow root ('body' when focus is lost). */
export async function focused(page) {
  return page.evaluate(() => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return !a || a === document.body ? 'body' : a.id || a.tagName.toLowerCase();
  });
}

/** Waits until the page says it is connected, and returns the credit count. */
export async function waitConnected(page) {
  await page.waitForSelector('#conn[data-state="ok"]', { timeout: 30000 });
  await page.waitForSelector('#credits:not([hidden])');
  return Number(await page.textContent('#credits-value'));
}

/** Test media made with ffmpeg once: a JPEG photo, a PNG, a short MP4. */
export function fixtures() {
  mkdirSync(FIXTURES, { recursive: true });
  const make = (name, args) => {
    const file = path.join(FIXTURES, name);
    if (!existsSync(file)) execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, file]);
    return file;
  };
  const notes = path.join(FIXTURES, 'notes.txt');
  if (!existsSync(notes)) writeFileSync(notes, 'not a video\n');
  return {
    notes,
    photo: make('city_timelapse.jpg', ['-f', 'lavfi', '-i', 'testsrc2=size=960x640:rate=1', '-frames:v', '1', '-q:v', '4']),
    photo2: make('sunset_beach.png', ['-f', 'lavfi', '-i', 'mandelbrot=size=640x640:rate=1', '-frames:v', '1']),
    clip: make('street_clip.mp4', ['-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25:duration=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast']),
  };
}

/** Picks files through the page's file input. */
export async function pickFiles(page, files) {
  await page.setInputFiles('#file-input', files);
}

/**
 * After a send: waits for the cost check, and when the studio asks before
 * spending (all of the balance, or a photo that is not attached) answers
 * "Send anyway" (`confirm: true`) or returns without answering. Resolves
 * whether it asked.
 */
export async function confirmIfAsked(page, { confirm = true } = {}) {
  const phase = await page.waitForFunction(
    () => {
      const p = window.$studio('#composer')?.dataset.phase;
      return p && p !== 'estimating' ? p : null;
    },
    null,
    { timeout: 30000, polling: 20 },
  );
  const asked = (await phase.jsonValue()) === 'confirm';
  if (asked && confirm) await page.click('#confirm-yes');
  return asked;
}

/** Types a message and presses Enter (and sends it even when the studio asks first). */
export async function say(page, text, { confirm = true } = {}) {
  await page.fill('#composer-input', text);
  await page.press('#composer-input', 'Enter');
  return confirmIfAsked(page, { confirm });
}

/** Clicks a suggested prompt (and sends it even when the studio asks first). */
export async function clickChip(page, selector = '#chips .chip:first-child', { confirm = true } = {}) {
  await page.click(selector);
  return confirmIfAsked(page, { confirm });
}

/** Waits until no message is in flight (the send button is enabled again). */
export async function waitIdle(page, timeout = 120000) {
  await page.waitForFunction(
    () => window.$studio('#composer').dataset.phase === 'idle' && !window.$studio('#send-btn').disabled && window.$studio('#activity').hidden,
    null,
    { timeout, polling: 100 },
  );
}

/** Texts of the chat messages of one role ('agent', 'user', 'note', 'error'). */
export async function messages(page, role) {
  return page.$$eval(`#messages .msg-${role}:not(.msg-intro)`, (ns) => ns.map((n) => n.textContent.trim()));
}

/** Runs the quick flow up to a timeline with a video clip. */
export async function generateClip(page, file) {
  await pickFiles(page, [file]);
  await clickChip(page);
  await waitIdle(page);
  await page.waitForSelector('#tracks .track-video .seg', { timeout: 30000 });
}

/** Clicks Export and waits for the inline player to have the MP4. */
export async function exportAndWait(page, timeout = 180000) {
  const before = await page.getAttribute('#download-link', 'href');
  await page.click('#export-btn');
  await page.waitForFunction(
    (prev) => !window.$studio('#result').hidden && window.$studio('#download-link').getAttribute('href') !== prev,
    before,
    { timeout, polling: 100 },
  );
}

/** Saves a screenshot under tests/artifacts/screenshots/. */
export async function screenshot(page, name, opts = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, ...opts });
  return file;
}

/** The horizontal overflow check: nothing wider than the viewport (shadow DOM included). */
export async function overflow(page) {
  return page.evaluate(() => {
    const all = window.$deepAll;
    const parentOf = (n) => n.parentElement || (n.parentNode && n.parentNode.host) || null;
    const vw = document.documentElement.clientWidth;
    const wide = [];
    for (const n of all(document.body)) {
      const r = n.getBoundingClientRect();
      if (r.width && (r.right > vw + 0.5 || r.left < -0.5) && getComputedStyle(n).position !== 'fixed') {
        // Elements scrolled inside an overflow container don't count.
        let p = parentOf(n);
        let clipped = false;
        while (p && p !== document.body) {
          const ov = getComputedStyle(p).overflowX;
          if (ov === 'auto' || ov === 'hidden' || ov === 'scroll' || ov === 'clip') {
            clipped = true;
            break;
          }
          p = parentOf(p);
        }
        if (!clipped && !n.closest('.visually-hidden')) wide.push(`${n.tagName.toLowerCase()}${n.id ? `#${n.id}` : ''}.${n.className}`);
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, clientWidth: vw, wide: wide.slice(0, 10) };
  });
}
