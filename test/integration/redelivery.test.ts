// Re-running failed deliveries (`datashare replay`), and incremental datasets. History replay: determinism.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../common/contracts/delivery';
import {
  createBucket,
  createEndUserRole,
  endUserProfile,
  getObjectBytes,
  type EndUserRole,
  uniqueName,
} from '../../scripts/local/end-user-account';
import { runCli } from '../support/cli';
import { startHarness, type Harness } from '../support/harness';

describe('incremental datasets and replaying failed deliveries', () => {
  let h: Harness;
  let table = '';
  const bucket = uniqueName('incr');
  let good: EndUserRole;
  let denied: EndUserRole;

  beforeAll(async () => {
    h = await startHarness({ taskQueue: uniqueName('incr-test') });
    table = uniqueName('events').replace(/-/g, '_');
    await h.pool.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, v text, updated_at timestamptz NOT NULL)`);
    await createBucket('other', bucket);
    good = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'in/' });
    denied = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'elsewhere/' });
  });

  afterAll(async () => {
    await h?.stop();
  });

  async function newProfile(role: EndUserRole): Promise<string> {
    return (await h.ds.setProfile(uniqueName('incr'), endUserProfile(role, bucket, 'in/'))).id;
  }

  async function deliveredRows(id: string): Promise<string[]> {
    const d = await h.ds.getDelivery(id);
    const lines: string[] = [];
    for (const f of d.files)
      lines.push(...(await getObjectBytes('other', bucket, f.key)).toString('utf8').split('\n').slice(1, -1));
    return lines;
  }

  async function write(sql: string): Promise<void> {
    await h.pool.query(sql.replaceAll('$T', table));
    // Distinct commit times on either side of each delivery's window end.
    await new Promise((r) => setTimeout(r, 20));
  }

  it('sends new and changed rows exactly once, also across a failed run and its replay', async () => {
    const dataset = uniqueName('incr-ds');
    await write(`INSERT INTO $T SELECT g, 'v1', clock_timestamp() FROM generate_series(1, 5) g`);
    await h.ds
      .setDataset(dataset, {
        sql: `SELECT id, v FROM ${table}`,
        keyColumns: ['id'],
        compression: 'none',
        incrementalColumn: 'updated_at',
        sameForEveryone: true,
      })
      .catch(async () => {
        // The column must be an output column of the query.
        await h.ds.setDataset(dataset, {
          sql: `SELECT id, v, updated_at FROM ${table}`,
          keyColumns: ['id'],
          compression: 'none',
          incrementalColumn: 'updated_at',
          sameForEveryone: true,
        });
      });
    const profile = await newProfile(good);
    const run = async (): Promise<string> =>
      (await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200)).id;

    const first = await run();
    expect((await deliveredRows(first)).map((l) => l.split(',')[0])).toEqual(['1', '2', '3', '4', '5']);

    await write(`INSERT INTO $T VALUES (6, 'v1', clock_timestamp())`);
    await write(`UPDATE $T SET v = 'v2', updated_at = clock_timestamp() WHERE id = 2`);
    const second = await run();
    expect((await deliveredRows(second)).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['2,v2', '6,v1']);

    // A run fails (the role may not write the prefix); rows keep changing meanwhile.
    await write(`INSERT INTO $T VALUES (7, 'v1', clock_timestamp())`);
    await h.ds.setProfile(profile, { s3_role_arn: denied.roleArn, s3_external_id: denied.externalId });
    const failed = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(failed.status).toBe('failed');
    await write(`UPDATE $T SET v = 'v3', updated_at = clock_timestamp() WHERE id = 3`);

    // Fixed and replayed: the replay carries exactly its own window, the next run the rest.
    await h.ds.setProfile(profile, { s3_role_arn: good.roleArn, s3_external_id: good.externalId });
    await h.ds.replay(failed.id);
    const replayed = await h.ds.waitForDelivery(failed.id, undefined, 200);
    expect(replayed.status).toBe('completed');
    expect((await deliveredRows(failed.id)).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['7,v1']);
    const fourth = await run();
    expect((await deliveredRows(fourth)).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['3,v3']);

    // Nothing new: the run still happens, with a manifest of zero rows.
    const empty = await h.ds.getDelivery(await run());
    expect(empty.rows).toBe(0);
    const manifest = JSON.parse((await getObjectBytes('other', bucket, empty.manifestKey!)).toString('utf8')) as {
      rowCount: number;
      window: { column: string };
    };
    expect(manifest.rowCount).toBe(0);
    expect(manifest.window.column).toBe('updated_at');

    // --full-refresh sends every row as it is now.
    const full = await h.ds.waitForDelivery(
      (await h.ds.share(profile, dataset, { fullRefresh: true })).id,
      undefined,
      200,
    );
    expect((await deliveredRows(full.id)).map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      '1,v1',
      '2,v2',
      '3,v3',
      '4,v1',
      '5,v1',
      '6,v1',
      '7,v1',
    ]);
  });

  it('replays a failed delivery under the same id after the profile is fixed, once; replay --failed replays several', async () => {
    const dataset = uniqueName('replay-ds');
    await h.ds.setDataset(dataset, { sql: `SELECT id, v FROM ${table}`, keyColumns: ['id'], sameForEveryone: true });
    const profiles = [await newProfile(denied), await newProfile(denied), await newProfile(denied)];
    const failed = [];
    for (const p of profiles)
      failed.push(await h.ds.waitForDelivery((await h.ds.share(p, dataset)).id, undefined, 200));
    expect(failed.map((d) => d.status)).toEqual(['failed', 'failed', 'failed']);
    expect(failed[0].error?.type).toBe('AccessDenied');

    for (const p of profiles) await h.ds.setProfile(p, { s3_role_arn: good.roleArn, s3_external_id: good.externalId });
    const one = await h.ds.replay(failed[0].id);
    expect(one.id).toBe(failed[0].id);
    const done = await h.ds.waitForDelivery(one.id, undefined, 200);
    expect(done.status).toBe('completed');
    expect(done.workflowId).toBe(workflowIdFor(failed[0].id));
    expect(done.files[0].key).toContain(`/${failed[0].id}/`);
    expect(done.attempts.map((a) => a.status)).toEqual(['failed', 'completed']);
    expect(done.attempts[0].error?.type).toBe('AccessDenied');

    // A completed delivery is never sent twice.
    const again = await runCli(['replay', one.id], process.env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already completed');

    const results = await h.ds.replayFailed({ datasetId: dataset }, { maxParallel: 2 });
    expect(results.map((r) => r.id).sort()).toEqual([failed[1].id, failed[2].id].sort());
    expect(results.map((r) => r.result?.error?.message ?? r.result?.status ?? r.error?.message)).toEqual([
      'completed',
      'completed',
    ]);
  });
});
