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
for tag in app web base; do
  run discover "oci:$layout:$tag"
done
run resolve "oci:$layout:app"
run discover "oci:$layout:app" -o json --depth 1

verify() {
  echo "\$ bin/vouch verify $*"
  rc=0
  bin/vouch verify "$@" || rc=$?
  case $rc in
    0) echo "(exit 0: allowed)";;
    1) echo "(exit 1: denied)";;
    *) echo "(exit $rc: the demo expected 0 or 1)"; exit 1;;
  esac
  echo
}

echo "== are they signed? (vouch verify against examples/notation, a notation config dir) =="
echo
for tag in app base; do
  verify --notation-dir examples/notation "oci:$layout:$tag"
done

echo "== is what is inside acceptable? (examples/vouch.yaml: signed image, signed clean report, signed SBOM) =="
echo
for tag in app web; do
  verify --config examples/vouch.yaml "oci:$layout:$tag"
done
