/**
 * A real TLS terminator in front of the local Temporal dev server, as a Temporal
 * Cloud namespace or a company's TLS cluster looks to datashare: Debian's nginx
 * (unpacked into .stack/nginx by scripts/stack/install.sh), `grpc_pass` to the
 * dev server, with certificates from a test CA made here with openssl.
 *
 * Two listeners:
 *  - mtls: TLS that requires a client certificate issued by the test CA;
 *  - apiKey: TLS without client certificates that refuses any request lacking
 *    `authorization: Bearer <key>` with gRPC status UNAUTHENTICATED, as Cloud does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STACK_DIR } from '../../scripts/local/stack-env';

export interface Pki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from another CA: the server must refuse it. */
  rogueClientCert: string;
  rogueClientKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, subject: string, ca: string, ext: string): void {
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-subj', subject, '-out', `${name}.csr`],
    dir,
  );
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

function makeCa(dir: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

/** A CA, a server certificate for localhost/127.0.0.1, a client certificate, and a client certificate from a rogue CA. */
export function makeTestPki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'datashare-pki-'));
  makeCa(dir, 'test-ca');
  makeCa(dir, 'rogue-ca');
  issue(
    dir,
    'server',
    '/CN=localhost',
    'test-ca',
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
  );
  const clientExt =
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
  issue(dir, 'client', '/CN=datashare-worker', 'test-ca', clientExt);
  issue(dir, 'rogue-client', '/CN=someone-else', 'rogue-ca', clientExt);
  const p = (f: string): string => join(dir, f);
  return {
    dir,
    caCert: p('test-ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    rogueClientCert: p('rogue-client.crt'),
    rogueClientKey: p('rogue-client.key'),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface TlsProxy {
  pki: Pki;
  /** host:port of the listener that requires a client certificate. */
  mtlsAddress: string;
  /** host:port of the listener that requires `authorization: Bearer <apiKey>`. */
  apiKeyAddress: string;
  apiKey: string;
  stop(): Promise<void>;
}

export const NGINX_BIN = join(STACK_DIR, 'nginx', 'usr', 'sbin', 'nginx');

function nginxConf(dir: string, pki: Pki, upstream: string, mtlsPort: number, apiKeyPort: number, key: string): string {
  // Temporal's long polls last about 70 s: nginx's 60 s default read timeout would cut them.
  return `worker_processes 1;
daemon off;
${process.getuid?.() === 0 ? 'user root root;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 512; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 0;
  grpc_read_timeout 300s;
  grpc_send_timeout 300s;
  client_body_timeout 300s;
  http2_recv_timeout 300s;
  ssl_certificate ${pki.serverCert};
  ssl_certificate_key ${pki.serverKey};
  server {
    listen 127.0.0.1:${mtlsPort} ssl http2;
    ssl_client_certificate ${pki.caCert};
    ssl_verify_client on;
    location / { grpc_pass grpc://${upstream}; }
  }
  server {
    listen 127.0.0.1:${apiKeyPort} ssl http2;
    location / {
      if ($http_authorization != "Bearer ${key}") { return 401; }
      grpc_pass grpc://${upstream};
    }
    error_page 401 = @unauthenticated;
    location @unauthenticated {
      default_type application/grpc;
      add_header grpc-status 16 always;
      add_header grpc-message "missing or wrong API key" always;
      return 204;
    }
  }
}
`;
}

/** Starts nginx on two free ports in front of `upstream` (the dev server's host:port). */
export async function startTlsProxy(upstream: string): Promise<TlsProxy> {
  if (!existsSync(NGINX_BIN)) throw new Error(`${NGINX_BIN} is missing: run npm run stack:install`);
  const pki = makeTestPki();
  const dir = join(pki.dir, 'nginx');
  mkdirSync(dir);
  const [mtlsPort, apiKeyPort] = [await freePort(), await freePort()];
  const apiKey = `test-key-${randomBytes(12).toString('hex')}`;
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConf(dir, pki, upstream, mtlsPort, apiKeyPort, apiKey));
  const child: ChildProcess = spawn(NGINX_BIN, ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 100; i++) {
    if ((await listening(mtlsPort)) && (await listening(apiKeyPort))) break;
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pki,
    mtlsAddress: `localhost:${mtlsPort}`,
    apiKeyAddress: `localhost:${apiKeyPort}`,
    apiKey,
    async stop() {
      // Our own child, by its pid: QUIT lets nginx finish; the test's connections are closed by then.
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(pki.dir, { recursive: true, force: true });
    },
  };
}
