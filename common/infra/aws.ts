import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { s3UsesPathStyle } from './config';
import { refreshOnExpiredToken, requestHandlerOptions, S3_MAX_ATTEMPTS, STS_MAX_ATTEMPTS } from './aws-resilience';
import type { RetryTally } from './retry-tally';

export interface RoleSession {
  roleArn: string;
  externalId: string;
  sessionName: string;
  region: string;
  /** Counts the retries of the STS calls that (re-)assume the role. */
  retries?: RetryTally;
}

/**
 * How datashare reaches AWS. One seam, so tests can observe the credentials that
 * were really issued (to prove they never leak) without replacing any AWS call.
 */
export interface AwsAccess {
  /** STS as the sharer itself (environment / instance credentials). */
  sts(region: string, retries?: RetryTally): STSClient;
  /**
   * Credentials of the end user's role, held in memory only. The provider
   * re-assumes the role before the session expires, so an upload may outlive it.
   */
  roleCredentials(session: RoleSession): AwsCredentialIdentityProvider;
  s3(region: string, credentials: AwsCredentialIdentityProvider, retries?: RetryTally): S3Client;
}

// Role chaining (a worker on EC2/ECS/EKS is itself an assumed role) caps sessions
// at one hour; longer uploads rely on the provider's refresh instead.
const ROLE_SESSION_SECONDS = 3600;

export function createAwsAccess(env: NodeJS.ProcessEnv = process.env): AwsAccess {
  const pathStyle = s3UsesPathStyle(env);
  return {
    sts: (region, retries) => {
      const sts = new STSClient({ region, maxAttempts: STS_MAX_ATTEMPTS, requestHandler: requestHandlerOptions() });
      if (retries) sts.middlewareStack.use(retries.plugin());
      return sts;
    },
    roleCredentials: (s) =>
      fromTemporaryCredentials({
        params: {
          RoleArn: s.roleArn,
          ExternalId: s.externalId,
          RoleSessionName: s.sessionName,
          DurationSeconds: ROLE_SESSION_SECONDS,
        },
        clientConfig: { region: s.region, maxAttempts: STS_MAX_ATTEMPTS, requestHandler: requestHandlerOptions() },
        ...(s.retries ? { clientPlugins: [s.retries.plugin()] } : {}),
      }),
    s3: (region, credentials, retries) =>
      refreshOnExpiredToken(
        new S3Client({
          region,
          credentials,
          forcePathStyle: pathStyle,
          maxAttempts: S3_MAX_ATTEMPTS,
          requestHandler: requestHandlerOptions(),
          // Flexible checksums add headers that S3-compatible servers and older
          // gateways reject; ETags plus our own sha256 in the manifest cover integrity.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }),
        credentials,
        retries,
      ),
  };
}

/** RoleSessionName: 2–64 chars of [\w+=,.@-]; it shows in the end user's CloudTrail, so it names the delivery. */
export function roleSessionName(purpose: string, id: string): string {
  const name = `datashare-${purpose}-${id}`.replace(/[^\w+=,.@-]/g, '-');
  return name.slice(0, 64);
}

/** An S3 client acting as an end user's role, for one delivery's `purpose` (named in its session). */
export function roleS3(
  aws: AwsAccess,
  role: { roleArn: string; externalId: string; region: string },
  purpose: string,
  deliveryId: string,
  retries?: RetryTally,
): S3Client {
  const { roleArn, externalId, region } = role;
  return aws.s3(
    region,
    aws.roleCredentials({
      roleArn,
      externalId,
      region,
      sessionName: roleSessionName(purpose, deliveryId),
      ...(retries ? { retries } : {}),
    }),
    retries,
  );
}
