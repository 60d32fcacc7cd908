import { spawn, spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Datashare } from '../../client/datashare';
import { loadConfig } from '../../common/infra/config';
import { migrate } from '../../common/store/migrate';
import { createPool } from '../../common/infra/pool';
import { FORMATS, type Compression, type Format } from '../../common/contracts/delivery';
import { duckdb, handWritten, type TextFormat } from './peers';
import { BENCH_TENANT, FRIENDLY, REALISTIC, ensureTable, type BenchTable } from './tables';
import { REPO_ROOT, readStackEnv } from '../local/stack-env';
import { peakRssMb, startWorker, stopWorker } from './bench-worker';
import { loadBeforeBench } from './machine-load';
import { measureScaling } from './scaling';

/**
 * `npm run bench`: datashare against a hand-written pipeline and DuckDB, in the same
 * run, against the same S3 endpoint (scripts/bench/discard-s3.ts, a discard-all
 * server: moto would measure itself). Prints rows/s, the ratios and the worker's
 * peak RSS per format, and the machine's load at each measurement.
 *
 * The main case is the realistic table (tenant filter bound from the profile,
 * timestamptz, numeric, quoted text with NULLs, jsonb; scripts/bench/tables.ts);
 * the friendly md5 table, which earlier figures came from, follows with CSV+gzip.
 *
 *   npm run bench                    1 GB of raw CSV per table: every format on the realistic one, DuckDB peers
 *   npm run bench -- --tables realistic   only the realistic table (--no-peers: without DuckDB)
 *   npm run bench -- --gb 1,5        also 5 GB (CSV+gzip only beyond the first size)
 *   npm run bench -- --concurrent 3  also 3 deliveries at once on one worker
 *   npm run bench -- --no-scaling    without the scaling rows (1, 2, 4 connections per file; 1 and 2 workers)
 *   npm run bench -- --cases CSV+gzip  only the named cases (comma-separated)
 *   DATASHARE_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench   profile the worker
 *   DATASHARE_MEMORY_TRACE=500 npm run bench -- --worker-log /tmp/w.log   the worker's stderr, to a file
 *
 * Workers run as `bin/datashare worker` with its defaults (--max-concurrent-files 2, connections per file by format: 2 for text, 1 for Parquet,
 * 5 MiB parts, 2 in flight, and the launcher's memory settings).
 */

interface Case {
  name: string;
  format: Format;
  compression: Compression;
}

const CASES: Case[] = [
  { name: 'CSV+gzip', format: 'csv', compression: 'gzip' },
  { name: 'CSV', format: 'csv', compression: 'none' },
  { name: 'JSONL+gzip', format: 'jsonl', compression: 'gzip' },
  ...((FORMATS as readonly string[]).includes('parquet')
    ? [{ name: 'Parquet', format: 'parquet' as Format, compression: 'snappy' as Compression }]
    : []),
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

/**
 * A measurement is only worth quoting on an idle machine. The load before the bench
 * starts says whether anything else runs; later loads include the bench's own
 * previous steps, so they are shown as they are, not judged.
 */
function loadNote(): string {
  return `load ${loadavg()[0].toFixed(1)}`;
}

function idleCheck(): string {
  const l = loadBeforeBench();
  return l > 0.5
    ? `1-minute load before the bench: ${l.toFixed(2)}: something else is running; these figures are not worth quoting`
    : `1-minute load before the bench: ${l.toFixed(2)} (idle)`;
}

function rawBytes(url: string, select: string): number {
  const r = spawnSync(
    'bash',
    ['-c', `psql "${url}" -qAt -c "COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER)" | wc -c`],
    { encoding: 'utf8' },
  );
  return Number(r.stdout.trim());
}

async function main(): Promise<void> {
  const stack = readStackEnv();
  const sizes = arg('gb', '1').split(',').map(Number);
  const concurrent = Number(arg('concurrent', '0'));
  const tables = arg('tables', 'realistic,friendly')
    .split(',')
    .map((n) => ({ realistic: REALISTIC, friendly: FRIENDLY })[n as 'realistic' | 'friendly'])
    .filter((t): t is BenchTable => t !== undefined);
  if (tables.length === 0) throw new Error('--tables: give realistic, friendly or both');
  const skipPeers = process.argv.includes('--no-peers');
  const wanted = arg('cases', CASES.map((c) => c.name).join(','))
    .toLowerCase()
    .split(',');
  const cases = CASES.filter((c) => wanted.includes(c.name.toLowerCase()));
  if (cases.length === 0)
    throw new Error(`--cases: none of ${wanted.join(', ')} is one of ${CASES.map((c) => c.name).join(', ')}`);
  const adminUrl = stack.DATABASE_URL;
  const benchUrl = Object.assign(new URL(adminUrl), { pathname: '/datashare_bench_export' }).toString();
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  if ((await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'datashare_bench_export'`)).rowCount === 0)
    await admin.query('CREATE DATABASE datashare_bench_export');
  await admin.end();
  const pool = createPool(benchUrl, 2);
  await migrate(pool);
  await pool.end();

  const discard = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'scripts', 'bench', 'discard-s3.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) =>
    discard.stdout.once('data', (d: Buffer) => resolve(Number(/listening (\d+)/.exec(d.toString())?.[1]))),
  );
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
    tenant_id: BENCH_TENANT,
  });

  log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; S3 endpoint: discard-all (${s3Endpoint})`,
  );
  log('every figure below needs an idle machine: nothing else may run during the bench');
  const idle = idleCheck();
  log(idle);
  const python = join(stack.DATASHARE_STACK_DIR ?? join(REPO_ROOT, '.stack'), 'venv', 'bin', 'python');
  const results: string[] = [];
  const header =
    'size    table      case                   rows      raw MB  hand-written s  duckdb s  datashare s  rows/s    vs hand-written  vs duckdb  worker peak RSS  load';
  const row = (cells: (string | number)[], widths: number[]): string =>
    cells.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join(' ');
  const W = [7, 10, 22, 9, 7, 15, 9, 12, 9, 16, 10, 16];
  try {
    for (const t of tables) {
      for (const [si, gb] of sizes.entries()) {
        const rows = Math.round((gb * 1e9) / t.bytesPerRow);
        const table = t.name(gb);
        await ensureTable(benchUrl, t, table, rows, log);
        const select = t.select(table, BENCH_TENANT);
        const raw = rawBytes(benchUrl, select);
        const expected = t.rowsFor(rows);
        const peers: Record<string, number> = {};
        if (t.kind === 'realistic' && si === 0 && !skipPeers) {
          for (const kind of ['parquet-snappy', 'csv-gzip'] as const) {
            log(`${gb} GB ${t.kind}: duckdb ${kind}… (${loadNote()})`);
            const d = duckdb(python, benchUrl, select, kind, s3Endpoint);
            if (d.rows !== expected) throw new Error(`duckdb ${kind} wrote ${d.rows} rows, expected ${expected}`);
            peers[kind] = d.seconds;
            results.push(
              row(
                [
                  `${gb} GB`,
                  t.kind,
                  `DuckDB ${kind}`,
                  d.rows,
                  (raw / 1e6).toFixed(0),
                  '',
                  d.seconds.toFixed(1),
                  '',
                  Math.round(d.rows / d.seconds),
                  '',
                  '',
                  '',
                  loadNote(),
                ],
                W,
              ),
            );
          }
        }
        const datasetId = `bench-${table.replace(/_/g, '-')}`;
        for (const c of t.kind === 'realistic' && si === 0 ? cases : cases.slice(0, 1)) {
          await ds.setDataset(datasetId, {
            sql: t.datasetSql(table),
            keyColumns: ['id'],
            format: c.format,
            compression: c.compression,
            ...(t.sameForEveryone ? { sameForEveryone: true } : {}),
          });
          const text: TextFormat | undefined = c.format === 'csv' || c.format === 'jsonl' ? c.format : undefined;
          if (text) log(`${gb} GB ${t.kind} ${c.name}: hand-written… (${loadNote()})`);
          const base = text
            ? handWritten(benchUrl, select, text, c.compression === 'gzip', `baseline/${c.name}`, s3Endpoint)
            : undefined;
          log(`${gb} GB ${t.kind} ${c.name}: datashare… (${loadNote()})`);
          const load = loadNote();
          const worker = await startWorker(env, ['--max-concurrent-files', '2']);
          const t0 = process.hrtime.bigint();
          const d = await ds.waitForDelivery((await ds.share('bench', datasetId)).id, undefined, 250);
          const secs = Number(process.hrtime.bigint() - t0) / 1e9;
          const rss = peakRssMb(worker.pid!);
          await stopWorker(worker);
          if (d.status !== 'completed') throw new Error(`delivery ${d.id} ${d.status}: ${d.error?.message ?? ''}`);
          if (d.rows !== expected) throw new Error(`delivery ${d.id} sent ${d.rows} rows, the tenant has ${expected}`);
          const duck =
            (c.format as string) === 'parquet'
              ? peers['parquet-snappy']
              : c.name === 'CSV+gzip'
                ? peers['csv-gzip']
                : undefined;
          const line = row(
            [
              `${gb} GB`,
              t.kind,
              c.name,
              d.rows,
              (raw / 1e6).toFixed(0),
              base?.toFixed(1) ?? '',
              duck?.toFixed(1) ?? '',
              secs.toFixed(1),
              Math.round(d.rows / secs),
              base ? `${(base / secs).toFixed(2)}x` : '',
              duck ? `${(duck / secs).toFixed(2)}x` : '',
              `${rss.toFixed(0)} MB (${d.fileCount ?? d.files.length} files)`,
              load,
            ],
            W,
          );
          results.push(line);
          log(line);
        }
      }
    }
    const scaling: string[] = [];
    if (!process.argv.includes('--no-scaling') && tables[0]?.kind === 'realistic') {
      const t = tables[0];
      const table = t.name(sizes[0]);
      scaling.push(
        ...(await measureScaling({
          ds,
          env,
          datasetId: `bench-${table.replace(/_/g, '-')}`,
          datasetSql: t.datasetSql(table),
          expectedRows: t.rowsFor(Math.round((sizes[0] * 1e9) / t.bytesPerRow)),
          log,
        })),
      );
    }
    if (scaling.length)
      results.push('', `scaling, ${sizes[0]} GB realistic (speed-up against the first row of each group):`, ...scaling);
    if (concurrent > 0) {
      const t = tables[0];
      const table = t.name(sizes[0]);
      const datasetId = `bench-${table.replace(/_/g, '-')}`;
      await ds.setDataset(datasetId, {
        sql: t.datasetSql(table),
        keyColumns: ['id'],
        format: 'csv',
        compression: 'gzip',
        ...(t.sameForEveryone ? { sameForEveryone: true } : {}),
      });
      const worker = await startWorker(env, ['--max-concurrent-files', '2']);
      const t0 = process.hrtime.bigint();
      const started = await Promise.all(
        Array.from({ length: concurrent }, () => ds.share('bench', datasetId, { maxFileBytes: 64 * 1024 * 1024 })),
      );
      const done = await Promise.all(started.map((s) => ds.waitForDelivery(s.id, undefined, 250)));
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const rss = peakRssMb(worker.pid!);
      await stopWorker(worker);
      const n = done.reduce((sum, d) => sum + d.rows, 0);
      results.push(
        `${concurrent} deliveries at once of ${sizes[0]} GB ${t.kind} CSV+gzip, worker --max-concurrent-files 2, 64 MiB files: ${secs.toFixed(1)} s, ${Math.round(n / secs)} rows/s, worker peak RSS ${rss.toFixed(0)} MB`,
      );
    }
  } finally {
    discard.kill();
    await ds.close();
  }
  process.stdout.write(`\n${idle}\n${header}\n${results.join('\n')}\n`);
  process.stdout.write(
    'vs hand-written = hand-written time / datashare time; vs duckdb = DuckDB time / datashare time (CSV+gzip against DuckDB CSV+gzip, Parquet against DuckDB Parquet snappy); ≥ 1 means datashare is as fast or faster\n',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
