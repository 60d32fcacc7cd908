import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A real HTTP server on 127.0.0.1 that records every webhook POST and answers
 * with `status`. It can be started on a given port later (a receiver that was down).
 */
export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  private server: Server | undefined;
  port = 0;

  constructor(
    public status = 204,
    /** Serve https with this certificate (selfSignedLocalhost()), else plain http. */
    private readonly tls?: { key: string; cert: string },
  ) {}

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.setEncoding('utf8').on('data', (s: string) => (body += s));
    req.on('end', () => {
      this.received.push({ headers: req.headers, body, at: Date.now() });
      res.writeHead(this.status).end();
    });
  }

  async start(port = 0): Promise<number> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    const server = this.tls ? createTlsServer(this.tls, handler) : createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  get url(): string {
    return this.tls ? `https://localhost:${this.port}/hooks` : `http://127.0.0.1:${this.port}/hooks`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A loopback port nothing listens on (yet): a receiver that is down. */
export async function unusedPort(): Promise<number> {
  const r = new WebhookReceiver();
  const port = await r.start();
  await r.stop();
  return port;
}

/**
 * A self-signed certificate for "localhost" (openssl), and the file a client
 * process trusts it from (NODE_EXTRA_CA_CERTS): TLS is verified as in production.
 */
export function selfSignedLocalhost(): { key: string; cert: string; certFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'datashare-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    // prettier-ignore
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'],
    { stdio: 'ignore', input: '' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}
