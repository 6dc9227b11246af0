#!/bin/sh
# Builds a pinned Go tool used only by tests (never by Herald itself), once per machine and
# version, and prints the path of its binary:
#   helm       helm.sh/helm/v4/cmd/helm                          $HERALD_HELM_VERSION
#   promtool   github.com/prometheus/prometheus/cmd/promtool     $HERALD_PROMETHEUS_VERSION
# Binaries land in $HERALD_TOOL_CACHE/<tool>-<version>/bin (outside the clone); a second caller
# waits for the first build (flock). HERALD_TOOL_BUILD=never fails instead of building.
set -eu

tool=${1:?usage: go-tool.sh helm|promtool}
case "$tool" in
  helm) version=${HERALD_HELM_VERSION:-v4.3.2}; pkg=helm.sh/helm/v4/cmd/helm ;;
  promtool) version=${HERALD_PROMETHEUS_VERSION:-v0.316.0}; pkg=github.com/prometheus/prometheus/cmd/promtool ;;
  *) echo "go-tool: unknown tool '$tool' (known: helm, promtool)" >&2; exit 2 ;;
esac
cache=${HERALD_TOOL_CACHE:-/var/cache/herald-tools}
out="$cache/$tool-$version"
bin="$out/bin/$tool"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
if [ "${HERALD_TOOL_BUILD:-}" = never ]; then
  echo "go-tool: $bin is missing; build it first: sh scripts/go-tool.sh $tool" >&2
  exit 1
fi
command -v go >/dev/null 2>&1 || { echo "go-tool: go is not installed" >&2; exit 1; }
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
started=$(date +%s)
echo "go-tool: building $pkg@$version -> $bin" >&2
# go install pkg@version builds in module mode with the tool's own go.mod (no replace needed).
GOBIN="$out/bin" CGO_ENABLED=0 GOFLAGS="-p=${HERALD_TOOL_BUILD_JOBS:-2} -trimpath" \
  nice -n 19 go install -ldflags='-s -w' "$pkg@$version" >&2
echo "go-tool: $tool built in $(( $(date +%s) - started ))s" >&2
echo "$bin"
