// Figure 5: size. Ours: the wasm and the browser JS of pkg/, gzip -9, and
// the browser entry bundled + minified with esbuild (what an app ships).
// Peers: each package's entry bundled + minified with esbuild for the
// browser (ESM), gzip -9. Then what takes the bytes in our wasm (twiggy on a
// build that keeps names: target/bench-named/named.wasm, made by
// `make bench`), grouped by owner.
//   node bench/size.mjs [--smoke] [--named target/bench-named/named.wasm]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BENCH, PKG, ROOT, arg, emit } from './lib/common.mjs';

const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const esbuild = join(BENCH, 'node_modules', '.bin', 'esbuild');
function bundle(entry, opts = {}) {
  return execFileSync(
    esbuild,
    ['--bundle', '--minify', '--format=esm', '--platform=browser', '--log-level=error', ...(opts.stdin ? [] : [entry])],
    { cwd: BENCH, input: opts.stdin, maxBuffer: 64 << 20 },
  );
}

const snippetDir = join(PKG, 'snippets');
const glueFiles = [];
for (const d of existsSync(snippetDir) ? readdirSync(snippetDir) : []) {
  const f = join(snippetDir, d, 'src', 'wasm', 'glue.js');
  if (existsSync(f)) glueFiles.push(f);
}
const wasm = readFileSync(join(PKG, 'nemo_video_bg.wasm'));
const js = Buffer.concat([join(PKG, 'index.js'), join(PKG, 'nemo_video.js'), ...glueFiles].map((f) => readFileSync(f)));
const ourMin = bundle(join(PKG, 'index.js'));
const ours = {
  wasmRaw: wasm.length,
  wasmGzip: gz(wasm),
  jsRaw: js.length,
  jsGzip: gz(js),
  jsMinGzip: gz(ourMin),
};
ours.totalGzip = ours.wasmGzip + ours.jsMinGzip;
// The studio is a separate entry: the main entry above holds none of it, and
// `import 'nemo-video/studio'` adds this much (bundled with the client).
if (existsSync(join(PKG, 'studio.js'))) {
  const withStudio = bundle(join(PKG, 'studio.js'));
  ours.studioMinGzip = gz(withStudio);
  ours.studioAddsGzip = ours.studioMinGzip - ours.jsMinGzip;
}

const peers = {};
for (const name of ['replicate', '@fal-ai/client', 'openai']) {
  try {
    const version = JSON.parse(readFileSync(join(BENCH, 'node_modules', name, 'package.json'), 'utf8')).version;
    const out = bundle(null, { stdin: `export * from ${JSON.stringify(name)};` });
    peers[name] = { version, minRaw: out.length, minGzip: gz(out) };
  } catch (e) {
    peers[name] = { error: String(e.message).split('\n')[0] };
  }
}

// ---- what takes the bytes (twiggy) ----
const named = arg('named', join(ROOT, 'target', 'bench-named', 'named.wasm'));
let breakdown = null;
const twiggy = join(process.env.HOME || '/root', '.cargo', 'bin', 'twiggy');
if (existsSync(named) && existsSync(twiggy)) {
  const rows = JSON.parse(execFileSync(twiggy, ['top', '-n', '100000', '--format', 'json', named], { maxBuffer: 64 << 20 }));
  const groups = new Map();
  const owner = (n) => {
    if (/function names|custom section|"name"/.test(n)) return null; // the name section only exists in this build
    if (/^data segment/.test(n)) return 'static data (strings, tables: panic messages, float tables, Unicode tables, texts)';
    if (/flt2dec|dec2flt|f64 as core.*(Display|Debug|LowerExp|FromStr)|f32 as core|num::bignum|fmt::float|grisu|dragon/i.test(n)) return 'float formatting + parsing (core::num)';
    if (/unicode|to_lowercase|to_uppercase|is_alphanumeric|is_alphabetic|conversions|char.*escape|EscapeDebug/.test(n)) return 'Unicode tables + case mapping (core/alloc)';
    if (/core\[[0-9a-f]+\]::fmt|core::fmt|Formatter|Arguments|fmt::write|pad_integral|Display>::fmt|Debug>::fmt/.test(n)) return 'core::fmt (format!, Display, Debug)';
    if (/panic|slice_error_fail|str_index|unwrap_failed|expect_failed|assert/.test(n)) return 'panic paths';
    if (/dlmalloc|__rdl_|__rust_alloc|__rust_dealloc|__rust_realloc|alloc::raw_vec|RawVec|finish_grow/.test(n)) return 'allocator + Vec growth';
    let m = /nemo_video::core::(\w+)/.exec(n);
    if (m) return `nemo_video::core::${m[1]}`;
    m = /nemo_decode::(\w+)/.exec(n);
    if (m) return `nemo_decode::${m[1]} (opt-level 3)`;
    m = /nemo_video::wasm::(\w+)/.exec(n);
    if (m) return `nemo_video::wasm::${m[1]}`;
    if (/future_to_promise|wasm_bindgen_futures|js_sys::futures/.test(n)) return 'async state machines (future_to_promise: our async fns inlined)';
    if (/shim|externref|wasm_bindgen|js_sys|web_sys|__wbg|__wbindgen|describe/.test(n)) return 'wasm-bindgen glue + shims';
    if (/memchr/.test(n)) return 'memchr';
    if (/compiler_builtins|memcpy|memset|memmove|memcmp/.test(n)) return 'compiler builtins';
    if (/^code\[|^elem|^table|^type|^import|^export|^global|^memory/.test(n)) return 'wasm sections (types, imports, exports, table)';
    return 'other (alloc, core, std)';
  };
  let total = 0;
  for (const r of rows.items ?? rows) {
    const name = r.name;
    const size = r.shallow_size;
    const g = owner(name);
    if (g === null) continue;
    total += size;
    groups.set(g, (groups.get(g) ?? 0) + size);
  }
  const top = (rows.items ?? rows)
    .filter((r) => owner(r.name) !== null)
    .slice(0, 15)
    .map((r) => ({ name: r.name.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, ''), bytes: r.shallow_size }));
  breakdown = {
    file: relative(ROOT, named), // repository-relative: no machine's path in BENCHMARKS.json
    totalWithoutNames: total,
    groups: [...groups].map(([group, bytes]) => ({ group, bytes })).sort((a, b) => b.bytes - a.bytes),
    top,
  };
}
emit({ section: 'size', ours, peers, breakdown });
