// Shared helpers of the package tests: the packed tarball, temp projects, a
// private nemo-emulator per test file, Chromium. Everything stays on loopback.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const PKG = join(ROOT, 'pkg');
export const ARTIFACTS = join(ROOT, 'tests/artifacts/package');
export const CHROMIUM = process.env.CHROMIUM_PATH || process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
mkdirSync(ARTIFACTS, { recursive: true });

/** The tarball `npm pack` made in build-pkg.sh (or a fresh one). */
export function tarball() {
  const dir = join(ROOT, 'target/npm');
  const found = existsSync(dir) ? readdirSync(dir).filter((f) => /^nemo-video-.*\.tgz$/.test(f)) : [];
  if (found.length) return join(dir, found[0]);
  mkdirSync(dir, { recursive: true });
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: PKG, encoding: 'utf8' }).trim().split('\n').pop();
  return join(dir, name);
}

/** A temp dir (under `parent` when given) removed at exit unless KEEP_TMP is set. */
export function tempDir(prefix, parent = tmpdir()) {
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, prefix));
  if (!process.env.KEEP_TMP) process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A project with the packed tarball installed (no network: zero dependencies). */
export function installedProject(prefix = 'nemo-pkg-', parent) {
  const dir = tempDir(prefix, parent);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--offline', '--silent', tarball()], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm install of the tarball failed: ${r.stderr}`);
  return dir;
}

/** A private emulator: resolves { url, stop() }. */
export async function startEmulator(args = []) {
  const bin = join(process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : join(ROOT, 'target'), 'release/nemo-emulator');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`cargo build --release -p nemo-emulator\``);
  const child = spawn(bin, ['--port', '0', '--speed', '200', '--credits', '1000', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`emulator did not start: ${log}`)), 15000);
    const on = (d) => {
      log += d;
      const m = log.match(/http:\/\/127\.0\.0\.1:\d+/);
      if (m) {
        clearTimeout(timer);
        res(m[0]);
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.on('exit', (code) => rej(new Error(`emulator exited (${code}): ${log}`)));
  });
  const stop = () => {
    if (child.exitCode === null) child.kill();
  };
  process.on('exit', stop);
  return { url, stop, child };
}

/** Runs a command; resolves { code, stdout, stderr }. */
export function run(cmd, args, opts = {}) {
  return new Promise((res) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => res({ code, signal, stdout, stderr, child }));
    if (opts.onSpawn) opts.onSpawn(child);
  });
}

/** A photo made with ffmpeg (PNG, 1080x1350). */
export function makePhoto(path) {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1080x1350:duration=1', '-frames:v', '1', path]);
  return path;
}

/** A sparse MP4 of `bytes` (a real ftyp box, then zeros): the emulator sniffs the type. */
export function makeMp4(path, bytes) {
  const head = Buffer.alloc(32);
  head.writeUInt32BE(24, 0);
  head.write('ftypisom', 4, 'latin1');
  head.writeUInt32BE(0x200, 12);
  head.write('isommp41', 16, 'latin1');
  head.writeUInt32BE(8, 24);
  head.write('free', 28, 'latin1');
  writeFileSync(path, head);
  execFileSync('truncate', ['-s', String(bytes), path]);
}

export function ffprobe(path) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type,width,height', '-of', 'json', path], { encoding: 'utf8' });
  return JSON.parse(out).streams;
}

export function copyDir(from, to) {
  cpSync(from, to, { recursive: true });
}

/** playwright-core from tests/node_modules. */
export async function playwright() {
  return (await import(pathToFileURL(join(ROOT, 'tests/node_modules/playwright-core/index.mjs')).href)).chromium;
}
