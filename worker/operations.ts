/**
 * Wires the operator endpoint of one worker process: our registry (with the
 * fleet gauges and Node's process metrics), the SDK's metrics, and the readiness
 * checks (the worker polls Temporal, both databases answer).
 */
import type { Worker } from '@temporalio/worker';
import type { Logger } from '@temporalio/common';
import type { Pool } from 'pg';
import { collectDefaultMetrics } from 'prom-client';
import type { Config } from '../common/infra/config';
import { registry } from '../common/infra/metrics';
import { TemporalConnection } from '../client/library/temporal-connection';
import { registerFleetGauges } from './fleet-gauges';
import { startMetricsServer } from './metrics-server';

let registered = false;

export async function serveOperations(o: {
  port: number;
  sdkMetricsPort?: number;
  worker: Worker;
  config: Config;
  metaPool: Pool;
  sourcePool: Pool;
  logger: Logger;
}): Promise<{ port: number; close: () => Promise<void> }> {
  const temporal = new TemporalConnection(o.config);
  if (!registered) {
    registered = true;
    collectDefaultMetrics({ register: registry, prefix: 'datashare_' });
    registerFleetGauges(registry, {
      metaPool: o.metaPool,
      temporal: () => temporal.client(),
      onError: (metric, e) => {
        o.logger.warn(`metrics: ${metric} not measured`, { err: e instanceof Error ? e : new Error(String(e)) });
      },
    });
  }
  const ping = async (pool: Pool): Promise<void> => {
    await pool.query('SELECT 1');
  };
  const { server, port } = await startMetricsServer({
    port: o.port,
    registry,
    ...(o.sdkMetricsPort === undefined ? {} : { sdkMetricsUrl: `http://127.0.0.1:${o.sdkMetricsPort}/metrics` }),
    readiness: [
      {
        // RUNNING means it polls its task queue; the SDK leaves that state when it loses Temporal for good.
        name: 'temporal worker',
        check: () => {
          const state = o.worker.getState();
          return state === 'RUNNING' ? Promise.resolve() : Promise.reject(new Error(`state ${state}`));
        },
      },
      { name: 'database', check: () => ping(o.metaPool) },
      ...(o.sourcePool !== o.metaPool ? [{ name: 'source database', check: () => ping(o.sourcePool) }] : []),
    ],
  });
  return {
    port,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await temporal.close();
    },
  };
}
