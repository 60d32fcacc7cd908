import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../common/contracts/delivery';
import { testEnv } from '../../scripts/local/stack-env';
import {
  createBucket,
  createEndUserRole,
  endUserProfile,
  listKeys,
  uniqueName,
  type EndUserRole,
} from '../../scripts/local/end-user-account';
import { startHarness, type Harness } from '../support/harness';
import { activityAttempts } from '../support/history';
import { bucketOwnedBy, S3Injector } from '../support/s3-injector';

/**
 * ExpectedBucketOwner and SSE headers on real requests. moto checks neither, so the
 * worker's S3 traffic goes through an injector that records every request and, per
 * case, plays a bucket owned by an account other than the role's.
 */
describe('bucket owner and encryption on every request (through the S3 injector)', () => {
  let h: Harness;
  let injector: S3Injector;
  let table: string;
  let bucket: string;
  let role: EndUserRole;
  const dataset = uniqueName('owner-ds');
  const someoneElse = '999988887777';
  const roleAccount = (): string => role.roleArn.split(':')[4];
  const kmsKey = 'arn:aws:kms:us-east-1:222233334444:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  beforeAll(async () => {
    injector = await S3Injector.start(testEnv().AWS_ENDPOINT_URL);
    h = await startHarness({ taskQueue: uniqueName('bucket-safety-test'), s3Endpoint: injector.url });
    table = uniqueName('owner_rows').replace(/-/g, '_');
    await h.pool.query(
      `CREATE TABLE ${table} AS SELECT g AS id, 1 AS tenant_id, 'row ' || g AS label FROM generate_series(1, 30) g`,
    );
    await h.ds.setDataset(dataset, {
      sql: `SELECT id, label FROM ${table} WHERE tenant_id = :tenant_id`,
      keyColumns: ['id'],
    });
    bucket = uniqueName('owner');
    await createBucket('other', bucket);
    role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'in/' });
  });

  beforeEach(() => injector.reset());

  afterAll(async () => {
    await h?.stop();
    await injector?.stop();
  });

  async function profileWith(extra: Record<string, string>, prefix: string): Promise<string> {
    const id = uniqueName('owner-p');
    await h.ds.setProfile(id, { ...endUserProfile(role, bucket, `in/${prefix}/`), tenant_id: '1', ...extra });
    return id;
  }

  it("names the role's account as the expected owner on every request, and delivers", async () => {
    const profile = await profileWith({}, 'same');
    const d = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(d.error).toBeUndefined();
    expect(d.status).toBe('completed');
    const sent = injector.recorded({ path: new RegExp(`^/${bucket}/`) });
    expect(new Set(sent.map((r) => r.operation))).toEqual(
      new Set(['PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']),
    );
    for (const r of sent)
      expect(r.headers['x-amz-expected-bucket-owner'], `${r.operation} ${r.path}`).toBe(roleAccount());
  });

  it('fails fast and permanently on a bucket owned by another account, before any source row is read, writing nothing', async () => {
    injector.add(bucketOwnedBy(bucket, someoneElse));
    const profile = await profileWith({}, 'moved');
    const d = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(d.status).toBe('failed');
    expect(d.error?.type).toBe('BucketOwnerMismatch');
    expect(d.error?.message).toContain(`datashare profile set ${profile} s3_bucket_owner=`);
    expect(d.error?.message).toContain(roleAccount());
    const attempts = await activityAttempts(h.temporal, workflowIdFor(d.id));
    expect(attempts.assumeRole).toBe(1);
    // Planning (the first activity to touch the source) never ran.
    expect(attempts.exportDataset).toBeUndefined();
    expect(await listKeys('other', bucket, 'in/moved/')).toEqual([]);

    const report = await h.ds.verifyProfile(profile);
    expect(report.ok).toBe(false);
    const write = report.checks.find((c) => c.name === 'write under prefix');
    expect(write?.status).toBe('fail');
    expect(write?.detail).toContain(`s3_bucket_owner=`);
    expect(await listKeys('other', bucket, 'in/moved/')).toEqual([]);

    // The fix verify gives works: with s3_bucket_owner set, verify and delivery succeed.
    await h.ds.setProfile(profile, { s3_bucket_owner: someoneElse });
    expect((await h.ds.verifyProfile(profile)).ok).toBe(true);
    const fixed = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(fixed.status).toBe('completed');
    // Every request names the owner, but the probe's second try, which is conditional and cannot write.
    for (const r of injector.recorded({ path: new RegExp(`^/${bucket}/`), headers: { 'if-match': null } })) {
      expect(r.headers['x-amz-expected-bucket-owner'], `${r.operation} ${r.path}`).toBe(someoneElse);
    }
  });

  it('explains a 403 in the middle of an upload with both causes and the fix for each', async () => {
    injector.add({
      name: 'deny complete',
      match: { operation: 'CompleteMultipartUpload' },
      answer: { status: 403, code: 'AccessDenied', message: 'Access Denied' },
    });
    const profile = await profileWith({}, 'denied');
    const d = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(d.status).toBe('failed');
    expect(d.error?.type).toBe('AccessDenied');
    expect(d.error?.message).toContain('permissions policy');
    expect(d.error?.message).toContain(`owned by an account other than ${roleAccount()}`);
    expect(d.error?.message).toContain('s3_bucket_owner=');
  });

  it('sends the SSE-KMS headers on every object it creates, the verify marker included', async () => {
    const profile = await profileWith({ s3_sse: 'aws:kms', s3_kms_key_arn: kmsKey }, 'kms');
    expect((await h.ds.verifyProfile(profile)).ok).toBe(true);
    const d = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(d.error).toBeUndefined();
    const creates = injector.recorded({
      operation: ['PutObject', 'CreateMultipartUpload'],
      path: new RegExp(`^/${bucket}/in/kms/`),
    });
    // The owner probe (If-Match) creates nothing; every other object-creating request is encrypted.
    const objects = creates.filter((r) => r.headers['if-match'] === undefined);
    expect(objects.map((r) => r.operation).sort()).toEqual(['CreateMultipartUpload', 'PutObject', 'PutObject']);
    for (const r of objects) {
      expect(r.headers['x-amz-server-side-encryption'], r.path).toBe('aws:kms');
      expect(r.headers['x-amz-server-side-encryption-aws-kms-key-id'], r.path).toBe(kmsKey);
    }
  });

  it('sends AES256 when the profile asks for S3-managed keys', async () => {
    const profile = await profileWith({ s3_sse: 'AES256' }, 'aes');
    const d = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(d.error).toBeUndefined();
    const objects = injector.recorded({
      operation: ['PutObject', 'CreateMultipartUpload'],
      headers: { 'if-match': null },
    });
    expect(objects.length).toBe(2);
    for (const r of objects) {
      expect(r.headers['x-amz-server-side-encryption']).toBe('AES256');
      expect(r.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBeUndefined();
    }
  });
});
