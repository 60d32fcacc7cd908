import { log } from '@temporalio/activity';
import type { Pool } from 'pg';
import { failDelivery } from '../common/store/delivery-progress';
import { countOutcome } from '../common/infra/metrics';

export interface RecordFailureInput {
  deliveryId: string;
  status: 'failed' | 'cancelled';
  error: { type: string; message: string };
}

/** Marks a delivery failed or cancelled so `datashare deliveries` shows why without opening Temporal. */
export async function recordFailure(metaPool: Pool, input: RecordFailureInput): Promise<void> {
  const change = await failDelivery(metaPool, input.deliveryId, input.status, input.error);
  countOutcome(change, { status: input.status, errorType: input.error.type });
  // The type only: the message is in our table and in history.
  log.warn(`delivery ${input.status}`, { errorType: input.error.type });
}
