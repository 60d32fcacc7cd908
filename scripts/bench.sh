#!/usr/bin/env bash
# `npm run bench [-- --gb 1,5 --concurrent 3]`: see scripts/bench/run.ts.
# `npm run bench:schedules [-- --n 1000]` (here as `bench.sh schedules`): see scripts/bench-schedules.ts.
# `npm run bench:load [-- --gb 0.05 --profiles 50]` (here as `bench.sh load`): see scripts/bench/load.ts.
set -euo pipefail
# The machine's load before the bench's own install and build raise it: what says whether anything else runs.
DATASHARE_BENCH_LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)"
export DATASHARE_BENCH_LOAD_BEFORE
source "$(dirname "$0")/prepare.sh"
npm run --silent build
# The peers the bench measures datashare against: DuckDB with its postgres and httpfs extensions (PyPI).
venv_py="${DATASHARE_STACK_DIR:-.stack}/venv/bin/python"
if [[ "${1:-}" != schedules && "${1:-}" != load ]]; then
  "$venv_py" -m pip install --disable-pip-version-check -q duckdb==1.4.4 duckdb-ext-postgres==1.4.4.20260205 duckdb-ext-httpfs==1.4.4.20260205 >&2
fi
if [[ "${1:-}" == schedules ]]; then
  shift
  exec node dist/scripts/bench-schedules.js "$@"
fi
if [[ "${1:-}" == load ]]; then
  shift
  exec node dist/scripts/bench/load.js "$@"
fi
exec node dist/scripts/bench/run.js "$@"
