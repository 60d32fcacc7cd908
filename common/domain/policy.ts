/**
 * The IAM documents an end user attaches on their side, generated from their
 * destination so that what we tell them to grant is exactly what we use.
 */
import { ValidationError } from '../errors';
import { type S3Destination } from './destination';
import {
  PARTITIONS,
  isPartition,
  normalizePrefix,
  parseRoleArn,
  validateBucketName,
  validateExternalId,
  type Partition,
} from './aws-names';
import { quoteValue } from './quoting';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Principal?: { AWS: string };
  Action: string | string[];
  Resource?: string;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface EndUserPolicies {
  trustPolicy: PolicyDocument;
  permissionsPolicy: PolicyDocument;
  bucketPolicy: PolicyDocument;
  /**
   * Only when s3_kms_key_arn is in another account than the role: the statement the
   * key's owner adds to the key policy (a key policy must allow cross-account use itself).
   */
  keyPolicyStatement?: PolicyStatement;
}

export function sharerRootArn(partition: Partition, accountId: string): string {
  if (!isPartition(partition)) {
    throw new ValidationError(`sharer partition ${quoteValue(partition)}: must be one of ${PARTITIONS.join(', ')}`);
  }
  if (!/^\d{12}$/.test(accountId)) {
    throw new ValidationError(`sharer account id ${quoteValue(accountId)}: must be 12 digits, e.g. 111122223333`);
  }
  return `arn:${partition}:iam::${accountId}:root`;
}

/** The partition of a principal we may name in a trust policy: an account root, a role or a user. */
export function sharerPartition(arn: string): Partition {
  const label = 'sharer principal';
  const parts = arn.split(':');
  const [prefix, partition, service, region, accountId] = parts;
  const resource = parts.slice(5).join(':');
  const example = 'arn:aws:iam::111122223333:root';
  if (prefix !== 'arn' || parts.length < 6) {
    throw new ValidationError(`${label} ${quoteValue(arn)}: not an ARN; expected e.g. ${example}`);
  }
  if (!isPartition(partition)) {
    throw new ValidationError(`${label} ${quoteValue(arn)}: the partition must be one of ${PARTITIONS.join(', ')}`);
  }
  if (service === 'sts' && resource.startsWith('assumed-role/')) {
    // A session ARN in a trust policy only matches that one session name, and the
    // role's path is not recoverable from it, so we cannot convert it safely.
    throw new ValidationError(
      `${label} ${quoteValue(arn)}: this is a role session ARN; use the role's ARN (arn:${partition}:iam::${accountId}:role/<path/>name) or the account root (arn:${partition}:iam::${accountId}:root)`,
    );
  }
  if (service !== 'iam' || region !== '' || !/^\d{12}$/.test(accountId)) {
    throw new ValidationError(
      `${label} ${quoteValue(arn)}: expected an IAM ARN with a 12-digit account id, e.g. ${example}`,
    );
  }
  if (!(resource === 'root' || resource.startsWith('role/') || resource.startsWith('user/'))) {
    throw new ValidationError(
      `${label} ${quoteValue(arn)}: must be an account root, a role or a user, e.g. ${example}`,
    );
  }
  return partition;
}

/**
 * The object actions we need. CreateMultipartUpload, UploadPart and
 * CompleteMultipartUpload are all authorised by s3:PutObject.
 */
function writeActions(dest: S3Destination): string[] {
  const actions = ['s3:PutObject'];
  // Sending x-amz-acl needs PutObjectAcl; grant it only when we will send one.
  if (dest.acl !== undefined) actions.push('s3:PutObjectAcl');
  // Optional: without it everything still works, but a cancelled or abandoned
  // multipart upload cannot be aborted by us and its parts are billed until the
  // bucket's AbortIncompleteMultipartUpload lifecycle rule removes them.
  actions.push('s3:AbortMultipartUpload');
  return actions;
}

function objectResource(dest: S3Destination): string {
  return `arn:${dest.partition}:s3:::${dest.bucket}/${dest.prefix}*`;
}

/**
 * A destination may be built by hand rather than by destinationFromProperties;
 * anything interpolated into a policy is re-checked so a stray '*' cannot widen it.
 */
function checkDestination(dest: S3Destination): void {
  const arn = parseRoleArn(dest.roleArn);
  if (arn.partition !== dest.partition || arn.accountId !== dest.accountId) {
    throw new ValidationError(
      `destination role ${quoteValue(dest.roleArn)} does not match its partition ${dest.partition} and account ${dest.accountId}`,
    );
  }
  validateBucketName(dest.bucket);
  if (normalizePrefix(dest.prefix) !== dest.prefix) {
    throw new ValidationError(`s3_prefix ${quoteValue(dest.prefix)}: must be normalised (end with "/"), or be empty`);
  }
  validateExternalId(dest.externalId);
}

export function buildPolicies(dest: S3Destination, sharerPrincipalArn: string): EndUserPolicies {
  checkDestination(dest);
  const sharer = sharerPartition(sharerPrincipalArn);
  if (sharer !== dest.partition) {
    throw new ValidationError(
      `sharer principal ${quoteValue(sharerPrincipalArn)} is in partition ${sharer} but the destination role ${quoteValue(dest.roleArn)} is in partition ${dest.partition}; ` +
        `a role can only be assumed from its own partition, so deliver from a sharer account in ${dest.partition}`,
    );
  }
  const actions = writeActions(dest);
  const resource = objectResource(dest);
  const kms = kmsStatements(dest);
  return {
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowDataShareToAssumeWithExternalId',
          Effect: 'Allow',
          Principal: { AWS: sharerPrincipalArn },
          Action: 'sts:AssumeRole',
          // Without this a different customer of the same sharer could name this role (confused deputy).
          Condition: { StringEquals: { 'sts:ExternalId': dest.externalId } },
        },
      ],
    },
    permissionsPolicy: {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'AllowDataShareWritesToPrefix', Effect: 'Allow', Action: actions, Resource: resource },
        ...(kms ? [kms.role] : []),
      ],
    },
    bucketPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowDataShareRoleWritesToPrefix',
          Effect: 'Allow',
          Principal: { AWS: dest.roleArn },
          Action: actions,
          Resource: resource,
        },
      ],
    },
    ...(kms?.keyPolicy ? { keyPolicyStatement: kms.keyPolicy } : {}),
  };
}

/** SSE-KMS: GenerateDataKey for each object and Decrypt, which multipart uploads need to combine their parts. */
/** What writing SSE-KMS objects needs on the key (Decrypt for multipart uploads). */
export const KMS_ACTIONS = ['kms:GenerateDataKey*', 'kms:Decrypt'];

/**
 * The role's permission on the end user's key, and, for a key in another account,
 * the key-policy statement its owner adds. An alias cannot be an IAM resource for
 * these calls, so an alias ARN grants the account's keys that carry that alias.
 */
function kmsStatements(dest: S3Destination): { role: PolicyStatement; keyPolicy?: PolicyStatement } | undefined {
  const key = dest.encryption?.kmsKey;
  if (!key) return undefined;
  const viaS3 = {
    StringEquals: { 'kms:ViaService': `s3.${key.region}.amazonaws.com${key.partition === 'aws-cn' ? '.cn' : ''}` },
  };
  const role: PolicyStatement = key.isAlias
    ? {
        Sid: 'AllowDataShareToEncryptWithKey',
        Effect: 'Allow',
        Action: KMS_ACTIONS,
        Resource: `arn:${key.partition}:kms:${key.region}:${key.accountId}:key/*`,
        Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': key.resource } },
      }
    : { Sid: 'AllowDataShareToEncryptWithKey', Effect: 'Allow', Action: KMS_ACTIONS, Resource: key.arn };
  if (key.accountId === dest.accountId) return { role };
  return {
    role,
    keyPolicy: {
      Sid: 'AllowDataShareRoleToEncryptViaS3',
      Effect: 'Allow',
      Principal: { AWS: dest.roleArn },
      Action: KMS_ACTIONS,
      Resource: '*',
      Condition: viaS3,
    },
  };
}
