/**
 * The worker's HTTP endpoint for operators: GET /metrics (Prometheus text),
 * /healthz (the process is alive) and /readyz (it polls Temporal and reaches its
 * databases). `datashare worker --metrics-port <port>` or DATASHARE_METRICS_PORT.
 *
 * /metrics is one scrape target: datashare's registry (prom-client) followed by
 * the Temporal SDK's own runtime metrics, which Core serves on a loopback port of
 * its own (Runtime.install telemetry) and which this server fetches and appends.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export interface MetricsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** The SDK's Prometheus endpoint (http://127.0.0.1:<port>/metrics), when the runtime exports one. */
  sdkMetricsUrl?: string;
  readiness: ReadinessCheck[];
}

const CHECK_TIMEOUT_MS = 3000;

/** A free loopback port for the SDK's exporter; only this process scrapes it. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** DATASHARE_METRICS_PORT, when set to a port number. */
export function metricsPortFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.DATASHARE_METRICS_PORT;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`DATASHARE_METRICS_PORT "${v}" is not a port number`);
  return n;
}

async function sdkMetrics(url: string | undefined): Promise<string> {
  if (!url) return '';
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    return res.ok ? await res.text() : `# Temporal SDK metrics unavailable: HTTP ${res.status}\n`;
  } catch (e) {
    // Our own metrics still count: say why the SDK's are missing instead of failing the scrape.
    return `# Temporal SDK metrics unavailable: ${e instanceof Error ? e.message : String(e)}\n`;
  }
}

async function runCheck(c: ReadinessCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      c.check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return undefined;
  } catch (e) {
    return `${c.name}: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    clearTimeout(timer);
  }
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'Content-Type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'GET only\n');
    if (path === '/healthz') return reply(200, 'ok\n');
    if (path === '/readyz') {
      void Promise.all(opts.readiness.map(runCheck)).then((problems) => {
        const failed = problems.filter((p): p is string => p !== undefined);
        reply(failed.length ? 503 : 200, failed.length ? `not ready\n${failed.join('\n')}\n` : 'ready\n');
      });
      return;
    }
    if (path === '/metrics') {
      void Promise.all([opts.registry.metrics(), sdkMetrics(opts.sdkMetricsUrl)]).then(
        ([ours, sdk]) => reply(200, `${ours}\n${sdk}`, opts.registry.contentType),
        (e: unknown) => reply(500, `metrics failed: ${e instanceof Error ? e.message : String(e)}\n`),
      );
      return;
    }
    reply(404, 'not found: /metrics, /healthz, /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
