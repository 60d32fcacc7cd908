import type { PoolClient } from 'pg';
import type { BufferPool } from './buffer-pool';
import { CopyOutBlocks } from './copy-out-blocks';

/**
 * One file's `COPY (SELECT … ORDER BY key) TO STDOUT`, in pieces, so the export engine
 * can run it as one statement or, on several connections, as consecutive slices of the
 * key (parallel-copy.ts) whose output joins into the same bytes.
 */
export interface CopyQuery {
  /** The select list over the row `datashare_src`. */
  select: string;
  /** The dataset as a derived table named datashare_src. */
  from: string;
  /** The file's key range: `WHERE …`, or ''. */
  where: string;
  /** The key columns, comma-separated, over datashare_src. */
  order: string;
  /** COPY's WITH options, without HEADER. */
  options: string;
  /** A header line before the first row (CSV). */
  header: boolean;
  /** Binary COPY: each statement's output starts with a signature header and ends with a trailer. */
  binary: boolean;
}

/** A COPY's output as blocks, with its rows counted as they pass and the total Postgres reported. */
export interface CopyStream extends AsyncIterable<Buffer> {
  /** CopyData messages so far: one per text row (and the header line). */
  readonly messages: number;
  /** Rows Postgres reported having sent, once the stream has ended. */
  readonly rowCount: number;
}

/** Runs a file's COPY, on one connection or several: what a format's encoder is given to read its range. */
export type RunCopy = (q: CopyQuery) => Promise<CopyStream>;

/** The COPY statement for the whole range, or for the part of it in (after, upTo] of a single integer key. */
export function copySql(q: CopyQuery, slice?: { key: string; after?: bigint; upTo?: bigint; header: boolean }): string {
  const conds = q.where ? [q.where.replace(/^WHERE /, '')] : [];
  // The last slice, open above, also takes the rows whose key is NULL: ORDER BY puts them
  // last, and one statement would have sent them (where the file's range allows any).
  if (slice?.after !== undefined)
    conds.push(
      slice.upTo === undefined
        ? `(${slice.key} > ${slice.after} OR ${slice.key} IS NULL)`
        : `${slice.key} > ${slice.after}`,
    );
  if (slice?.upTo !== undefined) conds.push(`${slice.key} <= ${slice.upTo}`);
  const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
  const header = (slice ? slice.header : q.header) ? ', HEADER' : '';
  return `COPY (SELECT ${q.select} FROM ${q.from} ${where} ORDER BY ${q.order}) TO STDOUT WITH (${q.options}${header})`;
}

/** The whole range as one statement on the file's own connection. */
export function singleCopy(client: PoolClient, blocks: BufferPool): RunCopy {
  return (q) => Promise.resolve(client.query(new CopyOutBlocks(copySql(q), blocks)));
}
