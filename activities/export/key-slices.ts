import type { PoolClient } from 'pg';
import { copySql, type CopyQuery } from './copy-query';

/**
 * Where a file's range can be cut into slices of its key for several connections, and
 * how wide each slice is.
 *
 * Only a single integer key is sliced: its slices are plain `key > a AND key <= b`
 * bounds that need no pass over the data to find, and the widths can follow the
 * data's density as it is read. And only when Postgres reads such a slice through an
 * index on the key: otherwise every slice would scan the whole dataset again (a
 * query that aggregates, or a key with no index), and one statement is faster.
 */

const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint']);

/** Raw output a slice aims at: about what a lane holds ahead (its queue and its stream, parallel-copy.ts), so lanes rarely wait. */
export const SLICE_BYTES = 8 * 1024 * 1024;

export interface SliceExtent {
  /** The key column, qualified, as the slice bounds name it. */
  key: string;
  min: bigint;
  max: bigint;
  /** Width of the first slice, from the planner's estimate of the rows' size; later ones follow the data. */
  firstWidth: bigint;
  /** Raw output each slice aims at. */
  sliceBytes: number;
}

interface PlanNode {
  'Node Type'?: string;
  'Index Cond'?: string;
  'Total Cost'?: number;
  'Plan Rows'?: number;
  'Plan Width'?: number;
  Plans?: PlanNode[];
}

async function explain(client: PoolClient, sql: string): Promise<PlanNode> {
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`);
  return rows[0]['QUERY PLAN'][0].Plan;
}

/** Whether an index condition bounds the key by `<= bound` (as Postgres prints it: `(id <= 123)`, `(id <= '123'::bigint)`). */
function usesIndexBound(node: PlanNode, bound: bigint): boolean {
  const printed = new RegExp(`<= '?${bound}'?(::[a-z ]+)?\\)`);
  if (node['Index Cond'] !== undefined && printed.test(node['Index Cond'])) return true;
  return (node.Plans ?? []).some((p) => usesIndexBound(p, bound));
}

/** The SELECT inside a COPY statement, for EXPLAIN. */
export function selectOf(copy: string): string {
  return copy.slice('COPY ('.length, copy.lastIndexOf(') TO STDOUT'));
}

/**
 * The file's key extent, or undefined when it should be one statement: a key that is
 * not one integer column, no index to read slices by, or fewer rows than two slices.
 * Runs on the file's own connection, inside its snapshot (the parameters are set).
 */
export async function sliceExtent(
  client: PoolClient,
  q: CopyQuery,
  keyColumns: string[],
  keyTypes: string[],
  sliceBytes = SLICE_BYTES,
): Promise<SliceExtent | undefined> {
  if (keyColumns.length !== 1 || !INTEGER_TYPES.has(keyTypes[0] ?? '')) return undefined;
  const key = q.order;
  const where = q.where ? ` ${q.where}` : '';
  // min/max must come from the key's index too (Postgres then plans them as a Result over two
  // index probes instead of an Aggregate over every row), or finding them costs a pass of its own.
  const extentSql = `SELECT min(${key})::text AS lo, max(${key})::text AS hi FROM ${q.from}${where}`;
  if ((await explain(client, extentSql))['Node Type'] !== 'Result') return undefined;
  const { rows } = await client.query<{ lo: string | null; hi: string | null }>(extentSql);
  if (rows[0]?.lo == null || rows[0]?.hi == null) return undefined;
  const min = BigInt(rows[0].lo);
  const max = BigInt(rows[0].hi);
  // With literal bounds the planner estimates from its statistics (a bound it cannot see it guesses at 0.5%).
  const literal = { ...q, where: '' };
  const all = await explain(client, selectOf(copySql(literal, { key, after: min - 1n, upTo: max, header: false })));
  const estimatedBytes = (all['Plan Rows'] ?? 0) * Math.max(1, all['Plan Width'] ?? 100);
  const slices = BigInt(Math.ceil(estimatedBytes / sliceBytes));
  if (slices < 2n) return undefined;
  const span = max - min + 1n;
  const firstWidth = span / slices > 0n ? span / slices : 1n;
  // The planner must read a slice through the key's index, with the bounds as its condition.
  const probe = copySql(literal, { key, after: min - 1n, upTo: min + firstWidth, header: false });
  if (!usesIndexBound(await explain(client, selectOf(probe)), min + firstWidth)) return undefined;
  return { key, min, max, firstWidth, sliceBytes };
}

/**
 * Hands out consecutive slices of [min, max], each as wide as the data read so far
 * says makes sliceBytes: dense stretches get narrow slices, sparse ones wide. Any
 * widths tile the range, so the bytes are the same whatever they were.
 */
export class SliceCursor {
  private next: bigint;
  private width: bigint;
  private bytesRead = 0;
  private keysRead = 0n;

  constructor(private readonly extent: SliceExtent) {
    this.next = extent.min;
    this.width = extent.firstWidth;
  }

  /** The next slice, or undefined once the range is handed out. The first is open below, the last above. */
  take(): { after?: bigint; upTo?: bigint; first: boolean; last: boolean } | undefined {
    if (this.next > this.extent.max) return undefined;
    const first = this.next === this.extent.min;
    const upTo = this.next + this.width - 1n;
    const last = upTo >= this.extent.max;
    const slice = { after: first ? undefined : this.next - 1n, upTo: last ? undefined : upTo, first, last };
    this.next = upTo + 1n;
    return slice;
  }

  /** What a finished slice held: its key width and raw bytes. */
  record(keys: bigint, bytes: number): void {
    this.keysRead += keys;
    this.bytesRead += bytes;
    if (this.bytesRead === 0) {
      this.width *= 2n;
      return;
    }
    const perKey = this.bytesRead / Number(this.keysRead);
    const wanted = BigInt(Math.max(1, Math.floor(this.extent.sliceBytes / perKey)));
    // Bounded steps: one odd stretch must not swing the width wildly.
    const lo = this.width / 4n > 0n ? this.width / 4n : 1n;
    this.width = wanted < lo ? lo : wanted > this.width * 4n ? this.width * 4n : wanted;
  }
}
