import type { Harness } from './harness';
import { createBucket, createEndUserRole, endUserProfile, uniqueName } from '../../scripts/local/end-user-account';

/**
 * What the fault tests deliver: `rows` rows of md5 text padded to about 140 bytes (so a
 * few tens of MB make several parts), as dataset `dataset`, to a new bucket of the
 * other account whose role may write under `prefix`. Returns the bucket and profile.
 */
export async function paddedDelivery(
  h: Harness,
  opts: { name: string; dataset: string; rows: number; prefix: string },
): Promise<{ bucket: string; profile: string }> {
  const table = uniqueName(`${opts.name}_rows`).replace(/-/g, '_');
  await h.pool.query(
    `CREATE TABLE ${table} AS SELECT g AS id, md5(g::text) || repeat(' pad', 25) AS v FROM generate_series(1, ${opts.rows}) g`,
  );
  await h.ds.setDataset(opts.dataset, {
    sql: `SELECT * FROM ${table}`,
    keyColumns: ['id'],
    compression: 'none',
    sameForEveryone: true,
  });
  const bucket = uniqueName(opts.name);
  await createBucket('other', bucket);
  const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: opts.prefix });
  const profile = (await h.ds.setProfile(uniqueName(`${opts.name}-p`), endUserProfile(role, bucket, opts.prefix))).id;
  return { bucket, profile };
}
