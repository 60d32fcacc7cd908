import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoundSummary } from '../../common/contracts/schedules';
import { testEnv } from '../../scripts/local/stack-env';
import { createBucket, createEndUserRole, endUserProfile, uniqueName } from '../../scripts/local/end-user-account';
import { startHarness, type Harness } from '../support/harness';
import { STS_THROTTLING } from '../support/injector-faults';
import { S3Injector } from '../support/s3-injector';

const PROFILES = 200;

/**
 * A 200-profile scheduled round while STS answers 20% of its calls with Throttling
 * (seeded). Every delivery assumes the end user's role several times (the check,
 * the upload, the manifest); the clients retry throttled calls with backoff, and a
 * call that runs out of tries fails its activity retryably, which Temporal retries.
 * No delivery may fail.
 */
describe('a scheduled round under STS throttling', () => {
  let h: Harness;
  let injector: S3Injector;
  const plan = uniqueName('throttled');
  const dataset = uniqueName('throttle-ds');
  let scheduleId = '';

  beforeAll(async () => {
    injector = await S3Injector.start(testEnv().AWS_ENDPOINT_URL);
    h = await startHarness({ taskQueue: uniqueName('throttled-sts-test'), stsEndpoint: injector.url });
    const table = uniqueName('throttle_rows').replace(/-/g, '_');
    await h.pool.query(`CREATE TABLE ${table} AS SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 20) g`);
    await h.ds.setDataset(dataset, { sql: `SELECT * FROM ${table}`, keyColumns: ['id'], sameForEveryone: true });
    const bucket = uniqueName('throttle');
    await createBucket('other', bucket);
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 't/' });
    for (let i = 0; i < PROFILES; i++) {
      const id = `${plan}-${String(i).padStart(3, '0')}`;
      await h.ds.setProfile(id, { ...endUserProfile(role, bucket, `t/${id}/`), plan });
    }
  }, 300_000);

  afterAll(async () => {
    if (scheduleId) await h?.ds.schedules.delete(scheduleId).catch(() => undefined);
    await h?.stop();
    await injector?.stop();
  });

  it('completes every delivery, none failed, and the throttled calls were retried', async () => {
    injector.add({
      name: 'sts throttling',
      match: { operation: ['AssumeRole', 'GetCallerIdentity', 'StsOther'] },
      answer: STS_THROTTLING,
      probability: 0.2,
    });
    const v = await h.ds.schedules.create({
      datasetId: dataset,
      target: { kind: 'where', where: { plan } },
      // Yearly: it runs when triggered, not by itself during the test.
      cron: '0 0 1 1 *',
      maxParallel: 20,
    });
    scheduleId = v.id;
    await h.ds.schedules.trigger(v.id);
    let workflowId = '';
    const until = Date.now() + 540_000;
    while (!workflowId) {
      const action = (await h.ds.schedules.show(v.id)).recentActions?.[0];
      if (action?.runStatus === 'COMPLETED') workflowId = action.workflowId;
      else if (Date.now() > until) throw new Error('the round did not complete in 9 minutes');
      else await new Promise((r) => setTimeout(r, 2000));
    }
    const round = (await h.temporal.workflow.getHandle(workflowId).result()) as RoundSummary;
    expect(round).toMatchObject({ profiles: PROFILES, started: PROFILES, completed: PROFILES, failed: 0 });
    expect(round.failures).toEqual([]);
    const sts = injector.recorded({ operation: ['AssumeRole', 'GetCallerIdentity', 'StsOther'] });
    const throttled = sts.filter((r) => r.answeredBy === 'sts throttling');
    // About a fifth of the calls were refused, each retried: at least 3 role sessions per delivery were issued.
    expect(throttled.length).toBeGreaterThan(0.15 * sts.length);
    expect(sts.length - throttled.length).toBeGreaterThanOrEqual(3 * PROFILES);
    expect(round.retries ?? 0).toBeGreaterThanOrEqual(throttled.length);
    console.log(`STS calls ${sts.length}, throttled ${throttled.length}, round retries ${round.retries}`);
  }, 600_000);
});
