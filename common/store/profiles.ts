import type { Pool, PoolClient } from 'pg';
import { NotFoundError } from '../errors';

export interface ProfileRow {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

interface DbProfile {
  id: string;
  properties: Record<string, string>;
  created_at: Date;
  updated_at: Date;
}

function toRow(r: DbProfile): ProfileRow {
  return {
    id: r.id,
    properties: r.properties,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

type Queryable = Pool | PoolClient;

export async function findProfile(db: Queryable, id: string): Promise<ProfileRow | undefined> {
  const { rows } = await db.query<DbProfile>('SELECT * FROM profiles WHERE id = $1', [id]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

export async function getProfile(db: Queryable, id: string): Promise<ProfileRow> {
  const p = await findProfile(db, id);
  if (!p) throw new NotFoundError(`no profile "${id}"; list them with: datashare profile list`);
  return p;
}

export async function listProfiles(db: Queryable): Promise<ProfileRow[]> {
  const { rows } = await db.query<DbProfile>('SELECT * FROM profiles ORDER BY id');
  return rows.map(toRow);
}

export async function saveProfile(db: Queryable, id: string, properties: Record<string, string>): Promise<ProfileRow> {
  const { rows } = await db.query<DbProfile>(
    `INSERT INTO profiles (id, properties) VALUES ($1, $2)
     ON CONFLICT (id) DO UPDATE SET properties = EXCLUDED.properties, updated_at = now()
     RETURNING *`,
    [id, JSON.stringify(properties)],
  );
  return toRow(rows[0]);
}

export async function deleteProfile(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM profiles WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}
