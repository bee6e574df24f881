// Chromium via playwright-core (the Debian build), for the in-browser figures.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PKG, ROOT } from './common.mjs';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export async function launch() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A static dir for the emulator's --www: an empty page plus a copy of pkg/. */
export function benchWww() {
  const dir = join(ROOT, 'target', 'bench-www');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(PKG, join(dir, 'pkg'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>bench</title>\n');
  return dir;
}

export const chromiumAvailable = () => existsSync(process.env.CHROMIUM || '/usr/bin/chromium');
