#!/usr/bin/env bash
# Installs what vouch needs to run from a checkout: Node 24 LTS when the system's is older,
# the locked npm packages, and the compiled CLI (dist/).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
stamp=node_modules/.vouch-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ "$(cat "$stamp")" != "$(node --version)" ]; then
  # `npm install` (not `npm ci`): it installs the locked versions all the same, and tolerates a
  # registry that does not serve other platforms' optional binaries (biome, cbor-extract), which
  # are then absent from the lockfile and make `npm ci` refuse it as "out of sync".
  npm install --no-audit --no-fund --loglevel=error
  node --version > "$stamp"
fi
npm run -s build
