#!/usr/bin/env bash
# `npm run bench [-- --gb 1,5 --concurrent 3]`: see scripts/bench/run.ts.
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
npm run --silent build
exec node dist/scripts/bench/run.js "$@"
