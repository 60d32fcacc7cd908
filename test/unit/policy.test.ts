import { describe, it, expect } from 'vitest';
import { ValidationError } from '../../common/errors';
import { destinationFromProperties, type S3Destination } from '../../common/domain/destination';
import { buildPolicies, sharerRootArn } from '../../common/domain/policy';

const EXT = 'ds-0123456789abcdef0123456789abcdef';

function dest(overrides: Record<string, string> = {}): S3Destination {
  return destinationFromProperties({
    s3_role_arn: 'arn:aws:iam::111122223333:role/DataShareWriter',
    s3_bucket: 'their-company-data',
    s3_region: 'us-east-1',
    s3_prefix: 'uploads/your-team/',
    s3_external_id: EXT,
    ...overrides,
  });
}

function validationMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}

const SHARER = 'arn:aws:iam::251497699814:root';

describe('sharerRootArn', () => {
  it('builds the account root ARN in the given partition', () => {
    expect(sharerRootArn('aws', '251497699814')).toBe('arn:aws:iam::251497699814:root');
    expect(sharerRootArn('aws-us-gov', '184115685153')).toBe('arn:aws-us-gov:iam::184115685153:root');
  });
  it('rejects a malformed account id', () => {
    expect(validationMessage(() => sharerRootArn('aws', '1234'))).toContain('12 digits');
  });
});

describe('buildPolicies', () => {
  it('produces the seed document shapes for an aws destination', () => {
    const p = buildPolicies(dest(), SHARER);
    expect(p.trustPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowDataShareToAssumeWithExternalId',
          Effect: 'Allow',
          Principal: { AWS: SHARER },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'sts:ExternalId': EXT } },
        },
      ],
    });
    expect(p.permissionsPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowDataShareWritesToPrefix',
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
          Resource: 'arn:aws:s3:::their-company-data/uploads/your-team/*',
        },
      ],
    });
    expect(p.bucketPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowDataShareRoleWritesToPrefix',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:role/DataShareWriter' },
          Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
          Resource: 'arn:aws:s3:::their-company-data/uploads/your-team/*',
        },
      ],
    });
  });

  it('grants s3:PutObjectAcl only when the destination sends an ACL', () => {
    const withAcl = buildPolicies(dest({ s3_acl: 'bucket-owner-full-control' }), SHARER);
    expect(withAcl.permissionsPolicy.Statement[0].Action).toEqual([
      's3:PutObject',
      's3:PutObjectAcl',
      's3:AbortMultipartUpload',
    ]);
    expect(withAcl.bucketPolicy.Statement[0].Action).toEqual([
      's3:PutObject',
      's3:PutObjectAcl',
      's3:AbortMultipartUpload',
    ]);
    expect(JSON.stringify(buildPolicies(dest(), SHARER))).not.toContain('PutObjectAcl');
  });

  it('never grants read, list or delete', () => {
    const json = JSON.stringify(buildPolicies(dest({ s3_acl: 'bucket-owner-full-control' }), SHARER));
    for (const action of ['GetObject', 'ListBucket', 'DeleteObject', 'ListMultipartUploadParts', 's3:*']) {
      expect(json).not.toContain(action);
    }
  });

  it('covers the whole bucket when the prefix is empty', () => {
    const p = buildPolicies(dest({ s3_prefix: '' }), SHARER);
    expect(p.permissionsPolicy.Statement[0].Resource).toBe('arn:aws:s3:::their-company-data/*');
  });

  it('accepts a specific sharer role as principal', () => {
    const role = 'arn:aws:iam::251497699814:role/datashare-worker';
    expect(buildPolicies(dest(), role).trustPolicy.Statement[0].Principal).toEqual({ AWS: role });
  });

  it('uses the aws-us-gov partition in every ARN for a GovCloud destination', () => {
    const gov = dest({ s3_role_arn: 'arn:aws-us-gov:iam::111122223333:role/W', s3_region: 'us-gov-east-1' });
    const p = buildPolicies(gov, sharerRootArn('aws-us-gov', '184115685153'));
    const json = JSON.stringify(p);
    expect(json).toContain('"arn:aws-us-gov:s3:::their-company-data/uploads/your-team/*"');
    expect(json).toContain('"arn:aws-us-gov:iam::184115685153:root"');
    expect(json).toContain('"arn:aws-us-gov:iam::111122223333:role/W"');
    expect(json).not.toMatch(/arn:aws:/);
  });

  it('uses the aws-cn partition for a China destination', () => {
    const cn = dest({ s3_role_arn: 'arn:aws-cn:iam::111122223333:role/W', s3_region: 'cn-north-1' });
    const p = buildPolicies(cn, 'arn:aws-cn:iam::222233334444:root');
    expect(p.bucketPolicy.Statement[0].Resource).toBe('arn:aws-cn:s3:::their-company-data/uploads/your-team/*');
  });

  it('rejects a sharer in another partition, naming both', () => {
    const gov = dest({ s3_role_arn: 'arn:aws-us-gov:iam::111122223333:role/W', s3_region: 'us-gov-east-1' });
    const msg = validationMessage(() => buildPolicies(gov, SHARER));
    expect(msg).toContain('partition aws ');
    expect(msg).toContain('partition aws-us-gov');
  });

  it('rejects sharer principals that cannot be trusted as such', () => {
    expect(
      validationMessage(() => buildPolicies(dest(), 'arn:aws:sts::251497699814:assumed-role/worker/i-0abc')),
    ).toContain('role session ARN');
    expect(validationMessage(() => buildPolicies(dest(), '251497699814'))).toContain('not an ARN');
    expect(validationMessage(() => buildPolicies(dest(), 'arn:aws:iam::2514:root'))).toContain('12-digit');
    expect(validationMessage(() => buildPolicies(dest(), 'arn:aws:iam::251497699814:group/g'))).toContain(
      'account root, a role or a user',
    );
    expect(validationMessage(() => buildPolicies(dest(), 'arn:aws-iso:iam::251497699814:root'))).toContain('partition');
  });

  it('re-validates a hand-built destination so a wildcard cannot widen the policy', () => {
    const good = dest();
    expect(validationMessage(() => buildPolicies({ ...good, prefix: '*' }, SHARER))).toContain('s3_prefix');
    expect(validationMessage(() => buildPolicies({ ...good, prefix: 'a' }, SHARER))).toContain('normalised');
    expect(validationMessage(() => buildPolicies({ ...good, bucket: '*' }, SHARER))).toContain('s3_bucket');
    expect(validationMessage(() => buildPolicies({ ...good, partition: 'aws-cn' }, SHARER))).toContain(
      'does not match',
    );
    expect(validationMessage(() => buildPolicies({ ...good, externalId: '' }, SHARER))).toContain('s3_external_id');
  });
});
