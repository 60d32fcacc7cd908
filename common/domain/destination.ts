/**
 * An end user's S3 destination, read from the key:value properties of their profile.
 *
 * Everything here runs before any AWS call, so an operator learns about a typo from
 * `datashare profile set` rather than from an AccessDenied hours into a delivery.
 * Messages name the property, quote the value, state the rule and show a fix.
 */
import { ValidationError } from '../errors';
import {
  exampleRoleArn,
  fail,
  normalizePrefix,
  parseRoleArn,
  partitionOfRegion,
  validateBucketName,
  validateExternalId,
  type Partition,
} from './aws-names';
import { encryptionFromProperties, validateBucketOwner, type Encryption } from './bucket-safety';
import { validateInstanceName, validatePropertyName } from './ids';
import { quoteValue } from './quoting';
import { requireProperties } from './sql-params';

export const DESTINATION_KEYS = [
  's3_role_arn',
  's3_bucket',
  's3_region',
  's3_prefix',
  's3_external_id',
  's3_acl',
  's3_bucket_owner',
  's3_sse',
  's3_kms_key_arn',
  's3_instance',
] as const;

export type DestinationKey = (typeof DESTINATION_KEYS)[number];

/** The only canned ACL worth sending: buckets with ACLs disabled (the default since 2023) reject all others. */
export type DestinationAcl = 'bucket-owner-full-control';

function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

export interface S3Destination {
  roleArn: string;
  partition: Partition;
  accountId: string;
  bucket: string;
  region: string;
  /** Ends with '/', or is '' when the end user dedicates the whole bucket to us. */
  prefix: string;
  externalId: string;
  acl?: DestinationAcl;
  /** s3_bucket_owner: the bucket is in another account than the role's (see expectedOwner). */
  bucketOwner?: string;
  encryption?: Encryption;
  /** s3_instance: the instance (sharer identity, task queue) that delivers to this profile. */
  instance?: string;
}

const REQUIRED_KEYS: readonly DestinationKey[] = ['s3_role_arn', 's3_bucket', 's3_region', 's3_external_id'];

const MISSING_HINT: Record<DestinationKey, string> = {
  s3_role_arn: `the ARN of the end user's role, e.g. ${exampleRoleArn()}`,
  s3_bucket: "the end user's bucket name, e.g. their-company-data",
  s3_region: "the bucket's region, e.g. us-east-1",
  s3_prefix: 'the folder we may write to, e.g. uploads/your-team/',
  s3_external_id:
    "a unique ExternalId that the role's trust policy requires (sts:ExternalId), e.g. ds- followed by 32 hex digits",
  s3_acl: 'bucket-owner-full-control, only if the bucket requires it',
  s3_bucket_owner: "the 12-digit account that owns the bucket, only when it is not the role's account",
  s3_sse: 'AES256 or aws:kms',
  s3_kms_key_arn: "the ARN of the end user's KMS key, with s3_sse=aws:kms",
  s3_instance:
    'the datashare instance that delivers to this profile (datashare instance list), only when several serve its partition',
};

function isDestinationKey(key: string): key is DestinationKey {
  return (DESTINATION_KEYS as readonly string[]).includes(key);
}

/**
 * Validate a complete property map; returns the destination. Checks ARN/region
 * partition agreement, s3_acl only 'bucket-owner-full-control'.
 */
export function destinationFromProperties(props: Readonly<Record<string, string>>): S3Destination {
  for (const key of Object.keys(props)) {
    validatePropertyName(key);
    // The map may come straight from JSON; the type alone does not make values strings.
    const value: unknown = props[key];
    if (typeof value !== 'string') {
      throw new ValidationError(`property ${key} must be a string, not ${value === null ? 'null' : typeof value}`);
    }
    // Properties are bound as Postgres text parameters, and text cannot hold NUL.
    if (value.includes('\u0000')) fail(key, value, 'contains a NUL character; remove it');
    if (key.startsWith('s3_') && !isDestinationKey(key)) {
      throw new ValidationError(
        `property ${key} is not a destination property (a typo?); the s3_ properties are ${DESTINATION_KEYS.join(', ')}`,
      );
    }
  }

  const get = (key: DestinationKey): string | undefined => (hasOwn(props, key) ? props[key] : undefined);

  const missing = REQUIRED_KEYS.filter((k) => get(k) === undefined);
  if (missing.length > 0) {
    throw new ValidationError(
      `the profile lacks ${missing.length === 1 ? 'property' : 'properties'} ${missing.join(', ')}; set ${missing
        .map((k) => `${k} to ${MISSING_HINT[k]}`)
        .join('; ')}`,
    );
  }

  const roleArn = get('s3_role_arn') ?? '';
  const arn = parseRoleArn(roleArn);
  const bucket = get('s3_bucket') ?? '';
  validateBucketName(bucket);
  const region = get('s3_region') ?? '';
  const regionPartition = partitionOfRegion(region);
  if (regionPartition !== arn.partition) {
    throw new ValidationError(
      `s3_region ${quoteValue(region)} is in partition ${regionPartition} but s3_role_arn ${quoteValue(roleArn)} is in partition ${arn.partition}; ` +
        `partitions are separate: a role can only write to buckets in its own partition, so fix whichever is wrong (arn:${regionPartition}:iam::… for ${region})`,
    );
  }
  const prefix = normalizePrefix(get('s3_prefix') ?? '');
  const externalId = get('s3_external_id') ?? '';
  validateExternalId(externalId);

  const owner = get('s3_bucket_owner');
  const explicitOwner = owner !== undefined && owner !== '' ? validateBucketOwner(owner) : undefined;
  const encryption = encryptionFromProperties(get('s3_sse'), get('s3_kms_key_arn'), region);

  const dest: S3Destination = {
    roleArn,
    partition: arn.partition,
    accountId: arn.accountId,
    bucket,
    region,
    prefix,
    externalId,
    ...(explicitOwner ? { bucketOwner: explicitOwner } : {}),
    ...(encryption ? { encryption } : {}),
  };
  const instance = get('s3_instance');
  if (instance !== undefined && instance !== '') {
    validateInstanceName(instance, 's3_instance');
    dest.instance = instance;
  }
  const acl = get('s3_acl');
  if (acl !== undefined && acl !== '') {
    if (acl !== 'bucket-owner-full-control') {
      fail(
        's3_acl',
        acl,
        'only bucket-owner-full-control is supported (buckets with ACLs disabled reject every other ACL); leave s3_acl unset unless the bucket policy demands that ACL',
      );
    }
    dest.acl = acl;
  }
  return dest;
}

/**
 * Everything that can be checked before any work: a valid destination, and every
 * property the dataset's SQL names. Returns the destination.
 */
export function deliverableDestination(
  profile: { id: string; properties: Readonly<Record<string, string>> },
  datasetSql: string,
): S3Destination {
  const destination = destinationFromProperties(profile.properties);
  requireProperties(datasetSql, profile.properties, profile.id);
  return destination;
}
