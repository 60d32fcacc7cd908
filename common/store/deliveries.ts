import type { Pool, PoolClient } from 'pg';
import { NotFoundError } from '../errors';
import type { Compression, DeliveredFile, DeliveryStatus, DeliveryView, Format } from '../contracts/delivery';

type Queryable = Pool | PoolClient;

interface DbDelivery {
  id: string;
  workflow_id: string;
  profile_id: string;
  dataset_id: string;
  format: Format;
  compression: Compression;
  status: DeliveryStatus;
  bucket: string | null;
  folder: string | null;
  manifest_key: string | null;
  rows: string;
  bytes: string;
  uploaded_bytes: string;
  error_type: string | null;
  error_message: string | null;
  started_at: Date;
  completed_at: Date | null;
  window_from: Date | null;
  window_to: Date | null;
  attempt: number;
  attempt_started_at: Date;
  attempts:
    | {
        attempt: number;
        started_at: string;
        ended_at: string | null;
        status: string;
        error_type: string | null;
        error_message: string | null;
      }[]
    | null;
  file_count: number | null;
  unaborted_uploads: { key: string; uploadId: string; reason: string }[];
  files: DeliveredFile[] | null;
}

const SELECT_VIEW = `
  SELECT d.*,
    (SELECT json_agg(json_build_object('key', f.key, 'bytes', f.bytes, 'rows', f.rows, 'sha256', f.sha256)
                     ORDER BY f.file_index)
       FROM delivery_files f WHERE f.delivery_id = d.id) AS files,
    (SELECT json_agg(a ORDER BY a.attempt) FROM delivery_attempts a WHERE a.delivery_id = d.id) AS attempts
  FROM deliveries d`;

function toView(r: DbDelivery): DeliveryView {
  const view: DeliveryView = {
    id: r.id,
    profileId: r.profile_id,
    datasetId: r.dataset_id,
    workflowId: r.workflow_id,
    format: r.format,
    compression: r.compression,
    status: r.status,
    rows: Number(r.rows),
    bytes: Number(r.bytes),
    uploadedBytes: Number(r.uploaded_bytes),
    bucket: r.bucket,
    folder: r.folder,
    files: (r.files ?? []).map((f) => ({ key: f.key, bytes: Number(f.bytes), rows: Number(f.rows), sha256: f.sha256 })),
    manifestKey: r.manifest_key,
    startedAt: r.started_at.toISOString(),
    completedAt: r.completed_at ? r.completed_at.toISOString() : null,
    window: r.window_to
      ? { from: r.window_from ? r.window_from.toISOString() : null, to: r.window_to.toISOString() }
      : null,
    attempts: [
      ...(r.attempts ?? []).map((a) => ({
        attempt: a.attempt,
        startedAt: new Date(a.started_at).toISOString(),
        endedAt: a.ended_at ? new Date(a.ended_at).toISOString() : null,
        status: a.status,
        ...(a.error_type ? { error: { type: a.error_type, message: a.error_message ?? '' } } : {}),
      })),
      {
        attempt: r.attempt,
        startedAt: r.attempt_started_at.toISOString(),
        endedAt: r.completed_at ? r.completed_at.toISOString() : null,
        status: r.status,
        ...(r.error_type ? { error: { type: r.error_type, message: r.error_message ?? '' } } : {}),
      },
    ],
    fileCount: r.file_count,
    filesCompleted: (r.files ?? []).length,
    unabortedUploads: r.unaborted_uploads ?? [],
  };
  if (r.error_type) view.error = { type: r.error_type, message: r.error_message ?? '' };
  return view;
}

/**
 * Records a new delivery. For an incremental dataset it also fixes the delivery's
 * window: from the last completed delivery's watermark (less the lookback) up to
 * `windowTo` (a scheduled run's time; now for a manual share). Fixed here, once,
 * so a replay sends exactly the same rows.
 */
export async function insertDelivery(
  db: Queryable,
  d: {
    id: string;
    workflowId: string;
    profileId: string;
    datasetId: string;
    format: Format;
    compression: Compression;
    windowTo?: Date;
    fullRefresh?: boolean;
    /** The schedule whose run this is, for the per-schedule metrics. */
    scheduleId?: string;
  },
): Promise<void> {
  const { rowCount } = await db.query(
    `INSERT INTO deliveries (id, workflow_id, profile_id, dataset_id, format, compression, status, window_from, window_to, full_refresh, schedule_id)
     SELECT $1, $2, $3, $4, $5, $6, 'running',
       CASE WHEN ds.incremental_column IS NULL OR $8 THEN NULL ELSE
         (SELECT max(p.window_to) FROM deliveries p WHERE p.profile_id = $3 AND p.dataset_id = $4 AND p.status = 'completed')
           - make_interval(secs => ds.lookback_seconds) END,
       CASE WHEN ds.incremental_column IS NULL THEN NULL ELSE coalesce($7::timestamptz, now()) END,
       $8, $9
     FROM datasets ds WHERE ds.id = $4`,
    [
      d.id,
      d.workflowId,
      d.profileId,
      d.datasetId,
      d.format,
      d.compression,
      d.windowTo ?? null,
      d.fullRefresh ?? false,
      d.scheduleId ?? null,
    ],
  );
  if (rowCount === 0) throw new NotFoundError(`no dataset "${d.datasetId}"; list them with: datashare dataset list`);
}

/** The window an incremental delivery exports, as fixed when it was created. */
export async function deliveryWindow(db: Queryable, id: string): Promise<{ from: string | null; to: string | null }> {
  const { rows } = await db.query<{ f: string | null; t: string | null }>(
    `SELECT to_char(window_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS f,
            to_char(window_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t FROM deliveries WHERE id = $1`,
    [id],
  );
  return { from: rows[0]?.f ?? null, to: rows[0]?.t ?? null };
}

/**
 * Puts a failed or cancelled delivery back to running for a replay, keeping the
 * attempt that ended in delivery_attempts. Returns false if it was not replayable.
 */
export async function restartDelivery(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `WITH prev AS (
       INSERT INTO delivery_attempts (delivery_id, attempt, started_at, ended_at, status, error_type, error_message)
       SELECT id, attempt, attempt_started_at, completed_at, status, error_type, error_message
       FROM deliveries WHERE id = $1 AND status IN ('failed', 'cancelled')
       RETURNING delivery_id)
     UPDATE deliveries SET status = 'running', attempt = attempt + 1, attempt_started_at = now(), completed_at = NULL,
       error_type = NULL, error_message = NULL, updated_at = now(),
       rows = (SELECT coalesce(sum(rows), 0) FROM delivery_files WHERE delivery_id = $1),
       bytes = (SELECT coalesce(sum(bytes), 0) FROM delivery_files WHERE delivery_id = $1)
     WHERE id IN (SELECT delivery_id FROM prev)`,
    [id],
  );
  return (rowCount ?? 0) > 0;
}

export async function findDelivery(db: Queryable, id: string): Promise<DeliveryView | undefined> {
  const { rows } = await db.query<DbDelivery>(`${SELECT_VIEW} WHERE d.id = $1`, [id]);
  return rows[0] ? toView(rows[0]) : undefined;
}

export async function getDelivery(db: Queryable, id: string): Promise<DeliveryView> {
  const d = await findDelivery(db, id);
  if (!d) throw new NotFoundError(`no delivery "${id}"; list them with: datashare deliveries`);
  return d;
}

/** Id, status, format and compression of those of `ids` that exist (a scheduled run's earlier attempt wrote them). */
export async function deliveryStatuses(
  db: Queryable,
  ids: string[],
): Promise<{ id: string; status: DeliveryStatus; format: Format; compression: Compression }[]> {
  const { rows } = await db.query<{ id: string; status: DeliveryStatus; format: Format; compression: Compression }>(
    'SELECT id, status, format, compression FROM deliveries WHERE id = ANY($1)',
    [ids],
  );
  return rows;
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  profileId?: string;
  datasetId?: string;
  since?: Date;
  limit?: number;
}

export async function listDeliveries(db: Queryable, f: DeliveryFilter = {}): Promise<DeliveryView[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    args.push(v);
    where.push(sql.replace('?', `$${args.length}`));
  };
  if (f.status) add('d.status = ?', f.status);
  if (f.profileId) add('d.profile_id = ?', f.profileId);
  if (f.datasetId) add('d.dataset_id = ?', f.datasetId);
  if (f.since) add('d.started_at >= ?', f.since);
  args.push(f.limit ?? 100);
  const { rows } = await db.query<DbDelivery>(
    `${SELECT_VIEW} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.started_at DESC, d.id LIMIT $${args.length}`,
    args,
  );
  return rows.map(toView);
}
