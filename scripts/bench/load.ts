import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { loadBeforeBench } from './machine-load';
import { join } from 'node:path';
import { Client } from 'pg';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Datashare } from '../../client/datashare';
import type { RoundSummary } from '../../common/contracts/schedules';
import { loadConfig } from '../../common/infra/config';
import { createPool } from '../../common/infra/pool';
import { migrate } from '../../common/store/migrate';
import { SLOW_DOWN } from '../../test/support/injector-faults';
import { S3Injector } from '../../test/support/s3-injector';
import { REPO_ROOT, readStackEnv } from '../local/stack-env';
import { BENCH_TENANT, REALISTIC, ensureTable } from './tables';

/**
 * `npm run bench:load` (issue 13): everything at once on two workers, against the
 * discard-all S3/STS endpoint (scripts/bench/discard-s3.ts) behind the fault injector
 * answering 5% of UploadPart with 503 SlowDown:
 *   - three deliveries of the 1 GB realistic table (CSV+gzip), one per profile;
 *   - a scheduled round to 1,000 profiles of a small dataset.
 * Prints deliveries completed and failed, the time of each, the peak RSS of each
 * worker, the bytes sent again (uploadedBytes − bytes) and the retries counted.
 *
 *   npm run bench:load                                the full size
 *   npm run bench:load -- --gb 0.05 --profiles 50    a quick run (the size the suite's author checked)
 *   --slowdown 0.05                                   the share of UploadPart answered SlowDown
 */

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const log = (s: string): void => void process.stderr.write(`${s}\n`);

function peakRssMb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

async function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const w = spawn(join(REPO_ROOT, 'bin', 'datashare'), ['worker', '--max-concurrent-files', '2'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    w.stderr.on('data', (d: Buffer) => {
      if (d.toString().includes('datashare worker:')) resolve();
    });
    w.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  return w;
}

async function main(): Promise<void> {
  const gb = Number(arg('gb', '1'));
  const profiles = Number(arg('profiles', '1000'));
  const slowdown = Number(arg('slowdown', '0.05'));
  const stack = readStackEnv();
  const benchUrl = Object.assign(new URL(stack.DATABASE_URL), { pathname: '/datashare_bench_export' }).toString();
  const admin = new Client({ connectionString: stack.DATABASE_URL });
  await admin.connect();
  if ((await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'datashare_bench_export'`)).rowCount === 0)
    await admin.query('CREATE DATABASE datashare_bench_export');
  await admin.end();
  const pool = createPool(benchUrl, 2);
  await migrate(pool);
  const big = REALISTIC.name(gb);
  await ensureTable(benchUrl, REALISTIC, big, Math.round((gb * 1e9) / REALISTIC.bytesPerRow), log);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS bench_load_small AS SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 200) g`,
  );
  await pool.end();

  const discard = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'scripts', 'bench', 'discard-s3.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) =>
    discard.stdout.once('data', (d: Buffer) => resolve(Number(/listening (\d+)/.exec(d.toString())?.[1]))),
  );
  const injector = await S3Injector.start(`http://127.0.0.1:${port}`);
  injector.add({ name: 'slowdown', match: { operation: 'UploadPart' }, answer: SLOW_DOWN, probability: slowdown });
  const run = `load-${process.pid}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: benchUrl,
    TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: stack.TEMPORAL_NAMESPACE ?? 'default',
    DATASHARE_TASK_QUEUE: `bench-${run}`,
    AWS_ENDPOINT_URL: injector.url,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_REGION: 'us-east-1',
    DATASHARE_LOG_LEVEL: 'WARN',
  };
  const ds = new Datashare(loadConfig(env));
  const workers: ChildProcess[] = [];
  let scheduleId = '';
  try {
    const destination = (prefix: string): Record<string, string> => ({
      s3_role_arn: 'arn:aws:iam::111122223333:role/bench',
      s3_bucket: 'bench-bucket',
      s3_region: 'us-east-1',
      s3_prefix: prefix,
      s3_external_id: 'bench-external-id',
      tenant_id: BENCH_TENANT,
    });
    const bigDataset = `${run}-big`;
    await ds.setDataset(bigDataset, { sql: REALISTIC.datasetSql(big), keyColumns: ['id'] });
    const smallDataset = `${run}-small`;
    await ds.setDataset(smallDataset, {
      sql: 'SELECT * FROM bench_load_small',
      keyColumns: ['id'],
      sameForEveryone: true,
    });
    for (let i = 0; i < 3; i++) await ds.setProfile(`${run}-big-${i}`, destination(`big/${i}/`));
    log(`creating ${profiles} profiles…`);
    for (let i = 0; i < profiles; i++)
      await ds.setProfile(`${run}-p${String(i).padStart(4, '0')}`, { ...destination(`round/${i}/`), plan: run });

    log(
      `machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; 1-minute load before: ${loadBeforeBench().toFixed(2)}${loadBeforeBench() > 0.5 ? ' (not idle: figures not worth quoting)' : ''}`,
    );
    workers.push(await startWorker(env), await startWorker(env));
    const t0 = Date.now();
    const schedule = await ds.schedules.create({
      datasetId: smallDataset,
      target: { kind: 'where', where: { plan: run } },
      cron: '0 0 1 1 *',
      maxParallel: 20,
    });
    scheduleId = schedule.id;
    await ds.schedules.trigger(scheduleId);
    const bigRuns = [0, 1, 2].map(async (i) => {
      const d = await ds.waitForDelivery((await ds.share(`${run}-big-${i}`, bigDataset)).id, undefined, 500);
      return { d, secs: (Date.now() - t0) / 1000 };
    });
    const roundRun = (async () => {
      for (;;) {
        const action = (await ds.schedules.show(scheduleId)).recentActions?.[0];
        if (action && action.runStatus !== 'RUNNING') {
          const connection = await Connection.connect({ address: stack.TEMPORAL_ADDRESS });
          const temporal = new TemporalClient({ connection, namespace: stack.TEMPORAL_NAMESPACE ?? 'default' });
          const round = (await temporal.workflow.getHandle(action.workflowId).result()) as RoundSummary;
          await connection.close();
          return { round, secs: (Date.now() - t0) / 1000 };
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const rssPeak = [0, 0];
    const sampler = setInterval(
      () => workers.forEach((w, i) => (rssPeak[i] = Math.max(rssPeak[i], peakRssMb(w.pid!)))),
      500,
    );
    const bigs = await Promise.all(bigRuns);
    const { round, secs: roundSecs } = await roundRun;
    clearInterval(sampler);
    workers.forEach((w, i) => (rssPeak[i] = Math.max(rssPeak[i], peakRssMb(w.pid!))));

    const resent = bigs.reduce((n, b) => n + (b.d.uploadedBytes - b.d.bytes), 0);
    const slowDowns = injector.recorded().filter((r) => r.answeredBy === 'slowdown').length;
    const done = bigs.filter((b) => b.d.status === 'completed').length;
    console.log(
      `bench:load — ${gb} GB ×3 + a ${profiles}-profile round, ${slowdown * 100}% UploadPart SlowDown, 2 workers`,
    );
    for (const [i, b] of bigs.entries())
      console.log(
        `  delivery ${i + 1}: ${b.d.status} in ${b.secs.toFixed(1)} s, ${(b.d.bytes / 1e6).toFixed(0)} MB, re-sent ${((b.d.uploadedBytes - b.d.bytes) / 1e6).toFixed(1)} MB${b.d.error ? `, ${b.d.error.type}: ${b.d.error.message}` : ''}`,
      );
    console.log(
      `  round: ${round.completed} completed, ${round.failed} failed, ${round.skipped} skipped of ${round.profiles}, in ${roundSecs.toFixed(1)} s; retries ${round.retries ?? 0}`,
    );
    console.log(`  deliveries completed ${done + round.completed}, failed ${3 - done + round.failed}`);
    console.log(`  peak RSS per worker: ${rssPeak.map((r) => `${r.toFixed(0)} MB`).join(', ')}`);
    console.log(`  bytes re-sent (uploadedBytes − bytes, the 3 big deliveries): ${(resent / 1e6).toFixed(1)} MB`);
    console.log(
      `  SlowDown answers injected: ${slowDowns} of ${injector.recorded({ operation: 'UploadPart' }).length} UploadPart`,
    );
  } finally {
    if (scheduleId) await ds.schedules.delete(scheduleId).catch(() => undefined);
    for (const w of workers) {
      w.kill('SIGTERM');
      if (w.exitCode === null) await new Promise((r) => w.once('exit', r));
    }
    await ds.close();
    await injector.stop();
    discard.kill();
  }
}

main().catch((e: unknown) => {
  log(`bench:load: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
