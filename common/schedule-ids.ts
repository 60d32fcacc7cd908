/**
 * Names and types shared by the scheduled workflows, their activities and the
 * client. Pure functions only: workflow code imports this module, so it must stay
 * deterministic (no clocks, no randomness, no Node built-ins).
 *
 * Everything here lands in Temporal (schedule state, workflow inputs and
 * results): ids, the dataset, the `--where` filter, never a secret.
 */
import type { Compression, Format } from './types';

export const SCHEDULE_ID_PREFIX = 'datashare:';

/**
 * `datashare:<profile>:<dataset>`. Profile and dataset ids never contain ':', so
 * the id names exactly one pair (with '-' as separator, `a-b`+`c` and `a`+`b-c`
 * would collide).
 */
export function profileScheduleId(profileId: string, datasetId: string): string {
  return `${SCHEDULE_ID_PREFIX}${profileId}:${datasetId}`;
}

/** `key=value,key=value` with keys sorted and values percent-encoded: one spelling per filter. */
export function canonicalWhere(where: Record<string, string>): string {
  return Object.keys(where)
    .sort()
    .map((k) => `${k}=${encodeURIComponent(where[k])}`)
    .join(',');
}

/** `datashare:where(<canonical filter>):<dataset>`; '(' cannot start a profile id, so it never meets a profile schedule's id. */
export function whereScheduleId(where: Record<string, string>, datasetId: string): string {
  return `${SCHEDULE_ID_PREFIX}where(${canonicalWhere(where)}):${datasetId}`;
}

/** 32-bit FNV-1a of the UTF-16 code units, as 8 hex digits. Stable across processes and SDK versions. */
export function fnv1a32Hex(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** `20261127T224826Z`: the same stamp `datashare share` ids start with (UTC, whole seconds). */
export function deliveryStamp(t: Date): string {
  return t.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * The delivery id of one profile in one scheduled run: the run's nominal
 * (scheduled) time, then a hash of schedule and profile. A retried, replayed or
 * duplicated run of the same scheduled time gets the same id, so it can never
 * deliver twice; the shape is the same as a manual share's id.
 */
export function scheduledDeliveryId(scheduleId: string, profileId: string, scheduledAt: Date): string {
  return `${deliveryStamp(scheduledAt)}-${scheduledDeliverySuffix(scheduleId, profileId)}`;
}

/** The id suffix a schedule gives a profile's deliveries (see scheduledDeliveryId). */
export function scheduledDeliverySuffix(scheduleId: string, profileId: string): string {
  return fnv1a32Hex(`${scheduleId}\n${profileId}`);
}

/**
 * Temporal appends the nominal time to the workflow id of every run a schedule
 * starts (`<workflowId>-2026-11-27T02:00:00Z`); this reads it back.
 */
export function nominalTimeFromWorkflowId(workflowId: string, prefix: string): Date | undefined {
  if (!workflowId.startsWith(`${prefix}-`)) return undefined;
  const rest = workflowId.slice(prefix.length + 1);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(rest)) return undefined;
  const t = Date.parse(rest);
  return Number.isNaN(t) ? undefined : new Date(t);
}

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
}
