#!/usr/bin/env bash
# `npm test`: installs and starts the real local services (Temporal dev server,
# PostgreSQL, moto with IAM enforcement), type-checks and lints, builds the CLI,
# then runs both vitest projects (vitest.config.mts): `unit` first, which needs no
# service, then `integration` against those services. Arguments go to vitest, e.g.
# `--project integration` (that is `npm run test:integration`) or a file name.
set -euo pipefail
source "$(dirname "$0")/prepare.sh"
npm run --silent typecheck
npm run --silent lint
npm run --silent build

report="$(mktemp)"
status=0
DATASHARE_STACK_STARTED=1 npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# A closing line any CI can read, whatever the runner prints before it.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  // vitest also fails a run for errors outside any test (unhandled rejections): say so.
  const outside = process.argv[2] !== "0" && r.numFailedTests === 0 ? " (vitest failed the run: see its errors above)" : "";
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped${outside}`);
' "$report" "$status" || true
rm -f "$report"
exit "$status"
