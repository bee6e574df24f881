#!/usr/bin/env bash
# Starts or stops a background nemo-emulator for tests and the demo.
#   scripts/emulator.sh start [extra flags…]   → prints its base URL
#   scripts/emulator.sh stop
# State lives in .emulator/ (pid, url, log).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.emulator
mkdir -p "$dir"
bin=target/release/nemo-emulator

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
    echo "usage: $0 start [flags…] | stop" >&2
    exit 2
    ;;
esac
