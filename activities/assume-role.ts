import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { Pool } from 'pg';
import type { AwsAccess } from '../common/infra/aws';
import { roleSessionName } from '../common/infra/aws';
import { destinationFromProperties } from '../common/domain/destination';
import { recordAssumedRole } from '../common/store/delivery-progress';
import { getProfile } from '../common/store/profiles';
import type { AssumedRole } from '../common/contracts/delivery';
import { DatashareError } from '../common/errors';
import { awsMessage, isAssumeRoleDenied, isSharerCredentialError } from './failures/aws-errors';
import { toFailure } from './failures/to-failure';
import { probeBucketOwner, ownerProbeKey } from '../common/infra/bucket-owner-probe';
import type { S3Destination } from '../common/domain/destination';
import { bucketOwnerMessage, expectedOwner } from '../common/domain/bucket-safety';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { RetryTally } from '../common/infra/retry-tally';
import { withRetryTally } from './retry-count';

export interface AssumeRoleInput {
  deliveryId: string;
  profileId: string;
}

/**
 * Proves the end user's role can be assumed with the profile's ExternalId, and
 * that the bucket is owned by the account the profile expects (a probe that
 * writes nothing), before any source row is read. The issued credentials are
 * dropped here: only the assumed-role ARN and the expiry, which are not secret,
 * go back into history.
 */
export async function assumeRole(
  deps: { metaPool: Pool; aws: AwsAccess },
  input: AssumeRoleInput,
): Promise<AssumedRole> {
  return withRetryTally(deps.metaPool, input.deliveryId, (tally) => assumeRoleCounted(deps, input, tally));
}

async function assumeRoleCounted(
  deps: { metaPool: Pool; aws: AwsAccess },
  input: AssumeRoleInput,
  tally: RetryTally,
): Promise<AssumedRole> {
  const profile = await getProfile(deps.metaPool, input.profileId);
  const d = destinationFromProperties(profile.properties);
  const sts = deps.aws.sts(d.region, tally);
  try {
    const res = await sts.send(
      new AssumeRoleCommand({
        RoleArn: d.roleArn,
        ExternalId: d.externalId,
        RoleSessionName: roleSessionName('delivery', input.deliveryId),
        DurationSeconds: 900,
      }),
    );
    const assumed: AssumedRole = {
      assumedRoleArn: res.AssumedRoleUser?.Arn ?? d.roleArn,
      expiration: res.Credentials?.Expiration?.toISOString() ?? '',
    };
    const c = res.Credentials;
    if (c?.AccessKeyId && c.SecretAccessKey) {
      await checkBucketOwner(
        deps.aws,
        d,
        profile.id,
        {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          sessionToken: c.SessionToken,
        },
        tally,
      );
    }
    await recordAssumedRole(deps.metaPool, input.deliveryId, assumed.assumedRoleArn);
    return assumed;
  } catch (e) {
    if (e instanceof DatashareError) throw e;
    if (isSharerCredentialError(e)) {
      throw new DatashareError(
        'SharerCredentialsInvalid',
        `the worker's own AWS credentials were rejected by STS (${awsMessage(e)}); check AWS_ACCESS_KEY_ID / the worker's IAM identity`,
      );
    }
    if (isAssumeRoleDenied(e)) {
      throw new DatashareError(
        'AssumeRoleDenied',
        `could not assume ${d.roleArn} for profile "${profile.id}": ${awsMessage(e)}. The role's trust policy must allow ` +
          `this sharer to call sts:AssumeRole with sts:ExternalId equal to the profile's s3_external_id; ` +
          `print the expected policy with: datashare profile policy ${profile.id}`,
      );
    }
    throw toFailure(e);
  } finally {
    sts.destroy();
  }
}

/** Fails, permanently, when the bucket answers as another account's; anything else is for the writes to report. */
async function checkBucketOwner(
  aws: AwsAccess,
  d: S3Destination,
  profileId: string,
  credentials: AwsCredentialIdentity,
  tally: RetryTally,
): Promise<void> {
  const s3 = aws.s3(d.region, () => Promise.resolve(credentials), tally);
  try {
    const owner = expectedOwner(d);
    const probe = await probeBucketOwner(s3, d.bucket, ownerProbeKey(d.prefix), owner.bucketOwner);
    if (probe.result !== 'wrong-owner') return;
    throw new DatashareError(
      'BucketOwnerMismatch',
      `${bucketOwnerMessage({ ...d, ...owner }, profileId)} Nothing was read from the source or written.`,
    );
  } finally {
    s3.destroy();
  }
}
