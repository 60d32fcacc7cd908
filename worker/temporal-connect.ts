import { NativeConnection } from '@temporalio/worker';
import { explainTemporalConnectFailure } from '../common/infra/temporal-connect-errors';
import { temporalConnectOptions, type TemporalSettings } from '../common/infra/temporal-settings';

/**
 * The worker's connection, with the same standard settings as the client
 * (temporal.toml profile, TEMPORAL_* variables); a refused TLS certificate or API
 * key fails with the variable to set rather than the SDK's transport error.
 */
export async function connectWorkerToTemporal(settings: TemporalSettings): Promise<NativeConnection> {
  const options = temporalConnectOptions(settings);
  try {
    return await NativeConnection.connect(options);
  } catch (e) {
    throw (await explainTemporalConnectFailure(e, settings)) ?? e;
  }
}
