import type { Pool, PoolClient } from 'pg';

type Queryable = Pool | PoolClient;

/** One uploaded part of a file: what CompleteMultipartUpload needs, and what proves a regenerated part is the same. */
export interface PartRecord {
  n: number;
  etag: string;
  bytes: number;
  rows: number;
  sha256: string;
}

export interface FileCheckpoint {
  key: string;
  uploadId: string;
  parts: PartRecord[];
}

export async function saveRanges(db: Pool, deliveryId: string, boundaries: string[][]): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query('DELETE FROM delivery_ranges WHERE delivery_id = $1', [deliveryId]);
    const uppers: (string[] | null)[] = [...boundaries, null];
    // One statement for all ranges: a big share has thousands.
    await client.query(
      `INSERT INTO delivery_ranges (delivery_id, range_index, upper_key)
       SELECT $1, i - 1, CASE WHEN u = '' THEN NULL ELSE u::text[] END
       FROM unnest($2::text[]) WITH ORDINALITY AS x(u, i)`,
      [deliveryId, uppers.map((u) => (u ? toPgArray(u) : ''))],
    );
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

function toPgArray(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** The key range of one file: after the previous range's upper key, up to its own. */
export async function loadRange(
  db: Queryable,
  deliveryId: string,
  index: number,
): Promise<{ lower: string[] | null; upper: string[] | null }> {
  const { rows } = await db.query<{ range_index: number; upper_key: string[] | null }>(
    'SELECT range_index, upper_key FROM delivery_ranges WHERE delivery_id = $1 AND range_index IN ($2, $3)',
    [deliveryId, index - 1, index],
  );
  const own = rows.find((r) => r.range_index === index);
  if (!own) throw new Error(`delivery ${deliveryId} has no range ${index}; was the export planned?`);
  return { lower: rows.find((r) => r.range_index === index - 1)?.upper_key ?? null, upper: own.upper_key };
}

/**
 * The plan of an earlier attempt, if it still holds: ranges exist and every file
 * recorded complete lies in the delivery's current folder. Otherwise the old
 * files and checkpoints are forgotten (they belong to another prefix).
 */
export async function keptPlan(
  db: Queryable,
  deliveryId: string,
): Promise<{ fileCount: number; estimatedRows: number } | undefined> {
  const { rows } = await db.query<{
    ranges: number;
    folder: string | null;
    estimated_rows: string | null;
    stray: number;
  }>(
    `SELECT CASE WHEN d.file_count IS NULL THEN 0 ELSE (SELECT count(*)::int FROM delivery_ranges r WHERE r.delivery_id = d.id) END AS ranges,
            d.folder, d.estimated_rows,
            (SELECT count(*)::int FROM delivery_files f WHERE f.delivery_id = d.id AND left(f.key, length(d.folder)) <> d.folder) AS stray
     FROM deliveries d WHERE d.id = $1`,
    [deliveryId],
  );
  const r = rows[0];
  if (r && r.ranges > 0 && r.stray === 0) return { fileCount: r.ranges, estimatedRows: Number(r.estimated_rows ?? 0) };
  await db.query('DELETE FROM delivery_files WHERE delivery_id = $1', [deliveryId]);
  await clearCheckpoints(db, deliveryId);
  return undefined;
}

export async function saveCheckpoint(
  db: Queryable,
  deliveryId: string,
  fileIndex: number,
  c: FileCheckpoint,
): Promise<void> {
  await db.query(
    `INSERT INTO delivery_checkpoints (delivery_id, file_index, key, upload_id, parts) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (delivery_id, file_index) DO UPDATE SET key = EXCLUDED.key, upload_id = EXCLUDED.upload_id,
       parts = EXCLUDED.parts, updated_at = now()`,
    [deliveryId, fileIndex, c.key, c.uploadId, JSON.stringify(c.parts)],
  );
}

export async function loadCheckpoint(
  db: Queryable,
  deliveryId: string,
  fileIndex: number,
): Promise<FileCheckpoint | undefined> {
  const { rows } = await db.query<{ key: string; upload_id: string; parts: PartRecord[] }>(
    'SELECT key, upload_id, parts FROM delivery_checkpoints WHERE delivery_id = $1 AND file_index = $2',
    [deliveryId, fileIndex],
  );
  const r = rows[0];
  return r ? { key: r.key, uploadId: r.upload_id, parts: r.parts } : undefined;
}

export async function clearCheckpoint(db: Queryable, deliveryId: string, fileIndex: number): Promise<void> {
  await db.query('DELETE FROM delivery_checkpoints WHERE delivery_id = $1 AND file_index = $2', [
    deliveryId,
    fileIndex,
  ]);
}

/** Every checkpoint of a delivery (a cancel has aborted their uploads, a new plan replaces them). */
export async function clearCheckpoints(db: Queryable, deliveryId: string): Promise<void> {
  await db.query('DELETE FROM delivery_checkpoints WHERE delivery_id = $1', [deliveryId]);
}

export async function openCheckpoints(db: Queryable, deliveryId: string): Promise<FileCheckpoint[]> {
  const { rows } = await db.query<{ key: string; upload_id: string; parts: PartRecord[] }>(
    'SELECT key, upload_id, parts FROM delivery_checkpoints WHERE delivery_id = $1 ORDER BY file_index',
    [deliveryId],
  );
  return rows.map((r) => ({ key: r.key, uploadId: r.upload_id, parts: r.parts }));
}

/** A checkpoint from heartbeat details, if they are one (they are untyped on the wire). */
export function asCheckpoint(v: unknown): FileCheckpoint | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const c = v as Partial<FileCheckpoint>;
  if (typeof c.key !== 'string' || typeof c.uploadId !== 'string' || !Array.isArray(c.parts)) return undefined;
  const ok = c.parts.every(
    (p: unknown) =>
      typeof p === 'object' &&
      p !== null &&
      typeof (p as PartRecord).n === 'number' &&
      typeof (p as PartRecord).etag === 'string' &&
      typeof (p as PartRecord).sha256 === 'string',
  );
  return ok ? { key: c.key, uploadId: c.uploadId, parts: c.parts } : undefined;
}
