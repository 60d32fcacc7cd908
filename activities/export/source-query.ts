import type { PoolClient } from 'pg';
import { DatashareError, ValidationError } from '../../common/errors';
import { bindNamedParams, rewriteNamedParams, trimStatement } from '../../common/domain/sql-params';
import type { Column } from '../../common/contracts/delivery';

/**
 * Runs a dataset's SQL against the source database for one profile.
 *
 * Profile properties named `:name` in the SQL are always passed as bound values,
 * never spliced into SQL text. COPY cannot take bind parameters, so for the
 * export each value travels as a transaction-local setting (bound through
 * set_config) and the SQL reads it back with current_setting(), cast to the
 * type Postgres itself inferred for that parameter.
 */

export interface DatasetQuery {
  sql: string;
  keyColumns: string[];
  properties: Readonly<Record<string, string>>;
  profileId: string;
  /** Incremental datasets: only rows whose column lies in (from, to]; from null = from the beginning. */
  window?: RowWindow;
}

export interface RowWindow {
  column: string;
  from: string | null;
  to: string;
}

/**
 * A transaction-local setting read back as a value of `type`. A plain current_setting()
 * call, which the planner evaluates when it estimates (it is stable), so each profile's
 * export is planned for its own values: a small tenant's rows through the tenant index,
 * a large one's by the key. As a scalar subquery it would be called once per statement
 * instead of once per row (measured: 2.3 s → 1.55 s of the backend's time on 6.5 M
 * rows), but every profile would get one generic plan, and `= ANY(:ids)` would parse as
 * ANY over a subquery. The plans matter more.
 */
export function settingValue(name: string, type: string): string {
  return `(current_setting('${name}')::${type})`;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The dataset's SQL as a derived table; newlines keep a trailing `-- comment`
 * from eating the parenthesis. An incremental window filters it by bounds that
 * beginReadOnly set as transaction-local settings.
 */
export function datasetTable(sql: string, window?: RowWindow): string {
  const inner = `(\n${trimStatement(sql)}\n)`;
  if (!window) return `${inner} AS datashare_src`;
  const col = `datashare_window.${quoteIdent(window.column)}`;
  const from = window.from === null ? '' : `${col} > ${settingValue('datashare.window_from', 'timestamptz')} AND `;
  return `(SELECT * FROM ${inner} AS datashare_window WHERE ${from}${col} <= ${settingValue('datashare.window_to', 'timestamptz')}) AS datashare_src`;
}

/** Errors from Postgres about the dataset's SQL are the dataset author's to fix, not transient. */
export function asQueryError(e: unknown, datasetHint: string): unknown {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  // Class 42 (syntax/undefined object), 22 (data exception), 25006 (read-only transaction), 0A (not supported).
  if (
    typeof code === 'string' &&
    (code.startsWith('42') || code.startsWith('22') || code === '25006' || code.startsWith('0A'))
  ) {
    return new DatashareError('DatasetQueryError', `${datasetHint}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return e;
}

/**
 * Read-only snapshot transaction: a dataset's SQL can never modify the source,
 * and every file of an export sees the same data.
 */
export async function beginReadOnly(client: PoolClient, window?: RowWindow, snapshot?: string): Promise<void> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  // Another connection's exported snapshot (pg_export_snapshot): the same rows, exactly, before any query runs.
  if (snapshot !== undefined) {
    if (!/^[0-9A-F-]+$/i.test(snapshot)) throw new Error(`not a snapshot id: ${snapshot}`);
    await client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
  }
  // JIT compiles expressions for long queries; an export spends its time moving rows, not evaluating them.
  await client.query('SET LOCAL jit = off');
  if (window) {
    await client.query(
      "SELECT set_config('datashare.window_from', $1, true), set_config('datashare.window_to', $2, true)",
      [window.from ?? '', window.to],
    );
  }
}

/** Columns (with Postgres type names) the dataset yields for this profile; checks the key columns exist. */
export async function describeDataset(client: PoolClient, q: DatasetQuery): Promise<Column[]> {
  const bound = bindNamedParams(q.sql, q.properties, q.profileId);
  const res = await client.query({
    text: `SELECT * FROM ${datasetTable(bound.text, q.window)} LIMIT 0`,
    values: bound.values,
  });
  const fields = res.fields;
  const names = fields.map((f) => f.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) {
    throw new ValidationError(
      `the dataset's SQL yields the column "${dup}" more than once; give each column a unique name with AS`,
    );
  }
  for (const k of q.keyColumns) {
    if (!names.includes(k)) {
      throw new ValidationError(
        `key column "${k}" is not among the dataset's columns (${names.join(', ')}); pass --key with one of them`,
      );
    }
  }
  const types = await client.query<{ t: string }>({
    text: 'SELECT format_type(oid, typmod) AS t FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS u(oid, typmod, i) ORDER BY i',
    values: [fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
  });
  return fields.map((f, i) => ({ name: f.name, type: types.rows[i]?.t ?? 'unknown' }));
}

/** Sets each bound property as a transaction-local setting and returns the COPY-ready SQL that reads them. */
export async function inlineParamsAsSettings(client: PoolClient, q: DatasetQuery): Promise<string> {
  const bound = bindNamedParams(q.sql, q.properties, q.profileId);
  if (bound.names.length === 0) return q.sql;
  // Let Postgres infer each parameter's type exactly as it would for a bound query.
  await client.query(`PREPARE datashare_probe AS ${trimStatement(bound.text)}`);
  let types: string[];
  try {
    const { rows } = await client.query<{ types: string[] }>(
      `SELECT parameter_types::text[] AS types FROM pg_prepared_statements WHERE name = 'datashare_probe'`,
    );
    types = rows[0]?.types ?? [];
  } finally {
    // Prepared statements outlive the transaction; pooled connections must not keep it.
    await client.query('DEALLOCATE datashare_probe');
  }
  for (let i = 0; i < bound.values.length; i++) {
    await client.query('SELECT set_config($1, $2, true)', [`datashare.p${i + 1}`, bound.values[i]]);
  }
  return rewriteNamedParams(q.sql, (_name, index) => {
    const type = types[index] ?? 'text';
    return settingValue(`datashare.p${index + 1}`, type);
  });
}

/** The planner's estimate of the query's row count (no rows are read). */
export async function estimateRows(client: PoolClient, q: DatasetQuery): Promise<number> {
  const bound = bindNamedParams(q.sql, q.properties, q.profileId);
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>({
    text: `EXPLAIN (FORMAT JSON) SELECT * FROM ${datasetTable(bound.text, q.window)}`,
    values: bound.values,
  });
  return rows[0]?.['QUERY PLAN'][0].Plan['Plan Rows'] ?? 0;
}

/**
 * Raw text of the first rows in key order, each as `rowText` renders it (the
 * output format's sample), to estimate file sizes. Key order, not the order rows
 * happen to lie on disk: the sample, and so the layout planned from it, is a
 * function of the data alone, the same after a CLUSTER, a VACUUM FULL or a
 * parallel or synchronized scan. With an index on the key this reads `limit` rows.
 */
export async function sampleRows(
  client: PoolClient,
  q: DatasetQuery,
  rowText: string,
  limit = 2000,
): Promise<{ rows: number; text: string }> {
  const bound = bindNamedParams(q.sql, q.properties, q.profileId);
  const keys = q.keyColumns.map((k) => `datashare_src.${quoteIdent(k)}`).join(', ');
  const { rows } = await client.query<{ n: string; t: string | null }>({
    text: `SELECT count(*) AS n, string_agg(${rowText}, E'\n' ORDER BY ${keys}) AS t
           FROM (SELECT * FROM ${datasetTable(bound.text, q.window)} ORDER BY ${keys} LIMIT ${limit}) AS datashare_src`,
    values: bound.values,
  });
  return { rows: Number(rows[0]?.n ?? 0), text: rows[0]?.t ?? '' };
}
