import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';

// Resolved from this file so it works from sources (tsx/vitest) and from dist/.
const MIGRATIONS_DIR = join(__dirname, '..', '..', '..', 'migrations');
const MIGRATIONS_DIR_SRC = join(__dirname, '..', '..', 'migrations');
// Any constant works; it only has to be the same for every datashare process.
const MIGRATION_LOCK_ID = 7_240_311;

export interface AppliedMigration {
  version: number;
  name: string;
}

function migrationsDir(): string {
  for (const dir of [MIGRATIONS_DIR_SRC, MIGRATIONS_DIR]) {
    try {
      readdirSync(dir);
      return dir;
    } catch {
      // try the next candidate
    }
  }
  throw new Error(`migrations folder not found near ${__dirname}`);
}

/** Applies pending versioned migrations in order; safe to run from several processes at once. */
export async function migrate(pool: Pool): Promise<AppliedMigration[]> {
  const dir = migrationsDir();
  const files = readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort();
  const client = await pool.connect();
  const applied: AppliedMigration[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    for (const file of files) {
      const version = Number(file.split('_')[0]);
      if (done.has(version)) continue;
      const sql = readFileSync(join(dir, file), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, file]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      }
      applied.push({ version, name: file });
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    client.release();
  }
  return applied;
}

export async function assertMigrated(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ exists: boolean }>(
    `SELECT to_regclass('public.deliveries') IS NOT NULL AS exists`,
  );
  if (!rows[0]?.exists) {
    throw new Error('the datashare tables do not exist yet in DATABASE_URL: run `datashare migrate` first');
  }
}

/** The newest migration applied here (null before the first) and the newest this code ships. */
export async function migrationStatus(pool: Pool): Promise<{ applied: number | null; latest: number }> {
  const latest = Math.max(
    0,
    ...readdirSync(migrationsDir())
      .filter((f) => /^\d+_.+\.sql$/.test(f))
      .map((f) => Number(f.split('_')[0])),
  );
  // Two statements: a query naming a missing table fails to plan, whatever branch would run.
  const { rows: exists } = await pool.query<{ ok: boolean }>(
    `SELECT to_regclass('public.schema_migrations') IS NOT NULL AS ok`,
  );
  if (!exists[0]?.ok) return { applied: null, latest };
  const { rows } = await pool.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM schema_migrations',
  );
  return { applied: rows[0]?.version ?? null, latest };
}
