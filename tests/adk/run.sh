#!/usr/bin/env bash
# The ADK conformance suite: the built package (pkg/) in Node and in headless
# Chromium against a real Google ADK server (`adk api_server`, google-adk
# pinned in scripts/bootstrap.sh) serving the scripted, LLM-free agent of
# tests/adk/agents/. Starts the server (scripts/adk.sh), runs
# tests/adk/*.test.mjs, and stops the server by its PID even when a test fails.
#   bash tests/adk/run.sh                 both files
#   bash tests/adk/run.sh node.test.mjs   one of them
set -uo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x .venv-adk/bin/adk ]; then
  echo "adk: .venv-adk/ is missing: run scripts/bootstrap.sh" >&2
  exit 1
fi
if [ ! -f pkg/node.js ] || [ ! -f pkg/index.js ]; then
  bash scripts/build-pkg.sh || exit 1
fi
if [ ! -d tests/node_modules/playwright-core ]; then
  echo "adk: tests/node_modules/playwright-core is missing: run scripts/bootstrap.sh" >&2
  exit 1
fi

# The Chromium test page's origin is the one ADK allows (--allow_origins);
# a second page on another port is the refused origin.
page_port=$(.venv-adk/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export ADK_ALLOW_ORIGINS="http://127.0.0.1:$page_port"
url=$(bash scripts/adk.sh start) || exit 1
trap 'bash scripts/adk.sh stop' EXIT
export NEMO_ADK_URL=$url NEMO_ADK_PAGE_PORT=$page_port
echo "adk: google-adk $(.venv-adk/bin/adk --version | awk '{print $NF}') at $url; test page origin $ADK_ALLOW_ORIGINS"

if [ $# -gt 0 ]; then
  files=()
  for f in "$@"; do files+=("tests/adk/${f#tests/adk/}"); done
else
  files=(tests/adk/node.test.mjs tests/adk/chromium.test.mjs)
fi
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
