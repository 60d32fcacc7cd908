import { KMS_ACTIONS } from '../../common/domain/policy';
import { ApplicationFailure } from '@temporalio/common';
import { DatashareError } from '../../common/errors';
import { awsErrorName, awsMessage, isNoSuchBucket, isS3AccessDenied } from '../failures/aws-errors';
import { toFailure } from '../failures/to-failure';
import type { WriteTarget } from './write-target';

/**
 * Explains an S3 refusal in terms of the end user's setup: what was denied where, and what to change.
 * S3 answers a wrong ExpectedBucketOwner with the same plain 403 as an IAM denial, so the
 * message names both causes and the fix for each.
 */
export function s3Failure(e: unknown, target: WriteTarget, key: string, operation: string): ApplicationFailure {
  if (isS3AccessDenied(e)) {
    const prefix = prefixOf(target.folder);
    const kms = target.encryption?.kmsKey
      ? ` (and ${KMS_ACTIONS.join(' and ')} on ${target.encryption.kmsKey.arn})`
      : '';
    return toFailure(
      new DatashareError(
        'AccessDenied',
        `AccessDenied: role ${target.roleArn} may not write s3://${target.bucket}/${key} (${operation}). Either ` +
          `(1) its permissions policy does not allow s3:PutObject${target.acl ? ' and s3:PutObjectAcl' : ''}${kms} on ` +
          `arn:${target.roleArn.split(':')[1] ?? 'aws'}:s3:::${target.bucket}/${prefix}* for bucket "${target.bucket}" and prefix "${prefix}": ` +
          `check the profile's s3_bucket and s3_prefix against the policy (datashare profile policy <profile>); or ` +
          `(2) bucket "${target.bucket}" is owned by an account other than ${target.bucketOwner}${target.bucketOwnerExplicit ? ' (s3_bucket_owner)' : " (the role's account)"}: ` +
          `if it moved to another account on purpose, set s3_bucket_owner=<that 12-digit account> on the profile, otherwise stop sending to it. Then replay the delivery.`,
      ),
    );
  }
  if (isNoSuchBucket(e)) {
    return toFailure(
      new DatashareError(
        'NoSuchBucket',
        `bucket "${target.bucket}" does not exist (region ${target.region}); fix the profile's s3_bucket`,
      ),
    );
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
