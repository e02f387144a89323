#!/usr/bin/env bash
# Installs the real AT Protocol servers used by vouch's ATProto end-to-end tests into
# test/services/atproto/node_modules (git-ignored): @atproto/pds 0.5.35 and @did-plc/server 0.0.1,
# pinned by package-lock.json. better-sqlite3 is lifted to 13.2.0 (prebuilt Node-API binary):
# 12.x built against Node >= 24.19 aborts in a GC finalizer. Idempotent; about 40-60 s cold.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck disable=SC1091
source "$root/scripts/env.sh"
cd "$here"
if [ -f node_modules/.vouch-installed ] && [ node_modules/.vouch-installed -nt package-lock.json ]; then
  exit 0
fi
# `npm install` follows package-lock.json like `npm ci`, and tolerates a registry that does not
# serve other platforms' optional binaries (see scripts/setup.sh)
npm install --no-audit --no-fund >install.log 2>&1 || { tail -20 install.log >&2; exit 1; }
node -e "new (require('better-sqlite3'))(':memory:').close()"
touch node_modules/.vouch-installed
