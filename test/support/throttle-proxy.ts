import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * A TCP proxy that slows uploads to a given rate, as a real link to S3 is slower
 * than loopback to moto: a file then takes seconds, long enough for a test to stop
 * a worker in the middle of it. Only the client→server direction is throttled.
 */
export class ThrottleProxy {
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(upstream: string, bytesPerSecond: number): Promise<ThrottleProxy> {
    const target = new URL(upstream);
    const server = createServer();
    const proxy = new ThrottleProxy(server);
    server.on('connection', (client) => {
      const up = connect(Number(target.port), target.hostname);
      proxy.track(client);
      proxy.track(up);
      const slow = new Transform({
        transform(chunk: Buffer, _enc, done: TransformCallback) {
          setTimeout(() => done(null, chunk), (chunk.length / bytesPerSecond) * 1000);
        },
      });
      client.pipe(slow).pipe(up);
      up.pipe(client);
      const close = (): void => {
        client.destroy();
        up.destroy();
      };
      client.on('error', close).on('close', close);
      up.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
