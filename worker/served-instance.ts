import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Pool } from 'pg';
import type { Instance } from '../common/domain/instances';
import type { AwsAccess } from '../common/infra/aws';
import { DatashareError } from '../common/errors';
import { getInstance } from '../common/store/instances';

/**
 * Does the caller STS reports act as the principal end users trust? An account
 * root covers every identity of its account; a user must be that user; a role
 * shows up as one of its sessions.
 */
export function actsAs(callerArn: string, principalArn: string): boolean {
  const [, cPart, , , cAccount, ...cRest] = callerArn.split(':');
  const [, pPart, , , pAccount, ...pRest] = principalArn.split(':');
  if (cPart !== pPart || cAccount !== pAccount) return false;
  const caller = cRest.join(':');
  const principal = pRest.join(':');
  if (principal === 'root') return true;
  if (principal.startsWith('user/')) return callerArn === principalArn;
  if (principal.startsWith('role/')) {
    const roleName = principal.split('/').pop();
    return caller.startsWith('assumed-role/') && caller.split('/')[1] === roleName;
  }
  return false;
}

/**
 * The instance a worker serves (`--instance` or DATASHARE_INSTANCE), checked
 * against the AWS identity the worker really has, so a worker started with
 * another instance's credentials stops at once rather than deliver as the wrong
 * sharer (end users' trust policies name the instance's principal).
 */
export async function servedInstance(metaPool: Pool, name: string, aws: AwsAccess): Promise<Instance> {
  const instance = await getInstance(metaPool, name);
  const sts = aws.sts(instance.region);
  try {
    const me = await sts.send(new GetCallerIdentityCommand({}));
    const arn = me.Arn ?? '';
    if (!actsAs(arn, instance.principalArn)) {
      throw new DatashareError(
        'SharerCredentialsInvalid',
        `this worker's AWS identity ${arn || '(none)'} is not instance "${name}"'s principal ${instance.principalArn}: start it with that instance's credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, or its IAM role), or fix the instance with datashare instance set ${name} --principal <arn> …`,
      );
    }
  } finally {
    sts.destroy();
  }
  return instance;
}
