#!/bin/sh
# The one test command: installs what is missing, type-checks, lints, runs every test.
# With no arguments it then runs the second lane: the Kubernetes-facing integration suites
# again on a real kube-apiserver (scripts/kube-up.sh). The first run on a machine builds it
# (see README); that build starts at once, under nice -n 19, beside the first lane, as does
# the build of helm for the chart tests (scripts/go-tool.sh).
# HERALD_KUBE_LANE=off skips the second lane (never under CI).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
# The chart and alert-rule tests need helm and promtool, built once per machine from their Go
# modules (scripts/go-tool.sh, cached, flock'd): the builds start now, under nice -n 19, and a
# test needing one waits for it (and reports the build's error if it failed). Without Go those
# tests skip, or fail under CI.
setsid sh -c 'sh scripts/go-tool.sh helm; sh scripts/go-tool.sh promtool' >/dev/null 2>&1 &
tools_pid=$!
build_pid=
# A failing run stops the builds too (Go's build cache keeps what they compiled).
trap 'kill -- -"$tools_pid" 2>/dev/null || true; [ -z "$build_pid" ] || kill -- -"$build_pid" 2>/dev/null || true' EXIT
lanes=both
if [ "$#" -ne 0 ] || { [ "${HERALD_KUBE_LANE:-on}" = off ] && [ "${CI:-}" != true ]; }; then lanes=one; fi
if [ "$lanes" = both ]; then
  build_log=$(mktemp)
  build_start=$(date +%s)
  setsid sh scripts/kube-up.sh build >"$build_log" 2>&1 &
  build_pid=$!
fi
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint .
# Layout is prettier's (npm run format fixes it).
echo "== format"; npx prettier --check --log-level warn "**/*.{ts,mjs,js,cjs}"
# Unused exports and files fail the run (knip.json names the entry points).
echo "== unused exports and files"; npx knip --exports --files
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
  test/integration/apiserver/samples.test.ts test/integration/apiserver/rbac.test.ts test/integration/apiserver/reviews.test.ts \
  test/integration/controller/*.test.ts test/integration/k8s/adapters.test.ts \
  test/integration/manifests/manifests.test.ts test/integration/manifests/helm-install.test.ts \
  test/integration/manifests/metrics-auth.test.ts test/integration/manifests/network-policy.test.ts \
  test/integration/prometheus/metrics.test.ts \
  test/integration/speaker/lease-membership.test.ts test/integration/speaker/speaker.test.ts \
  test/integration/reliability/api-outage.test.ts test/integration/lab/lab-real.test.ts
