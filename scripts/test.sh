#!/bin/sh
# The one test command: installs what is missing, type-checks, lints, runs every test.
# With no arguments it then runs the second lane: the Kubernetes-facing integration suites
# again on a real kube-apiserver (scripts/kube-up.sh; the first run on a machine builds it,
# see README). HERALD_KUBE_LANE=off skips that lane (never under CI).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint .
lanes=both
if [ "$#" -eq 0 ]; then set -- 'test/**/*.test.ts'; else lanes=one; fi
echo "== tests (embedded API server)"; npx c8 mocha "$@"
if [ "$lanes" = one ] || { [ "${HERALD_KUBE_LANE:-on}" = off ] && [ "${CI:-}" != true ]; }; then exit 0; fi
echo "== real kube-apiserver: build (cached per version)"
start=$(date +%s)
sh scripts/kube-up.sh build
echo "kube binaries ready in $(( $(date +%s) - start ))s"
echo "== tests (real kube-apiserver)"
HERALD_KUBE=real npx mocha --timeout 120000 \
  test/integration/kube/*.test.ts \
  test/integration/apiserver/samples.test.ts test/integration/apiserver/rbac.test.ts \
  test/integration/controller/*.test.ts test/integration/k8s/adapters.test.ts \
  test/integration/manifests/manifests.test.ts \
  test/integration/speaker/lease-membership.test.ts test/integration/speaker/speaker.test.ts
