/**
 * "connect ECONNREFUSED 127.0.0.1:5432" names a socket, not a service. This turns
 * a failure to reach one of the services datashare depends on into one line that
 * says which service, where, which variable sets it, and what to do.
 *
 * The service is recognised by the address in the error, matched against the
 * configured addresses, so no call site has to wrap its own errors.
 */
import { DatashareError } from '../errors';
import { awsEndpoint, type Config } from './config';

export type Service = 'metadata database' | 'source database' | 'Temporal' | 'S3' | 'STS';

interface Endpoint {
  service: Service;
  address: string;
  variable: string;
}

/** The network codes that mean "nothing answered there", as opposed to an answer we did not like. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ECONNRESET',
]);

const ARTICLE: Record<Service, string> = {
  'metadata database': 'the metadata database',
  'source database': 'the source database',
  Temporal: 'the Temporal server',
  S3: 'S3',
  STS: 'STS',
};

const LOCAL_STACK_FIX = 'for the local stack run: npm run stack:start';

export class ServiceUnreachableError extends DatashareError {
  constructor(
    readonly service: Service,
    readonly address: string,
    readonly variable: string,
    reason: string,
  ) {
    super(
      'ServiceUnreachable',
      `cannot reach ${ARTICLE[service]} at ${address} (${reason}); it is set by ${variable}: start that service, or point ${variable} at it (${LOCAL_STACK_FIX})`,
    );
  }
}

function hostPort(url: string, defaultPort: string): string | undefined {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || defaultPort}`;
  } catch {
    return undefined;
  }
}

/** Every service's configured address, most specific first (the metadata database when both URLs are the same). */
export function configuredEndpoints(config: Config, env: NodeJS.ProcessEnv = process.env): Endpoint[] {
  const out: Endpoint[] = [];
  const add = (service: Service, address: string | undefined, variable: string): void => {
    if (address) out.push({ service, address, variable });
  };
  add('metadata database', hostPort(config.databaseUrl, '5432'), 'DATABASE_URL');
  add('source database', hostPort(config.sourceDatabaseUrl, '5432'), 'SOURCE_DATABASE_URL');
  add('Temporal', config.temporalAddress, 'TEMPORAL_ADDRESS');
  for (const service of ['S3', 'STS'] as const) {
    const ep = awsEndpoint(service, env);
    if (ep) add(service, hostPort(ep.url, ep.url.startsWith('https:') ? '443' : '80'), ep.variable);
  }
  return out;
}

interface NetError {
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The socket-level cause of an error, looking through wrappers (AggregateError for dual-stack connects, `cause`). */
function netCause(e: unknown, depth = 0): NetError | undefined {
  if (typeof e !== 'object' || e === null || depth > 4) return undefined;
  const n = e as NetError;
  if (typeof n.code === 'string' && UNREACHABLE_CODES.has(n.code)) return n;
  if (Array.isArray(n.errors)) for (const x of n.errors) if (netCause(x, depth + 1)) return netCause(x, depth + 1);
  return netCause(n.cause, depth + 1);
}

/**
 * The one-line error for a service that cannot be reached, or undefined when `e`
 * is something else. `hint` names the service when the error itself cannot (a
 * Temporal connect deadline carries no address).
 */
export function explainUnreachable(
  e: unknown,
  config: Config,
  hint?: Service,
  env: NodeJS.ProcessEnv = process.env,
): ServiceUnreachableError | undefined {
  if (e instanceof ServiceUnreachableError) return e;
  // Already an operator's message (a refused TLS connection quotes the SDK's deadline text): keep it.
  if (e instanceof DatashareError) return undefined;
  const endpoints = configuredEndpoints(config, env);
  const n = netCause(e);
  if (n) {
    const reason = String(n.code);
    const host = typeof n.address === 'string' ? n.address : typeof n.hostname === 'string' ? n.hostname : undefined;
    const port = typeof n.port === 'number' || typeof n.port === 'string' ? String(n.port) : undefined;
    const matches = endpoints.filter(
      (x) => port !== undefined && x.address.endsWith(`:${port}`) && (host === undefined || sameHost(x.address, host)),
    );
    // One address may serve several services (a local S3 and STS stand-in): the caller's hint decides.
    const ep = matches.find((x) => x.service === hint) ?? matches[0] ?? endpoints.find((x) => x.service === hint);
    if (ep) return new ServiceUnreachableError(ep.service, ep.address, ep.variable, reason);
    return undefined;
  }
  const message = e instanceof Error ? e.message : String(e);
  // pg's connectionTimeoutMillis and the Temporal client's connect deadline say so only in words.
  if (/timeout expired|Connection terminated due to connection timeout/i.test(message)) {
    const ep = endpoints.find((x) => x.service === (hint ?? 'metadata database'));
    if (ep)
      return new ServiceUnreachableError(ep.service, ep.address, ep.variable, 'no answer before the connect timeout');
  }
  if (
    /Failed to connect before the deadline|connect ECONNREFUSED|transport error/i.test(message) &&
    (hint === undefined || hint === 'Temporal')
  ) {
    const ep = endpoints.find((x) => x.service === 'Temporal');
    if (ep)
      return new ServiceUnreachableError(ep.service, ep.address, ep.variable, 'no answer before the connect deadline');
  }
  return undefined;
}

function sameHost(address: string, host: string): boolean {
  const configured = address.slice(0, address.lastIndexOf(':'));
  const loopback = (h: string): boolean => h === 'localhost' || h === '::1' || h.startsWith('127.');
  return configured === host || (loopback(configured) && loopback(host));
}
