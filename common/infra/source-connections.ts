import { Client, type Pool, type PoolClient } from 'pg';

/** What the export needs of the source database: a connection at a time. A plain Pool is one. */
export interface SourceConnector {
  connect(): Promise<PoolClient>;
  /** Cancels what the backend `pid` runs, from outside its connection (absent: cannot cancel). */
  cancel?(pid: number): Promise<void>;
}

/** How datashare's own source connections show in pg_stat_activity. */
export const SOURCE_APPLICATION_NAME = 'datashare-source';

/**
 * DATASHARE_MAX_SOURCE_CONNECTIONS / `worker --max-source-connections`, default 4: the
 * default two files exporting plus two deliveries planning beside them. A round of
 * 1,000 end users then queues in the worker instead of opening 1,000 backends; size
 * it so workers × cap stays under the source's max_connections minus its other users.
 */
export const DEFAULT_MAX_SOURCE_CONNECTIONS = 4;

export function maxSourceConnections(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.DATASHARE_MAX_SOURCE_CONNECTIONS);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_SOURCE_CONNECTIONS;
}

/**
 * A per-worker cap on source connections. Waiting for one of the cap's slots has
 * no deadline (a big round simply queues), unlike pg's own pool queue, whose
 * connect timeout would fail activities that merely waited their turn.
 */
export class SourceConnections implements SourceConnector {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly pool: Pool,
    readonly max: number,
    private readonly connectionString?: string,
  ) {
    this.free = max;
  }

  async connect(): Promise<PoolClient> {
    const free = await this.acquire();
    try {
      const client = await this.pool.connect();
      const release = client.release.bind(client);
      // pg-pool sets release afresh on every checkout, so this wrapper lives for this checkout only.
      client.release = (err?: Error | boolean) => {
        free();
        release(err);
      };
      return client;
    } catch (e) {
      free();
      throw e;
    }
  }

  async cancel(pid: number): Promise<void> {
    if (this.connectionString) await cancelBackend(this.connectionString, pid);
  }

  private async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/**
 * Cancels the statement a source connection is running, from a short-lived connection
 * of its own (the busy one cannot take a query mid-COPY). Best effort.
 */
export async function cancelBackend(connectionString: string, pid: number): Promise<void> {
  const c = new Client({ connectionString, application_name: 'datashare-cancel', connectionTimeoutMillis: 10_000 });
  try {
    await c.connect();
    await c.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // The statement ends anyway when the activity gives up on it and the connection is discarded.
  } finally {
    await c.end().catch(() => undefined);
  }
}
