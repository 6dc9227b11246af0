#!/bin/sh
# The one test command: installs what is missing, type-checks, lints, runs every test.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint .
if [ "$#" -eq 0 ]; then set -- 'test/**/*.test.ts'; fi
echo "== tests"; npx c8 mocha "$@"
