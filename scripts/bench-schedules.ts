/**
 * `npm run bench:schedules [-- --n 1000 --max-parallel 20 --max-concurrent-files 4]`
 *
 * One scheduled round of a `--where` schedule to N end users × a small dataset, on
 * the local stack: how long the round takes, and the worker's memory while it runs.
 *
 * Sets up its own database (datashare_bench, dropped and recreated), N profiles
 * that share one bucket and one role in the "other" moto account (a prefix each),
 * a dataset of 10 rows per profile, then starts a real `bin/datashare worker` as a
 * child process (the built CLI, under its launcher), creates the schedule with a cron
 * that will not fire on its own, triggers it once and waits for the round to end.
 * The worker's /proc/<pid>/status (VmRSS, VmHWM) is sampled every 200 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Client as PgClient, Pool } from 'pg';
import { Datashare } from '../client/datashare';
import { loadConfig } from '../common/infra/config';
import type { RoundSummary } from '../common/contracts/schedules';
import { migrate } from '../common/store/migrate';
import { createBucket, createEndUserRole, endUserProfile, uniqueName } from './local/end-user-account';
import { REPO_ROOT, readStackEnv } from './local/stack-env';

interface Args {
  n: number;
  maxParallel: number;
  maxConcurrentFiles: number;
  rowsPerProfile: number;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const out: Args = {
    n: Number(process.env.BENCH_N ?? 1000),
    maxParallel: 20,
    maxConcurrentFiles: 2,
    rowsPerProfile: 10,
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a whole number ≥ 1`);
      return v;
    };
    if (a === '--n') out.n = next();
    else if (a === '--max-parallel') out.maxParallel = next();
    else if (a === '--max-concurrent-files') out.maxConcurrentFiles = next();
    else if (a === '--rows') out.rowsPerProfile = next();
    else if (a === '--keep') out.keep = true;
    else throw new Error(`unknown argument ${a}; use --n, --max-parallel, --max-concurrent-files, --rows, --keep`);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function memOf(pid: number): { rssKiB: number; hwmKiB: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? Number.NaN);
    return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds the process has used (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

async function poolMap<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const stack = readStackEnv();
  const dbUrl = new URL(stack.DATABASE_URL);
  dbUrl.pathname = '/datashare_bench';
  const taskQueue = uniqueName('bench-schedules');
  Object.assign(process.env, stack, {
    DATABASE_URL: dbUrl.toString(),
    DATASHARE_TASK_QUEUE: taskQueue,
    DATASHARE_LOG_LEVEL: 'WARN',
  });
  delete process.env.SOURCE_DATABASE_URL;
  const say = (s: string) => process.stdout.write(`${s}\n`);

  say(`== setup: database datashare_bench, ${args.n} profiles, ${args.rowsPerProfile} rows each`);
  const admin = new PgClient({ connectionString: stack.DATABASE_URL });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS datashare_bench WITH (FORCE)');
  await admin.query('CREATE DATABASE datashare_bench');
  await admin.end();
  const pool = new Pool({ connectionString: dbUrl.toString(), max: 4 });
  await migrate(pool);
  await pool.query(
    `CREATE TABLE bench_rows AS SELECT g AS id, g % $1 AS tenant_id, 'item ' || g AS label, now() - g * interval '1 minute' AS created_at
     FROM generate_series(1, $2::int) g`,
    [args.n, args.n * args.rowsPerProfile],
  );
  await pool.query('CREATE INDEX ON bench_rows (tenant_id)');

  const ds = new Datashare(loadConfig());
  const schedules = ds.schedules;
  let worker: ChildProcess | undefined;
  let scheduleId: string | undefined;
  try {
    await ds.setDataset('bench', {
      sql: 'SELECT id, label, created_at FROM bench_rows WHERE tenant_id = :tenant_id',
      keyColumns: ['id'],
    });
    const bucket = uniqueName('bench-schedules');
    await createBucket('other', bucket);
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'bench/' });
    const plan = uniqueName('bench');
    const t0 = Date.now();
    const ids = Array.from({ length: args.n }, (_, i) => `bench-${String(i).padStart(6, '0')}`);
    await poolMap(ids, 4, async (id) => {
      await ds.setProfile(id, {
        ...endUserProfile(role, bucket, `bench/${id}/`),
        tenant_id: String(Number(id.slice(6))),
        plan,
      });
    });
    say(
      `   ${args.n} profiles in ${((Date.now() - t0) / 1000).toFixed(1)} s (one bucket ${bucket}, one role, a prefix each)`,
    );

    say(`== worker: datashare worker --max-concurrent-files ${args.maxConcurrentFiles} (child process, the built CLI)`);
    const w = spawn(
      join(REPO_ROOT, 'bin', 'datashare'),
      ['worker', '--max-concurrent-files', String(args.maxConcurrentFiles)],
      {
        cwd: REPO_ROOT,
        env: process.env,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    worker = w;
    let workerLog = '';
    w.stderr.on('data', (d: Buffer) => (workerLog += d.toString('utf8')));
    const ready = Date.now();
    while (!workerLog.includes('datashare worker: task queue')) {
      if (w.exitCode !== null) throw new Error(`worker exited: ${workerLog}`);
      if (Date.now() - ready > 120_000) throw new Error(`worker not ready after 120 s: ${workerLog}`);
      await sleep(200);
    }
    await sleep(2_000); // let startup allocations settle before the baseline
    const base = memOf(w.pid!);
    say(
      `   ready in ${((Date.now() - ready) / 1000).toFixed(1)} s; idle RSS ${base ? mib(base.rssKiB) : '?'} (VmHWM so far ${base ? mib(base.hwmKiB) : '?'}, includes bundling the workflows)`,
    );

    const view = await schedules.create({
      datasetId: 'bench',
      target: { kind: 'where', where: { plan } },
      cron: '0 0 1 1 *', // once a year: the round below is the triggered one
      maxParallel: args.maxParallel,
    });
    scheduleId = view.id;
    say(`== schedule ${view.id}: max-parallel ${args.maxParallel}, ${view.matchingProfiles} profiles match`);

    const samples: { t: number; rssKiB: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const m = memOf(w.pid!);
        if (m) samples.push({ t: Date.now(), rssKiB: m.rssKiB });
        await sleep(200);
      }
    })();

    const cpuBefore = cpuSecondsOf(w.pid!);
    const started = Date.now();
    await schedules.trigger(view.id);
    let workflowId: string | undefined;
    while (!workflowId) {
      const s = await schedules.show(view.id);
      workflowId = s.recentActions?.[0]?.workflowId;
      if (!workflowId) await sleep(200);
    }
    let last = 0;
    const progress = setInterval(() => {
      void pool
        .query<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE status <> 'running'`)
        .then(({ rows }) => {
          const n = Number(rows[0].n);
          if (n !== last)
            process.stderr.write(
              `\r   ${n}/${args.n} deliveries done, ${((Date.now() - started) / 1000).toFixed(0)} s`,
            );
          last = n;
        });
    }, 2_000);
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    const summary = (await client.workflow.getHandle(workflowId).result()) as RoundSummary;
    const elapsed = (Date.now() - started) / 1000;
    clearInterval(progress);
    process.stderr.write('\n');
    await connection.close();
    sampling = false;
    await sampler;
    const end = memOf(w.pid!);
    const cpu = cpuSecondsOf(w.pid!) - cpuBefore;

    const { rows: stats } = await pool.query<{
      status: string;
      n: string;
      p50: number;
      p95: number;
      first: Date;
      last: Date;
    }>(
      `SELECT status, count(*) AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at)) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at)) AS p95,
              min(started_at) AS first, max(completed_at) AS last
       FROM deliveries GROUP BY status ORDER BY status`,
    );
    const peak = samples.reduce((m, s) => Math.max(m, s.rssKiB), 0);
    const tenths = [0.1, 0.25, 0.5, 0.75, 0.9, 1].map(
      (f) => samples[Math.min(samples.length - 1, Math.floor(f * (samples.length - 1)))],
    );

    say('');
    say('== result');
    say(`   end users (N)            ${args.n}`);
    say(`   dataset                  ${args.rowsPerProfile} rows per end user (csv, gzip)`);
    say(
      `   max-parallel / worker    ${args.maxParallel} children at once / --max-concurrent-files ${args.maxConcurrentFiles}, one worker, 2 cores shared with Temporal, Postgres and moto`,
    );
    say(`   round wall time          ${elapsed.toFixed(1)} s (trigger → round workflow completed)`);
    say(`   throughput               ${(args.n / elapsed).toFixed(1)} deliveries/s`);
    say(
      `   round summary            ${summary.completed} completed, ${summary.failed} failed, ${summary.skipped} skipped, ` +
        `${summary.continuedAsNew} continue-as-new (pages of 500)`,
    );
    for (const s of stats) {
      say(
        `   deliveries ${s.status.padEnd(13)} ${s.n}; registered → done p50 ${Number(s.p50).toFixed(1)} s, p95 ${Number(s.p95).toFixed(1)} s ` +
          '(a page is registered at once, so this includes waiting for a slot)',
      );
    }
    say(
      `   worker CPU               ${cpu.toFixed(1)} s over ${elapsed.toFixed(1)} s (${((100 * cpu) / elapsed).toFixed(0)}% of one core)`,
    );
    say(`   worker RSS idle          ${base ? mib(base.rssKiB) : '?'}`);
    say(`   worker RSS peak (round)  ${mib(peak)} (sampled every 200 ms; ${samples.length} samples)`);
    say(`   worker RSS after round   ${end ? mib(end.rssKiB) : '?'}`);
    say(`   worker VmHWM             ${end ? mib(end.hwmKiB) : '?'} (lifetime high-water mark, includes startup)`);
    say(
      `   RSS over the round       ${tenths.map((s, i) => `${['10%', '25%', '50%', '75%', '90%', 'end'][i]} ${mib(s.rssKiB)}`).join(', ')}`,
    );
    if (summary.failures.length)
      say(
        `   first failure            ${summary.failures[0].profileId}: ${summary.failures[0].type}: ${summary.failures[0].message}`,
      );
  } finally {
    if (scheduleId) await schedules.delete(scheduleId).catch(() => undefined);
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker!.once('exit', r));
    }
    await ds.close();
    await pool.end();
    if (!args.keep) {
      const a = new PgClient({ connectionString: stack.DATABASE_URL });
      await a.connect();
      await a.query('DROP DATABASE IF EXISTS datashare_bench WITH (FORCE)');
      await a.end();
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-schedules: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
