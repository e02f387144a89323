#!/usr/bin/env bash
# Installs everything the tests need and runs the whole suite:
#   Node 24 (scripts/env.sh), npm packages (lockfile), Debian packages for the real servers the
#   tests start on loopback (docker-registry, skopeo, redis-server, apache2-utils for htpasswd,
#   openssl, chromium, and Go 1.19 when ../shared is present), the AT Protocol PDS + PLC test services (their own lockfile), then
#   typecheck, lint, unit/e2e tests (node:test), and the interop runner over ../shared/interop/*.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh || exit 1

step() { printf '\n== %s\n' "$*"; }

step "system packages"
need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
command -v redis-server >/dev/null || need+=(redis-server)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v openssl >/dev/null || need+=(openssl)
# headless browser for the public verification page test (driven by playwright-core)
command -v chromium >/dev/null || need+=(chromium)
# Go for ../shared/tools/rego (the real Rego engine the Gatekeeper template suite runs)
[ -d ../shared/tools/rego ] && ! command -v go >/dev/null && [ ! -x /usr/lib/go-1.19/bin/go ] && need+=(golang-1.19-go)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need[@]}" >/tmp/vouch-apt.log 2>&1 \
    || { apt-get update -qq >>/tmp/vouch-apt.log 2>&1 && apt-get install -y -q "${need[@]}" >>/tmp/vouch-apt.log 2>&1; } \
    || { echo "apt-get install ${need[*]} failed:"; tail -5 /tmp/vouch-apt.log; exit 1; }
fi

step "npm packages and build"
bash scripts/setup.sh || exit 1
if [ -x test/services/atproto/install.sh ]; then
  test/services/atproto/install.sh || { echo "installing the AT Protocol test services failed"; exit 1; }
fi

failed=0
step "typecheck"
npx tsc -p tsconfig.json --noEmit || failed=1
step "lint"
npx biome check src test bench release || failed=1

step "tests"
# every test file, two at a time (2 cores); each file starts and stops its own servers
mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
node --import tsx --test --test-concurrency=2 --test-timeout=180000 --test-reporter=spec "${files[@]}" || failed=1

step "interop"
node --import tsx test/interop/ci.ts ../shared/interop || failed=1

exit $failed
