import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { AwsAccess } from '../common/infra/aws';
import type { DeliveryInput } from '../common/contracts/delivery';
import { abortOpenUploads } from './abort-open-uploads';
import { assumeRole, type AssumeRoleInput } from './assume-role';
import { planExport, planRanges, type PlanExportInput, type PlanRangesInput } from './plan-export';
import { toFailure } from './failures/to-failure';
import { finalizeManifest } from './finalize-manifest';
import { listProfilesPage } from './list-profiles';
import { loadProfile } from './load-profile';
import { recordFailure, type RecordFailureInput } from './record-outcome';
import { registerDeliveries } from './register-deliveries';
import { FileSlots } from './upload/file-slots';
import { encoderPools } from './export/part-encoder';
import { uploadFile } from './upload-file';
import type { FinalizeInput, UploadFileInput } from '../common/contracts/delivery';
import type { ListProfilesPageInput, RegisterDeliveriesInput } from '../common/contracts/schedules';

export interface ActivityDeps {
  /** Our metadata database (profiles, datasets, deliveries). */
  metaPool: Pool;
  /** The database datasets are read from; the same as metaPool unless SOURCE_DATABASE_URL is set. */
  sourcePool: Pool;
  aws: AwsAccess;
  /** Target size of one multipart upload part, after compression (S3 minimum 5 MiB). */
  partBytes?: number;
  /** Parts of one file uploading at once. */
  partsInFlight?: number;
  /** Files this worker exports at once (default 2). */
  maxConcurrentFiles?: number;
}

// S3's minimum part size: with two parts in flight per file it keeps a worker's buffers small.
const DEFAULT_PART_BYTES = 5 * 1024 * 1024;

/**
 * Every error leaves an activity as a history-safe ApplicationFailure (see
 * failures.ts) — except after a cancel, when whatever the abort caused (an
 * aborted S3 call, a closed stream) must be reported as the cancellation it is.
 */
function safe<A, R>(fn: (a: A) => Promise<R>): (a: A) => Promise<R> {
  return async (a: A) => {
    try {
      return await fn(a);
    } catch (e) {
      if (Context.current().cancellationSignal.aborted) throw new CancelledFailure('the activity was cancelled');
      throw toFailure(e);
    }
  };
}

export function createActivities(deps: ActivityDeps) {
  const partBytes = deps.partBytes ?? DEFAULT_PART_BYTES;
  const maxFiles = deps.maxConcurrentFiles ?? 2;
  const slots = new FileSlots(maxFiles);
  // Sized for the files the slots allow, so the next file reuses a finished one's buffers.
  const pools = encoderPools(partBytes, maxFiles, deps.partsInFlight ?? 2);
  return {
    loadProfile: safe((input: DeliveryInput) => loadProfile(deps.metaPool, input)),
    assumeRole: safe((input: AssumeRoleInput) => assumeRole(deps, input)),
    // Registered under its first name, which recorded histories and running workflows call.
    exportDataset: safe((input: PlanExportInput) => planExport(deps, input)),
    planRanges: safe((input: PlanRangesInput) => planRanges(deps, input)),
    uploadFile: safe(async (input: UploadFileInput) => {
      // Waiting for a slot heartbeats too, so a queued file is not mistaken for a dead one.
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(ctx.info.heartbeatDetails), 5000);
      const release = await slots.acquire().finally(() => clearInterval(beat));
      try {
        return await uploadFile({ ...deps, partBytes, pools }, input);
      } finally {
        release();
      }
    }),
    finalizeManifest: safe((input: FinalizeInput) => finalizeManifest(deps, input)),
    recordFailure: safe((input: RecordFailureInput) => recordFailure(deps.metaPool, input)),
    // Scheduled rounds (workflows/scheduled-round.ts).
    listProfilesPage: safe((input: ListProfilesPageInput) => listProfilesPage(deps.metaPool, input)),
    registerDeliveries: safe((input: RegisterDeliveriesInput) => registerDeliveries(deps.metaPool, input)),
    abortOpenUploads: safe((input: { deliveryId: string; profileId: string }) => abortOpenUploads(deps, input)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
