#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time each (default 60 s).
# `-s none`: no AddressSanitizer; the crate forbids unsafe code, so the
# sanitizer would only slow the search (about 5x here).
#   scripts/fuzz.sh [seconds] [target…]
# Each run's figures are appended to target/reliability/fuzz.tsv
# (target, seconds, runs, crashes, date), which `make reliability` reads.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds=${1:-60}
shift || true
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet 2>/dev/null || cargo install cargo-fuzz --quiet
fi
# cargo fuzz needs nightly-only flags. Use the nightly toolchain when the
# machine has one; otherwise the stable compiler with RUSTC_BOOTSTRAP=1 (a
# new machine may have only one toolchain and no way to fetch another).
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz_cargo=(cargo +nightly)
else
  echo "fuzz: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1"
  export RUSTC_BOOTSTRAP=1
  fuzz_cargo=(cargo)
fi
record=$PWD/target/reliability/fuzz.tsv
mkdir -p "$(dirname "$record")"
cd fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <("${fuzz_cargo[@]}" fuzz list)
for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s"
  log=$(mktemp)
  "${fuzz_cargo[@]}" fuzz run -s none "$target" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || true
  grep -E 'stat::number_of_executed_units|Done|ERROR|panicked' "$log" || true
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
  rm -f "$log"
  # cargo fuzz exits non-zero on a crash; re-check artifacts to fail loudly.
  if ls artifacts/"$target"/crash-* >/dev/null 2>&1; then
    printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$seconds" "${runs:-0}" 1 "$(date -u +%F)" >>"$record"
    echo "fuzz: $target found a crash: $(ls artifacts/"$target"/crash-*)" >&2
    exit 1
  fi
  if [ -z "$runs" ]; then
    echo "fuzz: $target did not run (no statistics printed)" >&2
    exit 1
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$seconds" "$runs" 0 "$(date -u +%F)" >>"$record"
done
