import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor, type DeliveryView } from '../../common/contracts/delivery';
import { registry } from '../../common/infra/metrics';
import { verifySignature } from '../../common/webhooks/signature';
import { createBucket, createEndUserRole, uniqueName } from '../../scripts/local/end-user-account';
import { runCli } from '../support/cli';
import { startHarness, workflowBundle, type Harness } from '../support/harness';
import { WebhookReceiver, selfSignedLocalhost, unusedPort } from '../support/webhook-receiver';
import { eventually } from '../support/worker-process';

interface NewWebhookJson {
  id: string;
  url: string;
  events: string[];
  secret: string;
}

/**
 * Webhooks end to end: added with the real CLI, sent by the real worker's
 * webhook workflow through Temporal, received by a real HTTP server on loopback.
 */
describe('webhooks', () => {
  let h: Harness;
  let env: NodeJS.ProcessEnv;
  const receivers: WebhookReceiver[] = [];
  let good = { id: '' };
  let denied = { id: '' };

  async function newDataset(): Promise<string> {
    const table = uniqueName('hook_rows').replace(/-/g, '_');
    await h.pool.query(`CREATE TABLE ${table} AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 300) g`);
    const id = uniqueName('hook-ds');
    await h.ds.setDataset(id, {
      sql: `SELECT * FROM ${table}`,
      keyColumns: ['id'],
      format: 'jsonl',
      sameForEveryone: true,
    });
    return id;
  }

  async function addWebhook(url: string, args: string[]): Promise<NewWebhookJson> {
    const r = await runCli(['webhook', 'add', url, ...args, '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as NewWebhookJson;
  }

  async function deliveryJson(id: string): Promise<DeliveryView> {
    const r = await runCli(['delivery', id, '--json'], env);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as DeliveryView;
  }

  /**
   * Replays the delivery's history and its webhook workflow's on today's code; with
   * RECORD_HISTORIES=1 also saves them to test/histories, which determinism.test.ts
   * replays from then on (the first histories with the webhooks patch).
   */
  async function replayAndRecord(deliveryId: string, event: string, files: [string, string]): Promise<void> {
    const workflowId = workflowIdFor(deliveryId);
    const runKey = (await h.temporal.workflow.getHandle(workflowId).describe()).runId;
    const webhookId = `${workflowId}/webhook/${event}/${runKey}`;
    await h.temporal.workflow.getHandle(webhookId).result();
    for (const [id, file] of [
      [workflowId, files[0]],
      [webhookId, files[1]],
    ]) {
      const history = await h.temporal.workflow.getHandle(id).fetchHistory();
      if (process.env.RECORD_HISTORIES === '1')
        writeFileSync(join(__dirname, '..', 'histories', file), historyToJSON(history));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, id);
    }
  }

  async function receiver(status = 204): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(status);
    await r.start();
    receivers.push(r);
    return r;
  }

  beforeAll(async () => {
    h = await startHarness({ taskQueue: uniqueName('webhooks-test') });
    // The in-process worker and the CLI both call loopback receivers.
    process.env.DATASHARE_WEBHOOK_ALLOW_LOOPBACK = '1';
    env = { ...process.env };
    const bucket = uniqueName('hooks');
    await createBucket('other', bucket);
    const ok = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'ok/' });
    const no = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'elsewhere/' });
    const base = { s3_bucket: bucket, s3_region: 'us-east-1', s3_prefix: 'ok/' };
    good = await h.ds.setProfile(uniqueName('hook-good'), {
      ...base,
      s3_role_arn: ok.roleArn,
      s3_external_id: ok.externalId,
    });
    denied = await h.ds.setProfile(uniqueName('hook-denied'), {
      ...base,
      s3_role_arn: no.roleArn,
      s3_external_id: no.externalId,
    });
  }, 120_000);

  afterAll(async () => {
    for (const r of receivers) await r.stop();
    // Webhooks of receivers that never came up would retry for a day on a queue nobody polls.
    if (h)
      for await (const w of h.temporal.workflow.list({
        query: `WorkflowType = 'webhookWorkflow' AND TaskQueue = '${process.env.DATASHARE_TASK_QUEUE}' AND ExecutionStatus = 'Running'`,
      }))
        await h.temporal.workflow.getHandle(w.workflowId, w.runId).terminate('test over');
    await h?.stop();
  });

  it('refuses commands without DATASHARE_SECRET_KEY, and URLs that are not https to a public address', async () => {
    const noKey = await runCli(['webhook', 'list'], { ...env, DATASHARE_SECRET_KEY: '' });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/DATASHARE_SECRET_KEY is not set/);
    const plain = await runCli(['webhook', 'add', 'http://127.0.0.1:9/x'], {
      ...env,
      DATASHARE_WEBHOOK_ALLOW_LOOPBACK: '',
    });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/must be https/);
    const metadata = await runCli(['webhook', 'add', 'https://169.254.169.254/latest'], {
      ...env,
      DATASHARE_WEBHOOK_ALLOW_PRIVATE: '1',
    });
    expect(metadata.code).toBe(2);
    expect(metadata.stderr).toMatch(/link-local/);
    const internal = await runCli(['webhook', 'add', 'https://10.1.2.3/hook'], env);
    expect(internal.code).toBe(2);
    expect(internal.stderr).toMatch(/private address/);
  });

  it('signs the delivery JSON so the receiver can verify it; attempts show in delivery --json', async () => {
    const dataset = await newDataset();
    const r = await receiver();
    const hook = await addWebhook(r.url, ['--dataset', dataset, '--events', 'completed']);
    expect(hook).toMatchObject({ url: r.url, events: ['completed'] });
    expect(hook.secret).toMatch(/^whsec_/);

    const started = Date.now();
    const d = await h.ds.waitForDelivery((await h.ds.share(good.id, dataset)).id, undefined, 250);
    expect(d.status).toBe('completed');
    const got = await eventually(() => Promise.resolve(r.received[0]), 30_000, 'the webhook');
    expect(got.headers['x-datashare-event']).toBe('completed');
    expect(got.headers['x-datashare-delivery-id']).toBe(d.id);
    const signature = String(got.headers['x-datashare-signature']);
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(hook.secret, got.body, signature)).toBe(true);
    expect(verifySignature(hook.secret, `${got.body} `, signature)).toBe(false);
    expect(verifySignature('whsec_wrong', got.body, signature)).toBe(false);
    const t = Number(/t=(\d+)/.exec(signature)![1]);
    expect(Math.abs(t * 1000 - started)).toBeLessThan(60_000);

    const body = JSON.parse(got.body) as { event: string; delivery: DeliveryView };
    expect(body.event).toBe('completed');
    expect(body.delivery).toMatchObject({
      id: d.id,
      status: 'completed',
      rows: 300,
      profileId: good.id,
      datasetId: dataset,
    });
    // No property values: the ExternalId, the role, nothing of the profile's but its id.
    const profile = await h.ds.getProfile(good.id);
    expect(got.body).not.toContain(profile.properties.s3_external_id);
    expect(got.body).not.toContain(profile.properties.s3_role_arn);

    await replayAndRecord(d.id, 'completed', ['delivery-completed-with-webhook.json', 'webhook-delivered.json']);

    const shown = await deliveryJson(d.id);
    expect(shown.webhooks).toEqual([
      expect.objectContaining({
        webhookId: hook.id,
        event: 'completed',
        attempt: 1,
        outcome: 'delivered',
        statusCode: 204,
      }),
    ]);

    expect((await runCli(['delivery', d.id], env)).stdout).toContain(
      `webhook    ${hook.id} completed attempt 1: delivered (HTTP 204)`,
    );

    // list never shows the secret; the table keeps it sealed.
    const list = await runCli(['webhook', 'list', '--json'], env);
    expect(list.stdout).toContain(hook.id);
    expect(list.stdout).not.toContain(hook.secret);
    const { rows } = await h.pool.query<{ t: string }>('SELECT w::text AS t FROM webhooks w WHERE id = $1', [hook.id]);
    expect(rows[0].t).not.toContain(hook.secret.slice(6));

    const test = await runCli(['webhook', 'test', hook.id, '--json'], env);
    expect(test.code).toBe(0);
    expect(JSON.parse(test.stdout)).toMatchObject({ id: hook.id, statusCode: 204, ok: true });
    expect(r.received).toHaveLength(2);
    expect(r.received[1].headers['x-datashare-event']).toBe('test');
    expect(
      verifySignature(hook.secret, r.received[1].body, String(r.received[1].headers['x-datashare-signature'])),
    ).toBe(true);

    const del = await runCli(['webhook', 'delete', hook.id], env);
    expect(del.code).toBe(0);
    expect((await runCli(['webhook', 'test', hook.id], env)).code).toBe(2);
  });

  it("sends over https to the checked address, verifying the receiver's certificate for its name", async () => {
    const tls = selfSignedLocalhost();
    const r = new WebhookReceiver(200, tls);
    await r.start();
    receivers.push(r);
    const hook = await addWebhook(r.url, ['--dataset', await newDataset()]);
    expect(hook.url).toMatch(/^https:\/\/localhost:\d+\/hooks$/);
    // A certificate nobody vouches for is refused…
    const untrusted = await runCli(['webhook', 'test', hook.id], env);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/could not reach localhost:\d+: self-signed certificate/);
    expect(r.received).toHaveLength(0);
    // …one the process trusts is used, for the name in the URL.
    const trusted = await runCli(['webhook', 'test', hook.id, '--json'], { ...env, NODE_EXTRA_CA_CERTS: tls.certFile });
    expect(trusted.code).toBe(0);
    expect(JSON.parse(trusted.stdout)).toMatchObject({ id: hook.id, statusCode: 200, ok: true });
    expect(r.received).toHaveLength(1);
    expect(
      verifySignature(hook.secret, r.received[0].body, String(r.received[0].headers['x-datashare-signature'])),
    ).toBe(true);
  });

  it('a receiver down for a while gets the event late, once; the delivery never waited for it', async () => {
    const dataset = await newDataset();
    const port = await unusedPort();
    const hook = await addWebhook(`http://127.0.0.1:${port}/hooks`, ['--dataset', dataset]);
    const d = await h.ds.waitForDelivery((await h.ds.share(good.id, dataset)).id, undefined, 250);
    // Completed while nobody listened: the delivery's workflow is closed, its webhook's still retries.
    expect(d.status).toBe('completed');
    const workflowId = workflowIdFor(d.id);
    // Our table says completed a moment before the workflow closes (it starts the webhook's first).
    await h.temporal.workflow.getHandle(workflowId).result();
    const delivery = await h.temporal.workflow.getHandle(workflowId).describe();
    expect(delivery.status.name).toBe('COMPLETED');
    const child = `${workflowId}/webhook/completed/${delivery.runId}`;
    expect((await h.temporal.workflow.getHandle(child).describe()).status.name).toBe('RUNNING');
    const failures = await eventually(
      async () => {
        const w = (await h.ds.getDelivery(d.id)).webhooks ?? [];
        return w.filter((a) => a.outcome === 'failed').length >= 2 ? w : undefined;
      },
      30_000,
      'two failed attempts',
    );
    expect(failures.every((a) => a.webhookId === hook.id && /could not reach/.test(a.error ?? ''))).toBe(true);

    const r = new WebhookReceiver(200);
    await r.start(port);
    receivers.push(r);
    const got = await eventually(() => Promise.resolve(r.received[0]), 60_000, 'the late webhook');
    expect(got.headers['x-datashare-delivery-id']).toBe(d.id);
    expect(verifySignature(hook.secret, got.body, String(got.headers['x-datashare-signature']))).toBe(true);
    // Temporal does not try again once one attempt got through.
    await new Promise((res) => setTimeout(res, 5000));
    expect(r.received).toHaveLength(1);
    const attempts = (await deliveryJson(d.id)).webhooks ?? [];
    expect(attempts.filter((a) => a.outcome === 'delivered')).toHaveLength(1);
    expect(attempts.at(-1)).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect(attempts.length).toBeGreaterThanOrEqual(3);
  });

  it("a receiver that is down never makes a schedule's overlap policy (skip) skip its next run", async () => {
    const dataset = await newDataset();
    await addWebhook(`http://127.0.0.1:${await unusedPort()}/hooks`, ['--dataset', dataset]);
    const id = (
      await h.ds.schedules.create({
        datasetId: dataset,
        target: { kind: 'profile', profileId: good.id },
        everyMs: 3_600_000,
        overlap: 'skip',
      })
    ).id;
    try {
      const completed = async (n: number): Promise<string[]> =>
        eventually(
          async () => {
            const { rows } = await h.pool.query<{ id: string }>(
              `SELECT id FROM deliveries WHERE schedule_id = $1 AND status = 'completed' ORDER BY id`,
              [id],
            );
            return rows.length >= n ? rows.map((r) => r.id) : undefined;
          },
          60_000,
          `${n} completed scheduled deliveries`,
        );
      await h.ds.schedules.trigger(id);
      const [first] = await completed(1);
      const schedule = h.temporal.schedule.getHandle(id);
      await eventually(
        async () => ((await schedule.describe()).info.runningActions.length === 0 ? true : undefined),
        30_000,
        'the first run closed',
      );
      // Its webhook is still trying to reach the receiver…
      const wf = workflowIdFor(first);
      const runId = (await h.temporal.workflow.getHandle(wf).describe()).runId;
      const child = await h.temporal.workflow.getHandle(`${wf}/webhook/completed/${runId}`).describe();
      expect(child.status.name).toBe('RUNNING');
      // …and the next run, a second later (its own scheduled time, its own delivery id), is not skipped.
      await new Promise((res) => setTimeout(res, 1100));
      await h.ds.schedules.trigger(id);
      expect(await completed(2)).toHaveLength(2);
    } finally {
      await h.ds.schedules.delete(id);
    }
  });

  it('a cancelled delivery sends "cancelled" (started from the cancelled workflow) and counts once as cancelled', async () => {
    const table = uniqueName('slow_rows').replace(/-/g, '_');
    await h.pool.query(`CREATE TABLE ${table} AS SELECT g AS id FROM generate_series(1, 600) g`);
    const dataset = uniqueName('hook-slow');
    await h.ds.setDataset(dataset, {
      // About 30 s of export: long enough to cancel it on the way.
      sql: `SELECT * FROM ${table} WHERE pg_sleep(0.05) IS NOT NULL`,
      keyColumns: ['id'],
      format: 'jsonl',
      sameForEveryone: true,
    });
    const r = await receiver();
    await addWebhook(r.url, ['--dataset', dataset, '--events', 'cancelled']);
    const started = await h.ds.share(good.id, dataset);
    await new Promise((res) => setTimeout(res, 2000));
    const d = await h.ds.cancelDelivery(started.id);
    expect(d.status).toBe('cancelled');
    const got = await eventually(() => Promise.resolve(r.received[0]), 30_000, 'the cancelled webhook');
    expect(got.headers['x-datashare-event']).toBe('cancelled');
    expect(JSON.parse(got.body)).toMatchObject({ event: 'cancelled', delivery: { id: d.id, status: 'cancelled' } });
    // The worker runs in this process: its registry is the one the activities counted in.
    const text = await registry.metrics();
    expect(text).toContain(`datashare_deliveries_total{status="cancelled",dataset="${dataset}"} 1`);
    expect(text).toContain(`datashare_deliveries_total{status="started",dataset="${dataset}"} 1`);
  });

  it('a 4xx other than 429 stops the retries and is recorded; the failed delivery stays failed', async () => {
    const dataset = await newDataset();
    const r = await receiver(410);
    const hook = await addWebhook(r.url, ['--dataset', dataset, '--events', 'failed,cancelled']);
    const d = await h.ds.waitForDelivery((await h.ds.share(denied.id, dataset)).id, undefined, 250);
    expect(d.status).toBe('failed');
    const rejected = await eventually(
      async () => {
        const w = (await h.ds.getDelivery(d.id)).webhooks ?? [];
        return w.find((a) => a.outcome === 'rejected');
      },
      30_000,
      'the rejected attempt',
    );
    expect(rejected).toMatchObject({ webhookId: hook.id, event: 'failed', statusCode: 410, attempt: 1 });
    expect(r.received[0].headers['x-datashare-event']).toBe('failed');
    await new Promise((res) => setTimeout(res, 4000));
    expect(r.received).toHaveLength(1);
    const after = await deliveryJson(d.id);
    expect(after.status).toBe('failed');
    expect(after.error?.type).toBe(d.error?.type);
    expect(after.webhooks).toHaveLength(1);
    await replayAndRecord(d.id, 'failed', ['delivery-failed-with-webhook.json', 'webhook-rejected.json']);
  });
});
