#!/usr/bin/env bash
# Helm, and the Kubernetes API schemas the chart's rendered manifests are checked against, for
# test/helm.int.test.ts (`infra.sh up test`). Nothing here talks to a cluster.
#   helm: built from its Go module (helm.sh/helm/v4) under $GRIDSTREAM_HOME/helm/bin (~2.5 min on 2 cores the
#     first time, then cached; the version is stamped into the binary, so another version is rebuilt).
#   schemas: the OpenAPI v3 documents the Kubernetes API server serves (api/openapi-spec/v3/*.json in the
#     k8s.io/kubernetes Go module: a 21 MB zip from the Go module proxy, a few seconds), and the
#     CustomResourceDefinitions of the optional kinds the chart renders: ServiceMonitor from the
#     prometheus-operator module, ScaledObject and TriggerAuthentication from KEDA's. Copied to
#     $GRIDSTREAM_HOME/k8s-schemas/<kubernetes version>/, so a test run needs no network (kubeconform's
#     ready-made schemas are downloaded from GitHub, which is out of reach here).
#
# Usage: helm.sh install            build helm and copy the schemas if missing (idempotent)
#        helm.sh path               print the helm binary's path
#        helm.sh schemas            print the schema folder
#        helm.sh lint|template ...  run helm on deploy/helm/gridstream (e.g. `helm.sh template --set ...`)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HELM_VERSION="v4.3.2"
HELM_MODULE="helm.sh/helm/v4"
# The Kubernetes release whose API the manifests are checked against. Keep it at the release the k8s.io
# modules of HELM_VERSION belong to, or newer.
K8S_VERSION="v1.37.2"
PROMOP_MODULE="github.com/prometheus-operator/prometheus-operator"
PROMOP_VERSION="v0.85.0"
KEDA_MODULE="github.com/kedacore/keda/v2"
KEDA_VERSION="v2.21.1"

HHOME="$GRIDSTREAM_HOME/helm"
BIN="$HHOME/bin/helm"
SCHEMAS="$GRIDSTREAM_HOME/k8s-schemas/$K8S_VERSION"
# What the schema folder was filled from: a folder made for other versions is filled again.
SCHEMA_STAMP="$SCHEMAS/.from"
CHART="$GS_REPO_ROOT/deploy/helm/gridstream"

need_go() {
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then PATH="/usr/local/go/bin:$PATH"; fi
  if ! command -v go >/dev/null; then apt_install golang-go; fi
  local minor
  minor="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
  # GOTOOLCHAIN (fetching the Go that a go.mod asks for) exists from Go 1.21 on.
  [[ -n $minor && $minor -ge 21 ]] || die "need Go >= 1.21 on PATH to build helm (have $(go env GOVERSION))"
}

install_helm() {
  if [[ -x $BIN ]] && "$BIN" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then return 0; fi
  need_go
  mkdir -p "$HHOME/bin"
  log "building helm $HELM_VERSION with $(go version | cut -d' ' -f3) (log: $HHOME/build.log)"
  local t0=$SECONDS
  # The version is a link-time variable; without it `helm version` says v4.3 and the check above
  # would rebuild every time. -mod=mod: let go fill in go.sum entries the module's own file lacks.
  if ! GOBIN="$HHOME/bin" GOFLAGS=-mod=mod GOTOOLCHAIN=auto CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X $HELM_MODULE/internal/version.version=$HELM_VERSION" \
    "$HELM_MODULE/cmd/helm@$HELM_VERSION" >"$HHOME/build.log" 2>&1; then
    tail -n 30 "$HHOME/build.log" >&2
    die "go install helm@$HELM_VERSION failed"
  fi
  log "built $BIN in $((SECONDS - t0))s"
}

# Prints the path of MODULE@VERSION's zip in the Go module cache, downloading it when missing. The zip, not
# the unpacked folder: go unpacks only modules whose go.mod accepts this Go (KEDA's asks for a newer one), and
# a few files of it are all that is needed.
module_zip() {
  local zip
  # Exits non-zero when it refuses to unpack, with the zip downloaded all the same: judged by the file.
  zip="$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "$1@$2" 2>/dev/null | sed -n 's/^\t"Zip": "\(.*\)",$/\1/p')" || true
  [[ -n $zip && -s $zip ]] || die "go mod download $1@$2 gave no module zip"
  echo "$zip"
}

# unzip_to DIR ZIP PATTERN...: the files of ZIP matching the patterns, flat into DIR.
unzip_to() {
  local dir=$1 zip=$2
  shift 2
  unzip -q -j -o "$zip" "$@" -d "$dir" || die "$zip holds no $*"
}

install_schemas() {
  local from="kubernetes $K8S_VERSION, prometheus-operator $PROMOP_VERSION, keda $KEDA_VERSION"
  if [[ -f $SCHEMA_STAMP && "$(cat "$SCHEMA_STAMP")" == "$from" ]]; then return 0; fi
  need_go
  command -v unzip >/dev/null || apt_install unzip
  local t0=$SECONDS tmp="$SCHEMAS.tmp"
  log "copying the API schemas of $from to $SCHEMAS (Go module proxy)"
  rm -rf "$tmp"
  mkdir -p "$tmp/openapi-v3" "$tmp/crds"
  # Every group/version document the API server serves: the test picks the one of each object's apiVersion.
  unzip_to "$tmp/openapi-v3" "$(module_zip k8s.io/kubernetes "$K8S_VERSION")" \
    "k8s.io/kubernetes@$K8S_VERSION/api/openapi-spec/v3/*.json"
  unzip_to "$tmp/crds" "$(module_zip "$PROMOP_MODULE" "$PROMOP_VERSION")" \
    "$PROMOP_MODULE@$PROMOP_VERSION/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"
  unzip_to "$tmp/crds" "$(module_zip "$KEDA_MODULE" "$KEDA_VERSION")" \
    "$KEDA_MODULE@$KEDA_VERSION/config/crd/bases/keda.sh_scaledobjects.yaml" \
    "$KEDA_MODULE@$KEDA_VERSION/config/crd/bases/keda.sh_triggerauthentications.yaml"
  echo "$from" >"$tmp/.from"
  rm -rf "$SCHEMAS"
  mv "$tmp" "$SCHEMAS"
  log "schemas in $SCHEMAS ($(du -sh "$SCHEMAS" | cut -f1), $((SECONDS - t0))s)"
}

case "${1:-}" in
  install)
    install_helm
    install_schemas
    ;;
  path) echo "$BIN" ;;
  schemas) echo "$SCHEMAS" ;;
  lint | template)
    cmd=$1
    shift
    install_helm
    exec "$BIN" "$cmd" "$@" "$CHART"
    ;;
  *) die "usage: $0 install|path|schemas|lint ARGS...|template ARGS..." ;;
esac
