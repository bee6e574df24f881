#!/usr/bin/env bash
# Builds the wasm once more with symbol names kept, for twiggy and profiles:
# the same release profile as the package (opt-level z, LTO, panic=abort),
# then wasm-bindgen and wasm-opt -Oz with -g (names kept), into
# target/bench-named/. Its own target dir, so the package build is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR=target/bench
CARGO_PROFILE_RELEASE_STRIP=false cargo build --quiet --release --lib --target wasm32-unknown-unknown
out=target/bench-named
rm -rf "$out"
wasm-bindgen --target web --out-dir "$out" --out-name nemo_video "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/nemo_video.wasm"
wasm-opt -Oz --converge -g --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
  "$out/nemo_video_bg.wasm" -o "$out/named.wasm"
# The named build also runs: same glue, names kept (for CPU profiles).
cp "$out/named.wasm" "$out/nemo_video_bg.wasm"
echo "bench: named wasm in $out/named.wasm ($(wc -c <"$out/named.wasm") B with the name section)"
