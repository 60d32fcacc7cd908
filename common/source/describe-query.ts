/**
 * Questions to the source database about a dataset's query, answered without a
 * profile and without reading rows: inside a read-only transaction, on the query
 * wrapped as a subquery.
 */
import type { Pool, PoolClient } from 'pg';
import { bindNamedParams, namedParams } from '../domain/sql-params';

const ALIAS = 'datashare_src';

/** The source database refused the query; an unreachable database is not this. */
export class QueryRefused extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }

  /** Refused because an output column it was asked for does not exist. */
  get unknownColumn(): boolean {
    const code =
      typeof this.cause === 'object' && this.cause !== null ? (this.cause as { code?: unknown }).code : undefined;
    return code === '42703' && this.message.includes(`${ALIAS}.`);
  }
}

function outputColumn(name: string): string {
  // Qualified: a bare "datashare_src" would name the whole row of the alias and pass.
  return `${ALIAS}."${name.replace(/"/g, '""')}"`;
}

/** `:name` as `$k`, so the query can be prepared; no value is read. */
function withPlaceholders(sql: string): { text: string; names: string[] } {
  return bindNamedParams(sql, Object.fromEntries(namedParams(sql).map((n) => [n, ''])), '(check)');
}

async function inReadOnlyTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    return await fn(client);
  } catch (e) {
    throw new QueryRefused(e);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

/**
 * Prepares `SELECT <key columns> FROM (<query>)`, which checks syntax, tables,
 * permissions and that the key columns are output columns, and runs nothing:
 * PREPARE infers each parameter's type without a value.
 */
export async function prepareWithKeyColumns(pool: Pool, sql: string, keyColumns: string[]): Promise<void> {
  const bound = withPlaceholders(sql);
  await inReadOnlyTransaction(pool, async (client) => {
    await client.query(
      `PREPARE datashare_check AS SELECT ${keyColumns.map(outputColumn).join(', ')} FROM (\n${bound.text}\n) AS ${ALIAS} LIMIT 0`,
    );
    // Prepared statements outlive the transaction; pooled connections must not keep it.
    await client.query('DEALLOCATE datashare_check');
  });
}

/**
 * The type of one output column as Postgres names it without a modifier
 * (`timestamp with time zone`, `integer`): the source database's own catalog
 * names the type, so no list of type OIDs is kept here.
 */
export async function outputColumnType(pool: Pool, sql: string, column: string): Promise<string> {
  const bound = withPlaceholders(sql);
  return inReadOnlyTransaction(pool, async (client) => {
    // NULL is a valid value of every type; LIMIT 0 returns the column's type and no row.
    const res = await client.query({
      text: `SELECT ${outputColumn(column)} FROM (\n${bound.text}\n) AS ${ALIAS} LIMIT 0`,
      values: bound.names.map(() => null),
    });
    const { rows } = await client.query<{ type: string | null }>('SELECT format_type($1, NULL) AS type', [
      res.fields[0]?.dataTypeID ?? 0,
    ]);
    return rows[0]?.type ?? 'unknown';
  });
}
