import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, createEndUserRole, endUserProfile, uniqueName } from '../../scripts/local/end-user-account';
import { copyCsv } from '../support/fixtures';
import { startHarness, type Harness } from '../support/harness';

const PART = 5 * 1024 * 1024;

/** Restarts a local service the way an outage or a deploy would: stop it, start it again. */
function restart(service: 'postgres' | 'temporal'): void {
  execFileSync('bash', [process.env.DATASHARE_STACK_STOP!, service], { stdio: 'ignore' });
  execFileSync('bash', [process.env.DATASHARE_STACK_START!], { stdio: 'ignore' });
}

describe('deliveries survive a Postgres restart and a Temporal restart', () => {
  let h: Harness;
  let profile = '';
  let dataset = '';
  let expectedSha = '';

  beforeAll(async () => {
    h = await startHarness({ taskQueue: uniqueName('restart-test'), partBytes: PART, partsInFlight: 1 });
    const table = uniqueName('restart_rows').replace(/-/g, '_');
    await h.pool.query(
      `CREATE TABLE ${table} AS SELECT g AS id, md5(g::text) || repeat(' filler', 20) AS v FROM generate_series(1, 200000) g`,
    );
    dataset = uniqueName('restart-ds');
    await h.ds.setDataset(dataset, {
      sql: `SELECT * FROM ${table}`,
      keyColumns: ['id'],
      compression: 'none',
      sameForEveryone: true,
    });
    expectedSha = createHash('sha256')
      .update(await copyCsv(h.pool, `SELECT * FROM ${table} ORDER BY id`))
      .digest('hex');
    const bucket = uniqueName('restart');
    await createBucket('other', bucket);
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'x/' });
    profile = (await h.ds.setProfile(uniqueName('restart'), endUserProfile(role, bucket, 'x/'))).id;
  });

  afterAll(async () => {
    await h?.stop();
  });

  async function deliverWith(disruption: () => void): Promise<void> {
    const started = await h.ds.share(profile, dataset, { maxFileBytes: 1024 ** 3 });
    for (let i = 0; i < 600; i++) {
      if ((await h.ds.getDelivery(started.id)).uploadedBytes >= PART) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    disruption();
    let d = await h.ds.getDelivery(started.id).catch(() => undefined);
    for (let i = 0; i < 1200 && d?.status !== 'completed' && d?.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      d = await h.ds.getDelivery(started.id).catch(() => undefined);
    }
    expect(d?.error).toBeUndefined();
    expect(d?.status).toBe('completed');
    expect(d?.rows).toBe(200000);
    expect(d?.files[0]!.sha256).toBe(expectedSha);
  }

  it('restarting PostgreSQL in the middle of an export', async () => {
    await deliverWith(() => restart('postgres'));
  });

  it('restarting the Temporal dev server (with its database file) in the middle of a delivery', async () => {
    await deliverWith(() => restart('temporal'));
  });
});
