import type { Pool, PoolClient } from 'pg';
import { NotFoundError } from '../errors';
import type { Compression, Format } from '../contracts/delivery';

export interface DatasetRow {
  id: string;
  sql: string;
  keyColumns: string[];
  format: Format;
  compression: Compression;
  /** Incremental datasets: the timestamp column whose progress defines each delivery's rows. */
  incrementalColumn: string | null;
  /** How far before the last watermark each incremental delivery starts again, for late-arriving rows. */
  lookbackSeconds: number;
  /** Declared on purpose: the SQL names no profile property, so every end user gets the same rows. */
  sameForEveryone: boolean;
  /** Bound on planning, sampling and the time to the first row; null: the default. */
  statementTimeoutMs: number | null;
  createdAt: string;
  updatedAt: string;
}

interface DbDataset {
  id: string;
  sql: string;
  key_columns: string[];
  format: Format;
  compression: Compression;
  incremental_column: string | null;
  lookback_seconds: number;
  same_for_everyone: boolean;
  statement_timeout_ms: number | null;
  created_at: Date;
  updated_at: Date;
}

function toRow(r: DbDataset): DatasetRow {
  return {
    id: r.id,
    sql: r.sql,
    keyColumns: r.key_columns,
    format: r.format,
    compression: r.compression,
    incrementalColumn: r.incremental_column,
    lookbackSeconds: r.lookback_seconds,
    sameForEveryone: r.same_for_everyone,
    statementTimeoutMs: r.statement_timeout_ms,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

type Queryable = Pool | PoolClient;

export async function findDataset(db: Queryable, id: string): Promise<DatasetRow | undefined> {
  const { rows } = await db.query<DbDataset>('SELECT * FROM datasets WHERE id = $1', [id]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

export async function getDataset(db: Queryable, id: string): Promise<DatasetRow> {
  const d = await findDataset(db, id);
  if (!d) throw new NotFoundError(`no dataset "${id}"; list them with: datashare dataset list`);
  return d;
}

export async function listDatasets(db: Queryable): Promise<DatasetRow[]> {
  const { rows } = await db.query<DbDataset>('SELECT * FROM datasets ORDER BY id');
  return rows.map(toRow);
}

export async function saveDataset(
  db: Queryable,
  d: {
    id: string;
    sql: string;
    keyColumns: string[];
    format: Format;
    compression: Compression;
    incrementalColumn?: string | null;
    lookbackSeconds?: number;
    sameForEveryone?: boolean;
    statementTimeoutMs?: number | null;
  },
): Promise<DatasetRow> {
  const { rows } = await db.query<DbDataset>(
    `INSERT INTO datasets (id, sql, key_columns, format, compression, incremental_column, lookback_seconds, same_for_everyone, statement_timeout_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (id) DO UPDATE SET sql = EXCLUDED.sql, key_columns = EXCLUDED.key_columns,
       format = EXCLUDED.format, compression = EXCLUDED.compression,
       incremental_column = EXCLUDED.incremental_column, lookback_seconds = EXCLUDED.lookback_seconds,
       same_for_everyone = EXCLUDED.same_for_everyone, statement_timeout_ms = EXCLUDED.statement_timeout_ms, updated_at = now()
     RETURNING *`,
    [
      d.id,
      d.sql,
      d.keyColumns,
      d.format,
      d.compression,
      d.incrementalColumn ?? null,
      d.lookbackSeconds ?? 0,
      d.sameForEveryone ?? false,
      d.statementTimeoutMs ?? null,
    ],
  );
  return toRow(rows[0]);
}

export async function deleteDataset(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM datasets WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}
