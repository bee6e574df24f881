#!/usr/bin/env bash
# Every test, in the order a failure is cheapest to see. Called by `make test`
# and therefore by CI (.ci/run). Prints a closing "N passed, N failed" line.
set -uo pipefail
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

# 1. Native: the sans-IO core (unit + property tests) and the emulator's HTTP tests.
step "core + emulator (cargo test)" cargo test --workspace --quiet

# 2. Fuzz smoke: each target for a bounded time (the long runs are `make fuzz`).
step "fuzz smoke" bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

# 3. wasm: against a running emulator, in Node and in headless Chromium.
cargo build --release -q -p nemo-emulator
EMU_URL=$(bash scripts/emulator.sh start --speed 200) || exit 1
export NEMO_EMULATOR_URL="$EMU_URL"
echo "emulator at $EMU_URL"
step "wasm (Node)" wasm-pack --quiet test --node
# The suites pin no mode, so the browser run is asked for explicitly.
step "wasm (Chromium)" env WASM_BINDGEN_USE_BROWSER=1 wasm-pack --quiet test --headless --chrome

echo
echo "=== summary"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
