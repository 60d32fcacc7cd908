import {
  Client,
  Connection,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOptions,
  type ScheduleSummary,
} from '@temporalio/client';
import { deliverableDestination } from '../common/domain/destination';
import { ConflictError, NotFoundError, ValidationError } from '../common/errors';
import { deliveryStamp, nominalTimeFromWorkflowId, profileScheduleId, scheduledDeliverySuffix, whereScheduleId } from '../common/contracts/schedule-ids';
import type { FanOutInput, ScheduledDeliveryInput, ScheduleTarget } from '../common/contracts/schedules';
import * as datasets from '../common/store/datasets';
import { countMatchingProfiles } from '../common/store/profile-filter';
import * as profiles from '../common/store/profiles';
import {
  COMPRESSIONS,
  FORMATS,
  compressionProblem,
  effectiveCompression,
  type Compression,
  type DeliveryStatus,
  type Format,
} from '../common/contracts/delivery';
import { fanOutDeliveryWorkflow, scheduledDeliveryWorkflow } from '../workflows';
import { DEFAULT_MAX_PARALLEL, DEFAULT_PAGE_SIZE } from '../workflows/fan-out';
import type { Datashare } from './datashare';
import { OVERLAP_POLICIES, formatDuration, overlapName, type OverlapName } from './schedule-args';

export const DEFAULT_OVERLAP: OverlapName = 'skip';
export const DEFAULT_CATCHUP_WINDOW_MS = 3_600_000;
/** Temporal's own floor for the catch-up window. */
export const MIN_CATCHUP_WINDOW_MS = 10_000;
export const MAX_PARALLEL_LIMIT = 1000;
/** How many recent runs `show` looks up deliveries for (Temporal keeps the last 10). */
const RECENT_ACTIONS = 10;

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

/** When a schedule runs and how it delivers: kept in its memo, shown in its view. */
interface ScheduleSettings {
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
interface ScheduleMemo extends ScheduleSettings {
  version: 1;
  datasetId: string;
  target: ScheduleTarget;
  pageSize: number | null;
  taskQueue: string;
}

const MEMO_KEY = 'datashare';

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

function isInvalidArgument(e: unknown): string | undefined {
  let c: unknown = e;
  for (let i = 0; i < 5 && typeof c === 'object' && c !== null; i++) {
    const x = c as { code?: unknown; details?: unknown; cause?: unknown };
    if (x.code === 3) return typeof x.details === 'string' ? x.details : String((c as Error).message);
    c = x.cause;
  }
  return undefined;
}

function memoOf(memo: Record<string, unknown> | undefined): ScheduleMemo | undefined {
  const m = memo?.[MEMO_KEY];
  if (typeof m !== 'object' || m === null) return undefined;
  const v = m as Partial<ScheduleMemo>;
  return v.version === 1 && typeof v.datasetId === 'string' && v.target ? (v as ScheduleMemo) : undefined;
}

/**
 * Recurring deliveries as Temporal Schedules. Temporal keeps the schedule (its
 * spec, pause state, recent and upcoming runs); datashare keeps only the
 * deliveries, whose ids derive from each run's scheduled time.
 */
export class Schedules {
  private connection?: Connection;
  private client?: Client;

  constructor(private readonly ds: Datashare) {}

  async close(): Promise<void> {
    await this.connection?.close();
  }

  private async temporal(): Promise<Client> {
    if (!this.client) {
      this.connection = await Connection.connect({ address: this.ds.config.temporalAddress });
      this.client = new Client({ connection: this.connection, namespace: this.ds.config.temporalNamespace });
    }
    return this.client;
  }

  /** Checks what can be checked, then creates the schedule; nothing is created when a check fails. */
  async create(input: ScheduleCreateInput): Promise<ScheduleView> {
    const { datasetId, target } = input;
    if ((input.cron === undefined) === (input.everyMs === undefined)) {
      throw new ValidationError('give exactly one of --cron "<expression>" and --every <duration>');
    }
    if (input.timezone !== undefined && input.cron === undefined) {
      throw new ValidationError('--timezone applies to --cron only (an --every interval runs at the same pace in every zone)');
    }
    if (input.everyMs !== undefined && (input.everyMs < 1000 || input.everyMs % 1000 !== 0)) {
      throw new ValidationError('--every must be a whole number of seconds, at least 1s');
    }
    const overlap = input.overlap ?? DEFAULT_OVERLAP;
    if (!Object.prototype.hasOwnProperty.call(OVERLAP_POLICIES, overlap)) throw new ValidationError(`unknown overlap policy "${String(overlap)}"`);
    const catchupWindowMs = input.catchupWindowMs ?? DEFAULT_CATCHUP_WINDOW_MS;
    if (catchupWindowMs < MIN_CATCHUP_WINDOW_MS) throw new ValidationError('--catchup-window must be at least 10s (Temporal\'s minimum)');
    if (input.format !== undefined && !FORMATS.includes(input.format)) throw new ValidationError(`--format must be one of ${FORMATS.join(', ')}`);
    if (input.compression !== undefined && !COMPRESSIONS.includes(input.compression)) {
      throw new ValidationError(`--compression must be one of ${COMPRESSIONS.join(', ')}`);
    }
    if (target.kind === 'profile' && (input.maxParallel !== undefined || input.pageSize !== undefined)) {
      throw new ValidationError('--max-parallel applies to --where schedules only (a profile schedule runs one delivery)');
    }
    const maxParallel = input.maxParallel ?? DEFAULT_MAX_PARALLEL;
    if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > MAX_PARALLEL_LIMIT) {
      throw new ValidationError(`--max-parallel must be a whole number from 1 to ${MAX_PARALLEL_LIMIT}`);
    }
    const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new ValidationError('--page-size must be a whole number from 1 to 1000');

    const dataset = await datasets.getDataset(this.ds.metaPool, datasetId);
    // Checked against the dataset's format as it is now; registerDeliveries applies the same rule at each run.
    const problem = compressionProblem(input.format ?? dataset.format, effectiveCompression(input.format ?? dataset.format, input.compression, dataset));
    if (problem) throw new ValidationError(problem);
    let scheduleId: string;
    if (target.kind === 'profile') {
      // As `share` does: a schedule that can only fail is refused now, not at 2 a.m.
      deliverableDestination(await profiles.getProfile(this.ds.metaPool, target.profileId), dataset.sql);
      scheduleId = profileScheduleId(target.profileId, datasetId);
    } else {
      scheduleId = whereScheduleId(target.where, datasetId);
    }

    const memo: ScheduleMemo = {
      version: 1,
      datasetId,
      target,
      cron: input.cron ?? null,
      timezone: input.cron !== undefined ? (input.timezone ?? 'UTC') : null,
      every: input.everyMs !== undefined ? formatDuration(input.everyMs) : null,
      overlap,
      catchupWindow: formatDuration(catchupWindowMs),
      format: input.format ?? null,
      compression: input.compression ?? null,
      maxParallel: target.kind === 'where' ? maxParallel : null,
      pageSize: target.kind === 'where' ? pageSize : null,
      taskQueue: this.ds.config.taskQueue,
    };
    const overrides = { ...(input.format ? { format: input.format } : {}), ...(input.compression ? { compression: input.compression } : {}) };
    const spec: ScheduleOptions['spec'] =
      input.cron !== undefined
        ? { cronExpressions: [input.cron], ...(input.timezone ? { timezone: input.timezone } : {}) }
        : { intervals: [{ every: input.everyMs! }] };
    const common = {
      scheduleId,
      spec,
      policies: { overlap: OVERLAP_POLICIES[overlap], catchupWindow: catchupWindowMs },
      memo: { [MEMO_KEY]: memo },
      state: { paused: input.paused === true, ...(input.note ? { note: input.note } : {}) },
    };
    // Temporal appends each run's nominal time to this id: `datashare:acme:orders-2026-11-27T02:00:00Z`.
    const actionBase = { type: 'startWorkflow' as const, taskQueue: this.ds.config.taskQueue, workflowId: scheduleId };
    const temporal = await this.temporal();
    try {
      if (target.kind === 'profile') {
        const args: [ScheduledDeliveryInput] = [{ scheduleId, profileId: target.profileId, datasetId, ...overrides }];
        await temporal.schedule.create({ ...common, action: { ...actionBase, workflowType: scheduledDeliveryWorkflow, args } });
      } else {
        const args: [FanOutInput] = [{ scheduleId, datasetId, where: target.where, maxParallel, ...(input.pageSize ? { pageSize } : {}), ...overrides }];
        await temporal.schedule.create({ ...common, action: { ...actionBase, workflowType: fanOutDeliveryWorkflow, args } });
      }
    } catch (e) {
      if (e instanceof ScheduleAlreadyRunning) {
        throw new ConflictError(
          `schedule "${scheduleId}" already exists; see it with: datashare schedule show '${scheduleId}' (to change it, delete it and create it again)`,
        );
      }
      if (e instanceof TypeError) throw new ValidationError(`Temporal refused the schedule: ${e.message}`);
      const invalid = isInvalidArgument(e);
      if (invalid !== undefined) throw new ValidationError(`Temporal refused the schedule: ${invalid}`);
      throw e;
    }
    // A valid spec may match no time at all ("0 2 30 2 *"): such a schedule can take no
    // action, so it is removed again and refused.
    const handle = temporal.schedule.getHandle(scheduleId);
    if ((await handle.describe()).info.nextActionTimes.length === 0) {
      await handle.delete();
      throw new ValidationError(`the schedule would never run: no time matches ${input.cron !== undefined ? `--cron "${input.cron}"` : '--every'}`);
    }
    // show() counts the matching profiles of a --where schedule.
    return this.show(scheduleId);
  }

  private async handle(id: string): Promise<{ handle: ScheduleHandle; desc: ScheduleDescription; memo: ScheduleMemo }> {
    const handle = (await this.temporal()).schedule.getHandle(id);
    let desc: ScheduleDescription;
    try {
      desc = await handle.describe();
    } catch (e) {
      if (e instanceof ScheduleNotFoundError) throw new NotFoundError(`no schedule "${id}"; list them with: datashare schedule list`);
      throw e;
    }
    const memo = memoOf(desc.memo);
    if (!memo) throw new NotFoundError(`schedule "${id}" exists in Temporal but was not created by datashare`);
    return { handle, desc, memo };
  }

  /** This deployment's schedules (those whose runs go to DATASHARE_TASK_QUEUE), by id. */
  async list(): Promise<ScheduleView[]> {
    const out: ScheduleView[] = [];
    for await (const s of (await this.temporal()).schedule.list()) {
      const memo = memoOf(s.memo);
      if (!memo || memo.taskQueue !== this.ds.config.taskQueue) continue;
      out.push(baseView(s.scheduleId, memo, s));
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  async show(id: string): Promise<ScheduleView> {
    const { desc, memo } = await this.handle(id);
    const view = baseView(id, memo, desc);
    view.overlap = overlapName(desc.policies.overlap);
    view.catchupWindow = formatDuration(desc.policies.catchupWindow);
    if (memo.target.kind === 'where') view.matchingProfiles = await countMatchingProfiles(this.ds.metaPool, memo.target.where);
    view.createdAt = desc.info.createdAt.toISOString();
    view.actionsTaken = desc.info.numActionsTaken;
    view.skippedOverlap = desc.info.numActionsSkippedOverlap;
    view.missedCatchupWindow = desc.info.numActionsMissedCatchupWindow;
    view.running = desc.info.runningActions.map((a) => ({
      workflowId: a.workflow.workflowId,
      scheduledAt: nominalTimeFromWorkflowId(a.workflow.workflowId, id)?.toISOString() ?? null,
    }));
    const temporal = await this.temporal();
    const recent = desc.info.recentActions.slice(-RECENT_ACTIONS).reverse();
    view.recentActions = await Promise.all(
      recent.map(async (a): Promise<ScheduleAction> => {
        const workflowId = a.action.workflow.workflowId;
        const nominal = nominalTimeFromWorkflowId(workflowId, id) ?? a.scheduledAt;
        let runStatus: string | null = null;
        try {
          runStatus = (await temporal.workflow.getHandle(workflowId).describe()).status.name;
        } catch {
          // Closed long ago and gone from Temporal's retention: the deliveries table still knows.
        }
        return {
          scheduledAt: nominal.toISOString(),
          takenAt: a.takenAt.toISOString(),
          workflowId,
          runStatus,
          deliveries: await this.roundDeliveries(id, memo, nominal),
        };
      }),
    );
    return view;
  }

  /** The deliveries one run made: same dataset, id stamped with the run's time and hashed with this schedule. */
  async roundDeliveries(scheduleId: string, memo: ScheduleMemo, scheduledAt: Date): Promise<RoundDeliveries> {
    const stamp = `${deliveryStamp(scheduledAt)}-`;
    const { rows } = await this.ds.metaPool.query<{
      id: string;
      profile_id: string;
      status: DeliveryStatus;
      error_type: string | null;
      error_message: string | null;
    }>(
      `SELECT id, profile_id, status, error_type, error_message FROM deliveries
       WHERE dataset_id = $1 AND left(id, $3) = $2 ${memo.target.kind === 'profile' ? 'AND profile_id = $4' : ''} ORDER BY profile_id`,
      [memo.datasetId, stamp, stamp.length, ...(memo.target.kind === 'profile' ? [memo.target.profileId] : [])],
    );
    const out: RoundDeliveries = { total: 0, running: 0, completed: 0, failed: 0, cancelled: 0, deliveryIds: [], failures: [] };
    for (const r of rows) {
      if (r.id.slice(stamp.length) !== scheduledDeliverySuffix(scheduleId, r.profile_id)) continue;
      out.total++;
      out[r.status]++;
      out.deliveryIds.push(r.id);
      if (r.error_type) out.failures.push({ deliveryId: r.id, profileId: r.profile_id, error: { type: r.error_type, message: r.error_message ?? '' } });
    }
    return out;
  }

  async pause(id: string, note?: string): Promise<ScheduleView> {
    const { handle } = await this.handle(id);
    await handle.pause(note ?? 'paused with datashare schedule pause');
    return this.settled(id, true);
  }

  async unpause(id: string, note?: string): Promise<ScheduleView> {
    const { handle } = await this.handle(id);
    await handle.unpause(note ?? 'unpaused with datashare schedule unpause');
    return this.settled(id, false);
  }

  /**
   * Temporal applies a pause or unpause asynchronously; describe shows it a moment
   * later. Polls the cheap describe, then builds the full view once.
   */
  private async settled(id: string, paused: boolean): Promise<ScheduleView> {
    for (let i = 0; i < 50 && (await this.handle(id)).desc.state.paused !== paused; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.show(id);
  }

  /**
   * Starts a run now. By default under the schedule's own overlap policy (the SDK's
   * default would be allow-all): with `skip`, a trigger while a run is in progress
   * does nothing. Returns the runs in progress at the time of the trigger.
   */
  async trigger(id: string, overlap?: OverlapName): Promise<{ id: string; overlap: OverlapName; runningBefore: string[] }> {
    const { handle, desc } = await this.handle(id);
    const effective = overlap ?? overlapName(desc.policies.overlap);
    await handle.trigger(OVERLAP_POLICIES[effective]);
    return { id, overlap: effective, runningBefore: desc.info.runningActions.map((a) => a.workflow.workflowId) };
  }

  /**
   * Takes the runs the schedule would have taken between `from` and `to`, now.
   * Each gets the delivery ids of its own scheduled time, so backfilling a period
   * that already ran delivers nothing twice. Default overlap: buffer-all, one run
   * after the other (skip would drop all but the first).
   */
  async backfill(id: string, from: Date, to: Date, overlap: OverlapName = 'buffer-all'): Promise<{ id: string; from: string; to: string; overlap: OverlapName }> {
    if (!(from.getTime() < to.getTime())) throw new ValidationError('--from must be before --to');
    if (to.getTime() > Date.now() + 60_000) throw new ValidationError('--to is in the future; backfill covers past periods (trigger runs one now)');
    const { handle } = await this.handle(id);
    await handle.backfill({ start: from, end: to, overlap: OVERLAP_POLICIES[overlap] });
    return { id, from: from.toISOString(), to: to.toISOString(), overlap };
  }

  /** Deletes the schedule; runs in progress finish on their own. */
  async delete(id: string): Promise<{ id: string; deleted: true; stillRunning: string[] }> {
    const { handle, desc } = await this.handle(id);
    await handle.delete();
    return { id, deleted: true, stillRunning: desc.info.runningActions.map((a) => a.workflow.workflowId) };
  }
}

function baseView(id: string, memo: ScheduleMemo, s: ScheduleSummary | ScheduleDescription): ScheduleView {
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
