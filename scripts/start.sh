#!/bin/sh
# The README's main command: installs what is missing, then runs Herald's main job.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
if [ "$#" -eq 0 ]; then set -- lab; fi
exec node bin/herald.js "$@"
