import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
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

  constructor(public status = 204) {}

  async start(port = 0): Promise<number> {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (s: string) => (body += s));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body, at: Date.now() });
        res.writeHead(this.status).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
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
