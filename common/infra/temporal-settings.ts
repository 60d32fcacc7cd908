/**
 * How datashare connects to Temporal, the standard way: the SDK's own loader
 * (@temporalio/envconfig) reads a temporal.toml profile (TEMPORAL_CONFIG_FILE, or
 * ~/.config/temporalio/temporal.toml; TEMPORAL_PROFILE picks one) and lays the
 * standard variables over it (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS, TEMPORAL_TLS_*). The client, the worker, doctor and every CLI
 * command connect with the same settings, so they cannot disagree.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { ValidationError } from '../errors';

export interface TemporalSettings {
  address: string;
  namespace: string;
  /** The profile as loaded (file, then variables); its certificates are read only when connecting. */
  profile: ClientConfigProfile;
  /** The temporal.toml profile used, if a file was read. */
  profileName?: string;
  configFile?: string;
}

/** What both Connection (client) and NativeConnection (worker) take. */
export interface TemporalConnectOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** Unset and empty are the same, as for every other datashare variable. */
function setVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

function configFile(vars: Record<string, string>): string {
  return (
    vars.TEMPORAL_CONFIG_FILE ?? join(vars.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'temporalio', 'temporal.toml')
  );
}

export function loadTemporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const vars = setVariables(env);
  const file = configFile(vars);
  let profile: ClientConfigProfile;
  let fromFile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: vars });
    fromFile = loadClientConfigProfile({ overrideEnvVars: vars, disableEnv: true });
  } catch (e) {
    throw new ValidationError(
      `cannot load the Temporal profile from ${file}: ${e instanceof Error ? e.message : String(e)} (check TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE)`,
    );
  }
  const fileUsed = Object.keys(fromFile).length > 0;
  return {
    address: profile.address ?? '127.0.0.1:7233',
    namespace: profile.namespace ?? 'default',
    profile,
    ...(fileUsed ? { configFile: file, profileName: vars.TEMPORAL_PROFILE ?? 'default' } : {}),
  };
}

/** Connection options, with the certificate files read now; a missing file names its variable. */
export function temporalConnectOptions(s: TemporalSettings): TemporalConnectOptions {
  let options: ReturnType<typeof toClientOptions>['connectionOptions'];
  try {
    options = toClientOptions(s.profile).connectionOptions;
  } catch (e) {
    const path = (e as { path?: unknown }).path;
    const which = typeof path === 'string' ? certificateVariable(s.profile, path) : undefined;
    throw new ValidationError(
      `cannot read a TLS file for Temporal${typeof path === 'string' ? ` (${path})` : ''}: ${e instanceof Error ? e.message : String(e)}; fix ${which ?? 'the TEMPORAL_TLS_*_PATH variables'}`,
    );
  }
  return {
    address: s.address,
    ...(options.tls !== undefined && options.tls !== null ? { tls: options.tls } : {}),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...(s.profile.grpcMeta ? { metadata: s.profile.grpcMeta } : {}),
  };
}

function certificateVariable(p: ClientConfigProfile, path: string): string | undefined {
  const tls = p.tls;
  const is = (src: unknown): boolean => typeof src === 'object' && src !== null && 'path' in src && src.path === path;
  if (is(tls?.clientCert)) return 'TEMPORAL_TLS_CLIENT_CERT_PATH';
  if (is(tls?.clientKey)) return 'TEMPORAL_TLS_CLIENT_KEY_PATH';
  if (is(tls?.serverCACert)) return 'TEMPORAL_TLS_SERVER_CA_CERT_PATH';
  return undefined;
}

/** The security of a connection, for doctor and for error messages. Never the key itself. */
export interface TemporalSecurity {
  tls: boolean;
  clientCertificate: boolean;
  /** The server's certificate is checked against this CA file, or the system's roots. */
  serverCa: 'system roots' | 'custom CA';
  serverName?: string;
  apiKey: boolean;
}

export function temporalSecurity(s: TemporalSettings): TemporalSecurity {
  const t = s.profile.tls;
  const apiKey = Boolean(s.profile.apiKey);
  // As the SDK decides: TLS when configured and not disabled, or when an API key is set.
  const tls = t ? t.disabled !== true : apiKey;
  return {
    tls,
    clientCertificate: tls && Boolean(t?.clientCert && t.clientKey),
    serverCa: t?.serverCACert ? 'custom CA' : 'system roots',
    ...(t?.serverName ? { serverName: t.serverName } : {}),
    apiKey,
  };
}

/** One line: "mTLS (client certificate, custom CA), API key set". */
export function describeTemporalSecurity(sec: TemporalSecurity): string {
  const tls = !sec.tls
    ? 'no TLS'
    : `${sec.clientCertificate ? 'mTLS (client certificate' : 'TLS (no client certificate'}, server checked against ${sec.serverCa}${sec.serverName ? `, server name ${sec.serverName}` : ''})`;
  return `${tls}, ${sec.apiKey ? 'API key set' : 'no API key'}`;
}
