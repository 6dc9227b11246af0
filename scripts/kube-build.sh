#!/bin/sh
# Builds a real control plane from Go modules, once per machine and version:
#   kube-apiserver, kube-controller-manager  from k8s.io/kubernetes $KUBE_VERSION
#   etcd                                      from go.etcd.io/etcd/server/v3 $ETCD_VERSION
# Every staging module k8s.io/kubernetes requires at v0.0.0 (its go.mod replaces them with
# ./staging/...) is replaced by its published v0.<minor>.<patch> of the same release; the list
# is read from k8s.io/kubernetes's own go.mod at the module proxy.
# Binaries land in $HERALD_KUBE_CACHE/<kube>-etcd<etcd>/bin; a later run finds them and exits.
# The build runs under nice -n 19 with GOFLAGS=-p=$HERALD_KUBE_BUILD_JOBS (default 2).
# Prints the bin directory on stdout (progress goes to stderr).
set -eu

KUBE_VERSION=${HERALD_KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${HERALD_ETCD_VERSION:-v3.7.3}
CACHE=${HERALD_KUBE_CACHE:-/var/cache/herald-kube}
JOBS=${HERALD_KUBE_BUILD_JOBS:-2}
out="$CACHE/$KUBE_VERSION-etcd$ETCD_VERSION"
bin="$out/bin"

have() { [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-controller-manager" ] && [ -x "$bin/etcd" ]; }
if have; then echo "$bin"; exit 0; fi

if [ "${HERALD_KUBE_BUILD:-}" = never ]; then
  echo "kube-build: no binaries in $bin; build them first: sh scripts/kube-up.sh build (the first build takes tens of minutes)" >&2
  exit 1
fi
command -v go >/dev/null 2>&1 || { echo "kube-build: go is not installed (need Go >= the version k8s.io/kubernetes $KUBE_VERSION names)" >&2; exit 1; }
mkdir -p "$out"
# One build per version at a time: a second caller waits for the first.
exec 9>"$out/.lock"
flock 9
if have; then echo "$bin"; exit 0; fi

minor=${KUBE_VERSION#v1.}
staging=v0.$minor
proxy=$(go env GOPROXY | tr ',|' '\n\n' | grep -v -e '^direct$' -e '^off$' | head -n 1)
proxy=${proxy:-https://proxy.golang.org}
started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/herald-kube-build.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

echo "kube-build: k8s.io/kubernetes $KUBE_VERSION (staging $staging), etcd $ETCD_VERSION -> $bin" >&2
curl -fsS "$proxy/k8s.io/kubernetes/@v/$KUBE_VERSION.mod" >"$work/kubernetes.mod"
gover=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$work/kubernetes.mod")

mkdir "$work/kube" "$work/etcd"
{
  echo "module herald.dev/kube-build"
  echo "go $gover"
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  sed -n 's/^[[:space:]]*\(k8s\.io\/[a-z0-9-]*\) v0\.0\.0$/\1/p' "$work/kubernetes.mod" |
    while read -r m; do echo "replace $m => $m $staging"; done
} >"$work/kube/go.mod"
cat >"$work/kube/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
EOF
cat >"$work/etcd/go.mod" <<EOF
module herald.dev/etcd-build
go $gover
require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
cat >"$work/etcd/tools.go" <<'EOF'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
EOF

export GOFLAGS="-p=$JOBS -mod=mod -trimpath"
export CGO_ENABLED=0
vpkg=k8s.io/component-base/version
ldflags="-s -w -X $vpkg.gitVersion=$KUBE_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=${minor%%.*}"
ldflags="$ldflags -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
rm -rf "$bin.tmp"; mkdir -p "$bin.tmp"
echo "kube-build: resolving modules" >&2
(cd "$work/kube" && nice -n 19 go mod tidy) >&2
echo "kube-build: building kube-apiserver, kube-controller-manager" >&2
(cd "$work/kube" && nice -n 19 go build -ldflags="$ldflags" -o "$bin.tmp/" \
   k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager) >&2
echo "kube-build: building etcd" >&2
(cd "$work/etcd" && nice -n 19 go mod tidy && nice -n 19 go build -ldflags='-s -w' -o "$bin.tmp/etcd" go.etcd.io/etcd/server/v3) >&2
rm -rf "$bin"
mv "$bin.tmp" "$bin"
secs=$(( $(date +%s) - started ))
printf 'kube %s\netcd %s\ngo %s\nbuilt %s\nseconds %s\n' "$KUBE_VERSION" "$ETCD_VERSION" \
  "$(go env GOVERSION)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$secs" >"$out/BUILD"
echo "kube-build: built in ${secs}s" >&2
echo "$bin"
