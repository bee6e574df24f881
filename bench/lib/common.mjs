// Shared helpers of the benchmark harness: statistics, paths, the emulator,
// and loading the package. Nothing here asserts a time.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH = join(ROOT, 'bench');
export const PKG = process.env.NEMO_BENCH_PKG || join(ROOT, 'pkg');
export const DATA = join(ROOT, 'target', 'bench-data');

export const argv = process.argv.slice(2);
export const SMOKE = argv.includes('--smoke');
export function arg(name, dflt) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
}

/** min / median / max of a list of numbers (and the raw list). */
export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { min: s[0], median, max: s[n - 1], n, runs: xs };
}

/** The q-quantile (0..1) of a list, nearest rank. */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export const now = () => performance.now();
/** Wall-clock milliseconds since the epoch with sub-millisecond resolution. */
export const epochMs = () => performance.timeOrigin + performance.now();

/** Prints the section result as the last line of stdout (read by run.mjs). */
export function emit(result) {
  process.stdout.write(`\n@@RESULT ${JSON.stringify(result)}\n`);
}

/** Starts a named emulator (scripts/emulator.sh, EMU_NAME) and returns its URL. */
export function startEmulator(name, flags = []) {
  const url = execFileSync('bash', [join(ROOT, 'scripts/emulator.sh'), 'start', ...flags], {
    env: { ...process.env, EMU_NAME: name },
    encoding: 'utf8',
  }).trim().split('\n').pop();
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`emulator did not start: ${url}`);
  return url;
}

export function stopEmulator(name) {
  try {
    execFileSync('bash', [join(ROOT, 'scripts/emulator.sh'), 'stop'], { env: { ...process.env, EMU_NAME: name } });
  } catch {
    // already stopped
  }
}

/** Attribution headers the client sends (the raw-fetch peers send the same). */
export function skillHeaders() {
  const version = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')).version;
  return { 'X-Skill-Source': 'higgsfield-ai', 'X-Skill-Version': version, 'X-Skill-Platform': 'unknown' };
}

/** An anonymous token for a fresh client id. */
export async function anonymousToken(base, clientId) {
  const res = await fetch(`${base}/api/auth/anonymous-token`, {
    method: 'POST',
    headers: { 'X-Client-Id': clientId, ...skillHeaders() },
  });
  const body = await res.json();
  if (body.code !== 0) throw new Error(`token call failed: ${JSON.stringify(body)}`);
  return body.data.token;
}

/** A storage that keeps everything in memory (no files under ~/.config). */
export function memoryStorage() {
  const m = new Map();
  return { get: (k) => m.get(k) ?? null, set: (k, v) => void m.set(k, v) };
}

export function havePkg() {
  return existsSync(join(PKG, 'node.js')) && existsSync(join(PKG, 'nemo_video_bg.wasm'));
}

/** Runs `cmd args` and resolves to { code, stdout, stderr }. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
