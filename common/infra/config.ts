import { loadTemporalSettings, type TemporalSettings } from './temporal-settings';

/** Configuration from the environment; the names are a public interface (see README). */
export interface Config {
  databaseUrl: string;
  sourceDatabaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  /** The whole Temporal connection (temporal.toml profile and TEMPORAL_* variables); address and namespace above come from it. */
  temporal: TemporalSettings;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/datashare';
  const temporal = loadTemporalSettings(env);
  return {
    databaseUrl,
    sourceDatabaseUrl: env.SOURCE_DATABASE_URL || databaseUrl,
    temporalAddress: temporal.address,
    temporalNamespace: temporal.namespace,
    taskQueue: env.DATASHARE_TASK_QUEUE || 'datashare',
    temporal,
  };
}

/**
 * A custom S3 endpoint (moto, MinIO, …) rarely serves virtual-hosted bucket
 * names, so path-style addressing follows from setting one.
 */
export function s3UsesPathStyle(env: NodeJS.ProcessEnv = process.env): boolean {
  return awsEndpoint('S3', env) !== undefined;
}

/** A custom endpoint for one AWS service, as the SDK reads it (the service's own variable first), and which variable set it. */
export function awsEndpoint(
  service: 'S3' | 'STS',
  env: NodeJS.ProcessEnv = process.env,
): { url: string; variable: string } | undefined {
  const own = `AWS_ENDPOINT_URL_${service}`;
  if (env[own]) return { url: env[own], variable: own };
  return env.AWS_ENDPOINT_URL ? { url: env.AWS_ENDPOINT_URL, variable: 'AWS_ENDPOINT_URL' } : undefined;
}
