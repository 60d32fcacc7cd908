import type { ApplicationFailure } from '@temporalio/common';
import type { DeliveryTarget } from '../../common/contracts/delivery';
import { awsErrorName, awsMessage, isNoSuchBucket, isS3AccessDenied, permanent, toFailure } from '../failures/to-failure';

/** Explains an S3 refusal in terms of the end user's setup: what was denied where, and what to change. */
export function s3Failure(e: unknown, target: DeliveryTarget, key: string, operation: string): ApplicationFailure {
  if (isS3AccessDenied(e)) {
    return permanent(
      'AccessDenied',
      `AccessDenied: role ${target.roleArn} may not write s3://${target.bucket}/${key} (${operation}). ` +
        `Its permissions policy must allow s3:PutObject${target.acl ? ' and s3:PutObjectAcl' : ''} on ` +
        `arn:${target.roleArn.split(':')[1] ?? 'aws'}:s3:::${target.bucket}/${prefixOf(target.folder)}* for bucket "${target.bucket}" and prefix "${prefixOf(target.folder)}". ` +
        `Check the profile's s3_bucket and s3_prefix against the policy (datashare profile policy <profile>), then replay the delivery.`,
    );
  }
  if (isNoSuchBucket(e)) {
    return permanent('NoSuchBucket', `bucket "${target.bucket}" does not exist (region ${target.region}); fix the profile's s3_bucket`);
  }
  const f = toFailure(e);
  if (!f.nonRetryable) return f;
  return permanent(awsErrorName(e) ?? 'S3Error', `${operation} on s3://${target.bucket}/${key}: ${awsMessage(e)}`);
}

/** The profile prefix: the delivery folder minus its `<dataset>/<delivery>/` tail. */
function prefixOf(folder: string): string {
  return folder.split('/').slice(0, -3).join('/') + (folder.split('/').length > 3 ? '/' : '');
}
