import { Client, type Pool, type PoolClient } from 'pg';

/** What the export needs of the source database: a connection at a time. A plain Pool is one. */
export interface SourceConnector {
  connect(): Promise<PoolClient>;
  /** A connection only if one is free now with `reserve` more left over, without waiting (absent: never). */
  tryConnect?(reserve?: number): Promise<PoolClient | undefined>;
  /** Cancels what the backend `pid` runs, from outside its connection (absent: cannot cancel). */
  cancel?(pid: number): Promise<void>;
}

/** How datashare's own source connections show in pg_stat_activity. */
export const SOURCE_APPLICATION_NAME = 'datashare-source';

/**
 * DATASHARE_CONNECTIONS_PER_FILE / `worker --connections-per-file`: how many source
 * connections one file reads over, as slices of its key in one snapshot
 * (activities/export/range-copy.ts), for every format. Unset, each format has its own
 * default (FormatEncoder.defaultConnectionsPerFile): 2 for CSV and JSON Lines, whose
 * ceiling is the Postgres backend rendering text; 1 for Parquet, whose ceiling is its
 * encoder. Measured (README, Benchmark): on 2 cores CSV+gzip 1.21× faster with 2, no
 * faster with 4; Parquet 0.95× with 2, at 46 MB more memory.
 */
export const DEFAULT_CONNECTIONS_PER_FILE = 2;

/** The setting, or undefined for each format's own default. */
export function connectionsPerFile(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const n = Number(env.DATASHARE_CONNECTIONS_PER_FILE);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * DATASHARE_MAX_SOURCE_CONNECTIONS / `worker --max-source-connections`, by default
 * enough for every file at once on all its connections, plus two deliveries planning
 * beside them (2 × 2 + 2 = 6 with the defaults). A round of 1,000 end users then
 * queues in the worker instead of opening 1,000 backends; size it so workers × cap
 * stays under the source's max_connections minus its other users. A file's extra
 * connections only use free slots, so a lower cap costs speed, never a wait.
 */
export const DEFAULT_MAX_SOURCE_CONNECTIONS = 4;

export function maxSourceConnections(env: NodeJS.ProcessEnv = process.env, files = 2, perFile = 1): number {
  const n = Number(env.DATASHARE_MAX_SOURCE_CONNECTIONS);
  return Number.isInteger(n) && n > 0 ? n : Math.max(DEFAULT_MAX_SOURCE_CONNECTIONS, files * perFile + 2);
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

  /** For a file's extra lanes (activities/export/range-copy.ts): they use spare slots, never wait for one. */
  async tryConnect(reserve = 0): Promise<PoolClient | undefined> {
    if (this.free <= reserve) return undefined;
    return this.connect();
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
