import type { Pool, PoolClient } from 'pg';
import type { Partition } from '../domain/aws-names';
import type { Instance } from '../domain/instances';
import { NotFoundError } from '../errors';

export interface InstanceRow extends Instance {
  createdAt: string;
  updatedAt: string;
}

interface DbInstance {
  name: string;
  partition: Partition;
  region: string;
  principal_arn: string;
  task_queue: string;
  created_at: Date;
  updated_at: Date;
}

function toRow(r: DbInstance): InstanceRow {
  return {
    name: r.name,
    partition: r.partition,
    region: r.region,
    principalArn: r.principal_arn,
    taskQueue: r.task_queue,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

type Queryable = Pool | PoolClient;

export async function listInstances(db: Queryable): Promise<InstanceRow[]> {
  const { rows } = await db.query<DbInstance>('SELECT * FROM instances ORDER BY name');
  return rows.map(toRow);
}

export async function findInstance(db: Queryable, name: string): Promise<InstanceRow | undefined> {
  const { rows } = await db.query<DbInstance>('SELECT * FROM instances WHERE name = $1', [name]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

export async function getInstance(db: Queryable, name: string): Promise<InstanceRow> {
  const found = await findInstance(db, name);
  if (!found) throw new NotFoundError(`no instance "${name}"; list them with: datashare instance list`);
  return found;
}

/** Upsert; the task queue's uniqueness is the table's (23505 on a queue another instance uses). */
export async function saveInstance(db: Queryable, i: Instance): Promise<InstanceRow> {
  const { rows } = await db.query<DbInstance>(
    `INSERT INTO instances (name, partition, region, principal_arn, task_queue) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (name) DO UPDATE SET partition = EXCLUDED.partition, region = EXCLUDED.region,
       principal_arn = EXCLUDED.principal_arn, task_queue = EXCLUDED.task_queue, updated_at = now()
     RETURNING *`,
    [i.name, i.partition, i.region, i.principalArn, i.taskQueue],
  );
  return toRow(rows[0]);
}

export async function deleteInstance(db: Queryable, name: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM instances WHERE name = $1', [name]);
  return (rowCount ?? 0) > 0;
}

/** Profiles that name the instance in s3_instance. */
export async function profilesNamingInstance(db: Queryable, name: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM profiles WHERE properties->>'s3_instance' = $1 ORDER BY id`,
    [name],
  );
  return rows.map((r) => r.id);
}
