#!/usr/bin/env bash
# The demo: what vouch finds attached to the example images in the embedded OCI layout
# (examples/layout, see examples/README.md). Builds nothing: run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

layout=examples/layout
run() { echo "\$ bin/vouch $*"; bin/vouch "$@"; echo; }

echo "== the artifacts attached to the example images (vouch discover) =="
echo
for tag in app base; do
  run discover "oci:$layout:$tag"
done
run resolve "oci:$layout:app"
run discover "oci:$layout:app" -o json --depth 1
