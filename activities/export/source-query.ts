import type { PoolClient } from 'pg';
import { CopyOutBlocks } from './copy-out-blocks';
import type { BufferPool } from './buffer-pool';
import { DatashareError, ValidationError } from '../../common/errors';
import { bindNamedParams, rewriteNamedParams, trimStatement } from '../../common/domain/sql-params';
import type { Column, Format } from '../../common/contracts/delivery';

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

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The dataset's SQL as a derived table; newlines keep a trailing `-- comment`
 * from eating the parenthesis. An incremental window filters it by bounds that
 * beginReadOnly set as transaction-local settings.
 */
function wrapped(sql: string, window?: RowWindow): string {
  const inner = `(\n${trimStatement(sql)}\n)`;
  if (!window) return `${inner} AS datashare_src`;
  const col = `datashare_window.${quoteIdent(window.column)}`;
  const from = window.from === null ? '' : `${col} > current_setting('datashare.window_from')::timestamptz AND `;
  return `(SELECT * FROM ${inner} AS datashare_window WHERE ${from}${col} <= current_setting('datashare.window_to')::timestamptz) AS datashare_src`;
}

/** Errors from Postgres about the dataset's SQL are the dataset author's to fix, not transient. */
export function asQueryError(e: unknown, datasetHint: string): unknown {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  // Class 42 (syntax/undefined object), 22 (data exception), 25006 (read-only transaction), 0A (not supported).
  if (typeof code === 'string' && (code.startsWith('42') || code.startsWith('22') || code === '25006' || code.startsWith('0A'))) {
    return new DatashareError('DatasetQueryError', `${datasetHint}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return e;
}

/**
 * Read-only snapshot transaction: a dataset's SQL can never modify the source,
 * and every file of an export sees the same data.
 */
export async function beginReadOnly(client: PoolClient, window?: RowWindow): Promise<void> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  // JIT compiles expressions for long queries; an export spends its time moving rows, not evaluating them.
  await client.query('SET LOCAL jit = off');
  if (window) {
    await client.query("SELECT set_config('datashare.window_from', $1, true), set_config('datashare.window_to', $2, true)", [
      window.from ?? '',
      window.to,
    ]);
  }
}

/** Columns (with Postgres type names) the dataset yields for this profile; checks the key columns exist. */
export async function describeDataset(client: PoolClient, q: DatasetQuery): Promise<Column[]> {
  const bound = bindNamedParams(q.sql, q.properties, q.profileId);
  const res = await client.query({ text: `SELECT * FROM ${wrapped(bound.text, q.window)} LIMIT 0`, values: bound.values });
  const fields = res.fields;
  const names = fields.map((f) => f.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) {
    throw new ValidationError(`the dataset's SQL yields the column "${dup}" more than once; give each column a unique name with AS`);
  }
  for (const k of q.keyColumns) {
    if (!names.includes(k)) {
      throw new ValidationError(`key column "${k}" is not among the dataset's columns (${names.join(', ')}); pass --key with one of them`);
    }
  }
  const types = await client.query<{ t: string }>({
    text: 'SELECT format_type(oid, typmod) AS t FROM unnest($1::oid[], $2::int[]) WITH ORDINALITY AS u(oid, typmod, i) ORDER BY i',
    values: [fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
  });
  return fields.map((f, i) => ({ name: f.name, type: types.rows[i]?.t ?? 'unknown' }));
}

/** Sets each bound property as a transaction-local setting and returns the COPY-ready SQL that reads them. */
async function inlineParamsAsSettings(client: PoolClient, q: DatasetQuery): Promise<string> {
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
    return `(current_setting('datashare.p${index + 1}')::${type})`;
  });
}

/** A slice of the export in key order: rows after `lower` up to and including `upper` (either may be open). */
export interface KeyRange {
  lower?: string[] | null;
  upper?: string[] | null;
}

/**
 * The WHERE clause of a key range, reading its bounds from settings like the
 * dataset's parameters, cast to the key columns' own types: the bounds are the
 * text Postgres rendered for those keys, so the round trip is exact.
 */
async function rangeCondition(client: PoolClient, keyColumns: string[], keyTypes: string[], range: KeyRange): Promise<string> {
  const cols = `(${keyColumns.map((k) => `datashare_src.${quoteIdent(k)}`).join(', ')})`;
  const conds: string[] = [];
  for (const [side, bound, op] of [
    ['lo', range.lower, '>'],
    ['hi', range.upper, '<='],
  ] as const) {
    if (!bound) continue;
    const exprs: string[] = [];
    for (let i = 0; i < keyColumns.length; i++) {
      await client.query('SELECT set_config($1, $2, true)', [`datashare.${side}${i + 1}`, bound[i] ?? '']);
      exprs.push(`current_setting('datashare.${side}${i + 1}')::${keyTypes[i] ?? 'text'}`);
    }
    conds.push(`${cols} ${op} (${exprs.join(', ')})`);
  }
  return conds.length ? `WHERE ${conds.join(' AND ')}` : '';
}

/**
 * Opens the export as a COPY stream, ordered by the dataset's key.
 *
 * CSV is exactly what `COPY (query) TO STDOUT WITH (FORMAT csv, HEADER)` writes.
 * JSON Lines is Postgres's own row_to_json text: JSON escapes every control
 * character, so with quote and delimiter set to control bytes CSV mode never
 * quotes it and each row comes out as one raw line, at COPY speed. The stream's
 * chunks are whole buffers from `blocks` (the last may be shorter).
 */
export async function openCopyStream(
  client: PoolClient,
  q: DatasetQuery,
  format: Format,
  range: KeyRange = {},
  keyTypes: string[],
  blocks: BufferPool,
): Promise<CopyOutBlocks> {
  const sql = await inlineParamsAsSettings(client, q);
  const where = await rangeCondition(client, q.keyColumns, keyTypes, range);
  const order = q.keyColumns.map((k) => `datashare_src.${quoteIdent(k)}`).join(', ');
  const copySql =
    format === 'csv'
      ? `COPY (SELECT * FROM ${wrapped(sql, q.window)} ${where} ORDER BY ${order}) TO STDOUT WITH (FORMAT csv, HEADER)`
      : `COPY (SELECT row_to_json(datashare_src) FROM ${wrapped(sql, q.window)} ${where} ORDER BY ${order}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')`;
  return client.query(new CopyOutBlocks(copySql, blocks));
}

export interface ExportShape {
  /** Upper key (as text) of every range but the last, which is open-ended. */
  boundaries: string[][];
}

/** The planner's estimate of the query's row count (no rows are read). */
export async function estimateRows(client: PoolClient, q: DatasetQuery): Promise<number> {
  const bound = bindNamedParams(q.sql, q.properties, q.profileId);
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>({
    text: `EXPLAIN (FORMAT JSON) SELECT * FROM ${wrapped(bound.text, q.window)}`,
    values: bound.values,
  });
  return rows[0]?.['QUERY PLAN'][0].Plan['Plan Rows'] ?? 0;
}

/**
 * Splits the export into ranges of about `rowsPerRange` rows, in one pass over
 * the keys only (an index-only scan when the key is indexed). Every range but
 * the last ends at a known key, so each file can be exported — and re-exported
 * after a crash — on its own. lead() rather than a row count keeps the pass
 * streaming: no boundary falls on the very last row.
 */
export async function splitByKey(
  client: PoolClient,
  q: DatasetQuery,
  rowsPerRange: number,
  after: string[] | null = null,
  keyTypes: string[] = [],
): Promise<ExportShape> {
  const bound = bindNamedParams(q.sql, q.properties, q.profileId);
  const where = after ? await rangeCondition(client, q.keyColumns, keyTypes, { lower: after }) : '';
  const keys = q.keyColumns.map((k) => `datashare_src.${quoteIdent(k)}`).join(', ');
  const keyTexts = q.keyColumns.map((k) => `${quoteIdent(k)}::text`).join(', ');
  const first = quoteIdent(q.keyColumns[0]);
  const n = bound.values.length;
  const { rows } = await client.query<{ upper: string[] }>({
    text: `SELECT ARRAY[${keyTexts}] AS upper
           FROM (SELECT ${keys}, row_number() OVER w AS datashare_rn, lead(datashare_src.${first}) OVER w IS NOT NULL AS datashare_more
                 FROM ${wrapped(bound.text, q.window)} ${where} WINDOW w AS (ORDER BY ${keys})) AS t
           WHERE datashare_rn % $${n + 1} = 0 AND datashare_more
           ORDER BY datashare_rn`,
    values: [...bound.values, rowsPerRange],
  });
  const boundaries = rows.map((r) => r.upper);
  for (const b of boundaries) {
    if (b.some((v) => v === null)) {
      throw new ValidationError(`a key column (${q.keyColumns.join(', ')}) is NULL in some rows; the key must be unique and NOT NULL`);
    }
  }
  return { boundaries };
}

/**
 * The upper key of the first range, reading only that range's keys: the first
 * file can start exporting while the rest of the key order is split. Undefined
 * when one range holds everything.
 */
export async function firstBoundary(client: PoolClient, q: DatasetQuery, rowsPerRange: number): Promise<string[] | undefined> {
  const bound = bindNamedParams(q.sql, q.properties, q.profileId);
  const keys = q.keyColumns.map((k) => `datashare_src.${quoteIdent(k)}`).join(', ');
  const keyTexts = q.keyColumns.map((k) => `datashare_src.${quoteIdent(k)}::text`).join(', ');
  const n = bound.values.length;
  // Two rows: the boundary, and proof that a row follows it.
  const { rows } = await client.query<{ upper: string[] }>({
    text: `SELECT ARRAY[${keyTexts}] AS upper FROM ${wrapped(bound.text, q.window)} ORDER BY ${keys} OFFSET $${n + 1} LIMIT 2`,
    values: [...bound.values, rowsPerRange - 1],
  });
  if (rows.length < 2) return undefined;
  const upper = rows[0].upper;
  if (upper.some((v) => v === null)) {
    throw new ValidationError(`a key column (${q.keyColumns.join(', ')}) is NULL in some rows; the key must be unique and NOT NULL`);
  }
  return upper;
}

/** Raw text of the first rows, in the output format, to estimate file sizes. */
export async function sampleRows(client: PoolClient, q: DatasetQuery, format: Format, limit = 2000): Promise<{ rows: number; text: string }> {
  const bound = bindNamedParams(q.sql, q.properties, q.profileId);
  const expr = format === 'csv' ? 'datashare_src::text' : 'row_to_json(datashare_src)::text';
  const { rows } = await client.query<{ n: string; t: string | null }>({
    text: `SELECT count(*) AS n, string_agg(${expr}, E'\n') AS t FROM (SELECT * FROM ${wrapped(bound.text, q.window)} LIMIT ${limit}) AS datashare_src`,
    values: bound.values,
  });
  return { rows: Number(rows[0]?.n ?? 0), text: rows[0]?.t ?? '' };
}
