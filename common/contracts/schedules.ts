/**
 * Inputs and results of the scheduled workflows and their activities.
 *
 * Everything here lands in Temporal (schedule state, workflow inputs and
 * results): ids, the dataset, the `--where` filter, never a secret.
 */
import type { Compression, Format } from './delivery';

/** What a schedule delivers; stored as the schedule's memo and passed to every run. */
export type ScheduleTarget = { kind: 'profile'; profileId: string } | { kind: 'where'; where: Record<string, string> };

/** Input of `scheduledDeliveryWorkflow`: one dataset to one profile. */
export interface ScheduledDeliveryInput {
  scheduleId: string;
  profileId: string;
  datasetId: string;
  /** Overrides of the dataset's own format/compression; absent means the dataset's setting at run time. */
  format?: Format;
  compression?: Compression;
}

/** Input of `fanOutDeliveryWorkflow`: one dataset to every profile matching `where`. */
export interface FanOutInput {
  scheduleId: string;
  datasetId: string;
  where: Record<string, string>;
  format?: Format;
  compression?: Compression;
  /** Child deliveries running at once. */
  maxParallel: number;
  /** Profiles listed and registered per activity call. */
  pageSize?: number;
  /** Present when a round continues as new: where it stands. */
  resume?: FanOutResume;
}

export interface FanOutResume {
  scheduledAt: string;
  /** Profiles with ids up to and including this one are done. */
  afterProfileId: string;
  summary: RoundSummary;
}

export interface DeliveryFailureNote {
  profileId: string;
  deliveryId: string;
  type: string;
  message: string;
}

/** The result of one scheduled run (one "round"). */
export interface RoundSummary {
  scheduleId: string;
  datasetId: string;
  scheduledAt: string;
  /** Profiles the round considered (one for a profile schedule). */
  profiles: number;
  /** Child deliveries this round started. */
  started: number;
  completed: number;
  failed: number;
  /** Already delivered (or already running) under the same id: a duplicate run. */
  skipped: number;
  /** The first failures, for a glance; `datashare deliveries --status failed` has them all. */
  failures: DeliveryFailureNote[];
  /** How many times the round continued as new. */
  continuedAsNew: number;
  /** Retries its completed deliveries' AWS calls needed (throttling, flaky S3); absent before issue 13. */
  retries?: number;
}

export interface ListProfilesPageInput {
  where: Record<string, string>;
  afterProfileId: string;
  limit: number;
}

export interface RegisterDeliveriesInput {
  scheduleId: string;
  datasetId: string;
  scheduledAt: string;
  profileIds: string[];
  format?: Format;
  compression?: Compression;
}

export interface RegisteredDelivery {
  profileId: string;
  deliveryId: string;
  format: Format;
  compression: Compression;
  /** false when the row already existed (a duplicate run): completed, failed or cancelled deliveries are not started again. */
  start: boolean;
  /** The row's status when it already existed. */
  existing?: string;
  /** The task queue of the profile's instance, when it belongs to one; else the child runs on the round's queue. */
  taskQueue?: string;
}
