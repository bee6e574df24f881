// (2) `tsc --noEmit --strict` on typed consumers of the whole API (Node and
// bundler resolution), and a wrong consumer that must fail to type-check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ROOT, installedProject } from './helpers.mjs';

const TSC = join(ROOT, 'tests/node_modules/typescript/bin/tsc');
const project = installedProject('nemo-tsc-');
for (const f of ['consumer-node.ts', 'consumer-browser.ts', 'consumer-studio.ts', 'bad.ts', 'vite-env.d.ts']) {
  copyFileSync(join(ROOT, 'tests/package/fixtures', f), join(project, f));
}

function tsc(name, files, compilerOptions) {
  const config = join(project, `tsconfig.${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'es2022', lib: ['es2022', 'dom', 'dom.iterable', 'dom.asynciterable'], types: [], ...compilerOptions },
      files,
    }),
  );
  return spawnSync(process.execPath, [TSC, '-p', config, '--noEmit', '--strict', '--pretty', 'false'], { cwd: project, encoding: 'utf8' });
}

test('a Node consumer of the whole API type-checks (module nodenext)', () => {
  const r = tsc('node', ['consumer-node.ts'], { module: 'nodenext', moduleResolution: 'nodenext' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('a browser consumer type-checks (moduleResolution bundler)', () => {
  const r = tsc('browser', ['consumer-browser.ts', 'vite-env.d.ts'], { module: 'esnext', moduleResolution: 'bundler' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('a studio consumer type-checks: the element, its events, HTMLElementTagNameMap', () => {
  const r = tsc('studio', ['consumer-studio.ts'], { module: 'esnext', moduleResolution: 'bundler' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('wrong calls fail to type-check', () => {
  const r = tsc('bad', ['bad.ts'], { module: 'nodenext', moduleResolution: 'nodenext' });
  assert.notEqual(r.status, 0, 'bad.ts must not compile');
  const out = r.stdout;
  for (const line of [5, 6, 7, 9, 10]) assert.match(out, new RegExp(`bad\\.ts\\(${line},`), `an error on line ${line}:\n${out}`);
});

test('the declarations use no `any`', () => {
  const r = spawnSync('grep', ['-rnwE', '(:|<|,|\\()\\s*any', '--include=*.d.ts', join(project, 'node_modules/nemo-video')], { encoding: 'utf8' });
  assert.equal(r.stdout, '', r.stdout);
});
