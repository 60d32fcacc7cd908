import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  defineQuery,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Column, DeliveredFile, DeliveryInput, DeliveryResult, DeliveryTarget } from '../common/types';

// Errors that no retry can fix; activities also mark them non-retryable, this
// list is the second line of defence.
const PERMANENT = ['ValidationError', 'NotFound', 'MissingProperty', 'AccessDenied', 'AssumeRoleDenied', 'DatasetQueryError', 'NoSuchBucket', 'SharerCredentialsInvalid'];

const { loadProfile, exportDataset, finalizeManifest } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT },
});

const { assumeRole } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // IAM changes take seconds to propagate: a just-created role deserves a few tries.
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: PERMANENT },
});

const { uploadFile } = proxyActivities<Activities>({
  // A file of a large share may upload for hours; the heartbeat notices a dead worker within a minute.
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '2 minutes', maximumAttempts: 20, nonRetryableErrorTypes: PERMANENT },
});

const { recordFailure } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  // Unlimited attempts: the outcome must reach our table once the database is back.
  retry: { maximumInterval: '30 seconds' },
});

export type DeliveryStep = 'load profile' | 'assume role' | 'export dataset' | 'multipart upload' | 'finalize manifest' | 'done';

export interface DeliveryProgress {
  step: DeliveryStep;
  filesCompleted: number;
}

export const progressQuery = defineQuery<DeliveryProgress>('progress');

/**
 * One delivery of one dataset to one end user:
 * load profile → assume role → export dataset → multipart upload → finalize manifest.
 */
export async function deliveryWorkflow(input: DeliveryInput): Promise<DeliveryResult> {
  const progress: DeliveryProgress = { step: 'load profile', filesCompleted: 0 };
  setHandler(progressQuery, () => progress);

  try {
    const target: DeliveryTarget = await loadProfile(input);

    progress.step = 'assume role';
    await assumeRole({ deliveryId: input.deliveryId, profileId: input.profileId });

    progress.step = 'export dataset';
    const plan = await exportDataset({ profileId: input.profileId, datasetId: input.datasetId });
    const columns: Column[] = plan.columns;

    progress.step = 'multipart upload';
    const files: DeliveredFile[] = [];
    const file = await uploadFile({ ...input, fileIndex: 0, target });
    files.push(file);
    progress.filesCompleted = files.length;

    progress.step = 'finalize manifest';
    const result = await finalizeManifest({ ...input, target, columns, files });
    progress.step = 'done';
    return result;
  } catch (err) {
    const cancelled = isCancellation(err);
    const error = describeFailure(err, cancelled);
    // Record the outcome even when the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(() =>
      recordFailure({ deliveryId: input.deliveryId, status: cancelled ? 'cancelled' : 'failed', error }),
    );
    throw err;
  }
}

function describeFailure(err: unknown, cancelled: boolean): { type: string; message: string } {
  if (cancelled) return { type: 'Cancelled', message: 'the delivery was cancelled' };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}
