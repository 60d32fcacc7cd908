/**
 * What a running delivery writes about itself as it goes: its target, the role it
 * assumed, its plan, progress and files, and how it ended. The reads are in deliveries.ts.
 */
import type { Pool, PoolClient } from 'pg';
import type { DeliveredFile } from '../contracts/delivery';

type Queryable = Pool | PoolClient;

export async function setDeliveryTarget(
  db: Queryable,
  id: string,
  t: { bucket: string; folder: string },
): Promise<void> {
  await db.query('UPDATE deliveries SET bucket = $2, folder = $3, updated_at = now() WHERE id = $1', [
    id,
    t.bucket,
    t.folder,
  ]);
}

export async function recordAssumedRole(db: Queryable, id: string, assumedRoleArn: string): Promise<void> {
  await db.query('UPDATE deliveries SET assumed_role_arn = $2, updated_at = now() WHERE id = $1', [id, assumedRoleArn]);
}

/**
 * Progress while files upload, as increments (several files upload at once).
 * uploaded_bytes counts every byte sent, parts redone after a crash included.
 */
export async function recordProgress(
  db: Queryable,
  id: string,
  p: { rowsDelta: number; bytesDelta: number; uploadedBytesDelta: number },
): Promise<void> {
  await db.query(
    `UPDATE deliveries SET rows = rows + $2, bytes = bytes + $3, uploaded_bytes = uploaded_bytes + $4, updated_at = now() WHERE id = $1`,
    [id, p.rowsDelta, p.bytesDelta, p.uploadedBytesDelta],
  );
}

export async function recordPlan(
  db: Queryable,
  id: string,
  p: { fileCount: number; estimatedRows: number; maxFileBytes: number },
): Promise<void> {
  await db.query(
    `UPDATE deliveries SET file_count = $2, estimated_rows = $3, max_file_bytes = $4, updated_at = now() WHERE id = $1`,
    [id, p.fileCount, p.estimatedRows, p.maxFileBytes],
  );
}

/** The file size the delivery was planned with, so a replay cuts its files the same way; undefined before it was planned. */
export async function plannedMaxFileBytes(db: Queryable, id: string): Promise<number | undefined> {
  const { rows } = await db.query<{ max_file_bytes: string | null }>(
    'SELECT max_file_bytes FROM deliveries WHERE id = $1',
    [id],
  );
  return rows[0]?.max_file_bytes ? Number(rows[0].max_file_bytes) : undefined;
}

/** A multipart upload that could not be aborted, kept so ops (or the end user's lifecycle rule) can clean up. */
export async function recordUnaborted(
  db: Queryable,
  id: string,
  u: { key: string; uploadId: string; reason: string },
): Promise<void> {
  await db.query(
    `UPDATE deliveries SET unaborted_uploads = unaborted_uploads || $2::jsonb, updated_at = now() WHERE id = $1`,
    [id, JSON.stringify([u])],
  );
}

export async function recordFile(db: Queryable, deliveryId: string, index: number, f: DeliveredFile): Promise<void> {
  await db.query(
    `INSERT INTO delivery_files (delivery_id, file_index, key, bytes, rows, sha256) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (delivery_id, file_index) DO UPDATE SET key = EXCLUDED.key, bytes = EXCLUDED.bytes,
       rows = EXCLUDED.rows, sha256 = EXCLUDED.sha256, completed_at = now()`,
    [deliveryId, index, f.key, f.bytes, f.rows, f.sha256],
  );
}

/** What a delivery's final state change reports, so metrics count each outcome once (see common/infra/metrics.ts). */
export interface OutcomeChange {
  /** False when the row already had this outcome: a retried activity, not a new outcome. */
  changed: boolean;
  datasetId: string;
  /** Bytes uploaded beyond the delivered ones: parts sent again after a crash or a replay. */
  resentBytes: number;
}

export async function completeDelivery(
  db: Queryable,
  id: string,
  c: { manifestKey: string; rows: number; bytes: number },
): Promise<OutcomeChange> {
  // The row is locked and its old status read in the same statement: a retried
  // finalize that finds it completed already reports no change.
  const { rows } = await db.query<{ old_status: string; dataset_id: string; uploaded_bytes: string }>(
    `UPDATE deliveries d SET status = 'completed', manifest_key = $2, rows = $3, bytes = $4,
       error_type = NULL, error_message = NULL, completed_at = now(), updated_at = now()
     FROM (SELECT id, status AS old_status FROM deliveries WHERE id = $1 FOR UPDATE) o
     WHERE d.id = o.id
     RETURNING o.old_status, d.dataset_id, d.uploaded_bytes`,
    [id, c.manifestKey, c.rows, c.bytes],
  );
  const r = rows[0];
  return {
    changed: r !== undefined && r.old_status !== 'completed',
    datasetId: r?.dataset_id ?? '',
    resentBytes: r ? Math.max(0, Number(r.uploaded_bytes) - c.bytes) : 0,
  };
}

export async function failDelivery(
  db: Queryable,
  id: string,
  status: 'failed' | 'cancelled',
  error: { type: string; message: string },
): Promise<OutcomeChange> {
  const { rows } = await db.query<{ dataset_id: string }>(
    `UPDATE deliveries SET status = $2, error_type = $3, error_message = $4, completed_at = now(), updated_at = now()
     WHERE id = $1 AND status = 'running' RETURNING dataset_id`,
    [id, status, error.type, error.message],
  );
  return { changed: rows.length > 0, datasetId: rows[0]?.dataset_id ?? '', resentBytes: 0 };
}

export async function findFile(
  db: Queryable,
  deliveryId: string,
  fileIndex: number,
): Promise<DeliveredFile | undefined> {
  const { rows } = await db.query<{ key: string; bytes: string; rows: string; sha256: string }>(
    'SELECT key, bytes, rows, sha256 FROM delivery_files WHERE delivery_id = $1 AND file_index = $2',
    [deliveryId, fileIndex],
  );
  const r = rows[0];
  return r ? { key: r.key, bytes: Number(r.bytes), rows: Number(r.rows), sha256: r.sha256 } : undefined;
}

/** Adds to the retries a delivery's AWS calls needed (RetryTally). */
export async function recordRetries(db: Queryable, id: string, retries: number): Promise<void> {
  if (retries <= 0) return;
  await db.query('UPDATE deliveries SET aws_retries = aws_retries + $2, updated_at = now() WHERE id = $1', [
    id,
    retries,
  ]);
}

export async function retriesOf(db: Queryable, id: string): Promise<number> {
  const { rows } = await db.query<{ aws_retries: number }>('SELECT aws_retries FROM deliveries WHERE id = $1', [id]);
  return rows[0]?.aws_retries ?? 0;
}
