import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { workflowIdFor, type DeliveryView } from '../../common/contracts/delivery';
import { testEnv } from '../../scripts/local/stack-env';
import { getObjectBytes, uniqueName } from '../../scripts/local/end-user-account';
import { paddedDelivery } from '../support/padded-delivery';
import { startHarness, type Harness } from '../support/harness';
import { activityAttempts } from '../support/history';
import { INTERNAL_ERROR, REQUEST_TIMEOUT, SLOW_DOWN } from '../support/injector-faults';
import { S3Injector } from '../support/s3-injector';
import { Toxiproxy } from '../support/toxiproxy';

const PART = 5 * 1024 * 1024;
const ROWS = 160_000;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * A ~22 MB delivery (one file, five 5 MiB parts) through a misbehaving S3: the worker's
 * S3 traffic goes worker → Toxiproxy (TCP faults) → the injector (S3 answers) → moto.
 * Under each fault the delivery completes and the stored object is byte for byte the
 * one a clean run stored; uploadedBytes counts what the faults made us send again.
 */
describe('flaky S3: every fault still delivers the same bytes', () => {
  let h: Harness;
  let injector: S3Injector;
  let toxi: Toxiproxy;
  let bucket: string;
  let profile: string;
  const dataset = uniqueName('flaky-ds');
  let clean: { sha256: string; object: string; bytes: number };

  async function deliver(prefixTag: string): Promise<{ d: DeliveryView; object: Buffer }> {
    const d = await h.ds.waitForDelivery(
      (await h.ds.share(profile, dataset, { maxFileBytes: 1024 ** 3 })).id,
      undefined,
      200,
    );
    expect(d.error, prefixTag).toBeUndefined();
    expect(d.status).toBe('completed');
    expect(d.files).toHaveLength(1);
    return { d, object: await getObjectBytes('other', bucket, d.files[0].key) };
  }

  function expectClean(r: { d: DeliveryView; object: Buffer }): void {
    expect(r.d.files[0].sha256).toBe(clean.sha256);
    expect(sha(r.object)).toBe(clean.object);
    expect(r.d.bytes).toBe(clean.bytes);
    expect(r.d.rows).toBe(ROWS);
  }

  beforeAll(async () => {
    injector = await S3Injector.start(testEnv().AWS_ENDPOINT_URL);
    toxi = await Toxiproxy.start();
    const s3Url = await toxi.proxy('s3', `127.0.0.1:${injector.port}`);
    h = await startHarness({
      taskQueue: uniqueName('flaky-s3-test'),
      s3Endpoint: s3Url,
      partBytes: PART,
      partsInFlight: 2,
    });
    ({ bucket, profile } = await paddedDelivery(h, { name: 'flaky', dataset, rows: ROWS, prefix: 'f/' }));
    const ref = await deliver('clean run');
    expect(ref.d.bytes).toBeGreaterThan(4 * PART);
    expect(ref.d.uploadedBytes).toBe(ref.d.bytes);
    clean = { sha256: ref.d.files[0].sha256, object: sha(ref.object), bytes: ref.d.bytes };
  }, 120_000);

  beforeEach(async () => {
    injector.reset();
    await toxi.reset();
  });

  afterAll(async () => {
    await h?.stop();
    await toxi?.stop();
    await injector?.stop();
  });

  it('10% of UploadPart answered 503 SlowDown, 500 or 400 RequestTimeout, and 3 SlowDowns in a row on one part', async () => {
    injector.add({
      name: 'part 2: three SlowDowns in a row',
      match: { operation: 'UploadPart', when: (r) => r.query.get('partNumber') === '2' },
      answer: SLOW_DOWN,
      times: 3,
    });
    injector.add({ name: '4% SlowDown', match: { operation: 'UploadPart' }, answer: SLOW_DOWN, probability: 0.04 });
    injector.add({ name: '3% 500', match: { operation: 'UploadPart' }, answer: INTERNAL_ERROR, probability: 0.03 });
    injector.add({
      name: '3% timeout',
      match: { operation: 'UploadPart' },
      answer: REQUEST_TIMEOUT,
      probability: 0.03,
    });
    const r = await deliver('flaky parts');
    expectClean(r);
    const refused = injector.recorded({ operation: 'UploadPart' }).filter((x) => x.answeredBy !== undefined);
    expect(refused.length).toBeGreaterThanOrEqual(3);
    // Every refused body was sent in full and counted, although the SDK's retries hid them from our code.
    expect(r.d.uploadedBytes - r.d.bytes).toBeGreaterThanOrEqual(refused.length * PART * 0.99);
    const sentToS3 = injector.recorded({ operation: 'UploadPart' }).reduce((n, x) => n + x.bodyBytes, 0);
    expect(r.d.uploadedBytes).toBe(sentToS3);
  });

  // The SDK opens a connection for most parts, so a toxic per connection is a fault per part or so.
  it('Toxiproxy limit_data on a third of the connections (2 MiB, seeded; which parts it hits depends on connection reuse)', async () => {
    await toxi.addToxic('s3', {
      name: 'cut',
      type: 'limit_data',
      stream: 'upstream',
      toxicity: 0.33,
      attributes: { bytes: 2 * 1024 * 1024 },
    });
    expectClean(await deliver('cuts'));
  });

  it('connections reset 1 MiB into the body of two parts (TCP RST from the server side)', async () => {
    injector.cutMidBody({ name: 'rst', match: { operation: 'UploadPart' }, afterBytes: 1024 * 1024, times: 2 });
    const r = await deliver('resets');
    expectClean(r);
    const parts = injector.recorded({ operation: 'UploadPart' });
    expect(parts.filter((p) => p.answeredBy === 'rst')).toHaveLength(2);
    // Both parts died on the wire and were sent again; what reached the wire is counted.
    expect(parts.length).toBe(new Set(parts.map((p) => p.query.get('partNumber'))).size + 2);
    expect(r.d.uploadedBytes).toBeGreaterThan(r.d.bytes + 2 * 1024 * 1024);
  });

  it('5% of connections reset (Toxiproxy reset_peer) and 300 ms latency on all', async () => {
    await toxi.addToxic('s3', { name: 'rst', type: 'reset_peer', toxicity: 0.05, attributes: { timeout: 50 } });
    await toxi.addToxic('s3', { name: 'slow', type: 'latency', attributes: { latency: 300, jitter: 100 } });
    expectClean(await deliver('reset and latency'));
  });

  it('2 s stalls on a third of the requests', async () => {
    injector.add({ name: 'stall', match: {}, answer: { hold: 2000 }, probability: 0.33 });
    expectClean(await deliver('stalls'));
    expect(injector.recorded().filter((x) => x.answeredBy === 'stall').length).toBeGreaterThan(0);
  });

  it('bandwidth capped at 8 MB/s', async () => {
    await toxi.addToxic('s3', { name: 'narrow', type: 'bandwidth', stream: 'upstream', attributes: { rate: 8192 } });
    expectClean(await deliver('bandwidth'));
  });

  it('CompleteMultipartUpload answered 500 once, before it reaches S3', async () => {
    injector.add({
      name: 'complete 500',
      match: { operation: 'CompleteMultipartUpload' },
      answer: INTERNAL_ERROR,
      times: 1,
    });
    const r = await deliver('complete 500 before');
    expectClean(r);
    expect(injector.recorded({ operation: 'CompleteMultipartUpload' })).toHaveLength(2);
    expect(injector.recorded({ operation: 'CreateMultipartUpload' })).toHaveLength(1);
  });

  it('CompleteMultipartUpload answered 500 once after S3 completed it: the retry meets NoSuchUpload and the file is sent again', async () => {
    injector.add({
      name: 'complete 500 after',
      match: { operation: 'CompleteMultipartUpload' },
      answer: { afterForward: INTERNAL_ERROR },
      times: 1,
    });
    const r = await deliver('complete 500 after');
    expectClean(r);
    // A new multipart upload under the same key, every part sent twice, and counted.
    const creates = injector.recorded({ operation: 'CreateMultipartUpload' });
    expect(creates).toHaveLength(2);
    expect(new Set(creates.map((c) => c.path)).size).toBe(1);
    expect(r.d.uploadedBytes).toBeGreaterThanOrEqual(2 * r.d.bytes);
    const attempts = await activityAttempts(h.temporal, workflowIdFor(r.d.id));
    expect(attempts.uploadFile).toBe(2);
  });

  it('a byte flipped in transit is rejected by the payload check (XAmzContentSHA256Mismatch) and sent again', async () => {
    injector.add({ name: 'flip', match: { operation: 'UploadPart' }, answer: { corrupt: true }, times: 1, skip: 1 });
    const r = await deliver('corrupt');
    expectClean(r);
    expect(injector.recorded({ operation: 'UploadPart' }).filter((x) => x.answeredBy === 'flip')).toHaveLength(1);
    expect(r.d.uploadedBytes).toBeGreaterThan(r.d.bytes);
  });
});
