import type { PoolClient } from 'pg';
import { ValidationError } from '../../common/errors';
import { bindNamedParams } from '../../common/domain/sql-params';
import { datasetTable, quoteIdent, settingValue, type DatasetQuery } from './source-query';

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
export async function rangeCondition(
  client: PoolClient,
  keyColumns: string[],
  keyTypes: string[],
  range: KeyRange,
): Promise<string> {
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
      exprs.push(settingValue(`datashare.${side}${i + 1}`, keyTypes[i] ?? 'text'));
    }
    conds.push(`${cols} ${op} (${exprs.join(', ')})`);
  }
  return conds.length ? `WHERE ${conds.join(' AND ')}` : '';
}

export interface ExportShape {
  /** Upper key (as text) of every range but the last, which is open-ended. */
  boundaries: string[][];
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
                 FROM ${datasetTable(bound.text, q.window)} ${where} WINDOW w AS (ORDER BY ${keys})) AS t
           WHERE datashare_rn % $${n + 1} = 0 AND datashare_more
           ORDER BY datashare_rn`,
    values: [...bound.values, rowsPerRange],
  });
  const boundaries = rows.map((r) => r.upper);
  for (const b of boundaries) {
    if (b.some((v) => v === null)) {
      throw new ValidationError(
        `a key column (${q.keyColumns.join(', ')}) is NULL in some rows; the key must be unique and NOT NULL`,
      );
    }
  }
  return { boundaries };
}

/**
 * The upper key of the first range, reading only that range's keys: the first
 * file can start exporting while the rest of the key order is split. Undefined
 * when one range holds everything.
 */
export async function firstBoundary(
  client: PoolClient,
  q: DatasetQuery,
  rowsPerRange: number,
): Promise<string[] | undefined> {
  const bound = bindNamedParams(q.sql, q.properties, q.profileId);
  const keys = q.keyColumns.map((k) => `datashare_src.${quoteIdent(k)}`).join(', ');
  const keyTexts = q.keyColumns.map((k) => `datashare_first.${quoteIdent(k)}::text`).join(', ');
  const n = bound.values.length;
  // Two rows: the boundary, and proof that a row follows it. The keys are rendered as text only
  // for those two: rendered inside, every skipped row paid for it (a third of this pass's time).
  const { rows } = await client.query<{ upper: string[] }>({
    text: `SELECT ARRAY[${keyTexts}] AS upper
           FROM (SELECT ${keys} FROM ${datasetTable(bound.text, q.window)} ORDER BY ${keys} OFFSET $${n + 1} LIMIT 2) AS datashare_first`,
    values: [...bound.values, rowsPerRange - 1],
  });
  if (rows.length < 2) return undefined;
  const upper = rows[0].upper;
  if (upper.some((v) => v === null)) {
    throw new ValidationError(
      `a key column (${q.keyColumns.join(', ')}) is NULL in some rows; the key must be unique and NOT NULL`,
    );
  }
  return upper;
}
