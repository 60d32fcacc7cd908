import type { ScheduleOptions } from '@temporalio/client';
import type { Compression, Format } from '../../common/contracts/delivery';
import type { ScheduleTarget } from '../../common/contracts/schedules';
import { formatDuration } from '../../common/domain/durations';
import { ValidationError } from '../../common/errors';
import { DEFAULT_MAX_PARALLEL, DEFAULT_PAGE_SIZE } from '../../workflows/fan-out';
import { checkCompression, checkFormat } from './file-format';
import { OVERLAP_POLICIES, type OverlapName } from './overlap-policies';
import { MEMO_KEY, type ScheduleMemo } from './schedule-view';

export const DEFAULT_OVERLAP: OverlapName = 'skip';
export const DEFAULT_CATCHUP_WINDOW_MS = 3_600_000;
/** Temporal's own floor for the catch-up window. */
export const MIN_CATCHUP_WINDOW_MS = 10_000;
export const MAX_PARALLEL_LIMIT = 1000;

export interface ScheduleCreateInput {
  datasetId: string;
  target: ScheduleTarget;
  /** Exactly one of cron and everyMs. */
  cron?: string;
  /** IANA zone the cron expression is read in; default UTC. Only with cron. */
  timezone?: string;
  everyMs?: number;
  overlap?: OverlapName;
  catchupWindowMs?: number;
  /** Override the dataset's format/compression; absent: the dataset's setting at each run. */
  format?: Format;
  compression?: Compression;
  /** `--where` only: child deliveries at once (default 20). */
  maxParallel?: number;
  /** `--where` only: profiles per workflow run (default 500); each run then continues as new. */
  pageSize?: number;
  paused?: boolean;
  note?: string;
}

/** A create request after its checks, with every default filled in. */
export interface CheckedSchedule extends ScheduleCreateInput {
  overlap: OverlapName;
  catchupWindowMs: number;
  maxParallel: number;
  pageSize: number;
}

/** Every check that needs neither our tables nor Temporal; nothing exists yet when one fails. */
export function checkScheduleInput(input: ScheduleCreateInput): CheckedSchedule {
  const { target } = input;
  if ((input.cron === undefined) === (input.everyMs === undefined)) {
    throw new ValidationError('give exactly one of --cron "<expression>" and --every <duration>');
  }
  if (input.timezone !== undefined && input.cron === undefined) {
    throw new ValidationError(
      '--timezone applies to --cron only (an --every interval runs at the same pace in every zone)',
    );
  }
  if (input.everyMs !== undefined && (input.everyMs < 1000 || input.everyMs % 1000 !== 0)) {
    throw new ValidationError('--every must be a whole number of seconds, at least 1s');
  }
  const overlap = input.overlap ?? DEFAULT_OVERLAP;
  if (!Object.prototype.hasOwnProperty.call(OVERLAP_POLICIES, overlap))
    throw new ValidationError(`unknown overlap policy "${String(overlap)}"`);
  const catchupWindowMs = input.catchupWindowMs ?? DEFAULT_CATCHUP_WINDOW_MS;
  if (catchupWindowMs < MIN_CATCHUP_WINDOW_MS)
    throw new ValidationError("--catchup-window must be at least 10s (Temporal's minimum)");
  if (input.format !== undefined) checkFormat(input.format);
  if (input.compression !== undefined) checkCompression(input.compression);
  if (target.kind === 'profile' && (input.maxParallel !== undefined || input.pageSize !== undefined)) {
    throw new ValidationError(
      '--max-parallel applies to --where schedules only (a profile schedule runs one delivery)',
    );
  }
  const maxParallel = input.maxParallel ?? DEFAULT_MAX_PARALLEL;
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > MAX_PARALLEL_LIMIT) {
    throw new ValidationError(`--max-parallel must be a whole number from 1 to ${MAX_PARALLEL_LIMIT}`);
  }
  const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)
    throw new ValidationError('--page-size must be a whole number from 1 to 1000');
  return { ...input, overlap, catchupWindowMs, maxParallel, pageSize };
}

/** The schedule as Temporal keeps it, all but its action: when, under which policies, and our memo. */
export function scheduleOptions(
  scheduleId: string,
  input: CheckedSchedule,
  taskQueue: string,
): Omit<ScheduleOptions, 'action'> {
  const { target } = input;
  const memo: ScheduleMemo = {
    version: 1,
    datasetId: input.datasetId,
    target,
    cron: input.cron ?? null,
    timezone: input.cron !== undefined ? (input.timezone ?? 'UTC') : null,
    every: input.everyMs !== undefined ? formatDuration(input.everyMs) : null,
    overlap: input.overlap,
    catchupWindow: formatDuration(input.catchupWindowMs),
    format: input.format ?? null,
    compression: input.compression ?? null,
    maxParallel: target.kind === 'where' ? input.maxParallel : null,
    pageSize: target.kind === 'where' ? input.pageSize : null,
    taskQueue,
  };
  const spec: ScheduleOptions['spec'] =
    input.cron !== undefined
      ? { cronExpressions: [input.cron], ...(input.timezone ? { timezone: input.timezone } : {}) }
      : { intervals: [{ every: input.everyMs! }] };
  return {
    scheduleId,
    spec,
    policies: { overlap: OVERLAP_POLICIES[input.overlap], catchupWindow: input.catchupWindowMs },
    memo: { [MEMO_KEY]: memo },
    state: { paused: input.paused === true, ...(input.note ? { note: input.note } : {}) },
  };
}
