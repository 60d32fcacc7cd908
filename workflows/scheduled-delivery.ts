import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { scheduledDeliveryId } from '../common/contracts/schedule-ids';
import type { RoundSummary, ScheduledDeliveryInput } from '../common/contracts/schedules';
import { emptySummary, registerDeliveries, roundProgressQuery, runDeliveries, scheduledTime } from './scheduled-round';

/**
 * One scheduled run of a profile schedule (`datashare schedule create <profile>
 * <dataset>`): registers the delivery under the id derived from the scheduled
 * time, then runs it as a child `deliveryWorkflow` and waits for it, so the
 * schedule's overlap policy sees a slow delivery as a running action.
 *
 * A failed delivery does not fail the run: it is recorded (and replayable) like
 * any other delivery, and the run's result says what happened.
 */
export async function scheduledDeliveryWorkflow(input: ScheduledDeliveryInput): Promise<RoundSummary> {
  const scheduledAt = scheduledTime(input.scheduleId);
  const summary = emptySummary(input.scheduleId, input.datasetId, scheduledAt);
  const progress = { running: 0 };
  setHandler(roundProgressQuery, () => ({ ...summary, running: progress.running }));

  summary.profiles = 1;
  const { deliveries } = await registerDeliveries({
    scheduleId: input.scheduleId,
    datasetId: input.datasetId,
    scheduledAt: summary.scheduledAt,
    profileIds: [input.profileId],
    ...(input.format ? { format: input.format } : {}),
    ...(input.compression ? { compression: input.compression } : {}),
  });
  // The id the activity derived must be the one this run would derive: both use the same function.
  if (deliveries[0]?.deliveryId !== scheduledDeliveryId(input.scheduleId, input.profileId, scheduledAt)) {
    throw ApplicationFailure.nonRetryable('registered delivery id does not match the scheduled time', 'InternalError');
  }
  await runDeliveries(deliveries, input.datasetId, 1, summary, progress);
  return summary;
}
