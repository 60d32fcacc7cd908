import type { ScheduleDescription, ScheduleSummary } from '@temporalio/client';
import type { Compression, Format } from '../../common/contracts/delivery';
import type { ScheduleTarget } from '../../common/contracts/schedules';
import type { OverlapName } from './overlap-policies';

/** When a schedule runs and how it delivers: kept in its memo, shown in its view. */
export interface ScheduleSettings {
  cron: string | null;
  timezone: string | null;
  every: string | null;
  overlap: OverlapName;
  catchupWindow: string;
  format: Format | null;
  compression: Compression | null;
  maxParallel: number | null;
}

/** What datashare keeps in the schedule's memo: how it was asked for, for `list`/`show`. */
export interface ScheduleMemo extends ScheduleSettings {
  version: 1;
  datasetId: string;
  target: ScheduleTarget;
  pageSize: number | null;
  taskQueue: string;
}

export const MEMO_KEY = 'datashare';

export interface RoundDeliveries {
  total: number;
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
  deliveryIds: string[];
  failures: { deliveryId: string; profileId: string; error: { type: string; message: string } }[];
}

export interface ScheduleAction {
  /** The run's nominal time: what its delivery ids derive from. */
  scheduledAt: string;
  takenAt: string;
  workflowId: string;
  /** RUNNING, COMPLETED, FAILED, … as Temporal reports the run (the last run of a continue-as-new chain). */
  runStatus: string | null;
  deliveries: RoundDeliveries;
}

/** The public JSON shape of a schedule (`datashare schedule show <id> --json`). */
export interface ScheduleView extends ScheduleSettings {
  id: string;
  datasetId: string;
  /** A profile schedule's profile; null for a `--where` schedule. */
  profileId: string | null;
  /** A `--where` schedule's filter; null for a profile schedule. */
  where: Record<string, string> | null;
  paused: boolean;
  note: string | null;
  nextRuns: string[];
  /** Only from `show` (and create): */
  matchingProfiles?: number;
  createdAt?: string;
  actionsTaken?: number;
  skippedOverlap?: number;
  missedCatchupWindow?: number;
  running?: { workflowId: string; scheduledAt: string | null }[];
  recentActions?: ScheduleAction[];
}

/** The memo datashare wrote, or undefined for a schedule it did not create. */
export function memoOf(memo: Record<string, unknown> | undefined): ScheduleMemo | undefined {
  const m = memo?.[MEMO_KEY];
  if (typeof m !== 'object' || m === null) return undefined;
  const v = m as Partial<ScheduleMemo>;
  return v.version === 1 && typeof v.datasetId === 'string' && v.target ? (v as ScheduleMemo) : undefined;
}

/** What list and show have in common: the memo, with the schedule's state as Temporal has it now. */
export function baseView(id: string, memo: ScheduleMemo, s: ScheduleSummary | ScheduleDescription): ScheduleView {
  return {
    id,
    datasetId: memo.datasetId,
    profileId: memo.target.kind === 'profile' ? memo.target.profileId : null,
    where: memo.target.kind === 'where' ? memo.target.where : null,
    cron: memo.cron,
    timezone: memo.timezone,
    every: memo.every,
    overlap: memo.overlap,
    catchupWindow: memo.catchupWindow,
    format: memo.format,
    compression: memo.compression,
    maxParallel: memo.maxParallel,
    paused: s.state.paused,
    note: s.state.note || null,
    // Temporal still computes times while paused; none of them will run.
    nextRuns: s.state.paused ? [] : s.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
  };
}
