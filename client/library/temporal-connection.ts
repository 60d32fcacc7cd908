import { Client, Connection } from '@temporalio/client';
import type { Config } from '../../common/infra/config';
import { connectTimeoutMs } from '../../common/infra/pool';
import { explainTemporalConnectFailure } from '../../common/infra/temporal-connect-errors';
import { temporalConnectOptions, type TemporalSettings } from '../../common/infra/temporal-settings';

/** A client connection with the standard settings; a refused TLS or API key says which variable to set. */
export async function connectTemporal(settings: TemporalSettings, connectTimeout: number): Promise<Connection> {
  const options = temporalConnectOptions(settings);
  try {
    return await Connection.connect({ ...options, connectTimeout });
  } catch (e) {
    throw (await explainTemporalConnectFailure(e, settings)) ?? e;
  }
}

/**
 * The library's one connection to Temporal, shared by deliveries and schedules.
 * Opened on first use, since profiles and datasets never need it; closed by
 * `Datashare.close()`.
 */
export class TemporalConnection {
  private opening?: Promise<{ connection: Connection; client: Client }>;

  constructor(private readonly config: Pick<Config, 'temporal' | 'temporalNamespace'>) {}

  client(): Promise<Client> {
    // One promise for every caller, so replays started at once share one connection.
    this.opening ??= this.open();
    return this.opening.then((o) => o.client);
  }

  private async open(): Promise<{ connection: Connection; client: Client }> {
    try {
      const connection = await connectTemporal(this.config.temporal, connectTimeoutMs());
      return { connection, client: new Client({ connection, namespace: this.config.temporalNamespace }) };
    } catch (e) {
      // Not remembered: the next call tries to connect again.
      this.opening = undefined;
      throw e;
    }
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    const opened = await opening?.catch(() => undefined);
    await opened?.connection.close();
  }
}
