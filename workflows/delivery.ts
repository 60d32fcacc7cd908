import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { PERMANENT_ERROR_TYPES } from '../common/errors';
import {
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_PARALLEL_FILES,
  type Column,
  type DeliveryInput,
  type DeliveryResult,
  type DeliveryTarget,
} from '../common/contracts/delivery';

const PERMANENT = [...PERMANENT_ERROR_TYPES];

const { loadProfile, exportDataset, finalizeManifest } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT },
});

const { assumeRole } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // IAM changes take seconds to propagate: a just-created role deserves a few tries.
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: PERMANENT },
});

const { uploadFile } = proxyActivities<Activities>({
  // A file of a large share may upload for hours; the heartbeat notices a dead worker within 20 s,
  // and the retry continues the same multipart upload from its checkpoint.
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '20 seconds',
  // On cancel, wait for the activity to stop, so the cleanup sees every open upload.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '2 seconds', maximumInterval: '2 minutes', maximumAttempts: 50, nonRetryableErrorTypes: PERMANENT },
});

const { planRanges } = proxyActivities<Activities>({
  // One pass over the keys of the whole export: long for billions of rows, and it runs beside the first file.
  startToCloseTimeout: '4 hours',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT },
});

const { recordFailure, abortOpenUploads } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // Unlimited attempts: the outcome must reach our table once the database is back.
  retry: { maximumInterval: '30 seconds' },
});

/** Files handled by one workflow run before it continues as new, keeping each history far below Temporal's limits. */
export const FILES_PER_RUN = 200;

export type DeliveryStep = 'load profile' | 'assume role' | 'export dataset' | 'multipart upload' | 'finalize manifest' | 'done';

export interface DeliveryProgress {
  step: DeliveryStep;
  filesCompleted: number;
  fileCount: number;
}

/** What a continued run needs from the runs before it. No secrets, and no per-file lists: those live in our table. */
export interface ContinuedDelivery {
  target: DeliveryTarget;
  columns: Column[];
  keyTypes: string[];
  fileCount: number;
  nextFile: number;
}

export const progressQuery = defineQuery<DeliveryProgress>('progress');

/**
 * One delivery of one dataset to one end user:
 * load profile → assume role → export dataset → multipart upload (one file per
 * key range, several at once) → finalize manifest.
 */
export async function deliveryWorkflow(input: DeliveryInput, continued?: ContinuedDelivery): Promise<DeliveryResult> {
  const progress: DeliveryProgress = { step: 'load profile', filesCompleted: continued?.nextFile ?? 0, fileCount: continued?.fileCount ?? 0 };
  setHandler(progressQuery, () => progress);

  try {
    let state: ContinuedDelivery;
    let planRest: (() => Promise<number>) | undefined;
    if (continued) {
      state = continued;
    } else {
      const target = await loadProfile(input);

      progress.step = 'assume role';
      await assumeRole({ deliveryId: input.deliveryId, profileId: input.profileId });

      progress.step = 'export dataset';
      const maxFileBytes = input.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
      // Histories recorded before this change planned every range first; they replay that way.
      const overlap = patched('plan-while-exporting');
      const plan = await exportDataset({
        deliveryId: input.deliveryId,
        profileId: input.profileId,
        datasetId: input.datasetId,
        format: input.format,
        compression: input.compression,
        maxFileBytes,
        ...(overlap ? { planRestLater: true } : {}),
      });
      state = { target, columns: plan.columns, keyTypes: plan.keyTypes ?? [], fileCount: plan.fileCount ?? 1, nextFile: 0 };
      progress.fileCount = state.fileCount;
      if (plan.restPlanned === false) {
        const keyTypes = state.keyTypes;
        planRest = async () =>
          (await planRanges({ ...input, rowsPerFile: plan.rowsPerFile ?? 1, keyTypes, maxFileBytes })).fileCount;
      }
    }

    progress.step = 'multipart upload';
    const until = await uploadFiles(input, state, () => progress.filesCompleted++, planRest, (n) => (progress.fileCount = n));
    if (until < state.fileCount) {
      return await continueAsNew<typeof deliveryWorkflow>(input, { ...state, nextFile: until });
    }

    progress.step = 'finalize manifest';
    const result = await finalizeManifest({ ...input, target: state.target, columns: state.columns });
    progress.step = 'done';
    return result;
  } catch (err) {
    // Handing over to the next run is how this workflow keeps its history short, not a failure.
    if (err instanceof ContinueAsNew) throw err;
    // A cancel may surface as another activity's failure; the request itself decides.
    const cancelled = isCancellation(err) || CancellationScope.current().consideredCancelled;
    const error = describeFailure(err, cancelled);
    // Record the outcome even when the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      if (cancelled) await abortOpenUploads({ deliveryId: input.deliveryId, profileId: input.profileId });
      await recordFailure({ deliveryId: input.deliveryId, status: cancelled ? 'cancelled' : 'failed', error });
    });
    throw err;
  }
}

/**
 * Uploads this run's files, at most maxParallelFiles at once; the first failure
 * cancels the rest. With planRest, file 0 starts at once and the remaining key
 * ranges are planned while it exports. Returns the end of this run's share of
 * files (at most FILES_PER_RUN; the next run continues from there).
 */
async function uploadFiles(
  input: DeliveryInput,
  state: ContinuedDelivery,
  onFile: () => void,
  planRest?: () => Promise<number>,
  onPlanned?: (fileCount: number) => void,
): Promise<number> {
  const limit = Math.max(1, input.maxParallelFiles ?? DEFAULT_MAX_PARALLEL_FILES);
  const scope = new CancellationScope();
  return await scope.run(async () => {
    const running = new Set<Promise<void>>();
    let failed: Error | undefined;
    const firstFailure = (): Error | undefined => failed;
    const start = (i: number): void => {
      const p: Promise<void> = uploadFile({ ...input, fileIndex: i, target: state.target, keyTypes: state.keyTypes })
        .then(onFile, (e: unknown) => {
          if (failed === undefined) {
            failed = e instanceof Error ? e : new Error(String(e));
            scope.cancel();
          }
        })
        .finally(() => running.delete(p));
      running.add(p);
    };
    let next = state.nextFile;
    if (planRest) {
      start(next++);
      try {
        state.fileCount = await planRest();
      } catch (e) {
        // If file 0 failed first, planning was cancelled because of it: report the cause.
        scope.cancel();
        await Promise.all(running);
        throw firstFailure() ?? e;
      }
      onPlanned?.(state.fileCount);
    }
    const until = Math.min(state.fileCount, state.nextFile + FILES_PER_RUN);
    for (; next < until && failed === undefined; next++) {
      while (running.size >= limit) await Promise.race(running);
      if (failed !== undefined) break;
      start(next);
    }
    await Promise.all(running);
    if (failed !== undefined) throw failed;
    return until;
  });
}

function describeFailure(err: unknown, cancelled: boolean): { type: string; message: string } {
  if (cancelled) return { type: 'Cancelled', message: 'the delivery was cancelled' };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}
