/** Configuration from the environment; the names are a public interface (see README). */
export interface Config {
  databaseUrl: string;
  sourceDatabaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/datashare';
  return {
    databaseUrl,
    sourceDatabaseUrl: env.SOURCE_DATABASE_URL || databaseUrl,
    temporalAddress: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.DATASHARE_TASK_QUEUE || 'datashare',
  };
}

/**
 * A custom S3 endpoint (moto, MinIO, …) rarely serves virtual-hosted bucket
 * names, so path-style addressing follows from setting one.
 */
export function s3UsesPathStyle(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
}
