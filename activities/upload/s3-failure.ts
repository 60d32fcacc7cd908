import { ApplicationFailure } from '@temporalio/common';
import { DatashareError } from '../../common/errors';
import type { DeliveryTarget } from '../../common/contracts/delivery';
import { awsErrorName, awsMessage, isNoSuchBucket, isS3AccessDenied } from '../failures/aws-errors';
import { toFailure } from '../failures/to-failure';

/** Explains an S3 refusal in terms of the end user's setup: what was denied where, and what to change. */
export function s3Failure(e: unknown, target: DeliveryTarget, key: string, operation: string): ApplicationFailure {
  if (isS3AccessDenied(e)) {
    const prefix = prefixOf(target.folder);
    return toFailure(
      new DatashareError(
        'AccessDenied',
        `AccessDenied: role ${target.roleArn} may not write s3://${target.bucket}/${key} (${operation}). ` +
          `Its permissions policy must allow s3:PutObject${target.acl ? ' and s3:PutObjectAcl' : ''} on ` +
          `arn:${target.roleArn.split(':')[1] ?? 'aws'}:s3:::${target.bucket}/${prefix}* for bucket "${target.bucket}" and prefix "${prefix}". ` +
          `Check the profile's s3_bucket and s3_prefix against the policy (datashare profile policy <profile>), then replay the delivery.`,
      ),
    );
  }
  if (isNoSuchBucket(e)) {
    return toFailure(new DatashareError('NoSuchBucket', `bucket "${target.bucket}" does not exist (region ${target.region}); fix the profile's s3_bucket`));
  }
  const f = toFailure(e);
  if (!f.nonRetryable) return f;
  // Already beyond retrying: keep it so, and say which call on which object.
  return ApplicationFailure.create({
    type: awsErrorName(e) ?? 'S3Error',
    message: `${operation} on s3://${target.bucket}/${key}: ${awsMessage(e)}`,
    nonRetryable: true,
  });
}

/** The profile prefix: the delivery folder minus its `<dataset>/<delivery>/` tail. */
function prefixOf(folder: string): string {
  return folder.split('/').slice(0, -3).join('/') + (folder.split('/').length > 3 ? '/' : '');
}
