#!/usr/bin/env bash
# Rule "the repository stands alone": no tracked file may refer to anything
# outside the repository. A fork or a fresh clone must build, test and read
# without the folder that facts once arrived in, and without the machine the
# files were written on. Checked by `make test` (seconds).
#
# Refused in any tracked file:
#   - the facts folder beside the checkout (a relative path up and into it);
#   - the absolute path of the checkout's parent folder (e.g. the workspace
#     all checkouts live in on the machine it was written on);
#   - the home directory of whoever runs this (a path under it is one
#     machine's; synthetic examples such as /home/u/… in tests are fine).
# Fine: scripts' own temporary folders (/tmp/…), system paths (/usr/bin/…),
# and paths relative to the repository.
set -uo pipefail
cd "$(dirname "$0")/.."

# Built from parts so that this file does not match its own rule.
up='\.\.'
patterns=("$up/shared\b")
parent=$(cd .. && pwd -P)
# The parent is worth checking only when it is a specific folder, not / itself.
[ "$parent" != / ] && patterns+=("$(printf '%s' "$parent" | sed 's/[][\.*^$]/\\&/g')/")
if [ -n "${HOME:-}" ] && [ "$HOME" != / ]; then
  patterns+=("$(printf '%s' "$HOME" | sed 's/[][\.*^$]/\\&/g')/")
fi

args=()
for p in "${patterns[@]}"; do args+=(-e "$p"); done
# Lock files hold registry URLs and checksums only; the guard skips them so a
# dependency named like a path cannot trip it.
hits=$(git grep -n -I -E "${args[@]}" -- . ':!*.lock' ':!**/package-lock.json' 2>/dev/null)
if [ -n "$hits" ]; then
  echo "rule \"the repository stands alone\" broken: these tracked lines refer to something outside the repository"
  echo "(the facts folder beside the checkout, or an absolute path of one machine):"
  echo "$hits" | head -20
  echo "Copy the data into the repository (tests/fixtures/...) or write the text in your own words (docs/), and refer to it by a repository-relative path."
  exit 1
fi
echo "the repository stands alone: no tracked file refers outside it"
