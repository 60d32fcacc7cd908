import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { DatashareError, isPermanent } from '../../common/errors';

/**
 * Turns any error into something safe to put in Temporal history.
 *
 * AWS SDK errors carry the raw HTTP response; only a name and a message, which
 * never contain credentials, may leave the activity. Activities throw a
 * DatashareError of a registry type (common/errors.ts) for what they understand;
 * whether a retry can fix it is the registry's to say, so a delivery that cannot
 * succeed fails in seconds.
 */
export function toFailure(e: unknown): ApplicationFailure {
  if (e instanceof ApplicationFailure) return e;
  if (e instanceof DatashareError) {
    return ApplicationFailure.create({ type: e.type, message: e.message, nonRetryable: isPermanent(e.type) });
  }
  const name = e instanceof Error ? e.name : 'Error';
  const message = e instanceof Error ? e.message : String(e);
  return ApplicationFailure.create({ type: name, message: `${name}: ${message}`, nonRetryable: false });
}

/**
 * Every error leaves an activity as a history-safe ApplicationFailure — except
 * after a cancel, when whatever the abort caused (an aborted S3 call, a closed
 * stream) must be reported as the cancellation it is.
 */
export function historySafe<A, R>(fn: (a: A) => Promise<R>): (a: A) => Promise<R> {
  return async (a: A) => {
    try {
      return await fn(a);
    } catch (e) {
      if (Context.current().cancellationSignal.aborted) throw new CancelledFailure('the activity was cancelled');
      throw toFailure(e);
    }
  };
}
