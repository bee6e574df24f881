#!/usr/bin/env bash
# Every test, in the order a failure is cheapest to see. Called by `make test`
# and therefore by CI (.ci/run). Prints a closing "N passed, N failed" line.
#
#   scripts/test-all.sh            every layer (make test)
#   scripts/test-all.sh rust       repository checks, native tests, lint, fuzz smoke (make test-rust)
#   scripts/test-all.sh wasm       the wasm suites in Node and Chromium (make test-wasm)
#   scripts/test-all.sh js         npm package, demo page e2e, reliability, bench smoke (make test-js)
set -uo pipefail
layer=${1:-all}
case "$layer" in all | rust | wasm | js) ;; *)
  echo "usage: $0 [all|rust|wasm|js]" >&2
  exit 2
  ;;
esac
runs() { [ "$layer" = all ] || [ "$layer" = "$1" ]; }
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
mkdir -p tests/artifacts

passed=0
failed=0
failures=()
step() {
  local name=$1
  shift
  echo
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
  fi
}
cleanup() { bash scripts/emulator.sh stop >/dev/null 2>&1 || true; }
trap cleanup EXIT

# 0. Repository checks, native tests, lint, fuzz smoke: no emulator, no browser.
rust_layer() {
  # The repository stands alone (no reference to anything outside it).
  step "repository stands alone" bash scripts/check-standalone.sh

  # The sans-IO core (unit + property tests) and the emulator's HTTP tests.
  step "core + emulator (cargo test)" cargo test --workspace --quiet

  # Formatting, clippy with warnings as errors (natively and for the wasm
  # shell, which only compiles for wasm32), and the docs' links.
  lint() {
    cargo fmt --all -- --check &&
      cargo clippy --workspace --all-targets --quiet -- -D warnings &&
      cargo clippy --target wasm32-unknown-unknown --lib --tests --quiet -- -D warnings &&
      RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet &&
      RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet --target wasm32-unknown-unknown -p nemo-video
  }
  step "lint (rustfmt, clippy and rustdoc -D warnings)" lint

  # Each fuzz target for a bounded time (the long runs are `make fuzz`).
  step "fuzz smoke" bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
}

# 1. The wasm suites against a running emulator, in Node and headless Chromium.
wasm_layer() {
  cargo build --release -q -p nemo-emulator
  local url
  url=$(bash scripts/emulator.sh start --speed 200) || {
    failed=$((failed + 1))
    failures+=("wasm: the emulator did not start")
    return
  }
  export NEMO_EMULATOR_URL="$url"
  echo "emulator at $url"
  # A browser run of one test binary must finish within this many seconds
  # (wasm-bindgen-test's default is 20 s for the whole binary; the client flows
  # render real MP4s with ffmpeg and take about 20 s).
  export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
  step "wasm (Node)" wasm-pack test --node
  # The suites pin no mode, so the browser run is asked for explicitly.
  step "wasm (Chromium)" env WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome
  bash scripts/emulator.sh stop >/dev/null 2>&1 || true
}

# 2. The JS layer: each suite starts its own emulator(s) on loopback.
js_layer() {
  cargo build --release -q -p nemo-emulator

  # The npm package (tests/package/, node:test): pkg/ is rebuilt (cargo is
  # incremental), then the packed tarball is installed into temp projects and
  # used from Node ESM, tsc --strict, a Vite build in Chromium, an MV3
  # extension service worker (initSync), the CLI's generate and a chat driven
  # through a pty.
  step "npm package build (make pkg)" bash scripts/build-pkg.sh
  # The gzipped wasm may not grow more than 2 KiB over pkg-size.txt.
  step "size guard (wasm gzip vs pkg-size.txt)" bash scripts/check-size.sh
  step "npm package (Node, tsc, Vite, MV3, CLI)" node --test --test-concurrency=1 tests/package/*.test.mjs

  # The demo page end to end (playwright-core + Debian Chromium, tests/e2e/).
  # Each test file starts its own emulator with --www www, so faults and speed
  # changes stay local to it; the page loads the built package from www/pkg/.
  [ -f www/pkg/index.js ] || bash scripts/build-pkg.sh
  step "demo page e2e (Chromium)" bash -c 'cd tests && node --test --test-concurrency=1 --test-reporter=spec e2e/'

  # Reliability (Node): fault matrix, bad inputs, downloads, token hygiene and
  # a CI-size soak, on a private emulator instance (the full soak: make soak).
  step "reliability (Node)" bash tests/reliability/run.sh

  # The package against a real Google ADK server (the backend nobody here
  # wrote): tests/adk/run.sh starts `adk api_server` from .venv-adk/ with the
  # scripted agent of tests/adk/agents/, runs the suite in Node and Chromium,
  # and stops the server by its PID even on failure.
  step "ADK conformance (Node + Chromium)" bash tests/adk/run.sh

  # Benchmark harness smoke: tiny inputs, never asserts a time (the real
  # figures are `make bench`). Needs bench/node_modules (`make bench-deps`).
  if [ -d bench/node_modules ]; then
    step "bench harness smoke" node bench/run.mjs --smoke
  else
    echo
    echo "=== bench harness smoke: skipped (run \`make bench-deps\` once to enable)"
  fi
}

runs rust && rust_layer
runs wasm && wasm_layer
runs js && js_layer

echo
echo "=== summary"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
