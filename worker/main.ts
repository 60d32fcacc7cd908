import { Runtime } from '@temporalio/worker';
import { createPool } from '../common/infra/pool';
import { createAwsAccess } from '../common/infra/aws';
import { loadConfig } from '../common/infra/config';
import { assertMigrated } from '../common/store/migrate';
import { createWorker } from './create-worker';
import { servedInstance } from './served-instance';
import { announceShutdown, shutdownGraceMs, shutdownOptions } from './graceful-shutdown';
import { describeTemporalSecurity, temporalSecurity } from '../common/infra/temporal-settings';
import {
  connectionsPerFile,
  DEFAULT_CONNECTIONS_PER_FILE,
  maxSourceConnections,
  SOURCE_APPLICATION_NAME,
} from '../common/infra/source-connections';

import { WorkerLogger, routeConsole } from './logging';
import { freeLoopbackPort, metricsPortFromEnv } from './metrics-server';
import { serveOperations } from './operations';

/** The worker process: `datashare worker`. Stops gracefully on SIGINT/SIGTERM (the SDK handles the signals; graceful-shutdown.ts sets how). */

/**
 * DATASHARE_PART_BYTES (default 5 MiB, S3's minimum) and DATASHARE_PARTS_IN_FLIGHT
 * (default 2): a worker holds about part size × parts in flight × concurrent files in memory.
 */
function partSettings(): { partBytes?: number; partsInFlight?: number } {
  const out: { partBytes?: number; partsInFlight?: number } = {};
  const bytes = Number(process.env.DATASHARE_PART_BYTES);
  if (Number.isInteger(bytes) && bytes >= 5 * 1024 * 1024) out.partBytes = bytes;
  const inFlight = Number(process.env.DATASHARE_PARTS_IN_FLIGHT);
  if (Number.isInteger(inFlight) && inFlight >= 1) out.partsInFlight = inFlight;
  return out;
}

/** DATASHARE_MEMORY_TRACE=<ms>: print the process's memory use every so often (for sizing workers). */
function traceMemory(): NodeJS.Timeout | undefined {
  const every = Number(process.env.DATASHARE_MEMORY_TRACE);
  if (!Number.isInteger(every) || every <= 0) return undefined;
  const mb = (n: number): string => `${Math.round(n / 1048576)}MB`;
  return setInterval(() => {
    const m = process.memoryUsage();
    process.stderr.write(
      `memory rss=${mb(m.rss)} heapUsed=${mb(m.heapUsed)} heapTotal=${mb(m.heapTotal)} external=${mb(m.external)} arrayBuffers=${mb(m.arrayBuffers)}\n`,
    );
  }, every).unref();
}

export async function runWorker(
  opts: {
    maxConcurrentFiles?: number;
    maxSourceConnections?: number;
    connectionsPerFile?: number;
    instance?: string;
    shutdownGrace?: string;
    metricsPort?: number;
  } = {},
): Promise<void> {
  const metricsPort = opts.metricsPort ?? metricsPortFromEnv();
  // The SDK's own metrics, on a loopback port that only /metrics reads (worker/metrics-server.ts).
  const sdkMetricsPort = metricsPort === undefined ? undefined : await freeLoopbackPort();
  const logger = new WorkerLogger();
  routeConsole(logger);
  Runtime.install({
    logger,
    ...(sdkMetricsPort === undefined
      ? {}
      : { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } } }),
  });
  let config = loadConfig();
  const graceMs = shutdownGraceMs(opts.shutdownGrace);
  const instanceName = opts.instance ?? (process.env.DATASHARE_INSTANCE || undefined);
  const noteDbError = (e: Error): void =>
    logger.warn('database connection lost; reconnecting on next use', { err: e, sdkComponent: 'datashare' });
  // No connect deadline: activities wait their turn for the pool under load; their own timeouts bound them.
  const metaPool = createPool(config.databaseUrl, 10, noteDbError, undefined, 0);
  // Always a pool of its own, even on the same database: the cap counts source connections alone,
  // and their application_name shows them in pg_stat_activity.
  const perFile = opts.connectionsPerFile ?? connectionsPerFile();
  const maxSource =
    opts.maxSourceConnections ??
    maxSourceConnections(process.env, opts.maxConcurrentFiles ?? 2, perFile ?? DEFAULT_CONNECTIONS_PER_FILE);
  const sourcePool = createPool(config.sourceDatabaseUrl, maxSource, noteDbError, SOURCE_APPLICATION_NAME);
  try {
    await assertMigrated(metaPool);
    const aws = createAwsAccess();
    // An instance's worker polls its queue alone, as its principal (checked now, not at the first delivery).
    const instance = instanceName ? await servedInstance(metaPool, instanceName, aws) : undefined;
    if (instance) config = { ...config, taskQueue: instance.taskQueue };
    const { worker, connection } = await createWorker({
      config,
      deps: {
        metaPool,
        sourcePool,
        maxSourceConnections: maxSource,
        ...(perFile ? { connectionsPerFile: perFile } : {}),
        sourceDatabaseUrl: config.sourceDatabaseUrl,
        aws,
        ...(instance ? { instance: instance.name } : {}),
        ...partSettings(),
      },
      ...(opts.maxConcurrentFiles ? { maxConcurrentFiles: opts.maxConcurrentFiles } : {}),
      shutdown: shutdownOptions(graceMs),
    });
    const trace = traceMemory();
    const operations =
      metricsPort === undefined
        ? undefined
        : await serveOperations({ port: metricsPort, sdkMetricsPort, worker, config, metaPool, sourcePool, logger });
    logger.announce(
      `datashare worker: ${instance ? `instance "${instance.name}" (${instance.principalArn}), ` : ''}task queue "${config.taskQueue}" on ${config.temporalAddress} (namespace ${config.temporalNamespace}, ${describeTemporalSecurity(temporalSecurity(config.temporal))})`,
      {
        taskQueue: config.taskQueue,
        ...(instance ? { instance: instance.name } : {}),
        ...(operations ? { metricsPort: operations.port } : {}),
      },
    );
    const quiet = announceShutdown(graceMs, (line) => logger.announce(line.trim()));
    try {
      await worker.run();
      logger.announce('datashare worker: stopped');
    } finally {
      quiet();
      if (trace) clearInterval(trace);
      await operations?.close();
      await connection.close();
    }
  } finally {
    await sourcePool.end();
    await metaPool.end();
  }
}
