#!/usr/bin/env bash
# Runs the reliability suites (node:test, tests/reliability/*.test.mjs)
# against a private emulator instance (.emulator/reliability/), so that the
# faults they inject never reach other suites' emulator.
#   tests/reliability/run.sh          CI size (the soak is 20 sessions × 5 turns)
#   tests/reliability/run.sh soak     only the soak, full size (200 × 20)
# Results land in target/reliability/*.json; tests/reliability/report.mjs
# turns them into RELIABILITY.md (`make reliability`).
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
mode=${1:-ci}
mkdir -p target/reliability
# The package under test: a Node build of this crate (fast when cached).
wasm-pack --quiet build --release --target nodejs --out-dir target/reliability-pkg --no-pack >/dev/null || exit 1
[ -x target/release/nemo-emulator ] || cargo build --release -q -p nemo-emulator || exit 1
url=$(RUST_LOG=nemo_emulator=debug,tower_http=debug EMU_NAME=reliability bash scripts/emulator.sh start \
  --speed 200 --tokens-per-ip 1000000 --credits 1000000000) || exit 1
trap 'EMU_NAME=reliability bash scripts/emulator.sh stop' EXIT
export NEMO_EMULATOR_URL=$url NEMO_EMULATOR_LOG=$PWD/.emulator/reliability/log
echo "reliability: emulator at $url"

if [ "$mode" = soak ]; then
  files=(tests/reliability/soak.test.mjs)
  export SOAK_SESSIONS=${SOAK_SESSIONS:-200} SOAK_TURNS=${SOAK_TURNS:-20}
else
  files=(tests/reliability/*.test.mjs)
fi
status=0
for f in "${files[@]}"; do
  # One file at a time: the suites share the emulator's global fault queue.
  node --expose-gc --test --test-reporter=spec "$f" || status=1
done
exit $status
