import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { PERMANENT_ERROR_TYPES } from '../common/errors';

/** The activities of a delivery, each with the timeouts and retries its work calls for. */

const PERMANENT = [...PERMANENT_ERROR_TYPES];

export const { loadProfile, exportDataset, finalizeManifest } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: PERMANENT,
  },
});

export const { assumeRole } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // IAM changes take seconds to propagate: a just-created role deserves a few tries.
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '30 seconds',
    maximumAttempts: 8,
    nonRetryableErrorTypes: PERMANENT,
  },
});

export const { uploadFile } = proxyActivities<Activities>({
  // A file of a large share may upload for hours; the heartbeat notices a dead worker within 20 s,
  // and the retry continues the same multipart upload from its checkpoint.
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '20 seconds',
  // On cancel, wait for the activity to stop, so the cleanup sees every open upload.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '2 minutes',
    maximumAttempts: 50,
    nonRetryableErrorTypes: PERMANENT,
  },
});

export const { planRanges } = proxyActivities<Activities>({
  // One pass over the keys of the whole export: long for billions of rows, and it runs beside the first file.
  startToCloseTimeout: '4 hours',
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: PERMANENT,
  },
});

export const { recordFailure, abortOpenUploads } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // Unlimited attempts: the outcome must reach our table once the database is back.
  retry: { maximumInterval: '30 seconds' },
});
