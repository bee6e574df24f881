#!/usr/bin/env bash
# Starts or stops a background Google ADK server (`adk api_server`, PyPI
# google-adk pinned in scripts/bootstrap.sh, installed in .venv-adk/) serving
# the scripted, LLM-free agent of tests/adk/agents/ as the app "nemo_agent".
#   scripts/adk.sh start   → prints its base URL (http://127.0.0.1:<port>)
#   scripts/adk.sh stop
#
# It listens on loopback only, on a free port, with in-memory session and
# artifact services (nothing is written to disk; the agent calls no model,
# so nothing beyond loopback is needed). ADK_ALLOW_ORIGINS (space-separated origins) becomes one
# `--allow_origins` each, for browser pages on other origins. State lives in
# target/adk/ (pid, url, port, log); `stop` kills exactly the PID it started.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/adk
venv=${ADK_VENV:-.venv-adk}
mkdir -p "$dir"

answers() { curl -fsS -m 2 -o /dev/null "$1/list-apps" 2>/dev/null; }

case "${1:-}" in
  start)
    if [ ! -x "$venv/bin/adk" ]; then
      echo "$venv/bin/adk is missing: run scripts/bootstrap.sh" >&2
      exit 1
    fi
    # Idempotent: a fresh start replaces what an earlier one left running.
    "$0" stop >/dev/null 2>&1 || true
    port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    origins=()
    for o in ${ADK_ALLOW_ORIGINS:-}; do origins+=(--allow_origins "$o"); done
    : >"$dir/log"
    # No .pyc files in the source tree; no telemetry export; a fixed app name.
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 OTEL_SDK_DISABLED=true \
      "$venv/bin/adk" api_server \
      --host 127.0.0.1 --port "$port" --no-reload \
      --session_service_uri memory:// --artifact_service_uri memory:// \
      --memory_service_uri memory:// \
      --log_level "${ADK_LOG_LEVEL:-warning}" \
      "${origins[@]}" \
      tests/adk/agents >"$dir/log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    url="http://127.0.0.1:$port"
    for _ in $(seq 1 300); do
      if answers "$url"; then
        echo "$url" >"$dir/url"
        echo "$port" >"$dir/port"
        echo "$url"
        exit 0
      fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
      sleep 0.1
    done
    echo "the ADK server did not start; its log:" >&2
    cat "$dir/log" >&2
    "$0" stop >/dev/null 2>&1 || true
    exit 1
    ;;
  stop)
    if [ -f "$dir/pid" ]; then
      pid=$(cat "$dir/pid")
      # Only the server this script started (a stale file may name a PID
      # that was reused since).
      if ps -o args= -p "$pid" 2>/dev/null | grep -q 'adk api_server' && kill "$pid" 2>/dev/null; then
        # Up to 5 s for a clean exit, then SIGKILL (that PID only).
        for _ in $(seq 1 50); do
          kill -0 "$pid" 2>/dev/null || break
          sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
      fi
      rm -f "$dir/pid" "$dir/url" "$dir/port"
    fi
    ;;
  *)
    echo "usage: $0 start | stop   (env: ADK_ALLOW_ORIGINS, ADK_VENV, ADK_LOG_LEVEL)" >&2
    exit 2
    ;;
esac
