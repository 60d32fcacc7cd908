import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { STACK_DIR } from '../../scripts/local/stack-env';

/**
 * Toxiproxy (github.com/Shopify/toxiproxy), the real TCP fault proxy, started per
 * test file on free loopback ports and driven through its HTTP API with fetch.
 * scripts/stack/install.sh builds the pinned binary into .stack/bin.
 *
 * Toxics used by the fault tests: `latency`, `bandwidth` (KB/s), `timeout` (stop all
 * data; close after `timeout` ms, never when 0), `reset_peer` (TCP RST after `timeout`
 * ms), `limit_data` (close once `bytes` have passed). `toxicity` is the share of
 * connections a toxic applies to; the server is seeded, so the draw is reproducible.
 */

export type ToxicType = 'latency' | 'bandwidth' | 'timeout' | 'reset_peer' | 'limit_data' | 'slow_close' | 'slicer';

export interface Toxic {
  name: string;
  type: ToxicType;
  /** upstream: client → server bytes (the request body); downstream: the answer. */
  stream?: 'upstream' | 'downstream';
  toxicity?: number;
  attributes: Record<string, number>;
}

export function toxiproxyBinary(): string {
  return join(STACK_DIR, 'bin', 'toxiproxy-server');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class Toxiproxy {
  private constructor(
    private readonly child: ChildProcess,
    readonly apiUrl: string,
  ) {}

  /** Spawns toxiproxy-server; resolves once its API answers. */
  static async start(seed = 13): Promise<Toxiproxy> {
    const bin = toxiproxyBinary();
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run scripts/stack/install.sh (npm run stack:install)`);
    const port = await freePort();
    const child = spawn(bin, ['-host', '127.0.0.1', '-port', String(port), '-seed', String(seed)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
    const t = new Toxiproxy(child, `http://127.0.0.1:${port}`);
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`toxiproxy-server exited (${child.exitCode}): ${stderr}`);
      try {
        if ((await fetch(`${t.apiUrl}/version`)).ok) return t;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`toxiproxy-server did not answer on ${t.apiUrl}: ${stderr}`);
  }

  private async api(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: ${res.status} ${text}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  /** A proxy on a free port in front of `upstream` (host:port); returns its http:// URL. */
  async proxy(name: string, upstream: string): Promise<string> {
    const port = await freePort();
    await this.api('POST', '/proxies', { name, listen: `127.0.0.1:${port}`, upstream, enabled: true });
    return `http://127.0.0.1:${port}`;
  }

  async addToxic(proxy: string, toxic: Toxic): Promise<void> {
    await this.api('POST', `/proxies/${proxy}/toxics`, {
      stream: 'downstream',
      toxicity: 1,
      ...toxic,
    });
  }

  async removeToxic(proxy: string, name: string): Promise<void> {
    await this.api('DELETE', `/proxies/${proxy}/toxics/${name}`);
  }

  /** Removes every toxic of every proxy (between cases). */
  async reset(): Promise<void> {
    await this.api('POST', '/reset');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}
