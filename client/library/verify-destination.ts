import { KMS_ACTIONS } from '../../common/domain/policy';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { randomBytes } from 'node:crypto';
import type { AwsAccess } from '../../common/infra/aws';
import { roleSessionName } from '../../common/infra/aws';
import type { S3Destination } from '../../common/domain/destination';
import { bucketOwnerMessage, expectedOwner, objectWriteParams } from '../../common/domain/bucket-safety';
import { ownerProbeKey, probeBucketOwner } from '../../common/infra/bucket-owner-probe';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface VerifyCheck {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface VerifyReport {
  profileId: string;
  ok: boolean;
  markerKey?: string;
  checks: VerifyCheck[];
}

function errText(e: unknown): string {
  const name = typeof e === 'object' && e !== null && 'name' in e ? String(e.name) : 'Error';
  return `${name}: ${e instanceof Error ? e.message : String(e)}`;
}

/**
 * Checks, with the end user's real role, everything a delivery will need — and
 * nothing more, since the role may only write. The credentials obtained here are
 * used in memory and dropped.
 */
export async function verifyDestination(aws: AwsAccess, profileId: string, d: S3Destination): Promise<VerifyReport> {
  const checks: VerifyCheck[] = [];
  const sts = aws.sts(d.region);
  const session = roleSessionName('verify', profileId);
  try {
    try {
      const res = await sts.send(
        new AssumeRoleCommand({
          RoleArn: d.roleArn,
          ExternalId: d.externalId,
          RoleSessionName: session,
          DurationSeconds: 900,
        }),
      );
      checks.push({
        name: 'assume role with ExternalId',
        status: 'ok',
        detail: `assumed ${res.AssumedRoleUser?.Arn ?? d.roleArn}`,
      });
    } catch (e) {
      checks.push({
        name: 'assume role with ExternalId',
        status: 'fail',
        detail: `${errText(e)}. The role's trust policy must trust this sharer and require sts:ExternalId = the profile's s3_external_id (see: datashare profile policy ${profileId})`,
      });
      return { profileId, ok: false, checks };
    }

    try {
      await sts.send(new AssumeRoleCommand({ RoleArn: d.roleArn, RoleSessionName: session, DurationSeconds: 900 }));
      checks.push({
        name: 'ExternalId required',
        status: 'warn',
        detail:
          'the role can be assumed WITHOUT the ExternalId: any customer of this sharer could be tricked into writing here (confused deputy). Add Condition StringEquals sts:ExternalId to the trust policy',
      });
    } catch {
      checks.push({
        name: 'ExternalId required',
        status: 'ok',
        detail: 'assuming the role without the ExternalId is refused',
      });
    }
  } finally {
    sts.destroy();
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const markerKey = `${d.prefix}_datashare-verify/${stamp}-${randomBytes(4).toString('hex')}.txt`;
  const o = expectedOwner(d);
  const s3 = aws.s3(
    d.region,
    aws.roleCredentials({ roleArn: d.roleArn, externalId: d.externalId, sessionName: session, region: d.region }),
  );
  try {
    const probe = await probeBucketOwner(s3, d.bucket, ownerProbeKey(d.prefix), o.bucketOwner);
    // Part of the write check (its name is a stable interface): a wrong owner fails the write.
    if (probe.result === 'wrong-owner') {
      checks.push({
        name: 'write under prefix',
        status: 'fail',
        detail: bucketOwnerMessage({ ...d, ...o }, profileId),
      });
      return { profileId, ok: false, checks };
    }
    await s3.send(
      new PutObjectCommand({
        Bucket: d.bucket,
        Key: markerKey,
        Body: `datashare can write here (profile ${profileId}, ${new Date().toISOString()})\n`,
        ContentType: 'text/plain',
        // Create-only: verification must never overwrite anything of the end user's.
        IfNoneMatch: '*',
        ...(d.acl ? { ACL: d.acl } : {}),
        ...objectWriteParams({ ...d, ...o }),
      }),
    );
    const owner = `account ${o.bucketOwner}${o.bucketOwnerExplicit ? ' (s3_bucket_owner)' : ", the role's"}`;
    const sse = d.encryption
      ? `, encrypted ${d.encryption.sse}${d.encryption.kmsKey ? ` with ${d.encryption.kmsKey.arn}` : ''}`
      : '';
    checks.push({
      name: 'write under prefix',
      status: 'ok',
      detail: `wrote s3://${d.bucket}/${markerKey} (bucket owned by ${owner}${sse})`,
    });
  } catch (e) {
    checks.push({
      name: 'write under prefix',
      status: 'fail',
      detail:
        `${errText(e)} writing s3://${d.bucket}/${markerKey}. The role's permissions policy must allow s3:PutObject${d.acl ? ' and s3:PutObjectAcl' : ''} on arn:${d.partition}:s3:::${d.bucket}/${d.prefix}*` +
        `${d.encryption?.kmsKey ? `, and ${KMS_ACTIONS.join(' and ')} on ${d.encryption.kmsKey.arn}` : ''} (see: datashare profile policy ${profileId})`,
    });
    return { profileId, ok: false, checks };
  } finally {
    s3.destroy();
  }
  return { profileId, ok: true, markerKey, checks };
}
