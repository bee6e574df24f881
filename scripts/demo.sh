#!/usr/bin/env bash
# The main job, end to end (`make demo`, after `make emulator pkg`):
#   1. nemo-emulator serves the demo page (www/, with the package in www/pkg/)
#      and the API on one origin;
#   2. a sample photo is made with ffmpeg in out/;
#   3. the CLI runs the quick flow: token → session → upload → "animate this
#      photo…" → export → out/clip.mp4, which ffprobe then checks;
#   4. the demo page URL is printed; on a terminal (and not in CI) the emulator
#      keeps serving until Ctrl-C, otherwise it stops and the script exits 0.
# The CLI keeps its client id and session under out/.config (not ~/.config).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export EMU_NAME=demo

[ -f pkg/cli.js ] || bash scripts/build-pkg.sh
if [ -d www ] && [ ! -f www/pkg/index.js ]; then
  rm -rf www/pkg
  cp -r pkg www/pkg
fi

www_flag=()
[ -d www ] && www_flag=(--www www)
URL=$(bash scripts/emulator.sh start --speed "${DEMO_SPEED:-200}" "${www_flag[@]}")
trap 'bash scripts/emulator.sh stop >/dev/null 2>&1 || true' EXIT
echo "demo: nemo-emulator at $URL"

mkdir -p out
ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=1080x1350:duration=1" -frames:v 1 out/photo.png
echo "demo: sample photo out/photo.png"

export XDG_CONFIG_HOME="$PWD/out/.config"
node pkg/cli.js generate --api "$URL" --image out/photo.png \
  "animate this photo into a cinematic video clip with camera movement" -o out/clip.mp4

echo "demo: ffprobe out/clip.mp4"
probe=$(ffprobe -v error -show_entries stream=codec_type,codec_name,width,height:format=duration \
  -of default=noprint_wrappers=1 out/clip.mp4)
echo "$probe" | sed 's/^/  /'
echo "$probe" | grep -q '^codec_name=h264$' || { echo "demo: out/clip.mp4 is not H.264" >&2; exit 1; }

echo
echo "demo: the clip is out/clip.mp4 ($(du -h out/clip.mp4 | cut -f1))"
echo "demo: demo page: $URL/"
if [ -t 0 ] && [ -z "${CI:-}" ]; then
  echo "demo: serving until Ctrl-C"
  pid=$(cat .emulator/demo/pid)
  trap 'echo; bash scripts/emulator.sh stop >/dev/null 2>&1 || true; exit 0' INT TERM
  while kill -0 "$pid" 2>/dev/null; do sleep 1; done
fi
