import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { Pool } from 'pg';
import { createAwsAccess } from '../common/aws';
import { loadConfig } from '../common/config';
import { assertMigrated } from '../common/store/migrate';
import { createWorker } from './create-worker';

/** The worker process: `datashare worker`. Stops gracefully on SIGINT/SIGTERM (the SDK handles the signals). */
const LOG_LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** DATASHARE_LOG_LEVEL (default INFO; WARN hides the workflow bundler's build report). */
function logLevel(): LogLevel {
  const v = (process.env.DATASHARE_LOG_LEVEL ?? 'INFO').toUpperCase();
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : 'INFO';
}

export async function runWorker(opts: { maxConcurrentActivities?: number } = {}): Promise<void> {
  Runtime.install({ logger: new DefaultLogger(logLevel()) });
  const config = loadConfig();
  const metaPool = new Pool({ connectionString: config.databaseUrl, max: 10 });
  const sourcePool =
    config.sourceDatabaseUrl === config.databaseUrl ? metaPool : new Pool({ connectionString: config.sourceDatabaseUrl, max: 10 });
  try {
    await assertMigrated(metaPool);
    const { worker, connection } = await createWorker({
      config,
      deps: { metaPool, sourcePool, aws: createAwsAccess() },
      ...(opts.maxConcurrentActivities ? { maxConcurrentActivities: opts.maxConcurrentActivities } : {}),
    });
    process.stderr.write(
      `datashare worker: task queue "${config.taskQueue}" on ${config.temporalAddress} (namespace ${config.temporalNamespace})\n`,
    );
    try {
      await worker.run();
    } finally {
      await connection.close();
    }
  } finally {
    if (sourcePool !== metaPool) await sourcePool.end();
    await metaPool.end();
  }
}
