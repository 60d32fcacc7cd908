import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { ErrorType } from '../common/errors';
import type { DeliveryInput } from '../common/contracts/delivery';
import { abortOpenUploads, recordFailure } from './delivery-activities';
import { notifyWebhooks } from './webhooks';

const CANCELLED: ErrorType = 'Cancelled';

/**
 * Records in our table why a delivery did not complete, so `datashare
 * deliveries` shows it without opening Temporal; after a cancel, first aborts
 * the multipart uploads it left open.
 */
export async function recordOutcome(input: DeliveryInput, err: unknown): Promise<void> {
  // A cancel may surface as another activity's failure; the request itself decides.
  const cancelled = isCancellation(err) || CancellationScope.current().consideredCancelled;
  const error = describeFailure(err, cancelled);
  // Record the outcome even when the workflow itself is being cancelled.
  await CancellationScope.nonCancellable(async () => {
    if (cancelled) await abortOpenUploads({ deliveryId: input.deliveryId, profileId: input.profileId });
    await recordFailure({ deliveryId: input.deliveryId, status: cancelled ? 'cancelled' : 'failed', error });
    // After the outcome is recorded, so the webhook's payload shows it.
    await notifyWebhooks(input.deliveryId, cancelled ? 'cancelled' : 'failed');
  });
}

function describeFailure(err: unknown, cancelled: boolean): { type: string; message: string } {
  if (cancelled) return { type: CANCELLED, message: 'the delivery was cancelled' };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}
