/**
 * What every scheduled run shares: its scheduled time, the activities that list
 * profiles and register deliveries, and running the child deliveries.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import {
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
  defineSearchAttributeKey,
} from '@temporalio/common';
import type { Activities } from '../activities';
import { nominalTimeFromWorkflowId } from '../common/contracts/schedule-ids';
import type { RegisteredDelivery, RoundSummary } from '../common/contracts/schedules';
import { workflowIdFor, type DeliveryInput } from '../common/contracts/delivery';
import { PERMANENT_ERROR_TYPES } from '../common/errors';
import type { deliveryWorkflow } from './delivery';

export const { listProfilesPage, registerDeliveries } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [...PERMANENT_ERROR_TYPES],
  },
});

/** A scheduled delivery runs on its profile's instance's task queue (issue 14, instances). */
const CHILD_ON_INSTANCE_QUEUE = 'child-on-instance-queue';

/** How many failures a round's result lists by name; the deliveries table has them all. */
const FAILURES_LISTED = 20;

/** Set by Temporal on every run a schedule starts: the nominal time of that run (not the time it really started). */
const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * The time this run was scheduled for: the `TemporalScheduledStartTime` search
 * attribute the schedule sets (the nominal time, also of a trigger or a backfill),
 * else the time Temporal appended to the workflow id, else (a run started by
 * hand, outside a schedule) the workflow's start time. All three come from
 * history, so a replay derives the same time and therefore the same delivery ids.
 */
export function scheduledTime(scheduleId: string): Date {
  const info = workflowInfo();
  const typed = info.typedSearchAttributes.get(SCHEDULED_START_TIME);
  if (typed instanceof Date && !Number.isNaN(typed.getTime())) return typed;
  return nominalTimeFromWorkflowId(info.workflowId, scheduleId) ?? info.startTime;
}

export interface RoundProgress extends RoundSummary {
  /** Child deliveries running right now. */
  running: number;
}

export const roundProgressQuery = defineQuery<RoundProgress>('roundProgress');

export function emptySummary(scheduleId: string, datasetId: string, scheduledAt: Date): RoundSummary {
  return {
    scheduleId,
    datasetId,
    scheduledAt: scheduledAt.toISOString(),
    profiles: 0,
    started: 0,
    completed: 0,
    failed: 0,
    skipped: 0,
    failures: [],
    continuedAsNew: 0,
  };
}

function failureOf(err: unknown): { type: string; message: string } {
  // ChildWorkflowFailure → ActivityFailure → ApplicationFailure: the innermost typed cause says what happened.
  let e: unknown = err;
  while (e instanceof ChildWorkflowFailure || e instanceof ActivityFailure) {
    if (!e.cause) break;
    e = e.cause;
  }
  if (e instanceof ApplicationFailure) return { type: e.type ?? 'Error', message: e.message };
  if (e instanceof Error) return { type: e.name, message: e.message };
  return { type: 'Error', message: String(e) };
}

/**
 * Starts one child delivery per registered row, at most `maxParallel` at once,
 * and waits for all of them. Each child is the ordinary delivery workflow under
 * its deterministic id; Temporal refuses to run a completed one twice.
 */
export async function runDeliveries(
  registered: RegisteredDelivery[],
  datasetId: string,
  maxParallel: number,
  summary: RoundSummary,
  progress: { running: number },
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < registered.length) {
      const d = registered[next++];
      if (!d.start) {
        summary.skipped++;
        continue;
      }
      const input: DeliveryInput = {
        deliveryId: d.deliveryId,
        profileId: d.profileId,
        datasetId,
        format: d.format,
        compression: d.compression,
      };
      let handle;
      try {
        handle = await startChild<typeof deliveryWorkflow>('deliveryWorkflow', {
          workflowId: workflowIdFor(d.deliveryId),
          args: [input],
          // As `datashare share`: a completed delivery is never sent twice.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          // Cancelling or terminating a round (overlap cancel-other/terminate-other) cancels its
          // deliveries cleanly, so each records itself cancelled.
          parentClosePolicy: 'REQUEST_CANCEL',
          // The profile's instance's workers, not the round's: a patch, as histories before it had no queue here.
          ...(d.taskQueue && patched(CHILD_ON_INSTANCE_QUEUE) ? { taskQueue: d.taskQueue } : {}),
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          summary.skipped++;
          continue;
        }
        throw err;
      }
      summary.started++;
      progress.running++;
      try {
        const result = await handle.result();
        summary.completed++;
        // Data only, no command: replaying a history from before this field gives the same commands.
        if (result.retries) summary.retries = (summary.retries ?? 0) + result.retries;
      } catch (err) {
        if (isCancellation(err)) throw err;
        summary.failed++;
        if (summary.failures.length < FAILURES_LISTED) {
          summary.failures.push({ profileId: d.profileId, deliveryId: d.deliveryId, ...failureOf(err) });
        }
      } finally {
        progress.running--;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(maxParallel, registered.length)) }, lane));
}
