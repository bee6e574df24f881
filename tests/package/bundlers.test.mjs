// The package is clean for bundlers: bundling it with esbuild and with Vite
// prints no warning that names one of our files (an integrator's build log
// should show nothing from us). wasm-bindgen's glue once made esbuild print
// "Duplicate key" seven times; assemble.mjs merges those imports, and this
// test keeps it so. esbuild hides some warnings inside node_modules, so the
// packed files are also bundled from a plain folder (as with `npm link`, a
// monorepo workspace, or a vendored copy).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { build as esbuild } from 'esbuild';
import { build as viteBuild, createLogger } from 'vite';

import { installedProject, tarball, tempDir } from './helpers.mjs';

let project;
let vendored;
before(() => {
  project = installedProject('nemo-bundle-');
  vendored = tempDir('nemo-vendored-');
  execFileSync('tar', ['-xzf', tarball(), '-C', vendored]);
  writeFileSync(
    join(project, 'main.js'),
    "import init, { NemoClient, SseDecoder, AgentDecoder, formatBytes } from 'nemo-video';\n" +
      'await init();\n' +
      "console.log(new NemoClient({ baseUrl: 'http://127.0.0.1:1' }), new SseDecoder(), new AgentDecoder(), formatBytes(1));\n",
  );
  writeFileSync(join(project, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>\n');
});

/** Whether a bundler message is about our package's files. */
const ours = (text) => /nemo-video|nemo_video|snippets[\\/]nemo-video/.test(text);

for (const [where, entry] of [
  ['installed from the tarball', () => join(project, 'main.js')],
  ['from a plain folder', () => join(vendored, 'package', 'index.js')],
]) {
  test(`esbuild bundles the browser entry (${where}) without a warning about our files`, async () => {
    const r = await esbuild({
      entryPoints: [entry()],
      absWorkingDir: project,
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      outdir: join(project, 'out'),
      logLevel: 'silent',
      loader: { '.wasm': 'file' },
    });
    const about = r.warnings.filter((w) => ours(`${w.text} ${w.location?.file ?? ''}`));
    assert.deepEqual(
      about.map((w) => `${w.location?.file}:${w.location?.line}: ${w.text}`),
      [],
      'esbuild warned about our files',
    );
    assert.ok(r.outputFiles.some((f) => f.path.endsWith('.js') && f.text.length > 1000));
  });
}

test('Vite builds a page using the package without a warning about our files', async () => {
  const warnings = [];
  const logger = createLogger('warn');
  const keep = (msg) => warnings.push(String(msg));
  logger.warn = keep;
  logger.warnOnce = keep;
  logger.error = keep;
  await viteBuild({
    root: project,
    logLevel: 'warn',
    customLogger: logger,
    configFile: false,
    build: { outDir: 'dist', emptyOutDir: true },
  });
  assert.deepEqual(warnings.filter(ours), [], 'Vite warned about our files');
});

test('importing nemo-video alone costs nothing more: the studio is only in the nemo-video/studio bundle', async () => {
  const bundle = async (code) => {
    writeFileSync(join(project, 'entry.js'), code);
    const r = await esbuild({
      entryPoints: [join(project, 'entry.js')],
      absWorkingDir: project,
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      outdir: join(project, 'out-size'),
      logLevel: 'silent',
      loader: { '.wasm': 'file' },
    });
    return r.outputFiles.filter((f) => f.path.endsWith('.js')).map((f) => f.text).join('\n');
  };
  const main = await bundle("import init, { NemoClient } from 'nemo-video';\nawait init();\nconsole.log(new NemoClient());\n");
  const studio = await bundle("import 'nemo-video/studio';\n");
  for (const mark of ['nemo-studio', 'adoptedStyleSheets', 'Describe your video']) {
    assert.equal(main.includes(mark), false, `the main entry's bundle holds ${mark}`);
    assert.equal(studio.includes(mark), true, `the studio bundle holds ${mark}`);
  }
  // The studio's side effect (customElements.define) survives tree shaking.
  assert.match(studio, /customElements\.define/);
  console.log(`# main entry bundled: ${main.length} B; with the studio: ${studio.length} B (minified, not gzipped)`);
});
