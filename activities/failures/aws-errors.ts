/** What an AWS SDK error says about itself, read without touching its raw HTTP response (which must not reach history). */

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
  return (
    name === 'AccessDenied' ||
    name === 'AccessDeniedException' ||
    name === 'NoSuchEntity' ||
    (awsStatus(e) === 403 && name !== 'InvalidClientTokenId')
  );
}

/** The sharer's own credentials were rejected: nothing about the end user, a worker configuration problem. */
export function isSharerCredentialError(e: unknown): boolean {
  const name = awsErrorName(e);
  return (
    name === 'InvalidClientTokenId' ||
    name === 'SignatureDoesNotMatch' ||
    name === 'UnrecognizedClientException' ||
    name === 'CredentialsProviderError'
  );
}

export function isS3AccessDenied(e: unknown): boolean {
  const name = awsErrorName(e);
  return name === 'AccessDenied' || awsStatus(e) === 403;
}

export function isNoSuchBucket(e: unknown): boolean {
  return awsErrorName(e) === 'NoSuchBucket';
}
