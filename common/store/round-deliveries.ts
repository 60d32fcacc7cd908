import type { Pool, PoolClient } from 'pg';
import type { DeliveryStatus } from '../contracts/delivery';

type Queryable = Pool | PoolClient;

export interface StampedDelivery {
  id: string;
  profileId: string;
  status: DeliveryStatus;
  errorType: string | null;
  errorMessage: string | null;
}

/**
 * The deliveries of a dataset whose id starts with `idPrefix` (a scheduled run's
 * time stamp), of one profile or of all, in profile order. Other schedules' runs
 * at the same time share the prefix: the caller tells its own apart by the rest
 * of the id.
 */
export async function listRoundDeliveries(
  db: Queryable,
  q: { datasetId: string; idPrefix: string; profileId?: string },
): Promise<StampedDelivery[]> {
  const { rows } = await db.query<{
    id: string;
    profile_id: string;
    status: DeliveryStatus;
    error_type: string | null;
    error_message: string | null;
  }>(
    `SELECT id, profile_id, status, error_type, error_message FROM deliveries
     WHERE dataset_id = $1 AND left(id, $3) = $2 ${q.profileId !== undefined ? 'AND profile_id = $4' : ''} ORDER BY profile_id`,
    [q.datasetId, q.idPrefix, q.idPrefix.length, ...(q.profileId !== undefined ? [q.profileId] : [])],
  );
  return rows.map((r) => ({
    id: r.id,
    profileId: r.profile_id,
    status: r.status,
    errorType: r.error_type,
    errorMessage: r.error_message,
  }));
}
