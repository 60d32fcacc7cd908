import { continueAsNew, setHandler } from '@temporalio/workflow';
import type { FanOutInput, RoundSummary } from '../common/contracts/schedules';
import {
  emptySummary,
  listProfilesPage,
  registerDeliveries,
  roundProgressQuery,
  runDeliveries,
  scheduledTime,
} from './scheduled-round';

/** Profiles per workflow run: bounds a run's history to a few thousand events whatever the number of end users. */
export const DEFAULT_PAGE_SIZE = 500;
export const DEFAULT_MAX_PARALLEL = 20;

/**
 * One scheduled run of a `--where` schedule: every profile whose properties
 * match the filter *now* (so profiles added since the schedule was created are
 * included) gets the dataset, as one child `deliveryWorkflow` each, at most
 * `maxParallel` at once.
 *
 * Profiles are taken in id order, one page (`pageSize`, default 500) per
 * workflow run: list the page, register its deliveries, run them, then continue
 * as new with the last id done. Each run's history therefore holds at most one
 * page of children (about 8 events each), however many end users match; the
 * schedule follows the continue-as-new chain, so its overlap policy still sees
 * the whole round as one running action.
 */
export async function fanOutDeliveryWorkflow(input: FanOutInput): Promise<RoundSummary> {
  const scheduledAt = input.resume ? new Date(input.resume.scheduledAt) : scheduledTime(input.scheduleId);
  const summary: RoundSummary = input.resume?.summary ?? emptySummary(input.scheduleId, input.datasetId, scheduledAt);
  const progress = { running: 0 };
  setHandler(roundProgressQuery, () => ({ ...summary, running: progress.running }));
  const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;

  const { profileIds } = await listProfilesPage({
    where: input.where,
    afterProfileId: input.resume?.afterProfileId ?? '',
    limit: pageSize,
  });
  if (profileIds.length === 0) return summary;
  summary.profiles += profileIds.length;

  const { deliveries } = await registerDeliveries({
    scheduleId: input.scheduleId,
    datasetId: input.datasetId,
    scheduledAt: summary.scheduledAt,
    profileIds,
    ...(input.format ? { format: input.format } : {}),
    ...(input.compression ? { compression: input.compression } : {}),
  });
  await runDeliveries(deliveries, input.datasetId, input.maxParallel, summary, progress);

  // A short page is the last one; a full page may have more after it.
  if (profileIds.length < pageSize) return summary;
  summary.continuedAsNew++;
  return continueAsNew<typeof fanOutDeliveryWorkflow>({
    ...input,
    resume: { scheduledAt: summary.scheduledAt, afterProfileId: profileIds[profileIds.length - 1], summary },
  });
}
