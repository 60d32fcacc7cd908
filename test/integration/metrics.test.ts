import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datashare } from '../../client/datashare';
import type { DeliveryView } from '../../common/contracts/delivery';
import { loadConfig } from '../../common/infra/config';
import { createBucket, createEndUserRole, uniqueName } from '../../scripts/local/end-user-account';
import { useTestEnv } from '../../scripts/local/stack-env';
import { S3Injector } from '../support/s3-injector';
import { TcpForwarder } from '../support/tcp-forwarder';
import { LoggedWorker } from '../support/logged-worker';
import { eventually } from '../support/worker-process';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The value of one sample of the scrape, by its exact name and labels; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

/**
 * A real `datashare worker --metrics-port` process, reaching Postgres through a
 * TCP forwarder of this test's own: cutting the forwarder makes Postgres
 * unreachable for this worker alone, without stopping the Postgres every other
 * suite shares. Deliveries go through moto and Temporal as in production.
 */
describe('worker metrics and health', () => {
  const worker = new LoggedWorker();
  let forwarder: TcpForwarder;
  let s3: S3Injector;
  let ds: Datashare;
  let base = '';
  let dataset = '';
  let completed: DeliveryView;
  let failed: DeliveryView;
  let before = '';
  let scheduleId = '';

  beforeAll(async () => {
    const env = useTestEnv();
    const taskQueue = uniqueName('metrics-test');
    process.env.DATASHARE_TASK_QUEUE = taskQueue;
    const pg = new URL(env.DATABASE_URL);
    forwarder = new TcpForwarder(pg.hostname, Number(pg.port));
    await forwarder.start();
    const viaForwarder = new URL(env.DATABASE_URL);
    viaForwarder.port = String(forwarder.port);
    // The worker's S3 calls pass a proxy in front of moto that throttles one UploadPart once.
    s3 = await S3Injector.start(env.MOTO_URL);
    s3.add({
      name: 'throttle one part',
      match: { operation: 'UploadPart' },
      answer: { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
      times: 1,
    });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker.start(['--metrics-port', String(port)], {
      ...process.env,
      DATABASE_URL: viaForwarder.toString(),
      DATASHARE_TASK_QUEUE: taskQueue,
      DATASHARE_LOG_FORMAT: 'json',
      DATASHARE_CONNECT_TIMEOUT_MS: '2000',
      AWS_ENDPOINT_URL_S3: s3.url,
    });
    await eventually(
      async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined),
      90_000,
      'the worker ready',
    );
    before = await (await fetch(`${base}/metrics`)).text();

    ds = new Datashare(loadConfig());
    const table = uniqueName('metric_rows').replace(/-/g, '_');
    await ds.metaPool.query(
      `CREATE TABLE ${table} AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g`,
    );
    dataset = uniqueName('metrics-ds');
    await ds.setDataset(dataset, {
      sql: `SELECT * FROM ${table}`,
      keyColumns: ['id'],
      format: 'csv',
      sameForEveryone: true,
    });
    const bucket = uniqueName('metrics');
    await createBucket('other', bucket);
    const good = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'ok/' });
    const denied = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'elsewhere/' });
    const props = { s3_bucket: bucket, s3_region: 'us-east-1', s3_prefix: 'ok/' };
    const p1 = await ds.setProfile(uniqueName('m-good'), {
      ...props,
      s3_role_arn: good.roleArn,
      s3_external_id: good.externalId,
    });
    const p2 = await ds.setProfile(uniqueName('m-denied'), {
      ...props,
      s3_role_arn: denied.roleArn,
      s3_external_id: denied.externalId,
    });
    completed = await ds.waitForDelivery((await ds.share(p1.id, dataset)).id, undefined, 250);
    failed = await ds.waitForDelivery((await ds.share(p2.id, dataset)).id, undefined, 250);

    // A schedule that runs hourly, triggered once now: its run is recorded under its id.
    scheduleId = (
      await ds.schedules.create({
        datasetId: dataset,
        target: { kind: 'profile', profileId: p1.id },
        everyMs: 3_600_000,
      })
    ).id;
    await ds.schedules.trigger(scheduleId);
    await eventually(
      async () => {
        const { rows } = await ds.metaPool.query(
          `SELECT 1 FROM deliveries WHERE schedule_id = $1 AND status = 'completed'`,
          [scheduleId],
        );
        return rows.length ? true : undefined;
      },
      60_000,
      'the scheduled delivery',
    );
  }, 240_000);

  afterAll(async () => {
    if (scheduleId) await ds.schedules.delete(scheduleId).catch(() => undefined);
    await worker.stop();
    await forwarder?.cut();
    await s3?.stop();
    await ds?.close();
  });

  it('counts each delivery once, on its outcome, by the amounts delivered', async () => {
    expect(completed.status).toBe('completed');
    expect(failed.status).toBe('failed');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(sample(before, 'datashare_deliveries_total', { status: 'completed', dataset })).toBeUndefined();
    // The shared two and the scheduled one.
    expect(sample(text, 'datashare_deliveries_total', { status: 'started', dataset })).toBe(3);
    expect(sample(text, 'datashare_deliveries_total', { status: 'completed', dataset })).toBe(2);
    expect(
      sample(text, 'datashare_deliveries_total', { status: 'failed', dataset, error_type: failed.error!.type }),
    ).toBe(1);
    const { rows } = await ds.metaPool.query<{ rows: string; bytes: string; resent: string; files: string }>(
      `SELECT sum(rows) AS rows, sum(bytes) AS bytes, sum(uploaded_bytes - bytes) AS resent,
         (SELECT count(*) FROM delivery_files f JOIN deliveries d ON d.id = f.delivery_id WHERE d.dataset_id = $1) AS files
       FROM deliveries WHERE dataset_id = $1 AND status = 'completed'`,
      [dataset],
    );
    expect(completed.rows).toBe(2000);
    expect(sample(text, 'datashare_rows_delivered_total', { dataset })).toBe(4000);
    expect(Number(rows[0].rows)).toBe(4000);
    expect(sample(text, 'datashare_bytes_delivered_total', { dataset })).toBe(Number(rows[0].bytes));
    expect(sample(text, 'datashare_bytes_delivered_total', { dataset })).toBe(2 * completed.bytes);
    expect(sample(text, 'datashare_bytes_resent_total', { dataset })).toBe(Number(rows[0].resent));
    // One successful uploadFile per file of the completed deliveries; the denied one never got that far.
    expect(sample(text, 'datashare_file_upload_duration_seconds_count')).toBe(Number(rows[0].files));
    expect(sample(text, 'datashare_files_in_flight')).toBe(0);
    // The throttled UploadPart, retried by the AWS SDK, went through on its second request.
    expect(s3.recorded({ operation: 'UploadPart' }).filter((r) => r.answeredBy)).toHaveLength(1);
    expect(sample(text, 'datashare_parts_retried_total')).toBe(1);
  });

  it('serves the fleet gauges from our tables and the Temporal SDK metrics beside ours', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(sample(text, 'datashare_oldest_running_delivery_age_seconds')).toBeGreaterThanOrEqual(0);
    // Temporal's schedule list is eventually consistent, and the worker lists it at most every few seconds.
    const withSchedule = await eventually(
      async () => {
        const t = await (await fetch(`${base}/metrics`)).text();
        return sample(t, 'datashare_schedule_interval_seconds', { schedule: scheduleId }) === undefined ? undefined : t;
      },
      30_000,
      "the schedule's gauges",
    );
    expect(sample(withSchedule, 'datashare_schedule_interval_seconds', { schedule: scheduleId })).toBe(3600);
    const since = sample(withSchedule, 'datashare_schedule_seconds_since_success', { schedule: scheduleId });
    expect(since).toBeGreaterThanOrEqual(0);
    expect(since).toBeLessThan(120);
    // Core's own metrics, fetched from its loopback exporter and appended.
    expect(text).toMatch(/^temporal_\w+/m);
    expect(text).not.toContain('Temporal SDK metrics unavailable');
  });

  it('logs JSON lines that name the delivery, workflow, activity and attempt', () => {
    const text = worker.stderr;
    const lines = text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          throw new Error(`not a JSON log line: ${l}`);
        }
      });
    const uploaded = lines.filter((l) => l.msg === 'file uploaded' && l.deliveryId === completed.id);
    expect(uploaded).toHaveLength(completed.files.length);
    for (const l of uploaded) {
      expect(l).toMatchObject({
        level: 'info',
        workflowId: completed.workflowId,
        activity: 'uploadFile',
        attempt: 1,
      });
    }
    expect(
      lines.some((l) => l.msg === 'delivery failed' && l.deliveryId === failed.id && l.activity === 'recordFailure'),
    ).toBe(true);
  });

  it('/healthz is alive; /readyz turns unready while Postgres is unreachable, and ready again after', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await forwarder.cut();
    const unready = await eventually(
      async () => {
        const r = await fetch(`${base}/readyz`);
        return r.status === 503 ? r.text() : undefined;
      },
      20_000,
      '/readyz unready',
    );
    expect(unready).toMatch(/database/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await forwarder.restore();
    await eventually(
      async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined),
      20_000,
      '/readyz ready again',
    );
  });
});
