import type { PoolClient } from 'pg';
import { DatashareError } from '../../common/errors';
import { formatDuration } from '../../common/domain/durations';
import type { SourceConnector } from '../../common/infra/source-connections';

/**
 * The dataset's statement timeout: Postgres's own statement_timeout for planning and
 * sampling (SET LOCAL: it ends with the transaction, so a pooled connection keeps no
 * trace), and for the export's COPY a deadline on its first block of output only. A
 * COPY's statement cannot be bounded as a whole: a healthy multi-hour export held back
 * by a slow S3 must not be cut off, while a query that has not produced anything after
 * the timeout is still thinking (a sort, a bad join) and is cancelled.
 */

export async function limitStatements(client: PoolClient, ms: number): Promise<void> {
  await client.query(`SET LOCAL statement_timeout = ${Math.trunc(ms)}`);
}

/** 57014 query_canceled: statement_timeout, or our own cancel after the first-row deadline. */
export function isCancelled(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '57014';
}

export function queryTimeout(hint: string, ms: number, what: string): DatashareError {
  return new DatashareError(
    'QueryTimeout',
    `${hint}: the query ran past its statement timeout of ${formatDuration(ms)} ${what} and was cancelled; ` +
      `make it faster (an index on its filter or key, a missing join condition?) or raise the bound with: datashare dataset set <id> … --statement-timeout <duration>`,
  );
}

/**
 * Until `arrived()` is called, a timer that cancels the connection's backend after `ms`.
 * `fired` tells the caller that the COPY's failure was this deadline.
 */
export async function firstOutputDeadline(
  source: SourceConnector,
  client: PoolClient,
  ms: number,
): Promise<{ arrived(): void; readonly fired: boolean }> {
  if (!source.cancel) return { arrived: () => undefined, fired: false };
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = rows[0]?.pid;
  const state = { fired: false, timer: undefined as NodeJS.Timeout | undefined };
  if (pid !== undefined) {
    state.timer = setTimeout(() => {
      state.fired = true;
      void source.cancel?.(pid);
    }, ms);
    state.timer.unref();
  }
  return {
    arrived: () => clearTimeout(state.timer),
    get fired() {
      return state.fired;
    },
  };
}
