import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../common/types';
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

  beforeAll(async () => {
    h = await startHarness({ taskQueue: uniqueName('replay-test') });
    const table = uniqueName('replay_rows').replace(/-/g, '_');
    await h.pool.query(`CREATE TABLE ${table} AS SELECT g AS id FROM generate_series(1, 10) g`);
    const dataset = uniqueName('replay-ds');
    await h.ds.setDataset(dataset, { sql: `SELECT * FROM ${table}`, keyColumns: ['id'] });
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
  });

  afterAll(async () => {
    await h?.stop();
  });

  it("replays this run's completed and failed deliveries", async () => {
    const histories = await Promise.all(
      workflowIds.map(async (workflowId) => ({ workflowId, history: await h.temporal.workflow.getHandle(workflowId).fetchHistory() })),
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

  it('replays the histories recorded from earlier versions (test/histories)', async () => {
    const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const history: unknown = JSON.parse(readFileSync(join(HISTORIES, f), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, f);
    }
  });
});
