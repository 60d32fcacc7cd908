import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { randomBytes } from 'node:crypto';

/**
 * Plays the end user's side against moto: creates buckets and roles in an AWS
 * account, and reads back what datashare wrote. Uses the admin identities the
 * stack bootstrap created (IAM enforcement is on, so nothing here is anonymous).
 */

export type Account = 'sharer' | 'other';

function endpoint(): string {
  const e = process.env.AWS_ENDPOINT_URL;
  if (!e) throw new Error('AWS_ENDPOINT_URL is not set (load .stack/env)');
  return e;
}

const region = 'us-east-1';

function adminCreds(): AwsCredentialIdentity {
  return {
    accessKeyId: process.env.DATASHARE_ADMIN_ACCESS_KEY_ID!,
    secretAccessKey: process.env.DATASHARE_ADMIN_SECRET_ACCESS_KEY!,
  };
}

const cache = new Map<Account, AwsCredentialIdentity>();

export async function accountCreds(account: Account): Promise<AwsCredentialIdentity> {
  const hit = cache.get(account);
  if (hit) return hit;
  let creds = adminCreds();
  if (account === 'other') {
    const sts = new STSClient({ region, endpoint: endpoint(), credentials: creds });
    const res = await sts.send(
      new AssumeRoleCommand({ RoleArn: process.env.DATASHARE_OTHER_ADMIN_ROLE_ARN!, RoleSessionName: 'test-admin' }),
    );
    sts.destroy();
    const c = res.Credentials!;
    creds = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
  }
  cache.set(account, creds);
  return creds;
}

export function accountId(account: Account): string {
  return account === 'sharer' ? '123456789012' : (process.env.DATASHARE_OTHER_ACCOUNT_ID ?? '222233334444');
}

export async function s3As(account: Account): Promise<S3Client> {
  return new S3Client({ region, endpoint: endpoint(), forcePathStyle: true, credentials: await accountCreds(account) });
}

export async function iamAs(account: Account): Promise<IAMClient> {
  return new IAMClient({ region, endpoint: endpoint(), credentials: await accountCreds(account) });
}

export function uniqueName(base: string): string {
  return `${base}-${randomBytes(3).toString('hex')}`;
}

export async function createBucket(account: Account, bucket: string): Promise<void> {
  const s3 = await s3As(account);
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region !== 'us-east-1'
        ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }
        : {}),
    }),
  );
  s3.destroy();
}

export interface EndUserRole {
  roleArn: string;
  externalId: string;
}

/** The profile properties of an end user whose role and bucket are in us-east-1. */
export function endUserProfile(role: EndUserRole, bucket: string, prefix: string): Record<string, string> {
  return {
    s3_role_arn: role.roleArn,
    s3_bucket: bucket,
    s3_region: 'us-east-1',
    s3_prefix: prefix,
    s3_external_id: role.externalId,
  };
}

/**
 * An end user's role exactly as the setup guide has them create it: trusts the
 * sharer (and requires the ExternalId), may only s3:PutObject under one prefix.
 */
export async function createEndUserRole(opts: {
  account: Account;
  bucket: string;
  /** The prefix the role may write under (may differ from the profile's, to test denial). */
  allowPrefix: string;
  externalId?: string;
  requireExternalId?: boolean;
  extraActions?: string[];
}): Promise<EndUserRole> {
  const name = uniqueName('datashare-writer');
  const externalId = opts.externalId ?? `ext-${randomBytes(8).toString('hex')}`;
  const trust = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: process.env.DATASHARE_SHARER_ARN },
        Action: 'sts:AssumeRole',
        ...(opts.requireExternalId === false ? {} : { Condition: { StringEquals: { 'sts:ExternalId': externalId } } }),
      },
    ],
  };
  const permissions = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', ...(opts.extraActions ?? [])],
        Resource: `arn:aws:s3:::${opts.bucket}/${opts.allowPrefix}*`,
      },
    ],
  };
  return { roleArn: await createRoleFromPolicies(opts.account, name, trust, permissions), externalId };
}

export async function getObjectBytes(account: Account, bucket: string, key: string): Promise<Buffer> {
  const s3 = await s3As(account);
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  } finally {
    s3.destroy();
  }
}

export async function listKeys(account: Account, bucket: string, prefix = ''): Promise<string[]> {
  const s3 = await s3As(account);
  try {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (res.Contents ?? []).map((o) => o.Key!).sort();
  } finally {
    s3.destroy();
  }
}

/** Creates a role from policy documents as an end user would paste them (e.g. from `datashare profile policy`). */
export async function createRoleFromPolicies(
  account: Account,
  roleName: string,
  trustPolicy: object,
  permissionsPolicy: object,
): Promise<string> {
  const iam = await iamAs(account);
  try {
    const role = await iam.send(
      new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify(trustPolicy) }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: 'datashare-write',
        PolicyDocument: JSON.stringify(permissionsPolicy),
      }),
    );
    return role.Role!.Arn!;
  } finally {
    iam.destroy();
  }
}

/** Creates the bucket unless the account already has it (the demo may run many times against one moto). */
export async function ensureBucket(account: Account, bucket: string): Promise<void> {
  try {
    await createBucket(account, bucket);
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw e;
  }
}
