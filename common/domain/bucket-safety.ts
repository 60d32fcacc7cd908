/**
 * Who must own the end user's bucket, and how objects there are encrypted: the
 * profile keys s3_bucket_owner, s3_sse and s3_kms_key_arn, checked before any AWS call.
 */
import { fail, isPartition, partitionOfRegion, type Partition } from './aws-names';

export type SseMode = 'AES256' | 'aws:kms';

export interface KmsKeyArn {
  arn: string;
  partition: Partition;
  region: string;
  accountId: string;
  /** `key/<id>` or `alias/<name>`. */
  resource: string;
  isAlias: boolean;
}

export interface Encryption {
  sse: SseMode;
  /** Required with aws:kms: the bucket's default aws/s3 key cannot be used by a role from another account. */
  kmsKey?: KmsKeyArn;
}

const EXAMPLE_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** s3_bucket_owner: the 12-digit account that must own the bucket (S3's ExpectedBucketOwner). */
export function validateBucketOwner(value: string): string {
  if (!/^\d{12}$/.test(value)) {
    fail(
      's3_bucket_owner',
      value,
      "must be the 12-digit AWS account id that owns the bucket, e.g. 111122223333; leave it unset when that is the role's own account",
    );
  }
  return value;
}

/** arn:<partition>:kms:<region>:<account>:key/<id> or …:alias/<name>. */
export function parseKmsKeyArn(arn: string): KmsKeyArn {
  const label = 's3_kms_key_arn';
  const parts = arn.split(':');
  const [prefix, partition, service, region, accountId] = parts;
  const resource = parts.slice(5).join(':');
  if (
    prefix !== 'arn' ||
    parts.length !== 6 ||
    service !== 'kms' ||
    partition === undefined ||
    !isPartition(partition)
  ) {
    fail(
      label,
      arn,
      `must be a KMS key ARN, arn:<aws|aws-us-gov|aws-cn>:kms:<region>:<account>:key/<key id> (or …:alias/<name>), e.g. ${EXAMPLE_KEY}`,
    );
  }
  if (region === undefined || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    fail(label, arn, `the region ${JSON.stringify(region ?? '')} is not an AWS region`);
  if (accountId === undefined || !/^\d{12}$/.test(accountId)) fail(label, arn, 'the account must be 12 digits');
  const key = /^key\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/.test(resource);
  const alias = /^alias\/[A-Za-z0-9/_-]{1,250}$/.test(resource);
  if (!key && !alias) {
    fail(
      label,
      arn,
      'must end in key/<key id> (a UUID, or mrk-… for a multi-Region key) or alias/<alias name>; a bare key id or alias is not enough, S3 needs the full ARN',
    );
  }
  if (partitionOfRegion(region) !== partition) fail(label, arn, `region ${region} is not in partition ${partition}`);
  return { arn, partition, region, accountId, resource, isAlias: alias };
}

/**
 * s3_sse and s3_kms_key_arn together. S3 refuses a KMS key from another region than
 * the bucket, and a key can never cross partitions, so both are checked here.
 */
export function encryptionFromProperties(
  sse: string | undefined,
  kmsKeyArn: string | undefined,
  bucketRegion: string,
): Encryption | undefined {
  const mode = sse === undefined || sse === '' ? undefined : sse;
  const keyArn = kmsKeyArn === undefined || kmsKeyArn === '' ? undefined : kmsKeyArn;
  if (mode === undefined) {
    if (keyArn !== undefined)
      fail(
        's3_kms_key_arn',
        keyArn,
        'applies only with s3_sse=aws:kms; set s3_sse=aws:kms too, or unset s3_kms_key_arn',
      );
    return undefined;
  }
  if (mode === 'AES256') {
    if (keyArn !== undefined)
      fail('s3_kms_key_arn', keyArn, 'applies only with s3_sse=aws:kms, not AES256 (S3-managed keys)');
    return { sse: 'AES256' };
  }
  if (mode !== 'aws:kms')
    fail('s3_sse', mode, "must be AES256 (S3-managed keys) or aws:kms (with s3_kms_key_arn, the end user's KMS key)");
  if (keyArn === undefined) {
    fail(
      's3_sse',
      mode,
      `needs s3_kms_key_arn, the ARN of the end user's KMS key (e.g. ${EXAMPLE_KEY}); the bucket's default aws/s3 key cannot be used by a role from another account`,
    );
  }
  const key = parseKmsKeyArn(keyArn);
  const bucketPartition = partitionOfRegion(bucketRegion);
  if (key.partition !== bucketPartition || key.region !== bucketRegion) {
    fail(
      's3_kms_key_arn',
      keyArn,
      `the key is in ${key.partition}/${key.region} but the bucket (s3_region) is in ${bucketPartition}/${bucketRegion}; S3 only encrypts with a key in the bucket's own region: use a key (or a multi-Region replica) in ${bucketRegion}`,
    );
  }
  return { sse: 'aws:kms', kmsKey: key };
}

export interface BucketOwner {
  /** Sent as ExpectedBucketOwner on every request. */
  bucketOwner: string;
  /** s3_bucket_owner named it, rather than the role's account. */
  bucketOwnerExplicit: boolean;
}

/** The account that must own the bucket: s3_bucket_owner, or else the role's own account. */
export function expectedOwner(d: { accountId: string; bucketOwner?: string }): BucketOwner {
  return { bucketOwner: d.bucketOwner ?? d.accountId, bucketOwnerExplicit: d.bucketOwner !== undefined };
}

/** What every S3 request names: the account that must own the bucket (a mismatch answers 403, and nothing is written). */
export function ownerParams(d: { bucketOwner: string }): {
  ExpectedBucketOwner: string;
} {
  return { ExpectedBucketOwner: d.bucketOwner };
}

/** What every request that creates an object adds (PutObject, CreateMultipartUpload): the owner and the encryption. */
export function objectWriteParams(d: { bucketOwner: string; encryption?: Encryption }): {
  ExpectedBucketOwner: string;
  ServerSideEncryption?: SseMode;
  SSEKMSKeyId?: string;
} {
  const e = d.encryption;
  return {
    ...ownerParams(d),
    ...(e ? { ServerSideEncryption: e.sse } : {}),
    ...(e?.kmsKey ? { SSEKMSKeyId: e.kmsKey.arn } : {}),
  };
}

/** What to do when the bucket answers as another account's: the exact s3_bucket_owner fix, or stop. */
export function bucketOwnerMessage(
  d: { bucket: string; bucketOwner: string; bucketOwnerExplicit: boolean },
  profileId: string,
): string {
  const expected = d.bucketOwnerExplicit
    ? `account ${d.bucketOwner} (the profile's s3_bucket_owner)`
    : `account ${d.bucketOwner}, the role's own`;
  return (
    `bucket "${d.bucket}" is not owned by ${expected}: S3 refuses writes that name it as the expected owner, and accepts them without. ` +
    `If the end user keeps the bucket in another account on purpose, set that account: datashare profile set ${profileId} s3_bucket_owner=<12-digit account that owns ${d.bucket}>; ` +
    `otherwise the bucket may have changed hands: stop sending to it and ask the end user.`
  );
}
