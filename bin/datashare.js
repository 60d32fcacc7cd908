#!/usr/bin/env node
// Runs the compiled CLI (npm install builds it); falls back to the TypeScript
// sources through tsx so a checkout works before its first build.
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'dist', 'client', 'cli.js');
let cli;
if (fs.existsSync(compiled)) {
  cli = require(compiled);
} else {
  require('tsx/cjs');
  cli = require(path.join(__dirname, '..', 'client', 'cli.ts'));
}
cli.main(process.argv).then(
  (code) => { process.exitCode = code; },
  (e) => { process.stderr.write(`datashare: ${String(e)}\n`); process.exitCode = 1; },
);
