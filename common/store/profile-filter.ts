import type { Pool, PoolClient } from 'pg';

type Queryable = Pool | PoolClient;

/**
 * Profiles whose properties contain every pair of `where` (jsonb containment:
 * exact, case-sensitive string equality), one page at a time in id order.
 */
export async function matchingProfileIds(
  db: Queryable,
  where: Record<string, string>,
  afterId: string,
  limit: number,
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM profiles WHERE properties @> $1::jsonb AND id > $2 ORDER BY id LIMIT $3`,
    [JSON.stringify(where), afterId, limit],
  );
  return rows.map((r) => r.id);
}

export async function countMatchingProfiles(db: Queryable, where: Record<string, string>): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM profiles WHERE properties @> $1::jsonb`, [
    JSON.stringify(where),
  ]);
  return Number(rows[0]?.n ?? 0);
}
