import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../common/contracts/delivery';
import {
  createBucket,
  createEndUserRole,
  endUserProfile,
  listKeys,
  uniqueName,
} from '../../scripts/local/end-user-account';
import { startHarness, type Harness } from '../support/harness';
import { activityAttempts } from '../support/history';

describe('least privilege and ExternalId (moto with IAM enforcement on)', () => {
  let h: Harness;
  let table: string;
  const dataset = uniqueName('perm-ds');

  beforeAll(async () => {
    h = await startHarness({ taskQueue: uniqueName('permissions-test') });
    table = uniqueName('perm_rows').replace(/-/g, '_');
    await h.pool.query(`CREATE TABLE ${table} AS SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 50) g`);
    await h.ds.setDataset(dataset, { sql: `SELECT * FROM ${table}`, keyColumns: ['id'], sameForEveryone: true });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('works with exactly the seed permissions policy (s3:PutObject on bucket/prefix/* only)', async () => {
    const bucket = uniqueName('least-priv');
    await createBucket('other', bucket);
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'only/here/' });
    const profile = uniqueName('least');
    await h.ds.setProfile(profile, endUserProfile(role, bucket, 'only/here'));
    const d = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(d.error).toBeUndefined();
    expect(d.status).toBe('completed');
    expect(d.rows).toBe(50);
    expect(await listKeys('other', bucket)).toEqual([d.files[0].key, d.manifestKey].sort());
  });

  it('fails fast with AccessDenied naming bucket and prefix when the role may write only elsewhere, and writes nothing', async () => {
    const bucket = uniqueName('wrong-prefix');
    await createBucket('other', bucket);
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'some/other/prefix/' });
    const profile = uniqueName('wrongprefix');
    await h.ds.setProfile(profile, endUserProfile(role, bucket, 'exports/datashare/'));
    const d = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(d.status).toBe('failed');
    expect(d.error?.type).toBe('AccessDenied');
    expect(d.error?.message).toContain(bucket);
    expect(d.error?.message).toContain('exports/datashare/');
    expect(d.manifestKey).toBeNull();
    expect(d.files).toEqual([]);
    expect(await listKeys('other', bucket)).toEqual([]);
    // Non-retryable: one attempt, no backoff loop.
    expect((await activityAttempts(h.temporal, workflowIdFor(d.id))).uploadFile).toBe(1);
  });

  it('fails fast and non-retryably on a wrong ExternalId', async () => {
    const bucket = uniqueName('extid');
    // moto checks trust policies for roles in the caller's own account, so this role lives there.
    await createBucket('sharer', bucket);
    const role = await createEndUserRole({ account: 'sharer', bucket, allowPrefix: 'in/' });
    const profile = uniqueName('wrongext');
    await h.ds.setProfile(profile, {
      s3_role_arn: role.roleArn,
      s3_bucket: bucket,
      s3_region: 'us-east-1',
      s3_prefix: 'in/',
      s3_external_id: 'not-the-right-external-id',
    });
    const d = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(d.status).toBe('failed');
    expect(d.error?.type).toBe('AssumeRoleDenied');
    expect(d.error?.message).toContain(role.roleArn);
    expect(d.error?.message).toContain(`datashare profile policy ${profile}`);
    expect(d.error?.message).not.toContain('not-the-right-external-id');
    const attempts = await activityAttempts(h.temporal, workflowIdFor(d.id));
    expect(attempts.assumeRole).toBe(1);
    expect(attempts.uploadFile).toBeUndefined();
    expect(await listKeys('sharer', bucket)).toEqual([]);

    // The same role with the right ExternalId works: the failure was the ExternalId, nothing else.
    await h.ds.setProfile(profile, { s3_external_id: role.externalId });
    const ok = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    expect(ok.status).toBe('completed');
  });
});
