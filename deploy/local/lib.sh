# shellcheck shell=bash
# Shared helpers for deploy/local/*.sh (sourced, not run).
# Everything we install or start lives under $GRIDSTREAM_HOME so that a clone is self-contained
# and `rm -rf .local` is a full reset.

GS_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export GRIDSTREAM_HOME="${GRIDSTREAM_HOME:-$GS_REPO_ROOT/.local}"
mkdir -p "$GRIDSTREAM_HOME"
GRIDSTREAM_HOME="$(cd "$GRIDSTREAM_HOME" && pwd)" # absolute: it ends up in -cp and config paths

# Chatter goes to stderr: some scripts print a path on stdout for `$(...)`.
log() { echo "[$(basename "$0" .sh)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# True if FILE holds the pid of a live process that is ours: its command line mentions
# $GRIDSTREAM_HOME (all our servers get a config/data path from there).  After a reboot a stale
# pid file can name an unrelated process; without this check `stop` would kill it.
# PID_MARKER is what our process's command line must contain: $GRIDSTREAM_HOME for the servers (their
# config and data paths are under it); services.sh sets the repository root (`node <repo>/services/…`).
PID_MARKER="${PID_MARKER:-$GRIDSTREAM_HOME}"
pid_alive() {
  local pid
  [[ -s $1 ]] && pid="$(<"$1")" && [[ $pid =~ ^[0-9]+$ ]] && grep -qaF "$PID_MARKER" "/proc/$pid/cmdline" 2>/dev/null
}

# True if something accepts TCP connections on HOST PORT (bash's /dev/tcp: no curl/nc needed).
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Refuse to start when a port is already taken: otherwise our server dies on bind and the
# wait step would happily report the *other* process as healthy.
require_free_port() {
  if port_open "$1" "$2"; then
    die "$3: port $1:$2 is already in use by another process: $(ss -ltnpH "sport = :$2" 2>/dev/null | head -1)"
  fi
}

# Start CMD... detached (own session, so the caller's Ctrl-C / job cleanup doesn't kill it),
# stdout+stderr to LOGFILE, and write its pid to PIDFILE.  The child writes its own pid
# before exec, so the pid file names the server itself, not a wrapper.
start_detached() {
  local pidfile=$1 logfile=$2; shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  # A pid file left by a process that was killed (kill -9 runs no cleanup) would satisfy the wait below at
  # once and the caller would report the dead pid as the new one.
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # $$ and $@ expand in the child shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
  # Wait until the pid file exists so status/stop right after start see it.
  local i
  for i in {1..50}; do [[ -s $pidfile ]] && return 0; sleep 0.1; done
  die "process did not start: $*"
}

# stop_pid PIDFILE NAME [TIMEOUT]: SIGTERM the pid in PIDFILE, wait up to TIMEOUT seconds, then SIGKILL.
# Only ever our own pid, never a process found by name.
stop_pid() {
  local pidfile=$1 name=$2 timeout=${3:-30} pid i
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; log "not running"; return 0; fi
  pid="$(<"$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then log "$name (pid $pid) ignored SIGTERM for ${timeout}s, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
  log "stopped (pid $pid)"
}

# Poll CHECK (a command) every 0.5 s until it succeeds, the server's pid dies, or TIMEOUT s pass.
wait_until() {
  local name=$1 pidfile=$2 timeout=$3 logfile=$4; shift 4
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$pidfile"; then tail -n 30 "$logfile" >&2 2>/dev/null || true; die "$name exited during startup (log: $logfile)"; fi
    if ((SECONDS >= deadline)); then tail -n 30 "$logfile" >&2 2>/dev/null || true; die "$name not ready after ${timeout}s (log: $logfile)"; fi
    sleep 0.5
  done
}

# apt-get install the packages that are not installed yet (root, or sudo when we aren't).
apt_install() {
  local missing=() p sudo=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [[ $EUID -eq 0 ]] || sudo=sudo
  log "apt-get install ${missing[*]} (log: $GRIDSTREAM_HOME/apt.log)"
  if ! { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive \
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$GRIDSTREAM_HOME/apt.log" 2>&1; then
    tail -n 30 "$GRIDSTREAM_HOME/apt.log" >&2
    die "apt-get install ${missing[*]} failed"
  fi
}

# A Debian package may start its system-wide service on install (on hosts with systemd; Docker-style
# images block that via policy-rc.d).  That instance would hold our port, so stop and disable it:
# we run our own copy with project-local data instead.
disable_system_service() {
  local svc=$1 sudo=""
  [[ $EUID -eq 0 ]] || sudo=sudo
  if [[ -d /run/systemd/system ]]; then
    $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
  elif [[ -x /etc/init.d/$svc ]] && $sudo service "$svc" status >/dev/null 2>&1; then
    $sudo service "$svc" stop >/dev/null 2>&1 || true
  fi
}

# Test-only TLS material in DIR, made once by a throw-away CA (never use it for anything else): ca.pem,
# server.crt/server.key (CN localhost, SAN 127.0.0.1 and localhost) and client.pem/client.key, for the TLS
# listeners the tests of KAFKA_SSL_* and AMQP_TLS_* connect to.
make_test_certs() {
  local dir=$1
  [[ -s $dir/server.crt && -s $dir/client.key ]] && return 0
  command -v openssl >/dev/null || die "openssl not on PATH (needed for the TLS test listeners)"
  mkdir -p "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=gridstream test CA" \
      -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=gridstream-test-client" -keyout client.key \
      -out client.csr 2>/dev/null
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -out client.pem 2>/dev/null
    rm -f ./*.csr server.ext
  ) || die "making the test TLS certificates failed"
}
