import { spawn, type ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datashare } from '../../client/datashare';
import { loadConfig } from '../../common/infra/config';
import { workflowIdFor } from '../../common/contracts/delivery';
import { createBucket, createEndUserRole, endUserProfile, uniqueName } from '../../scripts/local/end-user-account';
import { useTestEnv } from '../../scripts/local/stack-env';
import { CLI } from '../support/cli';
import { activityAttempts } from '../support/history';

const PART = 5 * 1024 * 1024;
const IN_FLIGHT = 2;

/**
 * A worker killed with SIGKILL in the middle of a file, twice: new workers finish
 * the same multipart upload, the file is byte-identical to an uninterrupted one,
 * and only the parts in flight at each kill are sent again.
 */
describe('resume inside a file after SIGKILL', () => {
  const env: NodeJS.ProcessEnv = {};
  let pool: Pool;
  let ds: Datashare;
  let worker: ChildProcess | undefined;
  const bucket = uniqueName('resume');
  let profile = '';
  /** Each format's dataset: nine or more 5 MiB parts in one file. */
  const datasets: Record<string, string> = {};

  function startWorker(): ChildProcess {
    const child = spawn(CLI, ['worker'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    worker = child;
    return child;
  }

  async function kill(child: ChildProcess): Promise<void> {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  }

  async function waitFor(
    id: string,
    pred: (v: Awaited<ReturnType<Datashare['getDelivery']>>) => boolean,
    ms = 120_000,
  ): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (pred(await ds.getDelivery(id))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`delivery ${id} did not reach the expected state`);
  }

  beforeAll(async () => {
    Object.assign(env, process.env, useTestEnv(), {
      DATASHARE_TASK_QUEUE: uniqueName('resume-test'),
      DATASHARE_PART_BYTES: String(PART),
      DATASHARE_PARTS_IN_FLIGHT: String(IN_FLIGHT),
      DATASHARE_LOG_LEVEL: 'WARN',
    });
    Object.assign(process.env, { DATASHARE_TASK_QUEUE: env.DATASHARE_TASK_QUEUE });
    pool = new Pool({ connectionString: env.DATABASE_URL });
    ds = new Datashare(loadConfig(env));
    const table = uniqueName('resume_rows').replace(/-/g, '_');
    // ~45 MB of CSV: nine 5 MiB parts in one file.
    await pool.query(
      `CREATE TABLE ${table} AS SELECT g AS id, md5(g::text) || repeat(' pad', 25) AS v FROM generate_series(1, 320000) g`,
    );
    datasets.csv = uniqueName('resume-ds');
    await ds.setDataset(datasets.csv, {
      sql: `SELECT * FROM ${table}`,
      keyColumns: ['id'],
      compression: 'none',
      sameForEveryone: true,
    });
    // Parquet with snappy: hex, which snappy cannot shrink, so the file is ~45 MB too.
    datasets.parquet = uniqueName('resume-pq');
    await ds.setDataset(datasets.parquet, {
      sql: `SELECT id, md5(id::text) || md5((id * 7)::text) || md5((id * 13)::text) || md5((id * 17)::text) AS v, id * 1.5 AS x FROM ${table}`,
      keyColumns: ['id'],
      format: 'parquet',
      sameForEveryone: true,
    });
    await createBucket('other', bucket);
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'r/' });
    profile = (await ds.setProfile(uniqueName('resume'), endUserProfile(role, bucket, 'r/'))).id;
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) await kill(worker);
    await ds?.close();
    await pool?.end();
  });

  it.each(['csv', 'parquet'])(
    'finishes the same %s upload byte-identically, redoing only parts in flight',
    async (format) => {
      const dataset = datasets[format];
      const opts = { maxFileBytes: 1024 ** 3 };
      let w = startWorker();
      const reference = await ds.waitForDelivery((await ds.share(profile, dataset, opts)).id, undefined, 200);
      expect(reference.error).toBeUndefined();
      expect(reference.status).toBe('completed');
      expect(reference.files).toHaveLength(1);
      expect(reference.bytes).toBeGreaterThan(8 * PART);

      const started = await ds.share(profile, dataset, opts);
      await waitFor(started.id, (v) => v.uploadedBytes >= 2 * PART);
      await kill(w);
      const afterFirstKill = (await ds.getDelivery(started.id)).uploadedBytes;
      w = startWorker();
      await waitFor(started.id, (v) => v.uploadedBytes >= afterFirstKill + 2 * PART);
      await kill(w);
      w = startWorker();
      const d = await ds.waitForDelivery(started.id, undefined, 200);
      await kill(w);

      expect(d.status).toBe('completed');
      expect(d.files[0].sha256).toBe(reference.files[0].sha256);
      expect(d.bytes).toBe(reference.bytes);
      expect(d.rows).toBe(320000);
      // Two kills, each may cost the parts in flight and no more.
      const redone = d.uploadedBytes - d.bytes;
      expect(redone).toBeGreaterThanOrEqual(0);
      expect(redone).toBeLessThanOrEqual(2 * IN_FLIGHT * PART);
      const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
      try {
        const attempts = await activityAttempts(new Client({ connection }), workflowIdFor(d.id));
        expect(attempts.uploadFile).toBeGreaterThanOrEqual(3);
      } finally {
        await connection.close();
      }
    },
  );
});
