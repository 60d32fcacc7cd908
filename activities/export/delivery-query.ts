import type { Pool } from 'pg';
import { getDataset, type DatasetRow } from '../../common/store/datasets';
import { deliveryWindow } from '../../common/store/deliveries';
import { getProfile, type ProfileRow } from '../../common/store/profiles';
import type { DatasetQuery } from './source-query';

/** The query one delivery runs: the dataset's SQL for this profile, within the delivery's window if incremental. */
export async function deliveryQuery(
  metaPool: Pool,
  deliveryId: string,
  dataset: DatasetRow,
  profile: ProfileRow,
): Promise<DatasetQuery> {
  const q: DatasetQuery = {
    sql: dataset.sql,
    keyColumns: dataset.keyColumns,
    properties: profile.properties,
    profileId: profile.id,
  };
  if (!dataset.incrementalColumn) return q;
  const w = await deliveryWindow(metaPool, deliveryId);
  // A delivery created before the dataset became incremental has no window: it sends everything.
  return w.to ? { ...q, window: { column: dataset.incrementalColumn, from: w.from, to: w.to } } : q;
}

/**
 * Everything an activity reads from our database to run a delivery's query, read
 * before it takes a source connection; `hint` prefixes the dataset's SQL errors.
 */
export async function loadDeliveryQuery(
  metaPool: Pool,
  input: { deliveryId: string; profileId: string; datasetId: string },
): Promise<{ q: DatasetQuery; dataset: DatasetRow; profile: ProfileRow; hint: string }> {
  const profile = await getProfile(metaPool, input.profileId);
  const dataset = await getDataset(metaPool, input.datasetId);
  const q = await deliveryQuery(metaPool, input.deliveryId, dataset, profile);
  return { q, dataset, profile, hint: `dataset "${dataset.id}" failed for profile "${profile.id}"` };
}
