import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { workflowIdFor, type DeliveryView } from '../../common/contracts/delivery';
import { SOCKET_IDLE_TIMEOUT_MS } from '../../common/infra/aws-resilience';
import { testEnv } from '../../scripts/local/stack-env';
import { getObjectBytes, uniqueName } from '../../scripts/local/end-user-account';
import { paddedDelivery } from '../support/padded-delivery';
import { startHarness, type Harness } from '../support/harness';
import { activityAttempts } from '../support/history';
import { S3Injector } from '../support/s3-injector';
import { Toxiproxy } from '../support/toxiproxy';

/** The upload activity's heartbeat timeout (workflows/delivery-activities.ts). */
const HEARTBEAT_TIMEOUT_MS = 20_000;
/** Longer than the heartbeat timeout: a client without timeouts would sit through all of it. */
const STALL_MS = 30_000;
const PART = 5 * 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Stalled sockets: S3 and STS that accept a request and then say nothing for longer
 * than the upload's heartbeat timeout. The heartbeat is a timer, so it would keep
 * beating through the stall; the clients' own socket timeouts must give up on the
 * request well before, and the SDK's retry goes on with a new connection.
 */
describe('stalls longer than the heartbeat timeout', () => {
  let h: Harness;
  let injector: S3Injector;
  let toxi: Toxiproxy;
  let profile: string;
  let bucket: string;
  const dataset = uniqueName('stall-ds');

  async function deliver(): Promise<{ d: DeliveryView; ms: number }> {
    const t = Date.now();
    const d = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(d.error).toBeUndefined();
    expect(d.status).toBe('completed');
    for (const f of d.files) expect(sha(await getObjectBytes('other', bucket, f.key))).toBe(f.sha256);
    return { d, ms: Date.now() - t };
  }

  beforeAll(async () => {
    injector = await S3Injector.start(testEnv().AWS_ENDPOINT_URL);
    toxi = await Toxiproxy.start();
    const s3Url = await toxi.proxy('s3', `127.0.0.1:${injector.port}`);
    h = await startHarness({
      taskQueue: uniqueName('stalls-test'),
      s3Endpoint: s3Url,
      stsEndpoint: injector.url,
      partBytes: PART,
    });
    ({ bucket, profile } = await paddedDelivery(h, { name: 'stall', dataset, rows: 90000, prefix: 's/' }));
  });

  beforeEach(async () => {
    injector.reset();
    await toxi.reset();
  });

  afterAll(async () => {
    await h?.stop();
    await toxi?.stop();
    await injector?.stop();
  });

  it('an UploadPart that gets no answer is given up within the idle timeout and retried; the activity never times out', async () => {
    injector.add({ name: 'stall', match: { operation: 'UploadPart' }, answer: { hold: STALL_MS }, times: 1 });
    const { d, ms } = await deliver();
    const held = injector.recorded().filter((r) => r.answeredBy === 'stall');
    expect(held).toHaveLength(1);
    expect(held[0].clientGaveUpAfterMs).toBeDefined();
    expect(held[0].clientGaveUpAfterMs!).toBeGreaterThanOrEqual(SOCKET_IDLE_TIMEOUT_MS - 500);
    expect(held[0].clientGaveUpAfterMs!).toBeLessThan(HEARTBEAT_TIMEOUT_MS);
    expect(ms).toBeLessThan(STALL_MS);
    // The SDK's retry inside the same attempt did it: no activity retry, no heartbeat timeout.
    expect((await activityAttempts(h.temporal, workflowIdFor(d.id))).uploadFile).toBe(1);
    expect(d.uploadedBytes).toBeGreaterThan(d.bytes);
  });

  it('an STS AssumeRole that gets no answer is given up and retried', async () => {
    injector.add({ name: 'sts stall', match: { operation: 'AssumeRole' }, answer: { hold: STALL_MS }, times: 1 });
    const { ms } = await deliver();
    const held = injector.recorded().filter((r) => r.answeredBy === 'sts stall');
    expect(held).toHaveLength(1);
    expect(held[0].clientGaveUpAfterMs!).toBeLessThan(HEARTBEAT_TIMEOUT_MS);
    expect(ms).toBeLessThan(STALL_MS);
  });

  it('a TCP stall (Toxiproxy timeout toxic: no byte either way) of 25 s on S3 mid-upload', async () => {
    const started = await h.ds.share(profile, dataset);
    // Let the upload begin, then stop every byte for 25 s.
    while (injector.recorded({ operation: 'UploadPart' }).length === 0) await new Promise((r) => setTimeout(r, 20));
    await toxi.addToxic('s3', { name: 'freeze', type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } });
    await new Promise((r) => setTimeout(r, 25_000));
    await toxi.removeToxic('s3', 'freeze');
    const d = await h.ds.waitForDelivery(started.id, undefined, 200);
    expect(d.error).toBeUndefined();
    expect(d.status).toBe('completed');
    for (const f of d.files) expect(sha(await getObjectBytes('other', bucket, f.key))).toBe(f.sha256);
    const attempts = await activityAttempts(h.temporal, workflowIdFor(d.id));
    // Either the SDK's retries outlasted the stall, or the attempt failed with a timeout and a retry resumed it.
    expect(attempts.uploadFile).toBeLessThanOrEqual(2);
  }, 120_000);
});
