import type { Pool } from 'pg';
import { failDelivery } from '../common/store/delivery-progress';

export interface RecordFailureInput {
  deliveryId: string;
  status: 'failed' | 'cancelled';
  error: { type: string; message: string };
}

/** Marks a delivery failed or cancelled so `datashare deliveries` shows why without opening Temporal. */
export async function recordFailure(metaPool: Pool, input: RecordFailureInput): Promise<void> {
  await failDelivery(metaPool, input.deliveryId, input.status, input.error);
}
