import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export type OwnerProbe =
  /** The bucket answered as the expected owner's (or the answer says nothing against it). */
  | { result: 'ok' }
  /** Refused with the expected owner, accepted without it: the bucket belongs to another account. */
  | { result: 'wrong-owner' }
  /** Refused either way: the role may not write there (or the endpoint cannot tell); the writes will say. */
  | { result: 'denied'; detail: string };

/** No object can have this ETag (S3 ETags are MD5-based), so the conditional write below never stores anything. */
const IMPOSSIBLE_ETAG = '"datashare-owner-probe-never-matches"';

function isForbidden(e: unknown): boolean {
  if (typeof e !== 'object' || e === null || !('$metadata' in e)) return false;
  const meta = (e as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  return meta?.httpStatusCode === 403;
}

function describe(e: unknown): string {
  const name = typeof e === 'object' && e !== null && 'name' in e ? String(e.name) : 'Error';
  return `${name}: ${e instanceof Error ? e.message : String(e)}`;
}

/**
 * Checks that the bucket is owned by `owner` with nothing but s3:PutObject, and writes nothing.
 *
 * A PutObject with If-Match on an ETag no object has: S3 evaluates authorization, the
 * ExpectedBucketOwner among it, before the condition, so the expected owner's bucket
 * answers 404 (no such key) or 412, and any other bucket a plain 403. A 403 alone cannot
 * tell a wrong owner from a missing permission, so a refused probe is repeated without
 * ExpectedBucketOwner (still conditional, so still writing nothing): if that one gets
 * past authorization, the owner is what is wrong.
 */
export async function probeBucketOwner(s3: S3Client, bucket: string, key: string, owner: string): Promise<OwnerProbe> {
  const attempt = (expected: string | undefined): Promise<unknown> =>
    s3
      .send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: '',
          IfMatch: IMPOSSIBLE_ETAG,
          ...(expected ? { ExpectedBucketOwner: expected } : {}),
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
  const withOwner = await attempt(owner);
  if (!isForbidden(withOwner)) {
    // 404/412 as expected; anything else (a 5xx, a network error) is for the real writes to retry and report.
    return { result: 'ok' };
  }
  const without = await attempt(undefined);
  if (isForbidden(without)) return { result: 'denied', detail: describe(without) };
  return { result: 'wrong-owner' };
}

/** Where the probe aims: under the prefix (the only place the role may write), beside verify's markers. */
export function ownerProbeKey(prefix: string): string {
  return `${prefix}_datashare-verify/owner-probe`;
}
