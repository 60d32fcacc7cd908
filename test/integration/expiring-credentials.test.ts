import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { workflowIdFor } from '../../common/contracts/delivery';
import { testEnv } from '../../scripts/local/stack-env';
import { getObjectBytes, uniqueName } from '../../scripts/local/end-user-account';
import { paddedDelivery } from '../support/padded-delivery';
import { startHarness, type Harness } from '../support/harness';
import { activityAttempts } from '../support/history';
import { S3Injector, type RecordedRequest } from '../support/s3-injector';

const PART = 5 * 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const uploadSession = (r: RecordedRequest): boolean =>
  r.operation === 'AssumeRole' && (r.form?.get('RoleSessionName') ?? '').startsWith('datashare-upload-');

/**
 * Role sessions that end while a file uploads. S3 and STS both go through the
 * injector, which remembers each session AssumeRole issues (by access key) and
 * answers ExpiredToken to requests signed with one past its lifetime. Each part is
 * held a little so the upload outlives the session.
 */
describe('expiring role credentials during an upload', () => {
  let h: Harness;
  let injector: S3Injector;
  let profile: string;
  let bucket: string;
  const dataset = uniqueName('expiry-ds');

  beforeAll(async () => {
    injector = await S3Injector.start(testEnv().AWS_ENDPOINT_URL);
    h = await startHarness({
      taskQueue: uniqueName('expiry-test'),
      s3Endpoint: injector.url,
      stsEndpoint: injector.url,
      partBytes: PART,
      partsInFlight: 1,
    });
    ({ bucket, profile } = await paddedDelivery(h, { name: 'expiry', dataset, rows: 160000, prefix: 'e/' }));
  });

  beforeEach(() => injector.reset());
  afterEach(() => vi.useRealTimers());

  afterAll(async () => {
    await h?.stop();
    await injector?.stop();
  });

  it('a session that ends early (ExpiredToken) is re-assumed and the same multipart upload goes on, no part lost', async () => {
    injector.expireSessionsAfter(2500);
    injector.add({ name: 'slow part', match: { operation: 'UploadPart' }, answer: { hold: 1000 } });
    const d = await h.ds.waitForDelivery(
      (await h.ds.share(profile, dataset, { maxFileBytes: 1024 ** 3 })).id,
      undefined,
      200,
    );
    expect(d.error).toBeUndefined();
    expect(d.status).toBe('completed');
    expect(d.files).toHaveLength(1);
    expect(sha(await getObjectBytes('other', bucket, d.files[0].key))).toBe(d.files[0].sha256);
    const expired = injector.recorded().filter((r) => r.answeredBy === 'expired session (lifetime)');
    expect(expired.length).toBeGreaterThan(0);
    // One multipart upload, completed once, each part accepted once: nothing restarted or lost.
    expect(injector.recorded({ operation: 'CreateMultipartUpload' })).toHaveLength(1);
    const accepted = injector
      .recorded({ operation: 'UploadPart' })
      .filter((r) => r.answeredBy !== expired[0].answeredBy);
    const numbers = accepted.map((r) => Number(r.query.get('partNumber')));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(injector.recorded().filter(uploadSession).length).toBeGreaterThan(1);
    expect((await activityAttempts(h.temporal, workflowIdFor(d.id))).uploadFile).toBe(1);
  });

  it('a session that claims 15 minutes is renewed before it ends when the clock moves on 11 minutes', async () => {
    // An injected clock: only Date is faked, in this process, where the worker and the
    // injector both run; the SDK's credential cache and the injector read that clock.
    injector.claimSessionLifetime(15 * 60);
    injector.add({ name: 'slow part', match: { operation: 'UploadPart' }, answer: { hold: 800 } });
    const started = await h.ds.share(profile, dataset, { maxFileBytes: 1024 ** 3 });
    while (injector.recorded({ operation: 'UploadPart' }).length < 2) await new Promise((r) => setTimeout(r, 20));
    const before = injector.recorded().filter(uploadSession).length;
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + 11 * 60_000);
    const d = await h.ds.waitForDelivery(started.id, undefined, 200);
    vi.useRealTimers();
    expect(d.error).toBeUndefined();
    expect(d.status).toBe('completed');
    expect(sha(await getObjectBytes('other', bucket, d.files[0].key))).toBe(d.files[0].sha256);
    // Renewed ahead of time (within 5 minutes of the claimed end): no request met an expired session.
    expect(injector.recorded().filter((r) => r.answeredBy?.startsWith('expired session'))).toHaveLength(0);
    expect(injector.recorded().filter(uploadSession).length).toBe(before + 1);
    expect(injector.recorded({ operation: 'CreateMultipartUpload' })).toHaveLength(1);
    // The renewal happened inside the attempt: a failed re-assume would show as a second one.
    expect((await activityAttempts(h.temporal, workflowIdFor(d.id))).uploadFile).toBe(1);
  });
});
