#!/usr/bin/env bash
# A project-local Python venv for protocol peers and emulators from PyPI (moto, asyncua, ...).
# Usage: python.sh [install <pip requirement>...]   -> prints the venv's python path on stdout
#   e.g. PY="$(deploy/local/python.sh install 'moto[server]==5.1.0')"; "$PY" -m moto.server ...
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VENV="$GRIDSTREAM_HOME/venv"
# Debian's interpreter by default: the pyenv `python3` first on PATH on dev machines is not
# guaranteed to exist everywhere (override with PYTHON=...).
PYTHON="${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}"

if [[ ! -x $VENV/bin/python ]]; then
  # Debian splits venv/ensurepip into python3-venv.
  "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
  log "creating venv $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$VENV" >&2
fi

if [[ ${1:-} == install ]]; then
  shift
  # One stamp file per requirement string as given: `pip install` of an already-satisfied
  # requirement still costs seconds (and an index lookup), this costs nothing.
  mkdir -p "$VENV/.gridstream-installed"
  missing=()
  for req in "$@"; do
    [[ -f $VENV/.gridstream-installed/$(printf '%s' "$req" | tr -c 'A-Za-z0-9._=-' '_') ]] || missing+=("$req")
  done
  if ((${#missing[@]})); then
    log "pip install ${missing[*]}"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q "${missing[@]}" >&2
    for req in "${missing[@]}"; do
      touch "$VENV/.gridstream-installed/$(printf '%s' "$req" | tr -c 'A-Za-z0-9._=-' '_')"
    done
  fi
elif [[ $# -gt 0 ]]; then
  die "usage: $0 [install <pip requirement>...]"
fi
echo "$VENV/bin/python"
