import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, createEndUserRole, uniqueName } from '../../scripts/local/end-user-account';
import { issuedSecrets, logLines, startHarness, type Harness } from '../support/harness';
import { historyText } from '../support/history-text';
import { WebhookReceiver } from '../support/webhook-receiver';
import { eventually } from '../support/worker-process';

/**
 * Temporary credentials must never reach Temporal history, logs, or our tables.
 * This runs real deliveries (successful and failed), captures the credentials AWS
 * actually issued, and searches everything datashare wrote for them. A webhook
 * sees every delivery end, so its signing secret (and the key that seals it) is
 * searched for too, in the webhook workflows' histories as well.
 */
describe('no secret leaves activity memory', () => {
  let h: Harness;
  const deliveryIds: string[] = [];
  let verifyJson = '';
  const taskQueue = uniqueName('secrets-test');
  const receiver = new WebhookReceiver();
  /** Secrets of datashare's own: the webhook's signing secret and DATASHARE_SECRET_KEY. */
  const ownSecrets: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ taskQueue });
    const table = uniqueName('secret_rows').replace(/-/g, '_');
    await h.pool.query(`CREATE TABLE ${table} AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200) g`);
    const dataset = uniqueName('secrets-ds');
    await h.ds.setDataset(dataset, {
      sql: `SELECT * FROM ${table}`,
      keyColumns: ['id'],
      format: 'jsonl',
      sameForEveryone: true,
    });
    process.env.DATASHARE_WEBHOOK_ALLOW_LOOPBACK = '1';
    await receiver.start();
    const hook = await h.ds.webhooks.add({ url: receiver.url, datasetId: dataset });
    ownSecrets.push(hook.secret, process.env.DATASHARE_SECRET_KEY!);

    const bucket = uniqueName('secrets');
    await createBucket('other', bucket);
    const good = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'ok/' });
    const denied = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'elsewhere/' });
    await createBucket('sharer', `${bucket}-own`);
    const own = await createEndUserRole({ account: 'sharer', bucket: `${bucket}-own`, allowPrefix: 'in/' });
    const base = { s3_bucket: bucket, s3_region: 'us-east-1', s3_prefix: 'ok/' };
    const profiles = {
      good: await h.ds.setProfile(uniqueName('sec-good'), {
        ...base,
        s3_role_arn: good.roleArn,
        s3_external_id: good.externalId,
      }),
      denied: await h.ds.setProfile(uniqueName('sec-denied'), {
        ...base,
        s3_role_arn: denied.roleArn,
        s3_external_id: denied.externalId,
      }),
      wrongExt: await h.ds.setProfile(uniqueName('sec-ext'), {
        s3_bucket: `${bucket}-own`,
        s3_region: 'us-east-1',
        s3_prefix: 'in/',
        s3_role_arn: own.roleArn,
        s3_external_id: 'wrong-external-id',
      }),
    };
    for (const p of Object.values(profiles)) {
      const d = await h.ds.waitForDelivery((await h.ds.share(p.id, dataset)).id, undefined, 200);
      deliveryIds.push(d.id);
    }
    verifyJson = JSON.stringify(await h.ds.verifyProfile(profiles.good.id));
    // Every delivery's end reached the webhook (completed, failed, failed).
    await eventually(
      () => Promise.resolve(receiver.received.length >= deliveryIds.length ? true : undefined),
      30_000,
      'the webhooks',
    );
  });

  afterAll(async () => {
    await receiver.stop();
    await h?.stop();
  });

  function expectNoSecretIn(text: string, where: string): void {
    for (const secret of issuedSecrets) {
      if (text.includes(secret)) throw new Error(`an issued AWS credential appears in ${where}`);
    }
    const sharerSecret = process.env.AWS_SECRET_ACCESS_KEY!;
    expect(text.includes(sharerSecret), `sharer secret key in ${where}`).toBe(false);
    for (const secret of ownSecrets) {
      if (text.includes(secret))
        throw new Error(`a webhook signing secret or DATASHARE_SECRET_KEY appears in ${where}`);
    }
  }

  it('captured real credentials to search for', () => {
    // Two or more deliveries assumed a role (access key id, secret, session token each).
    expect(issuedSecrets.size).toBeGreaterThanOrEqual(6);
    expect(deliveryIds).toHaveLength(3);
  });

  it('keeps them out of every event history (inputs, results, heartbeats, failures)', async () => {
    const { rows } = await h.pool.query<{ workflow_id: string; id: string }>('SELECT workflow_id, id FROM deliveries');
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) {
      const text = await historyText(h.temporal, r.workflow_id);
      // Positive control: the decoded history does contain the workflow's own input.
      expect(text).toContain(r.id);
      expectNoSecretIn(text, `history of ${r.workflow_id}`);
    }
  });

  it('keeps them out of the webhook workflows: their inputs are ids, the activity opens the secret', async () => {
    expect(ownSecrets).toHaveLength(2);
    const ids: string[] = [];
    for await (const w of h.temporal.workflow.list({
      query: `WorkflowType = 'webhookWorkflow' AND TaskQueue = '${taskQueue}'`,
    }))
      ids.push(w.workflowId);
    expect(ids).toHaveLength(deliveryIds.length);
    for (const id of ids) {
      const text = await historyText(h.temporal, id);
      expect(text).toContain('sendWebhook');
      expectNoSecretIn(text, `history of ${id}`);
    }
  });

  it('keeps them out of the worker logs', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expectNoSecretIn(logLines.join('\n'), 'worker logs');
  });

  it("logs JSON lines, each line of a delivery's activities naming the delivery, workflow, activity and attempt", () => {
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const id of deliveryIds) {
      const own = lines.filter((l) => l.deliveryId === id);
      // The SDK's "Activity started/completed" (DEBUG here) and our own lines.
      expect(own.some((l) => l.activity === 'loadProfile')).toBe(true);
      expect(own.some((l) => l.activity === 'sendWebhook' && l.msg === 'webhook delivered')).toBe(true);
    }
    const activityLines = lines.filter(
      (l) => typeof l.workflowId === 'string' && l.workflowId.startsWith('datashare-delivery-') && l.activityType,
    );
    expect(activityLines.length).toBeGreaterThan(10);
    for (const l of activityLines) {
      expect(typeof l.deliveryId, JSON.stringify(l)).toBe('string');
      expect(l.workflowId).toContain(String(l.deliveryId));
      expect(typeof l.activity).toBe('string');
      expect(typeof l.attempt).toBe('number');
    }
  });

  it('keeps them out of every table of our database', async () => {
    const { rows: tables } = await h.pool.query<{ t: string }>(
      `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = 'public'`,
    );
    let dump = '';
    for (const { t } of tables) {
      const { rows } = await h.pool.query<{ r: string }>(`SELECT x::text AS r FROM ${t} x`);
      dump += rows.map((r) => r.r).join('\n');
    }
    expect(dump).toContain(deliveryIds[0]);
    expectNoSecretIn(dump, 'the database');
  });

  it('keeps them out of what verify reports', () => {
    expect(verifyJson).toContain('"ok":true');
    expectNoSecretIn(verifyJson, 'the verify report');
  });
});
