#!/usr/bin/env bash
# `npm run bench [-- --gb 1,5 --concurrent 3]`: see scripts/bench/run.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d node_modules ]] || npm ci --no-audit --no-fund
bash scripts/stack/start.sh
npm run --silent build
exec node dist/scripts/bench/run.js "$@"
