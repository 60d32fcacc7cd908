import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { RetryTally } from '../common/infra/retry-tally';
import { recordRetries } from '../common/store/delivery-progress';

/**
 * Runs one activity attempt with a RetryTally for its AWS clients, and adds what it
 * counted to the delivery, however the attempt ends. An attempt after the first is a
 * retry too: Temporal's, once the SDK's own tries ran out.
 */
export async function withRetryTally<T>(
  metaPool: Pool,
  deliveryId: string,
  fn: (tally: RetryTally) => Promise<T>,
): Promise<T> {
  const tally = new RetryTally();
  if (Context.current().info.attempt > 1) tally.add(1);
  try {
    return await fn(tally);
  } finally {
    // A count is not worth failing (or hiding) the attempt's own outcome for.
    await recordRetries(metaPool, deliveryId, tally.take()).catch(() => undefined);
  }
}
