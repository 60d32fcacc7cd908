import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../common/contracts/delivery';
import {
  createBucket,
  createEndUserRole,
  endUserProfile,
  uniqueName,
  type EndUserRole,
} from '../../scripts/local/end-user-account';
import { startHarness, type Harness } from '../support/harness';
import { activityAttempts } from '../support/history';

/** Runaway source queries: the dataset's statement timeout, and the worker's cap on source connections. */
describe('source database guards', () => {
  const cap = 2;
  const appName = uniqueName('ds-src-cap');
  let h: Harness;
  let table: string;
  let bucket: string;
  let role: EndUserRole;

  beforeAll(async () => {
    h = await startHarness({
      taskQueue: uniqueName('source-guards-test'),
      source: { applicationName: appName, maxConnections: cap },
      maxConcurrentFiles: 4,
    });
    table = uniqueName('guard_rows').replace(/-/g, '_');
    await h.pool.query(
      `CREATE TABLE ${table} AS SELECT g AS id, 1 AS tenant_id, 'row ' || g AS label FROM generate_series(1, 200) g`,
    );
    bucket = uniqueName('guards');
    await createBucket('other', bucket);
    role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'g/' });
  });

  afterAll(async () => {
    await h?.stop();
  });

  async function newProfile(): Promise<string> {
    const id = uniqueName('guard-p');
    await h.ds.setProfile(id, { ...endUserProfile(role, bucket, 'g/'), tenant_id: '1' });
    return id;
  }

  it('fails a query that runs past its statement timeout with a clear, permanent QueryTimeout', async () => {
    const dataset = uniqueName('slow-ds');
    // Every row sleeps: planning's sample cannot finish within 1 s.
    await h.ds.setDataset(dataset, {
      sql: `SELECT id, label FROM ${table} WHERE tenant_id = :tenant_id AND pg_sleep(0.05) IS NOT NULL`,
      keyColumns: ['id'],
      statementTimeoutMs: 1000,
    });
    expect((await h.ds.getDataset(dataset)).statementTimeoutMs).toBe(1000);
    const started = Date.now();
    const d = await h.ds.waitForDelivery((await h.ds.share(await newProfile(), dataset)).id, undefined, 200);
    expect(d.status).toBe('failed');
    expect(d.error?.type).toBe('QueryTimeout');
    expect(d.error?.message).toContain('statement timeout of 1s');
    expect(d.error?.message).toContain('--statement-timeout');
    expect((await activityAttempts(h.temporal, workflowIdFor(d.id))).exportDataset).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it(`holds at most ${cap} source connections through a round larger than the cap`, async () => {
    const dataset = uniqueName('capped-ds');
    // Slow enough (about 1 s per delivery) that the round's deliveries overlap.
    await h.ds.setDataset(dataset, {
      sql: `SELECT id, label FROM ${table} WHERE tenant_id = :tenant_id AND CASE WHEN id % 20 = 0 THEN pg_sleep(0.1) IS NOT NULL ELSE true END`,
      keyColumns: ['id'],
    });
    const profiles = await Promise.all(Array.from({ length: 6 }, () => newProfile()));
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await h.pool.query<{ n: string }>(
          'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
          [appName],
        );
        peak = Math.max(peak, Number(rows[0]?.n ?? 0));
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const started = await Promise.all(profiles.map((p) => h.ds.share(p, dataset)));
    const done = await Promise.all(started.map((s) => h.ds.waitForDelivery(s.id, undefined, 200)));
    sampling = false;
    await sampler;
    for (const d of done) {
      expect(d.error).toBeUndefined();
      expect(d.status).toBe('completed');
      expect(d.rows).toBe(200);
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(cap);
  });
});
