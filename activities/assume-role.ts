import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { Pool } from 'pg';
import type { AwsAccess } from '../common/infra/aws';
import { roleSessionName } from '../common/infra/aws';
import { destinationFromProperties } from '../common/domain/destination';
import { recordAssumedRole } from '../common/store/deliveries';
import { getProfile } from '../common/store/profiles';
import type { AssumedRole } from '../common/contracts/delivery';
import { DatashareError } from '../common/errors';
import { awsMessage, isAssumeRoleDenied, isSharerCredentialError } from './failures/aws-errors';
import { toFailure } from './failures/to-failure';

export interface AssumeRoleInput {
  deliveryId: string;
  profileId: string;
}

/**
 * Proves the end user's role can be assumed with the profile's ExternalId.
 * The issued credentials are dropped here: only the assumed-role ARN and the
 * expiry, which are not secret, go back into history.
 */
export async function assumeRole(deps: { metaPool: Pool; aws: AwsAccess }, input: AssumeRoleInput): Promise<AssumedRole> {
  const profile = await getProfile(deps.metaPool, input.profileId);
  const d = destinationFromProperties(profile.properties);
  const sts = deps.aws.sts(d.region);
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
    await recordAssumedRole(deps.metaPool, input.deliveryId, assumed.assumedRoleArn);
    return assumed;
  } catch (e) {
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
