#!/usr/bin/env bash
# asyncua (FreeOpcUa, from PyPI) in the project venv: the independent OPC UA server of the interop test
# (test/peers/asyncua_server.py). Pinned: the test checks exact values and timestamps from this peer.
# Usage: asyncua.sh install|status|python   (python prints the venv interpreter path on stdout)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"

REQUIREMENT='asyncua==2.1.0'
PY="$GRIDSTREAM_HOME/venv/bin/python"

check() { [[ -x $PY ]] && "$PY" -c 'import asyncua' 2>/dev/null; }
version() { "$PY" -c 'from importlib.metadata import version; print(version("asyncua"))'; }

case "${1:-}" in
  install)
    "$HERE/python.sh" install "$REQUIREMENT" >/dev/null
    check || die "asyncua still not importable by $PY after install"
    log "asyncua $(version) ready ($PY)"
    ;;
  status)
    if check; then log "asyncua $(version) installed"; else
      log "asyncua not installed (run: $0 install)"; exit 1; fi
    ;;
  python) echo "$PY" ;;
  *) die "usage: $0 install|status|python" ;;
esac
