// Determinism: recorded workflow histories must replay on today's code. `datashare replay` is in redelivery.test.ts.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileScheduleId, whereScheduleId } from '../../common/contracts/schedule-ids';
import type { FanOutInput, ScheduledDeliveryInput } from '../../common/contracts/schedules';
import { workflowIdFor } from '../../common/contracts/delivery';
import { createBucket, createEndUserRole, endUserProfile, uniqueName } from '../../scripts/local/end-user-account';
import { startHarness, workflowBundle, type Harness } from '../support/harness';

const HISTORIES = join(__dirname, '..', 'histories');

/**
 * Determinism: recorded histories must replay against the current workflow code.
 * Histories committed in test/histories/ come from earlier versions of the code,
 * so a change that would break running deliveries fails here, before a deploy.
 * Set RECORD_HISTORIES=1 to add this run's histories to that folder.
 */
describe('workflow replay', () => {
  let h: Harness;
  const workflowIds: string[] = [];
  /** Runs of the scheduled workflows, started directly (as a schedule would), with the name each history is recorded under. */
  const scheduledRuns: { workflowId: string; runId: string; file: string }[] = [];

  beforeAll(async () => {
    h = await startHarness({ taskQueue: uniqueName('replay-test') });
    const table = uniqueName('replay_rows').replace(/-/g, '_');
    await h.pool.query(`CREATE TABLE ${table} AS SELECT g AS id FROM generate_series(1, 10) g`);
    const dataset = uniqueName('replay-ds');
    await h.ds.setDataset(dataset, { sql: `SELECT * FROM ${table}`, keyColumns: ['id'], sameForEveryone: true });
    const bucket = uniqueName('replay');
    await createBucket('other', bucket);
    const ok = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'r/' });
    const denied = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'nope/' });
    for (const [name, role] of [
      ['completed', ok],
      ['failed', denied],
    ] as const) {
      const p = await h.ds.setProfile(uniqueName(`replay-${name}`), endUserProfile(role, bucket, 'r/'));
      const d = await h.ds.waitForDelivery((await h.ds.share(p.id, dataset)).id, undefined, 200);
      expect(d.status).toBe(name);
      workflowIds.push(workflowIdFor(d.id));
    }

    // A profile schedule's run, and a --where round of two profiles at one per page, so its first
    // run lists, registers, starts a child delivery and continues as new.
    const tenant = uniqueName('replay-tenant');
    const profiles: string[] = [];
    for (const n of ['a', 'b']) {
      const p = await h.ds.setProfile(uniqueName(`replay-round-${n}`), {
        ...endUserProfile(ok, bucket, 'r/'),
        replay_group: tenant,
      });
      profiles.push(p.id);
    }
    const taskQueue = process.env.DATASHARE_TASK_QUEUE!;
    const scheduled: ScheduledDeliveryInput = {
      scheduleId: profileScheduleId(profiles[0], dataset),
      profileId: profiles[0],
      datasetId: dataset,
    };
    const sd = await h.temporal.workflow.start('scheduledDeliveryWorkflow', {
      taskQueue,
      workflowId: `${scheduled.scheduleId}-replay-${uniqueName('run')}`,
      args: [scheduled],
    });
    expect((await sd.result()) as { completed: number }).toMatchObject({ completed: 1, failed: 0 });
    scheduledRuns.push({
      workflowId: sd.workflowId,
      runId: sd.firstExecutionRunId,
      file: 'scheduled-delivery-completed.json',
    });

    const where = { replay_group: tenant };
    const fanOut: FanOutInput = {
      scheduleId: whereScheduleId(where, dataset),
      datasetId: dataset,
      where,
      maxParallel: 2,
      pageSize: 1,
    };
    const fo = await h.temporal.workflow.start('fanOutDeliveryWorkflow', {
      taskQueue,
      workflowId: `${fanOut.scheduleId}-replay-${uniqueName('run')}`,
      args: [fanOut],
    });
    expect((await fo.result()) as { completed: number; continuedAsNew: number }).toMatchObject({
      completed: 2,
      failed: 0,
      continuedAsNew: 2,
    });
    scheduledRuns.push({
      workflowId: fo.workflowId,
      runId: fo.firstExecutionRunId,
      file: 'fan-out-continued-as-new.json',
    });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it("replays this run's completed and failed deliveries", async () => {
    const histories = await Promise.all(
      workflowIds.map(async (workflowId) => ({
        workflowId,
        history: await h.temporal.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    if (process.env.RECORD_HISTORIES === '1') {
      for (const [i, x] of histories.entries()) {
        writeFileSync(join(HISTORIES, `delivery-${i === 0 ? 'completed' : 'failed'}.json`), historyToJSON(x.history));
      }
    }
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
    let n = 0;
    for await (const r of results) {
      expect(r.error, `replay of ${r.workflowId}`).toBeUndefined();
      n++;
    }
    expect(n).toBe(2);
  });

  it("replays this run's scheduled-delivery and fan-out rounds", async () => {
    for (const r of scheduledRuns) {
      const history = await h.temporal.workflow.getHandle(r.workflowId, r.runId).fetchHistory();
      if (process.env.RECORD_HISTORIES === '1') writeFileSync(join(HISTORIES, r.file), historyToJSON(history));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, r.workflowId);
    }
    expect(scheduledRuns.length).toBe(2);
  });

  it('replays the histories recorded from earlier versions (test/histories)', async () => {
    const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const history: unknown = JSON.parse(readFileSync(join(HISTORIES, f), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, f);
    }
  });
});
