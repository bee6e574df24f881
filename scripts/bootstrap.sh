#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: installs only what is missing and says
# what it does. Safe to run again and again (it is the first step of `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1mbootstrap:\033[0m %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
export PATH="$HOME/.cargo/bin:$PATH"

SUDO=""
if [ "$(id -u)" != 0 ] && have sudo; then SUDO="sudo"; fi

# --- Debian packages: Chromium + driver for browser tests, ffmpeg for renders.
missing_apt=()
have chromium || missing_apt+=(chromium)
have chromedriver || missing_apt+=(chromium-driver)
have ffmpeg || missing_apt+=(ffmpeg)
have ffprobe || missing_apt+=(ffmpeg)
# The package tests drive the CLI's chat through a pseudo-terminal (python3 pty).
have python3 || missing_apt+=(python3)
# Fonts for titles drawn by the emulator's renders (Latin and CJK).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || missing_apt+=(fonts-dejavu-core)
fc-list :lang=zh 2>/dev/null | grep -q . || missing_apt+=(fonts-wqy-zenhei)
if [ ${#missing_apt[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing_apt[@]}" >/dev/null
else
  say "chromium, chromedriver, ffmpeg, fonts: present"
fi

# --- Rust: wasm target, wasm-pack (wasm-bindgen-cli is built by wasm-pack on demand).
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
else
  say "wasm32-unknown-unknown target: present"
fi
# clippy and rustfmt for the lint step of `make test` (rustup's minimal
# profile leaves them out).
for component in clippy rustfmt; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    say "adding Rust component $component"
    rustup component add "$component"
  fi
done
if ! have wasm-pack; then
  say "installing wasm-pack (compiles from crates.io, ~2 min)"
  cargo install wasm-pack --locked --quiet
else
  say "wasm-pack: present"
fi

# wasm-pack cannot download wasm-bindgen-cli here, so build the exact version
# Cargo.lock pins, once, and put it on PATH (wasm-pack uses a PATH binary whose
# version matches).
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock 2>/dev/null || true)
if [ -n "$WB_VERSION" ]; then
  if ! have wasm-bindgen || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WB_VERSION" ]; then
    say "installing wasm-bindgen-cli $WB_VERSION (~2.5 min)"
    # --locked can name a dependency version the registry mirror lacks; fall back.
    cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked --quiet --force 2>/dev/null ||
      cargo install wasm-bindgen-cli --version "$WB_VERSION" --quiet --force
  else
    say "wasm-bindgen-cli $WB_VERSION: present"
  fi
fi

# --- wasm-opt from npm's binaryen (wasm-pack cannot download it here).
if ! have wasm-opt; then
  say "installing wasm-opt (npm i -g binaryen)"
  npm i -g binaryen --silent --no-fund --no-audit
else
  say "wasm-opt: present"
fi

# --- npm dev dependencies of the test harness.
if [ -f tests/package.json ]; then
  if [ ! -d tests/node_modules ] || [ tests/package.json -nt tests/node_modules/.installed ]; then
    say "installing npm dev dependencies (tests/)"
    (cd tests && npm install --no-fund --no-audit --silent && touch node_modules/.installed)
  else
    say "npm dev dependencies: present"
  fi
fi
# --- A real Google ADK server for the conformance suite (tests/adk/): PyPI
# google-adk, pinned, in a git-ignored virtual environment inside the
# repository (.venv-adk/). Skipped when that version is already there.
ADK_VERSION=2.13.0
ADK_VENV=.venv-adk
adk_installed() {
  "$ADK_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("google-adk"))' 2>/dev/null
}
if [ -x "$ADK_VENV/bin/adk" ] && [ "$(adk_installed)" = "$ADK_VERSION" ]; then
  say "google-adk $ADK_VERSION ($ADK_VENV): present"
else
  # Debian ships the venv module (with ensurepip) as a separate package.
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    say "installing Debian package python3-venv"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  # A venv left half-made by an interrupted run is made again.
  if [ ! -x "$ADK_VENV/bin/python" ] || ! "$ADK_VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    say "creating $ADK_VENV (python3 -m venv)"
    rm -rf "$ADK_VENV"
    python3 -m venv "$ADK_VENV"
  fi
  say "installing google-adk==$ADK_VERSION into $ADK_VENV (~1 min)"
  PIP_NO_INPUT=1 "$ADK_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "google-adk==$ADK_VERSION" </dev/null
  [ "$(adk_installed)" = "$ADK_VERSION" ] || {
    echo "bootstrap: google-adk $ADK_VERSION did not install into $ADK_VENV" >&2
    exit 1
  }
fi

# --- npm dev dependencies of the benchmarks (the peers): only for `make bench`
# (NEMO_BENCH=1), so `make test` stays fast.
if [ "${NEMO_BENCH:-}" = 1 ] && [ -f bench/package.json ]; then
  if [ ! -d bench/node_modules ] || [ bench/package.json -nt bench/node_modules/.installed ]; then
    say "installing the benchmark peers (bench/)"
    (cd bench && npm install --no-fund --no-audit --silent && touch node_modules/.installed)
  else
    say "benchmark peers: present"
  fi
fi
say "done"
