#!/usr/bin/env bash
# pymodbus from Debian (python3-pymodbus 3.0.x): the independent Modbus peer of the interop tests
# (test/peers/pymodbus_server.py). Debian's own interpreter runs it: the pyenv `python3` first on PATH
# on dev machines does not see Debian's dist-packages.
# Usage: pymodbus.sh install|status|python   (python prints the interpreter path on stdout)
#        start|stop|wait are accepted and do nothing (the tests start their own peers), so the script can
#        sit in infra.sh's SERVICES list like the servers.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PY=/usr/bin/python3
# python3-serial(-asyncio): the RTU server over a serial line (the socat pty test); without them
# pymodbus imports fine but StartAsyncSerialServer fails at run time. python3-serial (pyserial) is also the
# serial collector's meter peer (test/peers/serial_meter.py).
PACKAGES=(python3-pymodbus python3-serial python3-serial-asyncio)

check() { [[ -x $PY ]] && "$PY" -c 'import pymodbus, serial, serial_asyncio' 2>/dev/null; }

case "${1:-}" in
  install)
    # socat makes the pty pair that stands in for an RS485 line in the RTU and serial collector tests.
    if ! check || ! command -v socat >/dev/null; then apt_install "${PACKAGES[@]}" socat; fi
    check || die "pymodbus still not importable by $PY after install"
    log "pymodbus $("$PY" -c 'import pymodbus; print(pymodbus.__version__)') ready ($PY)"
    ;;
  status)
    if check; then log "pymodbus $("$PY" -c 'import pymodbus; print(pymodbus.__version__)') installed"; else
      log "pymodbus not installed (run: $0 install)"; exit 1; fi
    ;;
  python) echo "$PY" ;;
  start | stop | wait) : ;;
  *) die "usage: $0 install|status|python|start|stop|wait" ;;
esac
