#!/bin/sh
# The one test command: installs what is missing, type-checks, lints, runs every test.
# With no arguments it then runs the second lane: the Kubernetes-facing integration suites
# again on a real kube-apiserver (scripts/kube-up.sh). The first run on a machine builds it
# (see README); that build starts at once, under nice -n 19, beside the first lane.
# HERALD_KUBE_LANE=off skips the second lane (never under CI).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
lanes=both
if [ "$#" -ne 0 ] || { [ "${HERALD_KUBE_LANE:-on}" = off ] && [ "${CI:-}" != true ]; }; then lanes=one; fi
if [ "$lanes" = both ]; then
  build_log=$(mktemp)
  build_start=$(date +%s)
  setsid sh scripts/kube-up.sh build >"$build_log" 2>&1 &
  build_pid=$!
  # A failing first lane stops the build too (Go's build cache keeps what it compiled).
  trap 'kill -- -"$build_pid" 2>/dev/null || true' EXIT
fi
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint .
if [ "$#" -eq 0 ]; then set -- 'test/**/*.test.ts'; fi
if [ "$lanes" = one ]; then echo "== tests"; npx c8 mocha "$@"; exit 0; fi
echo "== tests (embedded API server)"
HERALD_KUBE=embedded npx c8 mocha "$@"
echo "== real kube-apiserver: build (cached per version)"
if ! wait "$build_pid"; then cat "$build_log" >&2; rm -f "$build_log"; exit 1; fi
tail -n 2 "$build_log"; rm -f "$build_log"
echo "kube binaries ready $(( $(date +%s) - build_start ))s after the start"
echo "== tests (real kube-apiserver)"
HERALD_KUBE=real npx mocha --timeout 120000 \
  test/integration/kube/*.test.ts \
  test/integration/apiserver/samples.test.ts test/integration/apiserver/rbac.test.ts \
  test/integration/controller/*.test.ts test/integration/k8s/adapters.test.ts \
  test/integration/manifests/manifests.test.ts \
  test/integration/speaker/lease-membership.test.ts test/integration/speaker/speaker.test.ts \
  test/integration/lab/lab-real.test.ts
