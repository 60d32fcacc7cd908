import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../local/stack-env';

/**
 * What datashare is measured against, in the same run and against the same
 * discard-all S3 endpoint: a hand-written pipeline, and DuckDB 1.4.4 (PyPI).
 */

export type TextFormat = 'csv' | 'jsonl';

/** COPY (query) TO STDOUT | gzip -1 | S3 multipart upload (lib-storage, 16 MiB parts, 4 in flight). Returns seconds. */
export function handWritten(
  url: string,
  select: string,
  format: TextFormat,
  gzip: boolean,
  key: string,
  s3Endpoint: string,
): number {
  const query = format === 'csv' ? select : `SELECT row_to_json(t) FROM (${select}) t`;
  const opts = format === 'csv' ? 'FORMAT csv, HEADER' : "FORMAT csv, DELIMITER E'\\\\x02', QUOTE E'\\\\x01'";
  const uploader = join(REPO_ROOT, 'dist', 'scripts', 'bench', 'upload-stdin.js');
  const cmd = `set -o pipefail; psql "${url}" -qAt -c "COPY (${query}) TO STDOUT WITH (${opts})" ${gzip ? '| gzip -1' : ''} | node ${uploader} bench-bucket ${key}`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', cmd], {
    env: { ...process.env, AWS_ENDPOINT_URL: s3Endpoint },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`hand-written pipeline (${key}) failed`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export type DuckdbKind = 'parquet-snappy' | 'parquet-zstd' | 'csv-gzip';

/** DuckDB's postgres extension → COPY TO 's3://…'. Returns seconds (as the whole process takes, start-up included). */
export function duckdb(
  python: string,
  url: string,
  select: string,
  kind: DuckdbKind,
  s3Endpoint: string,
): { seconds: number; rows: number } {
  const endpoint = new URL(s3Endpoint).host;
  const script = join(REPO_ROOT, 'scripts', 'bench', 'duckdb-peer.py');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(python, [script, url, select, endpoint, `duckdb/${kind}`, kind], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`duckdb ${kind} failed`);
  const { rows } = JSON.parse(r.stdout) as { rows: number };
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, rows };
}
