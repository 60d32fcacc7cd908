/**
 * Ids of schedules and of their deliveries, derived from names and times only.
 * Pure functions: workflow code imports this module, so it must stay
 * deterministic (no clocks, no randomness, no Node built-ins).
 */

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
  return t
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
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
