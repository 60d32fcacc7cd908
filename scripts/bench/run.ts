import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Datashare } from '../../client/datashare';
import { loadConfig } from '../../common/infra/config';
import { migrate } from '../../common/store/migrate';
import { createPool } from '../../common/infra/pool';
import type { Compression, Format } from '../../common/contracts/delivery';
import { REPO_ROOT, readStackEnv } from '../local/stack-env';

/**
 * `npm run bench`: datashare against a hand-written baseline, in the same run,
 * against the same S3 endpoint (scripts/bench/discard-s3.ts, a discard-all
 * server: moto would measure itself). Prints rows/s, MB/s, the ratio to the
 * baseline and the worker's peak RSS per format.
 *
 *   npm run bench                    1 GB of raw CSV, CSV+gzip, CSV and JSONL
 *   npm run bench -- --gb 1,5        also 5 GB (CSV+gzip only beyond the first size)
 *   npm run bench -- --concurrent 3  also 3 deliveries at once on one worker
 *   npm run bench -- --cases CSV+gzip  only the named cases (comma-separated)
 *   DATASHARE_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench   profile the worker
 *   DATASHARE_MEMORY_TRACE=500 npm run bench -- --worker-log /tmp/w.log   the worker's stderr, to a file
 *
 * Workers run as `bin/datashare worker` with its defaults (--max-concurrent-files 2,
 * 5 MiB parts, 2 in flight, and the launcher's memory settings).
 */

const BYTES_PER_ROW = 134;

interface Case {
  name: string;
  format: Format;
  compression: Compression;
}

const CASES: Case[] = [
  { name: 'CSV+gzip', format: 'csv', compression: 'gzip' },
  { name: 'CSV', format: 'csv', compression: 'none' },
  { name: 'JSONL+gzip', format: 'jsonl', compression: 'gzip' },
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

async function buildTable(url: string, table: string, rows: number): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    // Checked by its contents, not pg_class statistics: an unlogged table comes back empty
    // after Postgres crashes (the restart tests kill it), while its statistics stay.
    const { rows: exists } = await c.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [table]);
    if (exists.length > 0) {
      const { rows: have } = await c.query<{ n: string | null }>(`SELECT max(id)::text AS n FROM ${table}`);
      if (Number(have[0].n) === rows) return log(`table ${table}: present (${rows} rows)`);
    }
    log(`table ${table}: building ${rows} rows (about ${((rows * BYTES_PER_ROW) / 1e9).toFixed(1)} GB of CSV)…`);
    await c.query(`DROP TABLE IF EXISTS ${table}`);
    await c.query(`CREATE UNLOGGED TABLE ${table} (id bigint, tenant_id integer, created_at timestamptz, amount numeric(12,2), name text, payload text)`);
    const step = 2_000_000;
    for (let lo = 1; lo <= rows; lo += step) {
      const hi = Math.min(rows, lo + step - 1);
      await c.query(`INSERT INTO ${table}
        SELECT g, (g % 1000)::int, timestamptz '2026-01-01' + g * interval '1 second', (g % 100000) / 100.0,
               'customer ' || (g % 50000), md5(g::text) || md5((g * 7)::text)
        FROM generate_series(${lo}::bigint, ${hi}::bigint) g`);
      log(`  ${hi} rows`);
    }
    await c.query(`ALTER TABLE ${table} ADD PRIMARY KEY (id)`);
    await c.query(`VACUUM ANALYZE ${table}`);
  } finally {
    await c.end();
  }
}

function rawBytes(url: string, table: string): number {
  const r = spawnSync('bash', ['-c', `psql "${url}" -qAt -c "COPY (SELECT * FROM ${table} ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)" | wc -c`], {
    encoding: 'utf8',
  });
  return Number(r.stdout.trim());
}

/** COPY … TO STDOUT | gzip -1 | S3 multipart upload (lib-storage, 16 MiB parts, 4 in flight). */
function baseline(url: string, table: string, c: Case, s3Endpoint: string): number {
  const select = c.format === 'csv' ? `SELECT * FROM ${table} ORDER BY id` : `SELECT row_to_json(t) FROM ${table} t ORDER BY id`;
  const opts = c.format === 'csv' ? 'FORMAT csv, HEADER' : "FORMAT csv, DELIMITER E'\\\\x02', QUOTE E'\\\\x01'";
  const gzip = c.compression === 'gzip' ? '| gzip -1' : '';
  const uploader = join(REPO_ROOT, 'dist', 'scripts', 'bench', 'upload-stdin.js');
  const cmd = `set -o pipefail; psql "${url}" -qAt -c "COPY (${select}) TO STDOUT WITH (${opts})" ${gzip} | node ${uploader} bench-bucket baseline/${c.name}`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', cmd], { env: { ...process.env, AWS_ENDPOINT_URL: s3Endpoint }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`baseline ${c.name} failed`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function startWorker(env: NodeJS.ProcessEnv, maxFiles: number): Promise<ChildProcess> {
  const w = spawn(join(REPO_ROOT, 'bin', 'datashare'), ['worker', '--max-concurrent-files', String(maxFiles)], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logFile = arg('worker-log', '');
  if (logFile) w.stderr.on('data', (d: Buffer) => appendFileSync(logFile, d));
  await new Promise<void>((resolve, reject) => {
    w.stderr.on('data', (d: Buffer) => {
      if (d.toString().includes('datashare worker:')) resolve();
    });
    w.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  return w;
}

async function stopWorker(w: ChildProcess): Promise<void> {
  w.kill('SIGTERM');
  if (w.exitCode === null) await new Promise((r) => w.once('exit', r));
}

async function main(): Promise<void> {
  const stack = readStackEnv();
  const sizes = arg('gb', '1').split(',').map(Number);
  const concurrent = Number(arg('concurrent', '0'));
  const wanted = arg('cases', CASES.map((c) => c.name).join(',')).toLowerCase().split(',');
  const cases = CASES.filter((c) => wanted.includes(c.name.toLowerCase()));
  if (cases.length === 0) throw new Error(`--cases: none of ${wanted.join(', ')} is one of ${CASES.map((c) => c.name).join(', ')}`);
  const adminUrl = stack.DATABASE_URL;
  const benchUrl = Object.assign(new URL(adminUrl), { pathname: '/datashare_bench_export' }).toString();
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  if ((await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'datashare_bench_export'`)).rowCount === 0) await admin.query('CREATE DATABASE datashare_bench_export');
  await admin.end();
  const pool = createPool(benchUrl, 2);
  await migrate(pool);
  await pool.end();

  const discard = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'scripts', 'bench', 'discard-s3.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => discard.stdout.once('data', (d: Buffer) => resolve(Number(/listening (\d+)/.exec(d.toString())?.[1]))));
  const s3Endpoint = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: benchUrl,
    TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: stack.TEMPORAL_NAMESPACE ?? 'default',
    DATASHARE_TASK_QUEUE: `bench-${process.pid}`,
    AWS_ENDPOINT_URL: s3Endpoint,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_REGION: 'us-east-1',
    DATASHARE_LOG_LEVEL: 'WARN',
  };
  const ds = new Datashare(loadConfig(env));
  await ds.setProfile('bench', {
    s3_role_arn: 'arn:aws:iam::111122223333:role/bench',
    s3_bucket: 'bench-bucket',
    s3_region: 'us-east-1',
    s3_prefix: 'bench/',
    s3_external_id: 'bench-external-id',
  });

  log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; S3 endpoint: discard-all (${s3Endpoint})`);
  const results: string[] = [];
  const header = 'size  case        rows       raw MB   baseline s  MB/s    datashare s  MB/s    rows/s      ratio  worker peak RSS';
  try {
    for (const [si, gb] of sizes.entries()) {
      const rows = Math.round((gb * 1e9) / BYTES_PER_ROW);
      const table = `bench_rows_${String(gb).replace('.', '_')}g`;
      await buildTable(benchUrl, table, rows);
      const raw = rawBytes(benchUrl, table);
      for (const c of si === 0 ? cases : cases.slice(0, 1)) {
        const datasetId = `bench-${table.replace(/_/g, '-')}`;
        await ds.setDataset(datasetId, { sql: `SELECT * FROM ${table}`, keyColumns: ['id'], format: c.format, compression: c.compression, sameForEveryone: true });
        log(`${gb} GB ${c.name}: baseline…`);
        const base = baseline(benchUrl, table, c, s3Endpoint);
        log(`${gb} GB ${c.name}: datashare…`);
        const worker = await startWorker(env, 2);
        const t0 = process.hrtime.bigint();
        const d = await ds.waitForDelivery((await ds.share('bench', datasetId)).id, undefined, 250);
        const secs = Number(process.hrtime.bigint() - t0) / 1e9;
        const rss = peakRssMb(worker.pid!);
        await stopWorker(worker);
        if (d.status !== 'completed') throw new Error(`delivery ${d.id} ${d.status}: ${d.error?.message ?? ''}`);
        if (d.rows !== rows) throw new Error(`delivery ${d.id} sent ${d.rows} rows, the table has ${rows}`);
        const line = [
          `${gb} GB`.padEnd(6),
          c.name.padEnd(11),
          String(d.rows).padEnd(10),
          (raw / 1e6).toFixed(0).padEnd(8),
          base.toFixed(1).padEnd(11),
          (raw / 1e6 / base).toFixed(0).padEnd(7),
          secs.toFixed(1).padEnd(12),
          (raw / 1e6 / secs).toFixed(0).padEnd(7),
          String(Math.round(d.rows / secs)).padEnd(11),
          `${(base / secs).toFixed(2)}x`.padEnd(6),
          `${rss.toFixed(0)} MB (${d.files.length} files)`,
        ].join(' ');
        results.push(line);
        log(line);
      }
    }
    if (concurrent > 0) {
      const table = `bench_rows_${String(sizes[0]).replace('.', '_')}g`;
      const datasetId = `bench-${table.replace(/_/g, '-')}`;
      await ds.setDataset(datasetId, { sql: `SELECT * FROM ${table}`, keyColumns: ['id'], format: 'csv', compression: 'gzip', sameForEveryone: true });
      const worker = await startWorker(env, 2);
      const t0 = process.hrtime.bigint();
      const started = await Promise.all(Array.from({ length: concurrent }, () => ds.share('bench', datasetId, { maxFileBytes: 64 * 1024 * 1024 })));
      const done = await Promise.all(started.map((s) => ds.waitForDelivery(s.id, undefined, 250)));
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const rss = peakRssMb(worker.pid!);
      await stopWorker(worker);
      const rows = done.reduce((n, d) => n + d.rows, 0);
      results.push(`${concurrent} deliveries at once of ${sizes[0]} GB CSV+gzip, worker --max-concurrent-files 2, 64 MiB files: ${secs.toFixed(1)} s, ${Math.round(rows / secs)} rows/s, worker peak RSS ${rss.toFixed(0)} MB`);
    }
  } finally {
    discard.kill();
    await ds.close();
  }
  process.stdout.write(`\n${header}\n${results.join('\n')}\n`);
  process.stdout.write('ratio = baseline time / datashare time (≥ 1 means datashare is as fast or faster)\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
