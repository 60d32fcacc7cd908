import { Pool } from 'pg';

/**
 * A pg Pool that survives its database restarting. An idle client whose server
 * goes away emits 'error' on the pool, and an unhandled 'error' event would kill
 * the whole worker; the pool already drops that client, and the next query
 * connects afresh, so the event only needs noting. A client checked out at that
 * moment emits it too (its query fails as well, and that failure is what the
 * caller handles), so every client gets the same listener.
 */
export function createPool(connectionString: string, max: number, onError: (e: Error) => void = () => undefined): Pool {
  const pool = new Pool({ connectionString, max });
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}
