#!/usr/bin/env bash
# `npm run bench [-- --gb 1,5 --concurrent 3]`: see scripts/bench/run.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
# The machine runs Node 20; the SDK warns that releases after January 2027 need Node 22
# (package-lock.json pins one that runs here). Said once in the README, not in every process.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
[[ -d node_modules ]] || npm ci --no-audit --no-fund
bash scripts/stack/start.sh
npm run --silent build
exec node dist/scripts/bench/run.js "$@"
