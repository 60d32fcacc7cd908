import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { AwsAccess } from '../common/infra/aws';
import type { DeliveryInput, FinalizeInput, UploadFileInput } from '../common/contracts/delivery';
import type { ListProfilesPageInput, RegisterDeliveriesInput } from '../common/contracts/schedules';
// The five steps of a delivery.
import { loadProfile } from './load-profile';
import { assumeRole, type AssumeRoleInput } from './assume-role';
import { planExport, planRanges, type PlanExportInput, type PlanRangesInput } from './plan-export';
import { uploadFile } from './upload-file';
import { finalizeManifest } from './finalize-manifest';
// How a delivery ends otherwise: cancelled or failed.
import { abortOpenUploads } from './abort-open-uploads';
import { recordFailure, type RecordFailureInput } from './record-outcome';
// Telling other systems how a delivery ended.
import { sendWebhook, webhookTargets } from './send-webhook';
import type { SendWebhookInput, WebhookEventInput } from '../common/contracts/webhooks';
// Scheduled rounds.
import { listProfilesPage } from './list-profiles';
import { registerDeliveries } from './register-deliveries';
import { encoderPools } from './export/part-encoder';
import { historySafe } from './failures/to-failure';
import { FileSlots } from './upload/file-slots';
import { metrics } from '../common/infra/metrics';
import {
  DEFAULT_CONNECTIONS_PER_FILE,
  maxSourceConnections,
  SourceConnections,
} from '../common/infra/source-connections';

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
  /** Connections to the source database this worker holds at most (default: files × connections per file + 2). */
  maxSourceConnections?: number;
  /** Source connections one file reads over at once, for every format (default: each format's own). */
  connectionsPerFile?: number;
  /** Raw bytes per key slice of a file read over several connections (default SLICE_BYTES). */
  sliceBytes?: number;
  /** The source's URL, to cancel a query that passed its first-row deadline from a connection of its own. */
  sourceDatabaseUrl?: string;
  /** The instance this worker serves (datashare worker --instance); deliveries of other instances' profiles are refused. */
  instance?: string;
}

// S3's minimum part size: with two parts in flight per file it keeps a worker's buffers small.
const DEFAULT_PART_BYTES = 5 * 1024 * 1024;

export function createActivities(deps: ActivityDeps) {
  const partBytes = deps.partBytes ?? DEFAULT_PART_BYTES;
  const maxFiles = deps.maxConcurrentFiles ?? 2;
  const slots = new FileSlots(maxFiles);
  // Sized for the files the slots allow, so the next file reuses a finished one's buffers.
  // Buffers and slots for the most connections a file may use (the formats' defaults go up to 2).
  const perFile = deps.connectionsPerFile ?? DEFAULT_CONNECTIONS_PER_FILE;
  const pools = encoderPools(partBytes, maxFiles, deps.partsInFlight ?? 2, 2, undefined, perFile);
  const source = new SourceConnections(
    deps.sourcePool,
    deps.maxSourceConnections ?? maxSourceConnections({}, maxFiles, perFile),
    deps.sourceDatabaseUrl,
  );
  const gated = { ...deps, sourcePool: source };
  return {
    loadProfile: historySafe((input: DeliveryInput) => {
      // The first step's first attempt: a delivery (or a replay of one) starts once.
      if (Context.current().info.attempt === 1) metrics.deliveries.inc({ status: 'started', dataset: input.datasetId });
      return loadProfile(deps.metaPool, input, deps.instance);
    }),
    assumeRole: historySafe((input: AssumeRoleInput) => assumeRole(deps, input)),
    // Registered under its first name, which recorded histories and running workflows call.
    exportDataset: historySafe((input: PlanExportInput) => planExport(gated, input)),
    planRanges: historySafe((input: PlanRangesInput) => planRanges(gated, input)),
    uploadFile: historySafe(async (input: UploadFileInput) => {
      // Waiting for a slot heartbeats too, so a queued file is not mistaken for a dead one.
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(ctx.info.heartbeatDetails), 5000);
      const release = await slots.acquire().finally(() => clearInterval(beat));
      const endTimer = metrics.fileUploadSeconds.startTimer();
      metrics.filesInFlight.inc();
      try {
        const file = await uploadFile({ ...gated, partBytes, pools }, input);
        endTimer();
        return file;
      } finally {
        metrics.filesInFlight.dec();
        release();
      }
    }),
    finalizeManifest: historySafe((input: FinalizeInput) => finalizeManifest(deps, input)),
    recordFailure: historySafe((input: RecordFailureInput) => recordFailure(deps.metaPool, input)),
    // Scheduled rounds (workflows/scheduled-round.ts).
    listProfilesPage: historySafe((input: ListProfilesPageInput) => listProfilesPage(deps.metaPool, input)),
    registerDeliveries: historySafe((input: RegisterDeliveriesInput) => registerDeliveries(deps.metaPool, input)),
    abortOpenUploads: historySafe((input: { deliveryId: string; profileId: string }) => abortOpenUploads(deps, input)),
    // Webhooks (workflows/webhooks.ts).
    webhookTargets: historySafe((input: WebhookEventInput) => webhookTargets(deps.metaPool, input)),
    sendWebhook: historySafe((input: SendWebhookInput) => sendWebhook(deps.metaPool, input)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
