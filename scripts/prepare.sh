# shellcheck shell=bash
# Sourced by demo.sh, test.sh and bench.sh: what each needs before it runs anything.
# Installs npm packages on a fresh clone, builds the native Parquet encoder, and starts (installing first if needed) the
# local Temporal, PostgreSQL and moto. Leaves the shell in the repository root.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The machine runs Node 20; the SDK warns that releases after January 2027 need Node 22
# (package-lock.json pins one that runs here). Said once in the README, not in every process.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
[[ -d node_modules ]] || npm ci --no-audit --no-fund
# The Parquet encoder (Rust): a no-op when it is newer than its sources.
bash scripts/native/build.sh
bash scripts/stack/start.sh
