#!/usr/bin/env bash
# The size guard (a step of `make test`): the gzipped wasm of the package just
# built (target/pkg-size.txt, written by scripts/build-pkg.sh) may not grow
# more than 2 KiB over the figure recorded in pkg-size.txt. Unnoticed growth is
# how the wasm got big before: one `str::contains` once cost 5 KB. The same
# idea as the JS world's size-limit, for our wasm.
set -euo pipefail
cd "$(dirname "$0")/.."

record=pkg-size.txt
measured=target/pkg-size.txt
slack=${NEMO_SIZE_SLACK:-2048}

[ -f "$measured" ] || { echo "size guard: $measured is missing; run \`make pkg\` first" >&2; exit 1; }
[ -f "$record" ] || { echo "size guard: no record ($record); accept one with \`make size-accept\`" >&2; exit 1; }

# "wasm: 277361 B raw, 120107 B gzip -9"
wasm_gz() { awk '/^wasm:/{for (i = 1; i < NF; i++) if ($(i + 1) == "B" && $(i + 2) == "gzip") print $i}' "$1"; }
# "browser entry bundled + minified (esbuild), gzip -9: 9340 B; + wasm: 129447 B"
whole() { awk -F'[+] wasm: ' '/^browser entry bundled/{split($2, a, " "); print a[1]}' "$1"; }

was=$(wasm_gz "$record")
now=$(wasm_gz "$measured")
[ -n "$was" ] && [ -n "$now" ] || { echo "size guard: cannot read the wasm's gzip size from $record or $measured" >&2; exit 1; }
delta=$((now - was))
echo "size guard: wasm gzip -9 $now B (recorded $was B, ${delta#-} B $([ "$delta" -ge 0 ] && echo more || echo less); allowed growth $slack B)"
w=$(whole "$measured")
[ -n "$w" ] && echo "size guard: whole package (browser entry bundled + minified, + wasm, gzip -9): $w B; budget 102400 B (bench/BUDGETS.md)"

if [ "$delta" -gt "$slack" ]; then
  cat >&2 <<MSG
size guard: the gzipped wasm grew by $delta B, more than the $slack B allowed.
  See what grew: \`bash bench/build-named.sh\` builds the same wasm with names kept
  (target/bench-named/named.wasm); then \`twiggy top -n 30 target/bench-named/named.wasm\`
  (twiggy: \`cargo install twiggy\`), or build the named wasm of the previous commit too and
  \`twiggy diff old.wasm target/bench-named/named.wasm\`. The usual suspects: std string
  search (str::contains/find), float formatting or parsing, Debug derives, serde.
  Growth on purpose: \`make size-accept\` copies $measured over $record; commit it with
  the change that grew it, and say why in the commit message.
MSG
  exit 1
fi
if [ "$delta" -lt "-$slack" ]; then
  echo "size guard: the wasm shrank by ${delta#-} B; \`make size-accept\` records the new figure so growth is measured from here."
fi
