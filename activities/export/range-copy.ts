import type { PoolClient } from 'pg';
import type { SourceConnector } from '../../common/infra/source-connections';
import type { BufferPool } from './buffer-pool';
import { copySql, singleCopy, type CopyStream, type RunCopy } from './copy-query';
import type { RangeSource } from './format-encoder';
import { selectOf, sliceExtent } from './key-slices';
import { rangeCondition } from './key-ranges';
import { ParallelCopy } from './parallel-copy';
import { beginReadOnly, inlineParamsAsSettings } from './source-query';

/**
 * How a file's COPY runs: over up to `lanes` connections when its key can be sliced
 * (key-slices.ts) and the worker has source connections to spare at that moment,
 * otherwise as one statement. Either way the bytes are the same.
 *
 * Helpers are taken only if free right now (never waited for, so two files cannot
 * each hold one connection and wait for the other's), and join the file's snapshot
 * with pg_export_snapshot: the file stays one consistent view of the source. (Each
 * helper is its own transaction, so now() and random() in a dataset's SQL are
 * evaluated per connection; the rows each sees are the same.)
 */
const HELPER_LOCK_TIMEOUT = '10s';
/** Source slots a file's helpers leave free, for deliveries that need one to plan. */
const PLANNING_RESERVE = 2;

export function rangeCopy(
  client: PoolClient,
  source: SourceConnector,
  range: RangeSource,
  blocks: BufferPool,
  opts: { lanes: number; sliceBytes?: number },
): RunCopy {
  const { lanes } = opts;
  const single = singleCopy(client, blocks);
  return async (q): Promise<CopyStream> => {
    if (lanes <= 1 || !source.tryConnect) return single(q);
    const extent = await sliceExtent(client, q, range.q.keyColumns, range.keyTypes, opts.sliceBytes);
    if (!extent) return single(q);
    const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    const helpers: PoolClient[] = [];
    const release = async (c: PoolClient, reusable: boolean): Promise<void> => {
      if (reusable) await c.query('COMMIT').catch(() => (reusable = false));
      c.release(!reusable);
    };
    while (helpers.length < lanes - 1) {
      // A pool that cannot hand one over now (its own limit, a connect timeout) means one lane fewer, not a failed file.
      const helper = await source.tryConnect(PLANNING_RESERVE).catch(() => undefined);
      if (!helper) break;
      try {
        await beginReadOnly(helper, range.q.window, rows[0].id);
        // A helper must never wait behind DDL that waits for the file's own connection (ALTER,
        // TRUNCATE, VACUUM FULL queued on its locks): Postgres cannot see that cycle through
        // our writer, so it would hang. Bounded waits fail instead, and the file retries.
        await helper.query(`SET LOCAL lock_timeout = '${HELPER_LOCK_TIMEOUT}'`);
        // The same settings the file's own connection has: the parameters, then the range's bounds.
        await inlineParamsAsSettings(helper, range.q);
        await rangeCondition(helper, range.q.keyColumns, range.keyTypes, range.range);
        // Planning takes the dataset's table locks now, while failing costs only this lane.
        await helper.query(`EXPLAIN ${selectOf(copySql(q))}`);
      } catch {
        // One lane fewer; the file goes on with those it has.
        helper.release(true);
        break;
      }
      helpers.push(helper);
    }
    if (helpers.length === 0) return single(q);
    return new ParallelCopy([client, ...helpers], q, extent, blocks, release);
  };
}
