/** Every SQL statement about webhooks and their attempts (migrations/007_webhooks.sql). */
import type { Pool, PoolClient } from 'pg';
import type { WebhookAttemptView, WebhookEvent } from '../contracts/webhooks';

type Queryable = Pool | PoolClient;

export interface WebhookRow {
  id: string;
  url: string;
  events: WebhookEvent[];
  datasetId: string | null;
  profileId: string | null;
  createdAt: string;
}

interface DbWebhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  dataset_id: string | null;
  profile_id: string | null;
  secret_encrypted: string;
  created_at: Date;
}

function toRow(r: DbWebhook): WebhookRow {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    datasetId: r.dataset_id,
    profileId: r.profile_id,
    createdAt: r.created_at.toISOString(),
  };
}

export async function insertWebhook(
  db: Queryable,
  w: Omit<WebhookRow, 'createdAt'> & { secretEncrypted: string },
): Promise<WebhookRow> {
  const { rows } = await db.query<DbWebhook>(
    `INSERT INTO webhooks (id, url, events, dataset_id, profile_id, secret_encrypted) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING *`,
    [w.id, w.url, w.events, w.datasetId, w.profileId, w.secretEncrypted],
  );
  return toRow(rows[0]);
}

export async function listWebhooks(db: Queryable): Promise<WebhookRow[]> {
  const { rows } = await db.query<DbWebhook>('SELECT * FROM webhooks ORDER BY created_at, id');
  return rows.map(toRow);
}

/** The webhook with its sealed secret (only the activity that signs, and `webhook test`, open it). */
export async function findWebhook(
  db: Queryable,
  id: string,
): Promise<(WebhookRow & { secretEncrypted: string }) | undefined> {
  const { rows } = await db.query<DbWebhook>('SELECT * FROM webhooks WHERE id = $1', [id]);
  return rows[0] ? { ...toRow(rows[0]), secretEncrypted: rows[0].secret_encrypted } : undefined;
}

export async function deleteWebhook(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM webhooks WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/** The webhooks that want this event of this delivery (a webhook without a dataset or profile matches all). */
export async function webhooksFor(db: Queryable, deliveryId: string, event: WebhookEvent): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT w.id FROM webhooks w JOIN deliveries d ON d.id = $1
     WHERE $2 = ANY(w.events)
       AND (w.dataset_id IS NULL OR w.dataset_id = d.dataset_id)
       AND (w.profile_id IS NULL OR w.profile_id = d.profile_id)
     ORDER BY w.id`,
    [deliveryId, event],
  );
  return rows.map((r) => r.id);
}

export interface AttemptKey {
  webhookId: string;
  deliveryId: string;
  event: WebhookEvent;
  runKey: string;
}

export async function recordWebhookAttempt(
  db: Queryable,
  k: AttemptKey,
  a: { attempt: number; outcome: WebhookAttemptView['outcome']; statusCode?: number; error?: string },
): Promise<void> {
  await db.query(
    `INSERT INTO webhook_attempts (webhook_id, delivery_id, event, run_key, attempt, outcome, status_code, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [k.webhookId, k.deliveryId, k.event, k.runKey, a.attempt, a.outcome, a.statusCode ?? null, a.error ?? null],
  );
}

/** Whether this event already reached this webhook: a retried activity must not send it twice. */
export async function alreadyDelivered(db: Queryable, k: AttemptKey): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM webhook_attempts WHERE webhook_id = $1 AND delivery_id = $2 AND event = $3 AND run_key = $4
       AND outcome = 'delivered' LIMIT 1`,
    [k.webhookId, k.deliveryId, k.event, k.runKey],
  );
  return rows.length > 0;
}

export async function webhookAttempts(db: Queryable, deliveryId: string): Promise<WebhookAttemptView[]> {
  const { rows } = await db.query<{
    webhook_id: string;
    event: WebhookEvent;
    attempt: number;
    outcome: WebhookAttemptView['outcome'];
    status_code: number | null;
    error: string | null;
    at: Date;
  }>(
    `SELECT webhook_id, event, attempt, outcome, status_code, error, at FROM webhook_attempts
     WHERE delivery_id = $1 ORDER BY at, id`,
    [deliveryId],
  );
  return rows.map((r) => ({
    webhookId: r.webhook_id,
    event: r.event,
    attempt: r.attempt,
    outcome: r.outcome,
    at: r.at.toISOString(),
    ...(r.status_code !== null ? { statusCode: r.status_code } : {}),
    ...(r.error !== null ? { error: r.error } : {}),
  }));
}
