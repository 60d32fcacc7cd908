import { ApplicationFailure } from '@temporalio/common';
import { DatashareError, isPermanent, type ErrorType } from '../../common/errors';

/**
 * Turns any error into something safe to put in Temporal history.
 *
 * AWS SDK errors carry the raw HTTP response; only a name and a message, which
 * never contain credentials, may leave the activity. Permanent errors become
 * non-retryable failures so a delivery that cannot succeed fails in seconds.
 */

/** A non-retryable failure: a registry type, or the name of an AWS error no retry can fix. */
export function permanent(type: ErrorType | (string & {}), message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

export function toFailure(e: unknown): ApplicationFailure {
  if (e instanceof ApplicationFailure) return e;
  if (e instanceof DatashareError) {
    return ApplicationFailure.create({ type: e.type, message: e.message, nonRetryable: isPermanent(e.type) });
  }
  const name = e instanceof Error ? e.name : 'Error';
  const message = e instanceof Error ? e.message : String(e);
  return ApplicationFailure.create({ type: name, message: `${name}: ${message}`, nonRetryable: false });
}

export function awsErrorName(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null) {
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return undefined;
}

export function awsStatus(e: unknown): number | undefined {
  if (typeof e === 'object' && e !== null) {
    const meta = (e as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
    if (meta && typeof meta.httpStatusCode === 'number') return meta.httpStatusCode;
  }
  return undefined;
}

export function awsMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** STS refused to let us in: the trust policy or the ExternalId is wrong, or the role does not exist. */
export function isAssumeRoleDenied(e: unknown): boolean {
  const name = awsErrorName(e);
  return name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'NoSuchEntity' || (awsStatus(e) === 403 && name !== 'InvalidClientTokenId');
}

/** The sharer's own credentials were rejected: nothing about the end user, a worker configuration problem. */
export function isSharerCredentialError(e: unknown): boolean {
  const name = awsErrorName(e);
  return name === 'InvalidClientTokenId' || name === 'SignatureDoesNotMatch' || name === 'UnrecognizedClientException' || name === 'CredentialsProviderError';
}

export function isS3AccessDenied(e: unknown): boolean {
  const name = awsErrorName(e);
  return name === 'AccessDenied' || awsStatus(e) === 403;
}

export function isNoSuchBucket(e: unknown): boolean {
  return awsErrorName(e) === 'NoSuchBucket';
}
