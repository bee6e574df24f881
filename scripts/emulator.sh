#!/usr/bin/env bash
# Starts or stops a background nemo-emulator for tests and the demo.
#   scripts/emulator.sh start [extra flags…]   → prints its base URL
#   scripts/emulator.sh stop
# State lives in .emulator/ (pid, url, log).
#
# Several emulators can run side by side: EMU_NAME=soak scripts/emulator.sh
# start … keeps its state in .emulator/soak/ instead, and stop with the same
# EMU_NAME stops only that one.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.emulator
if [ -n "${EMU_NAME:-}" ]; then
  case "$EMU_NAME" in
    *[!A-Za-z0-9_-]*)
      echo "EMU_NAME must be letters, digits, '-' or '_'" >&2
      exit 2
      ;;
  esac
  dir=.emulator/$EMU_NAME
fi
mkdir -p "$dir"
bin="${CARGO_TARGET_DIR:-target}/release/nemo-emulator"

case "${1:-}" in
  start)
    shift
    [ -x "$bin" ] || cargo build --release -q -p nemo-emulator
    "$0" stop >/dev/null 2>&1 || true
    : >"$dir/log"
    "$bin" --port 0 "$@" >"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 200); do
      url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$dir/log" | head -1 || true)
      if [ -n "$url" ]; then
        echo "$url" >"$dir/url"
        echo "$url"
        exit 0
      fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
      sleep 0.1
    done
    echo "emulator did not start; its log:" >&2
    cat "$dir/log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/pid" ]; then
      kill "$(cat "$dir/pid")" 2>/dev/null || true
      rm -f "$dir/pid" "$dir/url"
    fi
    ;;
  *)
    echo "usage: [EMU_NAME=name] $0 start [flags…] | stop" >&2
    exit 2
    ;;
esac
