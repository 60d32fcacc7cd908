import type { Pool } from 'pg';
import { getDataset } from '../common/store/datasets';
import { getProfile } from '../common/store/profiles';
import type { ExportPlan } from '../common/types';
import { asQueryError, beginReadOnly, describeDataset } from './source-query';

export interface ExportDatasetInput {
  profileId: string;
  datasetId: string;
}

/**
 * Plans the export: runs the dataset's SQL for this profile without fetching rows,
 * to learn its columns and types and to fail fast on bad SQL or key columns.
 */
export async function exportDataset(deps: { metaPool: Pool; sourcePool: Pool }, input: ExportDatasetInput): Promise<ExportPlan> {
  const profile = await getProfile(deps.metaPool, input.profileId);
  const dataset = await getDataset(deps.metaPool, input.datasetId);
  const client = await deps.sourcePool.connect();
  try {
    await beginReadOnly(client);
    const columns = await describeDataset(client, {
      sql: dataset.sql,
      keyColumns: dataset.keyColumns,
      properties: profile.properties,
      profileId: profile.id,
    }).catch((e: unknown) => {
      throw asQueryError(e, `dataset "${dataset.id}" failed for profile "${profile.id}"`);
    });
    return { columns, keyColumns: dataset.keyColumns };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}
