#!/usr/bin/env bash
# `npm run demo`: one delivery end to end on embedded defaults. Installs and starts
# the local services (Temporal dev server, PostgreSQL, moto as S3/STS/IAM with IAM
# enforcement on), builds the CLI, then runs scripts/demo.ts.
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
npm run --silent build
exec node dist/scripts/demo.js "$@"
