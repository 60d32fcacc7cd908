import { readFileSync } from 'node:fs';
import type { Datashare } from '../../client/datashare';
import type { Compression, Format } from '../../common/contracts/delivery';
import { peakRssMb, startWorker, stopWorker } from './bench-worker';

/**
 * The scaling rows of `npm run bench`: one 1 GB realistic delivery read over 1, 2 and 4
 * source connections per file, then one delivery of several files on 1 and 2 workers.
 * Each row says how busy the machine's cores were, which is where growth stops.
 */

export interface ScalingInput {
  ds: Datashare;
  env: NodeJS.ProcessEnv;
  /** The realistic table's dataset, re-set here per format. */
  datasetId: string;
  datasetSql: string;
  expectedRows: number;
  log: (s: string) => void;
}

/** Busy and total CPU time of the whole machine so far, from /proc/stat (in clock ticks). */
function cpuTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

async function timeDelivery(
  x: ScalingInput,
  workerArgs: string[][],
  share: () => Promise<{ id: string }>,
): Promise<{ secs: number; rss: number; busy: number }> {
  const workers = [];
  for (const args of workerArgs) workers.push(await startWorker(x.env, args));
  const before = cpuTicks();
  const t0 = process.hrtime.bigint();
  const d = await x.ds.waitForDelivery((await share()).id, undefined, 250);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = cpuTicks();
  const rss = Math.max(...workers.map((w) => peakRssMb(w.pid!)));
  for (const w of workers) await stopWorker(w);
  if (d.status !== 'completed') throw new Error(`delivery ${d.id} ${d.status}: ${d.error?.message ?? ''}`);
  if (d.rows !== x.expectedRows) throw new Error(`delivery ${d.id} sent ${d.rows} rows, expected ${x.expectedRows}`);
  return { secs, rss, busy: (after.busy - before.busy) / (after.total - before.total) };
}

export async function measureScaling(x: ScalingInput): Promise<string[]> {
  const rows: string[] = [];
  const line = (what: string, r: { secs: number; rss: number; busy: number }, base: number): string =>
    `${what.padEnd(44)} ${r.secs.toFixed(1).padStart(6)} s  ${Math.round(x.expectedRows / r.secs)
      .toString()
      .padStart(
        8,
      )} rows/s  ${(base / r.secs).toFixed(2)}x  cores busy ${(r.busy * 100).toFixed(0)}%  peak RSS ${r.rss.toFixed(0)} MB`;
  const formats: { name: string; format: Format; compression: Compression }[] = [
    { name: 'CSV+gzip', format: 'csv', compression: 'gzip' },
    { name: 'Parquet', format: 'parquet', compression: 'snappy' },
  ];
  for (const f of formats) {
    await x.ds.setDataset(x.datasetId, {
      sql: x.datasetSql,
      keyColumns: ['id'],
      format: f.format,
      compression: f.compression,
    });
    let base = 0;
    for (const n of [1, 2, 4]) {
      x.log(`scaling: ${f.name}, ${n} connection(s) per file…`);
      const args = ['--connections-per-file', String(n), '--max-source-connections', String(2 * n + 2)];
      const r = await timeDelivery(x, [args], () => x.ds.share('bench', x.datasetId));
      base ||= r.secs;
      const row = line(`${f.name}, ${n} connection${n > 1 ? 's' : ''} per file, 1 worker`, r, base);
      rows.push(row);
      x.log(row);
    }
  }
  // Several files, so that a second worker has some to take.
  await x.ds.setDataset(x.datasetId, { sql: x.datasetSql, keyColumns: ['id'], format: 'csv', compression: 'gzip' });
  let base = 0;
  for (const n of [1, 2]) {
    x.log(`scaling: CSV+gzip in 32 MiB files, ${n} worker(s)…`);
    const r = await timeDelivery(
      x,
      Array.from({ length: n }, () => []),
      () => x.ds.share('bench', x.datasetId, { maxFileBytes: 32 * 1024 * 1024 }),
    );
    base ||= r.secs;
    const row = line(`CSV+gzip, 32 MiB files, ${n} worker${n > 1 ? 's' : ''} (defaults)`, r, base);
    rows.push(row);
    x.log(row);
  }
  return rows;
}
