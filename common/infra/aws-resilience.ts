import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { RetryTally } from './retry-tally';

/**
 * What every AWS client datashare builds has, so that a misbehaving S3 or STS costs
 * a retry rather than a delivery (issue 13).
 *
 * Timeouts: a connection that does not open in CONNECT_TIMEOUT_MS, or a socket that
 * carries nothing either way for SOCKET_IDLE_TIMEOUT_MS, fails the attempt and the
 * SDK retries on a new connection. The idle limit sits well below the upload
 * activity's 20 s heartbeat timeout: the heartbeat is a timer, so a stalled request
 * would otherwise hold the activity (and its part buffers) for as long as the
 * kernel keeps the socket, while the heartbeat says all is well. REQUEST_TIMEOUT_MS
 * bounds a whole request, a part trickling through a throttled link included.
 */
export const CONNECT_TIMEOUT_MS = 5_000;
export const SOCKET_IDLE_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 5 * 60_000;

/** Attempts per call: enough to ride out a run of 503 SlowDown or STS Throttling before the activity's own retry. */
export const S3_MAX_ATTEMPTS = 5;
export const STS_MAX_ATTEMPTS = 5;

/** The NodeHttpHandler options (the SDK builds the handler from them). */
export function requestHandlerOptions(): {
  connectionTimeout: number;
  socketTimeout: number;
  requestTimeout: number;
  throwOnRequestTimeout: boolean;
} {
  return {
    connectionTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Without it, this version of the handler only logs a warning when requestTimeout passes.
    throwOnRequestTimeout: true,
  };
}

/** Error codes S3 gives a request signed with a session that has ended. */
const EXPIRED_CODES = new Set(['ExpiredToken', 'TokenRefreshRequired', 'ExpiredTokenException']);

function isExpiredToken(e: unknown): boolean {
  return typeof e === 'object' && e !== null && EXPIRED_CODES.has(String((e as { name?: unknown }).name));
}

/**
 * A role session can end before the time it claimed (revoked, or a clock that
 * drifted), and the SDK does not retry ExpiredToken: it would sign again with the
 * same cached credentials. On ExpiredToken this re-assumes the role (forceRefresh
 * passes through the client's memoized provider) and sends the same request again,
 * so the upload continues in the same multipart upload instead of failing the attempt.
 */
export function refreshOnExpiredToken(
  s3: S3Client,
  credentials: AwsCredentialIdentityProvider,
  retries?: RetryTally,
  tries = 2,
): S3Client {
  if (retries) s3.middlewareStack.use(retries.plugin());
  s3.middlewareStack.add(
    (next) => async (args) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await next(args);
        } catch (e) {
          if (!isExpiredToken(e) || attempt >= tries) throw e;
          retries?.add(1);
          const resolved = s3.config.credentials as (o?: { forceRefresh?: boolean }) => Promise<unknown>;
          await (typeof resolved === 'function' ? resolved({ forceRefresh: true }) : credentials());
        }
      }
    },
    { step: 'initialize', name: 'datashareRefreshExpiredCredentials' },
  );
  return s3;
}
