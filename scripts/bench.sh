#!/usr/bin/env bash
# `npm run bench [-- --gb 1,5 --concurrent 3]`: see scripts/bench/run.ts.
# `npm run bench:schedules [-- --n 1000]` (here as `bench.sh schedules`): see scripts/bench-schedules.ts.
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
npm run --silent build
if [[ "${1:-}" == schedules ]]; then
  shift
  exec node dist/scripts/bench-schedules.js "$@"
fi
exec node dist/scripts/bench/run.js "$@"
