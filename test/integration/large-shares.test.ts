import { createHash } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../common/contracts/delivery';
import {
  createBucket,
  createEndUserRole,
  endUserProfile,
  getObjectBytes,
  listKeys,
  uniqueName,
} from '../../scripts/local/end-user-account';
import { copyCsv } from '../support/fixtures';
import { startHarness, type Harness } from '../support/harness';

const EventType = temporal.api.enums.v1.EventType;

describe('large shares: many files, continue-as-new, cancel', () => {
  let h: Harness;
  let table: string;
  const bucket = uniqueName('large');
  let profile = '';
  let abortingProfile = '';

  beforeAll(async () => {
    h = await startHarness({ taskQueue: uniqueName('large-test') });
    table = uniqueName('large_rows').replace(/-/g, '_');
    await h.pool.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, label text, note text)`);
    await h.pool.query(
      `INSERT INTO ${table} SELECT g, 'row "' || g || '"', CASE WHEN g % 7 = 0 THEN E'multi\\nline' END FROM generate_series(1, 3000) g`,
    );
    await createBucket('other', bucket);
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'big/' });
    profile = (await h.ds.setProfile(uniqueName('large'), endUserProfile(role, bucket, 'big/'))).id;
    const aborting = await createEndUserRole({
      account: 'other',
      bucket,
      allowPrefix: 'cancel/',
      extraActions: ['s3:AbortMultipartUpload'],
    });
    abortingProfile = (await h.ds.setProfile(uniqueName('cancel'), endUserProfile(aborting, bucket, 'cancel/'))).id;
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('cuts a delivery into hundreds of bounded files across continue-as-new runs, in key order, each with the header', async () => {
    const dataset = uniqueName('many');
    await h.ds.setDataset(dataset, {
      sql: `SELECT * FROM ${table}`,
      keyColumns: ['id'],
      compression: 'none',
      sameForEveryone: true,
    });
    const started = await h.ds.share(profile, dataset, { maxFileBytes: 400, maxParallelFiles: 4 });
    const d = await h.ds.waitForDelivery(started.id, undefined, 500);
    expect(d.error).toBeUndefined();
    expect(d.status).toBe('completed');
    expect(d.fileCount).toBeGreaterThan(200);
    expect(d.files).toHaveLength(d.fileCount!);
    expect(d.rows).toBe(3000);

    const expected = (await copyCsv(h.pool, `SELECT * FROM ${table} ORDER BY id`)).toString('utf8');
    const header = expected.slice(0, expected.indexOf('\n') + 1);
    let body = '';
    for (const f of d.files) {
      const bytes = await getObjectBytes('other', bucket, f.key);
      expect(bytes.length).toBeLessThanOrEqual(400 * 1.5);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      const text = bytes.toString('utf8');
      expect(text.startsWith(header)).toBe(true);
      body += text.slice(header.length);
    }
    expect(header + body).toBe(expected);
    const manifest = JSON.parse((await getObjectBytes('other', bucket, d.manifestKey!)).toString('utf8')) as {
      files: unknown[];
      rowCount: number;
    };
    expect(manifest.files).toHaveLength(d.fileCount!);
    expect(manifest.rowCount).toBe(3000);

    // The first run handed over to a new run instead of growing one long history.
    const first = await h.temporal.workflow
      .getHandle(workflowIdFor(d.id), undefined, { firstExecutionRunId: undefined })
      .fetchHistory();
    const events = first.events ?? [];
    expect(events.length).toBeLessThan(3000);
    const runs = [];
    for await (const w of h.temporal.workflow.list({ query: `WorkflowId = '${workflowIdFor(d.id)}'` })) runs.push(w);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.filter((r) => r.status.name === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(1);
    expect(events.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  });

  /** A large table; `slow` makes reading it take seconds (a sleep every 1,000 rows), so an upload is surely open. */
  async function bigDataset(slow = false): Promise<string> {
    const big = uniqueName('cancel_rows').replace(/-/g, '_');
    await h.pool.query(
      `CREATE TABLE ${big} AS SELECT g AS id, repeat(md5(g::text), 4) AS pad FROM generate_series(1, 300000) g`,
    );
    const dataset = uniqueName('cancel-ds');
    const filter = slow ? ' WHERE CASE WHEN id % 1000 = 0 THEN pg_sleep(0.03) IS NOT NULL ELSE true END' : '';
    await h.ds.setDataset(dataset, {
      sql: `SELECT * FROM ${big}${filter}`,
      keyColumns: ['id'],
      compression: 'none',
      sameForEveryone: true,
    });
    return dataset;
  }

  /** Starts a delivery and cancels it while a multipart upload is open. */
  async function cancelMidUpload(
    profileId: string,
    dataset: string,
    maxFileBytes = 12 * 1024 * 1024,
  ): Promise<{ d: Awaited<ReturnType<Harness['ds']['getDelivery']>>; tookMs: number }> {
    const started = await h.ds.share(profileId, dataset, { maxFileBytes, maxParallelFiles: 2 });
    for (let i = 0; i < 1200; i++) {
      const { rows } = await h.pool.query('SELECT 1 FROM delivery_checkpoints WHERE delivery_id = $1', [started.id]);
      if (rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const t0 = Date.now();
    const d = await h.ds.cancelDelivery(started.id);
    return { d, tookMs: Date.now() - t0 };
  }

  it('cancel stops a running delivery within seconds, aborts its open uploads and leaves it cancelled', async () => {
    const dataset = await bigDataset();
    const { d, tookMs } = await cancelMidUpload(abortingProfile, dataset);
    expect(d.status).toBe('cancelled');
    expect(d.error?.type).toBe('Cancelled');
    expect(tookMs).toBeLessThan(30_000);
    expect(d.manifestKey).toBeNull();
    expect(await listKeys('other', bucket, `cancel/${dataset}/${d.id}/manifest.json`)).toEqual([]);
    // The role may abort, so nothing is left open.
    expect(d.unabortedUploads).toEqual([]);
    const { rows } = await h.pool.query('SELECT 1 FROM delivery_checkpoints WHERE delivery_id = $1', [d.id]);
    expect(rows).toHaveLength(0);
  });

  it('records the uploads a cancel could not abort when the role may only PutObject', async () => {
    // One slowly read file (~40 MB over ~9 s), so its upload is surely still open when the cancel lands.
    const dataset = await bigDataset(true);
    const { d } = await cancelMidUpload(profile, dataset, 1024 ** 3);
    expect(d.status).toBe('cancelled');
    expect(d.unabortedUploads.length).toBeGreaterThanOrEqual(1);
    expect(d.unabortedUploads[0]).toMatchObject({ reason: 'AccessDenied' });
    expect(d.unabortedUploads[0].key.startsWith(`big/${dataset}/${d.id}/`)).toBe(true);
  });
});
