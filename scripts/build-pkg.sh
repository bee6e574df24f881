#!/usr/bin/env bash
# Builds the npm package into pkg/ (and a copy in www/pkg/ for the demo page).
#   1. one wasm-pack build (--release --target web: opt-level z, LTO,
#      panic=abort and wasm-opt -Oz are set in Cargo.toml) into a staging dir;
#   2. pkg/ is assembled from the staging dir and pkg-templates/
#      (pkg-templates/assemble.mjs: fills in the version and the snippet path
#      of the error classes, and checks the entry points and the types);
#   3. `npm pack` makes the tarball; its size and the gzip -9 size of the wasm
#      and JS are printed and written to target/pkg-size.txt, which the size
#      guard (scripts/check-size.sh) compares with the record in pkg-size.txt
#      (`make size-accept` updates the record).
# Env: NEMO_PKG_REUSE_WASM=1 skips step 1 when the staging dir exists
# (template-only changes).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

stage=target/pkg-stage
out=pkg
version=$(awk -F'"' '/^version *=/{print $2; exit}' Cargo.toml)

if [ "${NEMO_PKG_REUSE_WASM:-}" = 1 ] && [ -f "$stage/nemo_video_bg.wasm" ]; then
  echo "build-pkg: reusing $stage (NEMO_PKG_REUSE_WASM=1)"
else
  echo "build-pkg: wasm-pack build --release --target web (nemo-video $version)"
  rm -rf "$stage"
  wasm-pack --quiet build --release --target web --no-pack --out-dir "$stage" --out-name nemo_video . 2>&1 |
    grep -v 'target_features. custom section is missing' || true
  [ -f "$stage/nemo_video_bg.wasm" ] || { echo "build-pkg: wasm-pack produced no wasm" >&2; exit 1; }
fi

node pkg-templates/assemble.mjs "$stage" "$out" "$version"

# The tarball, and the sizes.
mkdir -p target/npm
rm -f target/npm/nemo-video-*.tgz
tarball=$(cd "$out" && npm pack --silent --pack-destination ../target/npm 2>/dev/null | tail -1)
tarball="target/npm/$tarball"
[ -f "$tarball" ] || { echo "build-pkg: npm pack failed" >&2; exit 1; }

gz() { gzip -9c "$@" | wc -c | tr -d ' '; }
raw() { cat "$@" | wc -c | tr -d ' '; }
wasm="$out/nemo_video_bg.wasm"
js_files=("$out/index.js" "$out/nemo_video.js" "$out"/snippets/*/src/wasm/glue.js)
node_files=("$out/node.js")
wasm_gz=$(gz "$wasm")
js_gz=$(gz "${js_files[@]}")
both_gz=$(cat "$wasm" "${js_files[@]}" | gzip -9c | wc -c | tr -d ' ')
min_line=""
esbuild=tests/node_modules/.bin/esbuild
if [ -x "$esbuild" ]; then
  # What an app ships: the browser entry bundled and minified (esbuild, from vite).
  min_gz=$("$esbuild" "$out/index.js" --bundle --minify --format=esm --log-level=error | gzip -9c | wc -c | tr -d ' ')
  min_line="browser entry bundled + minified (esbuild), gzip -9: $min_gz B; + wasm: $((wasm_gz + min_gz)) B"
fi
{
  echo "nemo-video $version package size ($(date -u +%Y-%m-%d))"
  echo "wasm: $(raw "$wasm") B raw, $wasm_gz B gzip -9"
  echo "browser JS (index.js + nemo_video.js + glue.js): $(raw "${js_files[@]}") B raw, $js_gz B gzip -9"
  echo "wasm + browser JS, gzip -9 (each file): $((wasm_gz + js_gz)) B; as one stream: $both_gz B"
  [ -n "$min_line" ] && echo "$min_line"
  echo "node.js: $(raw "${node_files[@]}") B raw; cli.js: $(raw "$out/cli.js") B raw"
  echo "npm pack tarball ($(basename "$tarball")): $(raw "$tarball") B"
} | tee target/pkg-size.txt

# The demo page serves the package from www/pkg/ (same origin as the API).
if [ -d www ]; then
  rm -rf www/pkg
  cp -r "$out" www/pkg
  echo "build-pkg: copied $out/ to www/pkg/"
fi
echo "build-pkg: done: $out/ and $tarball"
