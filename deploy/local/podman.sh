#!/usr/bin/env bash
# Podman (Debian's 4.3) and the gridstream service images built with it from deploy/docker/Dockerfile, where
# no Docker engine runs and no registry image can be pulled: the Node base image is made here too.
# Usage: podman.sh install            apt packages (podman, runc, mmdebstrap) and the project's podman config
#        podman.sh base               + the base image (Debian bookworm + Node from npm), if its key changed
#        podman.sh build [SERVICE...] + the service images (default: all of them); layers cached by podman
#        podman.sh image SERVICE      print the image reference of SERVICE on stdout
#        podman.sh services           print the services the Dockerfile builds images for, one a line
#        podman.sh podman ARGS...     run podman with the project's settings (e.g. `podman ps -a`)
#        podman.sh status             what is installed and built
#        start|stop|wait              accepted and do nothing, so the script can sit in infra.sh's PEERS list
#
# Everything podman keeps is under $GRIDSTREAM_HOME/podman (the image store too, not /var/lib/containers):
# `rm -rf .local` resets it, and another podman user on the machine never sees our images or we theirs.
# Its settings (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF) are written by `install`:
#   runc, not crun (crun fails here: setrlimit refused, hybrid cgroups), cgroupfs (no systemd), no default
#   ulimits (runc refuses podman's default RLIMIT_NOFILE: "error setting rlimit type 7: operation not
#   permitted"), events to a file (no journald).
# Image builds use the host's network (`--network host`): npm reaches the registry as the host does, and
# no CNI bridge is needed. Runs as root (rootless podman would need subuid ranges and fuse-overlayfs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PHOME="$GRIDSTREAM_HOME/podman"
export CONTAINERS_CONF="$PHOME/containers.conf"
export CONTAINERS_STORAGE_CONF="$PHOME/storage.conf"
# Runtime state (locks, mounts, the "alive" file that tells podman the machine rebooted) belongs on a tmpfs;
# one folder per $GRIDSTREAM_HOME, so two clones never share it.
RUN_DIR="/run/gridstream-podman-$(printf %s "$GRIDSTREAM_HOME" | sha256sum | cut -c1-12)"

DOCKERFILE="$GS_REPO_ROOT/deploy/docker/Dockerfile"
# Every image the Dockerfile has a `svc-<name>` stage for (but `unset`, its usage error), in its order: a
# new service's stage is built here without a change to this script.
mapfile -t ALL_SERVICES < <(sed -n 's/^FROM [^ ]* AS svc-\([a-z0-9-]*\)[[:space:]]*$/\1/p' "$DOCKERFILE" | grep -vx unset)
TAG="${GRIDSTREAM_TAG:-local}"

# The base image: what node:<version>-bookworm-slim would be, made from Debian packages and npm.
# Node is the official linux-x64 (glibc) build, the same binary as the official images', from the `node`
# npm package; npm 10 as the official Node 22 images ship it (npm 11 would also accept the lock file).
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
NODE_VERSION=22.23.3
NPM_VERSION=10.9.9
BASE_IMAGE="localhost/gridstream-node:$NODE_VERSION-$DEBIAN_SUITE"

installed() { command -v podman >/dev/null && command -v runc >/dev/null && command -v mmdebstrap >/dev/null; }

write_config() {
  mkdir -p "$PHOME"
  local conf storage
  conf="$(
    cat <<CONF
# Written by deploy/local/podman.sh install: edit the script, not this file.
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PHOME/events.log"
tmp_dir = "$RUN_DIR/libpod"
CONF
  )"
  storage="$(
    cat <<CONF
# Written by deploy/local/podman.sh install: edit the script, not this file.
[storage]
driver = "overlay"
graphroot = "$PHOME/storage"
runroot = "$RUN_DIR/storage"
CONF
  )"
  # Rewritten only when different, so an unchanged install touches nothing.
  [[ -f $CONTAINERS_CONF && "$(<"$CONTAINERS_CONF")" == "$conf" ]] || printf '%s\n' "$conf" >"$CONTAINERS_CONF"
  [[ -f $CONTAINERS_STORAGE_CONF && "$(<"$CONTAINERS_STORAGE_CONF")" == "$storage" ]] ||
    printf '%s\n' "$storage" >"$CONTAINERS_STORAGE_CONF"
}

install_podman() {
  [[ $EUID -eq 0 ]] || die "podman runs as root here (rootless podman needs subuid/subgid ranges and fuse-overlayfs)"
  installed || apt_install podman runc mmdebstrap
  installed || die "podman, runc or mmdebstrap still missing after apt-get install"
  write_config
  podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null 2>"$PHOME/info.err" ||
    { cat "$PHOME/info.err" >&2; die "podman does not start with $CONTAINERS_CONF"; }
  log "$(podman --version) ready (store: $PHOME/storage)"
}

# The base image's content key: everything that decides what goes into it. A change to any of these (or
# to the recipe below) builds a new base; the same key is never rebuilt.
base_key() {
  { echo "$DEBIAN_SUITE $DEBIAN_MIRROR $DEBIAN_SECURITY_MIRROR $NODE_VERSION $NPM_VERSION"; declare -f make_base; } |
    sha256sum | cut -c1-16
}

image_label() { podman image inspect --format "{{index .Labels \"$2\"}}" "$1" 2>/dev/null || true; }

# A minimal Debian (the Essential packages plus libstdc++, which Node links against: no apt, no
# documentation) with /usr/local/bin/node and npm, and the user `node` (uid/gid 1000, as in the official
# images), imported as $BASE_IMAGE. Default user root, like the official images: the Dockerfile's build
# stages install as root and its runtime stage switches to `node`.
make_base() {
  local key=$1 work="$PHOME/base-work" rootfs
  rootfs="$work/rootfs"
  rm -rf "$work" && mkdir -p "$work"
  log "Node $NODE_VERSION and npm $NPM_VERSION from npm (log: $work/npm.log)"
  if ! npm install --prefix "$work/npm" --no-audit --no-fund --no-save --loglevel=error \
    "node@$NODE_VERSION" "npm@$NPM_VERSION" >"$work/npm.log" 2>&1; then
    tail -n 30 "$work/npm.log" >&2
    die "npm install node@$NODE_VERSION npm@$NPM_VERSION failed"
  fi
  local node_bin
  node_bin="$(readlink -f "$work/npm/node_modules/.bin/node")" # a symlink into the platform package
  [[ "$("$node_bin" --version)" == "v$NODE_VERSION" ]] || die "$node_bin is not Node $NODE_VERSION"

  log "Debian $DEBIAN_SUITE root filesystem with mmdebstrap (log: $work/mmdebstrap.log)"
  if ! mmdebstrap --variant=essential --include=libstdc++6 \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    "$DEBIAN_SUITE" "$rootfs" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE main" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main" \
    "deb $DEBIAN_SECURITY_MIRROR $DEBIAN_SUITE-security main" </dev/null >"$work/mmdebstrap.log" 2>&1; then
    tail -n 30 "$work/mmdebstrap.log" >&2
    die "mmdebstrap $DEBIAN_SUITE failed"
  fi

  # Node and npm where the official images have them.
  install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$work/npm/node_modules/npm" "$rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # The user the services run as (no useradd: the Essential set has no `passwd` package).
  echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$rootfs/etc/passwd"
  echo 'node:x:1000:' >>"$rootfs/etc/group"
  echo 'node:*:20000:0:99999:7:::' >>"$rootfs/etc/shadow"
  install -d -m 0755 -o 1000 -g 1000 "$rootfs/home/node"
  # mmdebstrap leaves the host's name resolution out; podman mounts its own at run time.
  rm -f "$rootfs/etc/resolv.conf" "$rootfs/etc/hostname"

  log "importing $BASE_IMAGE"
  tar -C "$rootfs" --numeric-owner -cf "$work/rootfs.tar" .
  podman import --quiet \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change "LABEL gridstream.base.key=$key" \
    --change "LABEL org.opencontainers.image.base.name=debian:$DEBIAN_SUITE" \
    --change 'CMD ["node"]' \
    "$work/rootfs.tar" "$BASE_IMAGE" >/dev/null
  rm -rf "$work"
}

base() {
  install_podman
  local key old t0=$SECONDS
  key="$(base_key)"
  if [[ "$(image_label "$BASE_IMAGE" gridstream.base.key)" == "$key" ]]; then
    log "$BASE_IMAGE up to date (key $key)"
    return 0
  fi
  old="$(podman image inspect --format '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)"
  log "building $BASE_IMAGE (key $key)"
  make_base "$key"
  # Checked before anything is built on it: Node and npm run, and the user is there.
  if ! podman run --rm --network none "$BASE_IMAGE" sh -c \
    "node --version && npm --version && [ \"\$(id -u node)\" = 1000 ]" >"$PHOME/base-check.log" 2>&1; then
    cat "$PHOME/base-check.log" >&2
    podman rmi "$BASE_IMAGE" >/dev/null 2>&1 || true
    die "the new $BASE_IMAGE does not run node and npm as expected"
  fi
  # The replaced base, unless service images still use it (they are rebuilt on the new one next).
  [[ -z $old ]] || podman rmi "$old" >/dev/null 2>&1 || true
  log "built $BASE_IMAGE in $((SECONDS - t0))s ($(podman image inspect --format '{{.Size}}' "$BASE_IMAGE") bytes)"
}

# The build context: a copy of the working tree taken once per `build`, so that all the images of one
# build come from the same sources (and share one `tsc -b`), however the tree is edited meanwhile. Without
# what .dockerignore drops anyway and is large (node_modules, dist, .local, .git); podman applies
# .dockerignore to the copy as it would to the tree.
CONTEXT="$PHOME/context"
snapshot_context() {
  local rc=0
  rm -rf "$CONTEXT.new" && mkdir -p "$CONTEXT.new"
  # Exit status 1 is "a file changed while being read": someone is editing; the copy has one version of it.
  tar -C "$GS_REPO_ROOT" --exclude=./.local --exclude=./.git --exclude=./test-artifacts \
    --exclude=node_modules --exclude=dist --exclude='*.tsbuildinfo' --warning=no-file-changed \
    -cf "$CONTEXT.tar" . || rc=$?
  ((rc <= 1)) || die "could not copy the build context from $GS_REPO_ROOT"
  tar -C "$CONTEXT.new" -xf "$CONTEXT.tar" && rm -f "$CONTEXT.tar"
  rm -rf "$CONTEXT" && mv "$CONTEXT.new" "$CONTEXT"
}

image_of() { echo "localhost/gridstream/$1:$TAG"; }

build() {
  base
  local services=("$@") s t0 t1=$SECONDS logfile built=0
  ((${#services[@]})) || services=("${ALL_SERVICES[@]}")
  for s in "${services[@]}"; do
    [[ " ${ALL_SERVICES[*]} " == *" $s "* ]] || die "unknown service '$s' (one of: ${ALL_SERVICES[*]})"
  done
  mkdir -p "$PHOME/logs"
  # A machine whose HTTPS goes through an intercepting proxy trusts the proxy's CA (NODE_EXTRA_CA_CERTS);
  # npm inside the build must too, or every fetch fails with SELF_SIGNED_CERT_IN_CHAIN (npm 10 then dies
  # with "Exit handler never called!"). The Dockerfile's `npm ci` steps take it as the build secret
  # `npm-ca`: mounted for that step only, never stored in a layer, so the images do not trust the proxy.
  local ca="${GS_BUILD_CA_FILE:-${NODE_EXTRA_CA_CERTS:-}}" ca_args=()
  if [[ -n $ca ]]; then
    [[ -f $ca ]] || die "CA file $ca (GS_BUILD_CA_FILE or NODE_EXTRA_CA_CERTS) does not exist"
    ca_args=(--secret "id=npm-ca,src=$ca")
  fi
  snapshot_context
  # What an image is built from: the context's contents (names, modes, bytes; not times) and the base
  # image. An image labelled with the same key is up to date and not even handed to podman (whose cached
  # build still takes ~7 s an image to hash the context twice).
  local key
  key="$({ tar -C "$CONTEXT" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . &&
    podman image inspect --format '{{.Id}}' "$BASE_IMAGE"; } | sha256sum | cut -c1-16)"
  for s in "${services[@]}"; do
    if [[ "$(image_label "$(image_of "$s")" gridstream.context.key)" == "$key" ]]; then
      log "$(image_of "$s") up to date (key $key)"
      continue
    fi
    t0=$SECONDS
    logfile="$PHOME/logs/build-$s.log"
    # --pull=never: the base is local; a typo must not turn into a pull attempt against Docker Hub.
    # --layers (podman's default, said here): unchanged steps come from the cache, so the manifests,
    # `npm ci` and `tsc -b` stages are built once for all the images and again only when their inputs change.
    if ! podman build --network host --pull=never --layers --format docker "${ca_args[@]}" \
      -f "$CONTEXT/deploy/docker/Dockerfile" \
      --build-arg "NODE_IMAGE=$BASE_IMAGE" --build-arg "SERVICE=$s" --label "gridstream.context.key=$key" \
      -t "$(image_of "$s")" "$CONTEXT" >"$logfile" 2>&1; then
      tail -n 40 "$logfile" >&2
      die "building $(image_of "$s") failed (log: $logfile)"
    fi
    log "$(image_of "$s") built in $((SECONDS - t0))s"
    built=$((built + 1))
  done
  log "$built of ${#services[@]} image(s) built, in $((SECONDS - t1))s"
}

status() {
  if ! installed; then log "podman not installed (run: $0 install)"; return 1; fi
  write_config
  echo "podman    $(podman --version | awk '{print $3}')  store $PHOME/storage"
  podman images --format '{{.Repository}}:{{.Tag}}  {{.Size}}  built {{.CreatedSince}}' |
    grep -E "^($BASE_IMAGE|localhost/gridstream/[a-z-]+:$TAG) " || echo "no images built yet (run: $0 build)"
}

case "${1:-}" in
  install) install_podman ;;
  base) base ;;
  build) shift; build "$@" ;;
  image) [[ -n ${2:-} ]] || die "usage: $0 image SERVICE"; image_of "$2" ;;
  services) printf '%s\n' "${ALL_SERVICES[@]}" ;;
  podman)
    shift
    command -v podman >/dev/null || die "podman not installed (run: $0 install)"
    write_config
    exec podman "$@"
    ;;
  status) status ;;
  start | stop | wait) : ;;
  *) die "usage: $0 install|base|build [SERVICE...]|image SERVICE|services|podman ARGS...|status" ;;
esac
