import { describe, expect, it } from 'vitest';
import { destinationFromProperties } from '../../common/domain/destination';
import { checkTenancy } from '../../common/domain/dataset-guards';
import { expectedOwner } from '../../common/domain/bucket-safety';

const base = {
  s3_role_arn: 'arn:aws:iam::111122223333:role/DataShareWriter',
  s3_bucket: 'their-company-data',
  s3_region: 'us-east-1',
  s3_external_id: 'ds-0123456789abcdef0123456789abcdef',
};
const key = 'arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('bucket owner and encryption properties', () => {
  it("expects the role's account to own the bucket unless s3_bucket_owner says otherwise", () => {
    expect(expectedOwner(destinationFromProperties(base))).toEqual({
      bucketOwner: '111122223333',
      bucketOwnerExplicit: false,
    });
    expect(expectedOwner(destinationFromProperties({ ...base, s3_bucket_owner: '999988887777' }))).toEqual({
      bucketOwner: '999988887777',
      bucketOwnerExplicit: true,
    });
    expect(() => destinationFromProperties({ ...base, s3_bucket_owner: '9999' })).toThrow(/12-digit/);
  });

  it('reads s3_sse and s3_kms_key_arn', () => {
    expect(destinationFromProperties({ ...base, s3_sse: 'AES256' }).encryption).toEqual({ sse: 'AES256' });
    expect(
      destinationFromProperties({ ...base, s3_sse: 'aws:kms', s3_kms_key_arn: key }).encryption?.kmsKey,
    ).toMatchObject({
      accountId: '444455556666',
      isAlias: false,
    });
    expect(
      destinationFromProperties({
        ...base,
        s3_sse: 'aws:kms',
        s3_kms_key_arn: 'arn:aws:kms:us-east-1:111122223333:alias/team/data',
      }).encryption?.kmsKey?.isAlias,
    ).toBe(true);
  });

  it.each([
    [{ s3_sse: 'aws:kms' }, /needs s3_kms_key_arn/],
    [{ s3_sse: 'kms' }, /must be AES256 .* or aws:kms/],
    [{ s3_kms_key_arn: key }, /only with s3_sse=aws:kms/],
    [{ s3_sse: 'AES256', s3_kms_key_arn: key }, /only with s3_sse=aws:kms/],
    [{ s3_sse: 'aws:kms', s3_kms_key_arn: '1234abcd-12ab-34cd-56ef-1234567890ab' }, /must be a KMS key ARN/],
    [{ s3_sse: 'aws:kms', s3_kms_key_arn: 'arn:aws:kms:us-east-1:111122223333:key/not-a-uuid' }, /key\/<key id>/],
    [
      {
        s3_sse: 'aws:kms',
        s3_kms_key_arn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
      /bucket's own region/,
    ],
    [
      {
        s3_sse: 'aws:kms',
        s3_kms_key_arn: 'arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
      /aws-cn\/cn-north-1 but the bucket/,
    ],
    [
      {
        s3_sse: 'aws:kms',
        s3_kms_key_arn: 'arn:aws:kms:us-gov-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
      /not in partition aws/,
    ],
  ])('refuses %o', (extra, message) => {
    expect(() => destinationFromProperties({ ...base, ...extra })).toThrow(message);
  });
});

describe('tenancy guard', () => {
  it('refuses SQL that names no property unless it is declared same for everyone', () => {
    expect(() => checkTenancy('orders', 'SELECT * FROM orders', false)).toThrow(
      /every end user would receive the same rows.*--same-for-everyone/,
    );
    expect(() => checkTenancy('orders', 'SELECT * FROM orders', true)).not.toThrow();
    expect(() => checkTenancy('orders', 'SELECT * FROM orders WHERE tenant_id = :tenant_id', false)).not.toThrow();
    // A :name inside a string literal or a ::cast is not a property.
    expect(() => checkTenancy('orders', "SELECT id::text, ':x' AS s FROM orders", false)).toThrow(/same rows/);
  });
});
