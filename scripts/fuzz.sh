#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time each (default 60 s).
# `-s none`: no AddressSanitizer; the crate forbids unsafe code, so the
# sanitizer would only slow the search (about 5x here).
#   scripts/fuzz.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds=${1:-60}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet 2>/dev/null || cargo install cargo-fuzz --quiet
fi
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
cd fuzz
for target in $(cargo +nightly fuzz list); do
  echo "fuzz: $target for ${seconds}s"
  cargo +nightly fuzz run -s none "$target" -- -max_total_time="$seconds" -print_final_stats=1 2>&1 |
    grep -E 'stat::number_of_executed_units|Done|ERROR|panicked' || true
  # cargo fuzz exits non-zero on a crash; re-check artifacts to fail loudly.
  if ls artifacts/"$target"/crash-* >/dev/null 2>&1; then
    echo "fuzz: $target found a crash: $(ls artifacts/"$target"/crash-*)" >&2
    exit 1
  fi
done
