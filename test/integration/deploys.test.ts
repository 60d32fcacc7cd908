import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporal as temporalProto } from '@temporalio/proto';
import { Datashare } from '../../client/datashare';
import { connectTemporal } from '../../client/library/temporal-connection';
import { loadConfig } from '../../common/infra/config';
import { loadCheckpoint } from '../../common/store/export-state';
import { copyCsv } from '../support/fixtures';
import { S3Injector } from '../support/s3-injector';
import { ThrottleProxy } from '../support/throttle-proxy';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import {
  createBucket,
  createEndUserRole,
  endUserProfile,
  getObjectBytes,
  uniqueName,
} from '../../scripts/local/end-user-account';
import { useTestEnv } from '../../scripts/local/stack-env';

const PART = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;
/** Short, so the file cannot finish inside it and must resume on the next worker. */
const GRACE_MS = 2_000;

/**
 * A rolling deploy in small: a real `datashare worker` process gets SIGTERM in
 * the middle of a file of about 30 MB (six 5 MiB parts) and a new one is started.
 * The worker's S3 traffic goes through a throttle (about 4 MB/s, a real link's
 * pace rather than loopback's) and the S3 injector, which records every
 * UploadPart, so the test sees exactly which parts were sent twice.
 */
describe('deploys: SIGTERM in the middle of a file, a new worker resumes it', () => {
  let ds: Datashare;
  let injector: S3Injector;
  let throttle: ThrottleProxy;
  let env: NodeJS.ProcessEnv;
  const workers: WorkerProcess[] = [];
  const taskQueue = uniqueName('deploy-test');
  let profile = '';
  let dataset = '';
  let bucket = '';
  let expected: Buffer;

  beforeAll(async () => {
    const stack = useTestEnv();
    process.env.DATASHARE_TASK_QUEUE = taskQueue;
    ds = new Datashare();
    injector = await S3Injector.start(stack.AWS_ENDPOINT_URL);
    // About 4 MB/s to S3: the file takes seconds, so SIGTERM lands in its middle and it cannot finish in the grace.
    throttle = await ThrottleProxy.start(injector.url, 4 * 1024 * 1024);
    env = {
      ...process.env,
      DATASHARE_TASK_QUEUE: taskQueue,
      AWS_ENDPOINT_URL_S3: throttle.url,
      DATASHARE_PART_BYTES: String(PART),
      DATASHARE_PARTS_IN_FLIGHT: String(PARTS_IN_FLIGHT),
      DATASHARE_SHUTDOWN_GRACE: `${GRACE_MS / 1000}s`,
      DATASHARE_LOG_LEVEL: 'WARN',
    };
    const table = uniqueName('deploy_rows').replace(/-/g, '_');
    await ds.metaPool.query(
      `CREATE TABLE ${table} AS SELECT g AS id, md5(g::text) || repeat(' filler', 24) AS v FROM generate_series(1, 160000) g`,
    );
    dataset = uniqueName('deploy-ds');
    await ds.setDataset(dataset, {
      sql: `SELECT * FROM ${table}`,
      keyColumns: ['id'],
      compression: 'none',
      sameForEveryone: true,
    });
    expected = await copyCsv(ds.metaPool, `SELECT * FROM ${table} ORDER BY id`);
    bucket = uniqueName('deploy');
    await createBucket('other', bucket);
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'x/' });
    profile = (await ds.setProfile(uniqueName('deploy'), endUserProfile(role, bucket, 'x/'))).id;
  });

  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await throttle?.stop();
    await injector?.stop();
    await ds?.close();
  });

  const partsSent = (): number[] =>
    injector
      .recorded({ operation: 'UploadPart' })
      .map((r) => Number(r.query.get('partNumber')))
      .filter((n) => Number.isInteger(n));

  it('stops polling, checkpoints the finished parts, exits within the grace period; the next worker resumes byte-identical', async () => {
    const first = await startWorkerProcess([], env);
    workers.push(first);
    const started = await ds.share(profile, dataset, { maxFileBytes: 1024 ** 3 });
    // In the middle of the file: at least one part uploaded, most still to come.
    for (let i = 0; i < 1200; i++) {
      if ((await ds.getDelivery(started.id)).uploadedBytes >= PART) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const stopped = await first.stop('SIGTERM');
    console.log(`deploys: first worker exited ${stopped.code} in ${stopped.ms} ms after SIGTERM`);
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(GRACE_MS + 5_000);
    expect(first.stderr()).toContain('SIGTERM: stopped polling');

    const checkpoint = await loadCheckpoint(ds.metaPool, started.id, 0);
    expect(checkpoint, 'the interrupted file left a checkpoint').toBeDefined();
    const kept = checkpoint!.parts.map((p) => p.n);
    const sentByFirst = partsSent();
    console.log(`deploys: first worker sent parts [${sentByFirst.join(',')}], checkpointed [${kept.join(',')}]`);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect((await ds.getDelivery(started.id)).status).toBe('running');

    const t = Date.now();
    const second = await startWorkerProcess([], env);
    workers.push(second);
    const done = await ds.waitForDelivery(started.id, undefined, 200);
    console.log(`deploys: second worker finished the delivery ${Date.now() - t} ms after it started`);
    expect(done.error).toBeUndefined();
    expect(done.status).toBe('completed');
    expect(done.files).toHaveLength(1);
    const body = await getObjectBytes('other', bucket, done.files[0].key);
    expect(body.length).toBe(expected.length);
    expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(expected).digest('hex'));
    expect(done.files[0].sha256).toBe(createHash('sha256').update(expected).digest('hex'));

    // One multipart upload, continued; parts already checkpointed are never sent again, and the
    // parts sent twice are at most those that were in flight when the first worker stopped.
    expect(injector.recorded({ operation: 'CreateMultipartUpload' })).toHaveLength(1);
    const sentBySecond = partsSent().slice(sentByFirst.length);
    for (const n of kept) expect(sentBySecond).not.toContain(n);
    const resent = sentBySecond.filter((n) => sentByFirst.includes(n));
    console.log(`deploys: second worker sent parts [${sentBySecond.join(',')}]; re-sent [${resent.join(',')}]`);
    expect(resent.length).toBeLessThanOrEqual(PARTS_IN_FLIGHT);
    // Every part of the file came from one worker or the other, each once in the end.
    const last = Math.max(...sentBySecond);
    expect([...new Set([...kept, ...sentBySecond])].sort((x, y) => x - y)).toEqual(
      Array.from({ length: last }, (_, i) => i + 1),
    );
    await second.stop('SIGTERM');
  });

  it("a file still waiting for one of the worker's file slots gives it up at once: the exit stays clean", async () => {
    injector.reset();
    // One file at a time on this worker, two files in the delivery: the second waits for a slot.
    const first = await startWorkerProcess(['--max-concurrent-files', '1'], env);
    workers.push(first);
    const started = await ds.share(profile, dataset, { maxFileBytes: 16 * 1024 * 1024, maxParallelFiles: 2 });
    // Both files' activities started on this worker (the second one waiting for the slot), one part sent.
    const temporal = await connectTemporal(loadConfig().temporal, 10_000);
    const running = async (): Promise<number> => {
      const d = await temporal.workflowService.describeWorkflowExecution({
        namespace: loadConfig().temporalNamespace,
        execution: { workflowId: started.workflowId },
      });
      return (d.pendingActivities ?? []).filter(
        (a) =>
          a.activityType?.name === 'uploadFile' &&
          a.state === temporalProto.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      ).length;
    };
    for (let i = 0; i < 1200; i++) {
      if ((await ds.getDelivery(started.id)).uploadedBytes >= PART && (await running()) === 2) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await running()).toBe(2);
    await temporal.close();
    const stopped = await first.stop('SIGTERM');
    console.log(`deploys: with a file queued: worker exited ${stopped.code} in ${stopped.ms} ms after SIGTERM`);
    expect(first.stderr()).not.toMatch(/GracefulShutdownPeriodExpired/);
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(GRACE_MS + 5_000);
    const second = await startWorkerProcess([], env);
    workers.push(second);
    const done = await ds.waitForDelivery(started.id, undefined, 200);
    expect(done.status).toBe('completed');
    expect(done.files.length).toBeGreaterThanOrEqual(2);
    expect(done.rows).toBe(160000);
    for (const f of done.files) {
      const body = await getObjectBytes('other', bucket, f.key);
      expect(createHash('sha256').update(body).digest('hex')).toBe(f.sha256);
    }
    await second.stop('SIGTERM');
  });

  it('with the default 30s grace, a file that can finish in it finishes before the worker exits: nothing re-sent', async () => {
    injector.reset();
    const defaults = { ...env };
    delete defaults.DATASHARE_SHUTDOWN_GRACE;
    const first = await startWorkerProcess([], defaults);
    workers.push(first);
    const started = await ds.share(profile, dataset, { maxFileBytes: 1024 ** 3 });
    for (let i = 0; i < 1200; i++) {
      if ((await ds.getDelivery(started.id)).uploadedBytes >= PART) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const stopped = await first.stop('SIGTERM');
    console.log(`deploys: default grace: worker exited ${stopped.code} in ${stopped.ms} ms after SIGTERM`);
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(30_000 + 5_000);
    const view = await ds.getDelivery(started.id);
    expect(view.filesCompleted).toBe(1);
    const sent = partsSent();
    expect(new Set(sent).size).toBe(sent.length);
    // The manifest is the next worker's.
    const second = await startWorkerProcess([], defaults);
    workers.push(second);
    const done = await ds.waitForDelivery(started.id, undefined, 200);
    expect(done.status).toBe('completed');
    expect(done.files[0].sha256).toBe(createHash('sha256').update(expected).digest('hex'));
    expect(partsSent()).toEqual(sent);
    await second.stop('SIGTERM');
  });
});
