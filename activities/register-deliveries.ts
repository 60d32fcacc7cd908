import type { Pool } from 'pg';
import {
  COMPRESSIONS,
  DEFAULT_COMPRESSION,
  FORMATS,
  compressionProblem,
  effectiveCompression,
  workflowIdFor,
  type Compression,
  type Format,
} from '../common/contracts/delivery';
import { scheduledDeliveryId } from '../common/contracts/schedule-ids';
import type { RegisterDeliveriesInput, RegisteredDelivery } from '../common/contracts/schedules';
import { getDataset } from '../common/store/datasets';
import { deliveryStatuses, findDelivery, insertDelivery } from '../common/store/deliveries';
import { listInstances } from '../common/store/instances';
import { profileInstance } from '../common/store/profile-instance';
import { findProfile } from '../common/store/profiles';

const UNIQUE_VIOLATION = '23505';

/**
 * Each profile's instance's task queue, for the profiles that belong to one (none
 * without instances). A profile that cannot be placed (deleted, or ambiguous) gets
 * none: its delivery then fails in loadProfile with the reason, on the round's queue.
 */
async function instanceQueues(metaPool: Pool, profileIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if ((await listInstances(metaPool)).length === 0) return out;
  for (const id of profileIds) {
    const profile = await findProfile(metaPool, id);
    const instance = profile ? await profileInstance(metaPool, profile).catch(() => undefined) : undefined;
    if (instance) out.set(id, instance.taskQueue);
  }
  return out;
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === UNIQUE_VIOLATION;
}

/**
 * Inserts the `deliveries` rows of one scheduled run before its child workflows
 * start, exactly as `Datashare.share` does before it starts a delivery. Ids come
 * from the run's scheduled time, so this is idempotent: an activity retry or a
 * duplicated run finds the rows it already wrote and reports them instead of
 * delivering twice.
 */
export async function registerDeliveries(
  metaPool: Pool,
  input: RegisterDeliveriesInput,
): Promise<{ deliveries: RegisteredDelivery[] }> {
  // The dataset as it is now: a format changed since the schedule was created applies to the next run.
  const dataset = await getDataset(metaPool, input.datasetId);
  const format: Format = input.format && FORMATS.includes(input.format) ? input.format : dataset.format;
  const asked = input.compression && COMPRESSIONS.includes(input.compression) ? input.compression : undefined;
  let compression: Compression = effectiveCompression(format, asked, dataset);
  // The dataset's format changed since the schedule was made, to one its codec does not fit: the format's default, not a failed run.
  if (compressionProblem(format, compression)) compression = DEFAULT_COMPRESSION[format];
  const scheduledAt = new Date(input.scheduledAt);
  if (Number.isNaN(scheduledAt.getTime())) throw new Error(`scheduledAt "${input.scheduledAt}" is not a time`);

  const ids = input.profileIds.map((profileId) => ({
    profileId,
    deliveryId: scheduledDeliveryId(input.scheduleId, profileId, scheduledAt),
  }));
  const existing = new Map(
    (
      await deliveryStatuses(
        metaPool,
        ids.map((d) => d.deliveryId),
      )
    ).map((r) => [r.id, r]),
  );

  const queues = await instanceQueues(metaPool, input.profileIds);
  const out: RegisteredDelivery[] = [];
  for (const { profileId, deliveryId } of ids) {
    const queue = queues.get(profileId);
    const taskQueue = queue ? { taskQueue: queue } : {};
    let found = existing.get(deliveryId);
    if (!found) {
      try {
        await insertDelivery(metaPool, {
          id: deliveryId,
          workflowId: workflowIdFor(deliveryId),
          profileId,
          datasetId: input.datasetId,
          format,
          compression,
          // An incremental dataset's window ends at the scheduled time, not whenever the run got to it.
          windowTo: scheduledAt,
          scheduleId: input.scheduleId,
        });
        out.push({ profileId, deliveryId, format, compression, start: true, ...taskQueue });
        continue;
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        const row = await findDelivery(metaPool, deliveryId);
        if (!row) throw e;
        found = { id: row.id, status: row.status, format: row.format, compression: row.compression };
      }
    }
    // A row from an earlier attempt of this very run. Only a delivery still marked
    // running may need its workflow (re)started; Temporal's id reuse policy then
    // refuses to run a completed one twice.
    out.push({
      profileId,
      deliveryId,
      format: found.format,
      compression: found.compression,
      start: found.status === 'running',
      existing: found.status,
      ...taskQueue,
    });
  }
  return { deliveries: out };
}
