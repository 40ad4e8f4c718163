#!/usr/bin/env bash
# Checks docker-compose.yml where no Docker engine runs (installing Docker Compose under
# $GRIDSTREAM_HOME/docker-tools the first time; idempotent).
#   compose file: `docker compose config`, i.e. Docker Compose's own loader: the Compose Specification
#     schema, ${VAR} interpolation, references between services and volumes, durations; with every profile
#     on (COMPOSE_PROFILES='*'), so the optional services are checked as well. The machine's
#     `docker compose` (v2 or later) when it has one; otherwise Docker Compose built from its Go module.
#   Dockerfile: only that every SERVICE the compose file builds has its svc-<name> stage. The image rules
#     (pinned bases, non-root user, health check, ports, exec-form CMD) are checked by
#     test/docker-compose.int.test.ts, which reads the Dockerfile itself.
# Interpolation uses .env.example (never the developer's .env, so every machine checks the same file),
# with a placeholder for each password it leaves empty: the file must be valid once those are filled in.
# GS_COMPOSE_NO_PLACEHOLDERS=1 leaves them empty, to see Compose refuse the file (the test does).
# Debian's docker-compose 1.29 is not used: it rejects the top-level `name:` of the current specification
# and does not check durations.
#
# Usage: compose-validate.sh [check]           install what is missing, check both files (exit 1 on a problem)
#        compose-validate.sh compose ARGS...   run that Docker Compose on docker-compose.yml with .env.example
#                                              (e.g. config --format json)
#        compose-validate.sh link-plugin       also make it the user's `docker compose` (~/.docker/cli-plugins)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The newest Compose whose go.mod accepts the Go on this machine (1.26.8; v5.7.0 wants 1.26.10). An older
# Go fetches the toolchain it needs from the Go module proxy (GOTOOLCHAIN=auto, Go >= 1.21).
COMPOSE_VERSION="v5.6.0"
COMPOSE_MODULE="github.com/docker/compose/v5"
TOOLS="$GRIDSTREAM_HOME/docker-tools"
COMPOSE_BIN="$TOOLS/bin/docker-compose"
COMPOSE_FILE="$GS_REPO_ROOT/docker-compose.yml"
DOCKERFILE="$GS_REPO_ROOT/deploy/docker/Dockerfile"
ENV_EXAMPLE="$GS_REPO_ROOT/.env.example"

need_go() {
  command -v go >/dev/null || die "need Go >= 1.21 on PATH to build $1 (https://go.dev/dl), or a docker compose v2+ plugin"
}

install_compose() {
  if [[ -x $COMPOSE_BIN ]] && [[ "$("$COMPOSE_BIN" version --short 2>/dev/null)" == "${COMPOSE_VERSION#v}" ]]; then return 0; fi
  need_go "Docker Compose"
  mkdir -p "$TOOLS/bin"
  log "building Docker Compose $COMPOSE_VERSION from its Go module (~4 min the first time; log: $TOOLS/compose-build.log)"
  local t0=$SECONDS dir
  # `go install module@version` refuses this module (its go.mod has exclude directives), so download the
  # module and build inside it, with the version stamped in the way the project's Makefile does.
  if ! {
    dir="$(GOTOOLCHAIN=auto go mod download -json "$COMPOSE_MODULE@$COMPOSE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')" &&
      [[ -d $dir ]] &&
      (cd "$dir" && CGO_ENABLED=0 GOTOOLCHAIN=auto go build -trimpath \
        -ldflags "-s -w -X $COMPOSE_MODULE/internal.Version=$COMPOSE_VERSION" -o "$COMPOSE_BIN.tmp" ./cmd)
  } >"$TOOLS/compose-build.log" 2>&1; then
    tail -n 30 "$TOOLS/compose-build.log" >&2
    die "building Docker Compose $COMPOSE_VERSION failed"
  fi
  mv "$COMPOSE_BIN.tmp" "$COMPOSE_BIN"
  log "built $COMPOSE_BIN in $((SECONDS - t0))s"
}

# Sets COMPOSE (an array: the command to run). A real `docker compose` plugin wins: it is the one `make up` uses.
find_compose() {
  local v
  if v="$(docker compose version --short 2>/dev/null)" && [[ ${v#v} =~ ^([2-9]|[1-9][0-9])\. ]]; then
    COMPOSE=(docker compose)
  else
    install_compose
    COMPOSE=("$COMPOSE_BIN")
  fi
}

# Runs Compose on docker-compose.yml, interpolating from .env.example: each `NAME=` it leaves empty (the
# required passwords) gets a placeholder unless the caller's environment sets NAME, which wins over both.
run_compose() {
  local line placeholders=()
  if [[ ${GS_COMPOSE_NO_PLACEHOLDERS:-} != 1 ]]; then
    while IFS= read -r line; do
      if [[ $line =~ ^([A-Z][A-Z0-9_]*)=$ ]] && [[ -z ${!BASH_REMATCH[1]:-} ]]; then
        placeholders+=("${BASH_REMATCH[1]}=compose-validate-placeholder")
      fi
    done <"$ENV_EXAMPLE"
  fi
  env ${placeholders[@]+"${placeholders[@]}"} "${COMPOSE[@]}" --project-directory "$GS_REPO_ROOT" \
    -f "$COMPOSE_FILE" --env-file "$ENV_EXAMPLE" "$@"
}

# The SERVICE build args docker-compose.yml uses, one per line (read from Compose's own resolved model).
compose_services() {
  run_compose config --format json |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const names = Object.values(JSON.parse(s).services).map((svc) => svc.build?.args?.SERVICE).filter(Boolean);
      console.log([...new Set(names)].sort().join("\n"));
    })'
}

check() {
  local rc=0 s built d missing=() unbuildable=()
  # Every service, those of optional profiles (`sinks`) too: Compose leaves a service whose profile is off
  # out of `config`, and a broken one would only show when somebody turns its profile on.
  export COMPOSE_PROFILES='*'
  find_compose
  if ! run_compose config --quiet; then
    log "docker-compose.yml: INVALID (see above)"
    return 1
  fi
  log "docker-compose.yml: valid (Docker Compose $("${COMPOSE[@]}" version --short 2>/dev/null))"

  # Every image the stack builds needs its svc-<name> stage: without it the build's last `FROM svc-${SERVICE}`
  # looks for an image of that name and `make up` fails, so it fails here first.
  built="$(compose_services)"
  for s in $built; do
    if ! grep -qx "FROM runtime AS svc-$s" "$DOCKERFILE"; then unbuildable+=("$s"); fi
  done
  if ((${#unbuildable[@]})); then
    log "deploy/docker/Dockerfile: no svc-<name> stage for SERVICE=$(IFS=,; echo "${unbuildable[*]}"), which docker-compose.yml builds"
    rc=1
  else
    log "deploy/docker/Dockerfile: has a stage for every SERVICE=$(paste -sd, - <<<"$built")"
  fi

  # Services that exist but have no image yet: a notice, not a failure (they join the stack later).
  for d in "$GS_REPO_ROOT"/services/*/; do
    s="$(basename "$d")"
    if ! grep -qx "FROM runtime AS svc-$s" "$DOCKERFILE"; then missing+=("$s"); fi
  done
  if ((${#missing[@]})); then
    log "note: no image stage yet for $(IFS=,; echo "${missing[*]}") (add a svc-<name> stage with its health port to deploy/docker/Dockerfile)"
  fi
  return $rc
}

case "${1:-check}" in
  check) check ;;
  compose)
    shift
    find_compose
    run_compose "$@"
    ;;
  link-plugin)
    install_compose
    plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
    if [[ -e $plugins/docker-compose && ! -L $plugins/docker-compose ]]; then
      die "$plugins/docker-compose exists and is not ours; left as it is"
    fi
    mkdir -p "$plugins"
    ln -sfn "$COMPOSE_BIN" "$plugins/docker-compose"
    log "docker compose -> $COMPOSE_BIN"
    ;;
  *) die "usage: $0 [check] | compose ARGS... | link-plugin" ;;
esac
