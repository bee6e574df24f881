// Assembles pkg/ from the wasm-pack staging dir and pkg-templates/.
// Called by scripts/build-pkg.sh:  node pkg-templates/assemble.mjs <stage> <pkg> <version>
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const [stage, out, version] = process.argv.slice(2);
const templates = fileURLToPath(new URL('.', import.meta.url));
const fail = (msg) => {
  console.error(`build-pkg: ${msg}`);
  process.exit(1);
};

// 1. The wasm-bindgen snippet that holds the error classes.
const snippetRoot = join(stage, 'snippets');
const snippets = existsSync(snippetRoot) ? readdirSync(snippetRoot) : [];
const glueDirs = snippets.filter((d) => existsSync(join(snippetRoot, d, 'src/wasm/glue.js')));
if (glueDirs.length !== 1) fail(`expected one snippets/*/src/wasm/glue.js, found ${glueDirs.length}`);
const gluePath = `./snippets/${glueDirs[0]}/src/wasm/glue.js`;
const glueJs = readFileSync(join(stage, 'nemo_video.js'), 'utf8');
if (!glueJs.includes(gluePath)) fail(`nemo_video.js does not import ${gluePath}`);

// 2. The error class names and kinds, read from the snippet itself.
const { errorClasses } = await import(pathToFileURL(join(stage, gluePath)).href);
const errors = Object.entries(errorClasses)
  .filter(([name]) => name !== 'NemoError')
  .map(([name, cls]) => [name, new cls('probe').kind]);
if (!errorClasses.NemoError || errors.length === 0) fail('no error classes in glue.js');

// 3. Copy the wasm-bindgen output; remove `any` from its declarations (the
//    raw `InitOutput` export table is typed with `any` by wasm-bindgen).
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const f of ['nemo_video.js', 'nemo_video_bg.wasm', 'nemo_video_bg.wasm.d.ts', 'nemo_video.d.ts']) {
  cpSync(join(stage, f), join(out, f));
}
cpSync(snippetRoot, join(out, 'snippets'), { recursive: true });

// 3b. wasm-bindgen writes one `import * as importN from "<glue.js>"` per
//     function the wasm imports straight from the snippet, and keys each in
//     the imports object by the same module path: bundlers then warn
//     "Duplicate key" once per function (the last key wins, so it works,
//     but an integrator's build log should show nothing from us). Keep the
//     first namespace import of each module and drop the repeats.
{
  const p = join(out, 'nemo_video.js');
  const code = readFileSync(p, 'utf8');
  const firstOf = new Map(); // module path -> first namespace name
  const dropped = new Set();
  let fixed = code.replace(/^import \* as (import\d+) from (["'])([^"']+)\2;?\n/gm, (line, name, _q, spec) => {
    if (!firstOf.has(spec)) {
      firstOf.set(spec, name);
      return line;
    }
    dropped.add(name);
    return '';
  });
  fixed = fixed.replace(/^\s*(["'])[^"']+\1: (import\d+),?\n/gm, (line, _q, name) => (dropped.has(name) ? '' : line));
  for (const name of dropped) {
    if (new RegExp(`\\b${name}\\b`).test(fixed)) fail(`nemo_video.js still uses ${name} after merging its imports`);
  }
  writeFileSync(p, fixed);
}
for (const f of ['nemo_video.d.ts', 'nemo_video_bg.wasm.d.ts']) {
  const p = join(out, f);
  writeFileSync(
    p,
    readFileSync(p, 'utf8')
      .replace(/\bany\b(?=[\s;,)\]|>=])/g, 'unknown')
      // `[Symbol.dispose]()` needs lib esnext.disposable: consumers on an
      // es2022 lib without skipLibCheck would fail. The method stays at run time.
      .replace(/^\s*\[Symbol\.dispose\]\(\): void;\n/gm, ''),
  );
}

// 4. The templates.
const fill = (text) =>
  text
    .replaceAll('__VERSION__', version)
    .replaceAll('__GLUE_PATH__', gluePath)
    .replace(
      '/*__ERROR_EXPORTS__*/',
      ['export const NemoError = classes.NemoError;', ...errors.map(([n]) => `export const ${n} = classes.${n};`)].join('\n'),
    )
    .replace(
      '/*__ERROR_TYPES__*/',
      errors
        .map(
          ([n, kind]) =>
            `/** A \`NemoError\` with \`kind: "${kind}"\`. */\n` +
            `export declare class ${n} extends NemoError {\n` +
            `  constructor(message: string, code?: number, status?: number, recovery?: Recovery);\n` +
            `  kind: '${kind}';\n}`,
        )
        .join('\n\n'),
    );
for (const f of ['index.js', 'index.d.ts', 'node.js', 'node.d.ts', 'cli.js', 'README.md', 'package.json', 'studio.js', 'studio.d.ts', 'studio-strings.js', 'studio.css']) {
  const text = fill(readFileSync(join(templates, f), 'utf8'));
  if (/__[A-Z_]+__/.test(text) && f !== 'README.md') fail(`${f}: unfilled placeholder ${text.match(/__[A-Z_]+__/)[0]}`);
  writeFileSync(join(out, f), text, f === 'cli.js' ? { mode: 0o755 } : undefined);
}

// 4b. The studio's stylesheet, one source (studio.css) in two forms: the
//     file itself (the linked-sheet fallback) and a module exporting its
//     text (for a constructable stylesheet: no inline <style>, so a strict
//     style-src works).
{
  const css = readFileSync(join(templates, 'studio.css'), 'utf8');
  writeFileSync(
    join(out, 'studio-css.js'),
    `// Generated by scripts/build-pkg.sh from pkg-templates/studio.css: the text of studio.css.\nexport default ${JSON.stringify(css)};\n`,
  );
}

// 5. Checks: the browser entry has no dynamic import() and no top-level
//    await; no declaration file uses `any`.
const strip = (s) => s.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
for (const f of ['index.js', 'nemo_video.js', gluePath, 'studio.js', 'studio-strings.js', 'studio-css.js']) {
  const code = strip(readFileSync(join(out, f), 'utf8'));
  if (/\bimport\s*\(/.test(code)) fail(`${f}: dynamic import()`);
  // Top-level await: an `await` at column 0..4 outside a function is a heuristic;
  // the real check is that the file parses as a classic-script-free module in
  // the tests. Here: no line starting with `await`.
  if (/^\s{0,0}await\b/m.test(code)) fail(`${f}: top-level await`);
}
// The main entry never loads the studio: importing 'nemo-video' costs nothing more.
for (const f of ['index.js', 'nemo_video.js', gluePath]) {
  if (/studio/.test(strip(readFileSync(join(out, f), 'utf8')).replace(/^\s*\/\/.*$/gm, ''))) fail(`${f}: mentions the studio`);
}
for (const f of readdirSync(out).filter((f) => f.endsWith('.d.ts'))) {
  const code = strip(readFileSync(join(out, f), 'utf8'));
  const m = code.match(/[:<,(|]\s*any\b/);
  if (m) fail(`${f}: \`any\` in the public types: ${m[0]}`);
}
console.log(`build-pkg: assembled ${relative(process.cwd(), out)} (glue ${gluePath}, ${errors.length + 1} error classes)`);
