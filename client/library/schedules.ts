import { effectiveCompression } from '../../common/contracts/delivery';
import { checkFormatCompression } from './file-format';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type ScheduleDescription,
  type ScheduleHandle,
} from '@temporalio/client';
import {
  deliveryStamp,
  nominalTimeFromWorkflowId,
  profileScheduleId,
  scheduledDeliverySuffix,
  whereScheduleId,
} from '../../common/contracts/schedule-ids';
import type { FanOutInput, ScheduledDeliveryInput } from '../../common/contracts/schedules';
import { deliverableDestination } from '../../common/domain/destination';
import { formatDuration } from '../../common/domain/durations';
import { ConflictError, NotFoundError, ValidationError } from '../../common/errors';
import * as datasets from '../../common/store/datasets';
import { checkFanOutTenancy } from '../../common/domain/dataset-guards';
import { countMatchingProfiles } from '../../common/store/profile-filter';
import * as profiles from '../../common/store/profiles';
import { listInstances } from '../../common/store/instances';
import { profileTaskQueue } from '../../common/store/profile-instance';
import { listRoundDeliveries } from '../../common/store/round-deliveries';
import { fanOutDeliveryWorkflow, scheduledDeliveryWorkflow } from '../../workflows';
import type { LibraryDeps } from './library-deps';
import { OVERLAP_POLICIES, overlapName, type OverlapName } from './overlap-policies';
import { pollUntil } from './poll-until';
import { checkScheduleInput, scheduleOptions, type ScheduleCreateInput } from './schedule-input';
import {
  baseView,
  memoOf,
  type RoundDeliveries,
  type ScheduleAction,
  type ScheduleMemo,
  type ScheduleView,
} from './schedule-view';

/** How many recent runs `show` looks up deliveries for (Temporal keeps the last 10). */
const RECENT_ACTIONS = 10;

/** Temporal's gRPC INVALID_ARGUMENT (code 3), however deep the SDK wrapped it: its details say what was refused. */
function isInvalidArgument(e: unknown): string | undefined {
  let c: unknown = e;
  for (let i = 0; i < 5 && typeof c === 'object' && c !== null; i++) {
    const x = c as { code?: unknown; details?: unknown; cause?: unknown };
    if (x.code === 3) return typeof x.details === 'string' ? x.details : String((c as Error).message);
    c = x.cause;
  }
  return undefined;
}

/**
 * Recurring deliveries as Temporal Schedules. Temporal keeps the schedule (its
 * spec, pause state, recent and upcoming runs); datashare keeps only the
 * deliveries, whose ids derive from each run's scheduled time.
 */
export class Schedules {
  constructor(private readonly deps: Pick<LibraryDeps, 'config' | 'metaPool' | 'temporal'>) {}

  /** Checks what can be checked, then creates the schedule; nothing is created when a check fails. */
  async create(request: ScheduleCreateInput): Promise<ScheduleView> {
    const input = checkScheduleInput(request);
    const { datasetId, target, maxParallel, pageSize } = input;
    const dataset = await datasets.getDataset(this.deps.metaPool, datasetId);
    if (input.format !== undefined || input.compression !== undefined) {
      const format = input.format ?? dataset.format;
      checkFormatCompression(format, effectiveCompression(format, input.compression, dataset));
    }
    let scheduleId: string;
    // A profile's runs go to its instance's queue; a fan-out round to DATASHARE_TASK_QUEUE, and each of
    // its deliveries to its own profile's instance (registerDeliveries says which).
    let taskQueue = this.deps.config.taskQueue;
    if (target.kind === 'profile') {
      // As `share` does: a schedule that can only fail is refused now, not at 2 a.m.
      const profile = await profiles.getProfile(this.deps.metaPool, target.profileId);
      deliverableDestination(profile, dataset.sql);
      taskQueue = await profileTaskQueue(this.deps.metaPool, profile, taskQueue);
      scheduleId = profileScheduleId(target.profileId, datasetId);
    } else {
      checkFanOutTenancy(dataset);
      scheduleId = whereScheduleId(target.where, datasetId);
    }

    const common = scheduleOptions(scheduleId, input, taskQueue);
    const overrides = {
      ...(input.format ? { format: input.format } : {}),
      ...(input.compression ? { compression: input.compression } : {}),
    };
    // Temporal appends each run's nominal time to this id: `datashare:acme:orders-2026-11-27T02:00:00Z`.
    const actionBase = {
      type: 'startWorkflow' as const,
      taskQueue,
      workflowId: scheduleId,
    };
    const temporal = await this.deps.temporal.client();
    try {
      if (target.kind === 'profile') {
        const args: [ScheduledDeliveryInput] = [{ scheduleId, profileId: target.profileId, datasetId, ...overrides }];
        await temporal.schedule.create({
          ...common,
          action: { ...actionBase, workflowType: scheduledDeliveryWorkflow, args },
        });
      } else {
        const args: [FanOutInput] = [
          {
            scheduleId,
            datasetId,
            where: target.where,
            maxParallel,
            ...(request.pageSize ? { pageSize } : {}),
            ...overrides,
          },
        ];
        await temporal.schedule.create({
          ...common,
          action: { ...actionBase, workflowType: fanOutDeliveryWorkflow, args },
        });
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
      throw new ValidationError(
        `the schedule would never run: no time matches ${input.cron !== undefined ? `--cron "${input.cron}"` : '--every'}`,
      );
    }
    // show() counts the matching profiles of a --where schedule.
    return this.show(scheduleId);
  }

  private async handle(id: string): Promise<{ handle: ScheduleHandle; desc: ScheduleDescription; memo: ScheduleMemo }> {
    const handle = (await this.deps.temporal.client()).schedule.getHandle(id);
    let desc: ScheduleDescription;
    try {
      desc = await handle.describe();
    } catch (e) {
      if (e instanceof ScheduleNotFoundError)
        throw new NotFoundError(`no schedule "${id}"; list them with: datashare schedule list`);
      throw e;
    }
    const memo = memoOf(desc.memo);
    if (!memo) throw new NotFoundError(`schedule "${id}" exists in Temporal but was not created by datashare`);
    return { handle, desc, memo };
  }

  /** This deployment's schedules (those whose runs go to DATASHARE_TASK_QUEUE or an instance's queue), by id. */
  async list(): Promise<ScheduleView[]> {
    const out: ScheduleView[] = [];
    const queues = new Set([
      this.deps.config.taskQueue,
      ...(await listInstances(this.deps.metaPool)).map((i) => i.taskQueue),
    ]);
    for await (const s of (await this.deps.temporal.client()).schedule.list()) {
      const memo = memoOf(s.memo);
      if (!memo || !queues.has(memo.taskQueue)) continue;
      out.push(baseView(s.scheduleId, memo, s));
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  async show(id: string): Promise<ScheduleView> {
    const { desc, memo } = await this.handle(id);
    const view = baseView(id, memo, desc);
    view.overlap = overlapName(desc.policies.overlap);
    view.catchupWindow = formatDuration(desc.policies.catchupWindow);
    if (memo.target.kind === 'where')
      view.matchingProfiles = await countMatchingProfiles(this.deps.metaPool, memo.target.where);
    view.createdAt = desc.info.createdAt.toISOString();
    view.actionsTaken = desc.info.numActionsTaken;
    view.skippedOverlap = desc.info.numActionsSkippedOverlap;
    view.missedCatchupWindow = desc.info.numActionsMissedCatchupWindow;
    view.running = desc.info.runningActions.map((a) => ({
      workflowId: a.workflow.workflowId,
      scheduledAt: nominalTimeFromWorkflowId(a.workflow.workflowId, id)?.toISOString() ?? null,
    }));
    const temporal = await this.deps.temporal.client();
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
    const rows = await listRoundDeliveries(this.deps.metaPool, {
      datasetId: memo.datasetId,
      idPrefix: stamp,
      ...(memo.target.kind === 'profile' ? { profileId: memo.target.profileId } : {}),
    });
    const out: RoundDeliveries = {
      total: 0,
      running: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
      deliveryIds: [],
      failures: [],
    };
    for (const r of rows) {
      if (r.id.slice(stamp.length) !== scheduledDeliverySuffix(scheduleId, r.profileId)) continue;
      out.total++;
      out[r.status]++;
      out.deliveryIds.push(r.id);
      if (r.errorType)
        out.failures.push({
          deliveryId: r.id,
          profileId: r.profileId,
          error: { type: r.errorType, message: r.errorMessage ?? '' },
        });
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
    await pollUntil(
      () => this.handle(id),
      ({ desc }) => desc.state.paused === paused,
      { everyMs: 100, timeoutMs: 5_000 },
    );
    return this.show(id);
  }

  /**
   * Starts a run now. By default under the schedule's own overlap policy (the SDK's
   * default would be allow-all): with `skip`, a trigger while a run is in progress
   * does nothing. Returns the runs in progress at the time of the trigger.
   */
  async trigger(
    id: string,
    overlap?: OverlapName,
  ): Promise<{ id: string; overlap: OverlapName; runningBefore: string[] }> {
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
  async backfill(
    id: string,
    from: Date,
    to: Date,
    overlap: OverlapName = 'buffer-all',
  ): Promise<{ id: string; from: string; to: string; overlap: OverlapName }> {
    if (!(from.getTime() < to.getTime())) throw new ValidationError('--from must be before --to');
    if (to.getTime() > Date.now() + 60_000)
      throw new ValidationError('--to is in the future; backfill covers past periods (trigger runs one now)');
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
