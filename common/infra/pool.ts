import { Pool } from 'pg';

/**
 * A pg Pool that survives its database restarting. An idle client whose server
 * goes away emits 'error' on the pool, and an unhandled 'error' event would kill
 * the whole worker; the pool already drops that client, and the next query
 * connects afresh, so the event only needs noting. A client checked out at that
 * moment emits it too (its query fails as well, and that failure is what the
 * caller handles), so every client gets the same listener.
 */
export function createPool(
  connectionString: string,
  max: number,
  onError: (e: Error) => void = () => undefined,
  applicationName?: string,
  /**
   * pg waits forever for a connection by default: a dead database would hang every command.
   * pg applies the same limit to waiting in the pool's own queue, so a worker, whose
   * activities queue for connections under load, passes 0 (its activities have timeouts).
   */
  connectionTimeoutMillis: number = connectTimeoutMs(),
): Pool {
  const pool = new Pool({
    connectionString,
    max,
    connectionTimeoutMillis,
    ...(applicationName ? { application_name: applicationName } : {}),
  });
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

/** DATASHARE_CONNECT_TIMEOUT_MS, default 10 s: long enough for a loaded database, short enough for an operator. */
export function connectTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.DATASHARE_CONNECT_TIMEOUT_MS);
  return Number.isInteger(n) && n > 0 ? n : 10_000;
}
