#!/usr/bin/env bash
# Chromium from Debian: the real browser the console's browser tests drive through playwright-core
# (playwright's own browser downloads come from a CDN this machine cannot reach).
# Usage: chromium.sh install|status|path   (path prints the executable on stdout)
#        start|stop|wait are accepted and do nothing (each test launches its own browser), so the script can
#        sit in infra.sh's PEERS list.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="${CHROMIUM_PATH:-/usr/bin/chromium}"

check() { [[ -x $BIN ]] && "$BIN" --version >/dev/null 2>&1; }

case "${1:-}" in
  install)
    check || apt_install chromium
    check || die "chromium still not runnable at $BIN after install"
    log "$("$BIN" --version 2>/dev/null) ready ($BIN)"
    ;;
  status)
    if check; then log "$("$BIN" --version 2>/dev/null) installed"; else
      log "chromium not installed (run: $0 install)"; exit 1; fi
    ;;
  path) echo "$BIN" ;;
  start | stop | wait) : ;;
  *) die "usage: $0 install|status|path|start|stop|wait" ;;
esac
