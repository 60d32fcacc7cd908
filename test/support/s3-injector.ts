import { createHash } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BAD_DIGEST, errorBody, EXPIRED_TOKEN, NO_SUCH_UPLOAD, SHA256_MISMATCH } from './injector-faults';
import {
  isStsRequest,
  matches,
  operationOf,
  RuleBook,
  signingKeyOf,
  type ErrorAnswer,
  type RecordedRequest,
  type RequestMatch,
  type Rule,
} from './injector-rules';

export * from './injector-rules';
export { errorXml } from './injector-faults';

/**
 * An HTTP proxy in front of moto that plays what moto does not: a bucket owned by
 * another account, throttling, 500s before and after the work is done, stalls,
 * expired role sessions, corrupted bodies (issue 13). Requests pass through
 * untouched, Host header included, so SigV4 signatures still verify upstream.
 *
 * Like S3, it checks each body against its signed x-amz-content-sha256 (and
 * Content-MD5), answering XAmzContentSHA256Mismatch / BadDigest; moto checks
 * neither. STS calls come here too (AWS_ENDPOINT_URL_STS) and are told apart by the
 * form's Action; the role sessions AssumeRole hands out are remembered by access
 * key, so the injector can expire them. Like S3 (and unlike moto), it forgets a
 * multipart upload once completed: a retried Complete gets NoSuchUpload. A test
 * installs rules; with none, nothing else changes. Every request is recorded.
 */

interface Session {
  accessKeyId: string;
  issuedAt: number;
  /** When the (possibly rewritten) STS answer says the session ends, by Date.now(). */
  claimedExpiry?: number;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

export class S3Injector {
  readonly requests: RecordedRequest[] = [];
  /** Role sessions AssumeRole issued through the injector, in order. */
  readonly sessions: Session[] = [];
  private readonly book: RuleBook;
  /** Multipart uploads S3 completed: S3 forgets them, so a retried Complete gets NoSuchUpload (moto answers 200). */
  private readonly completedUploads = new Set<string>();
  private cuts: { name: string; match: RequestMatch; afterBytes: number; left: number }[] = [];
  private sessionLifetimeMs: number | undefined;
  private claimedLifetimeSeconds: number | undefined;

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
    seed: number,
  ) {
    this.book = new RuleBook(seed);
  }

  /** Starts on a free loopback port in front of `upstream` (moto's URL); `seed` fixes probabilistic rules. */
  static async start(upstream: string, seed = 13): Promise<S3Injector> {
    const holder: { injector?: S3Injector } = {};
    const server = createServer((req, res) => holder.injector?.handle(req, res));
    const injector = new S3Injector(server, new URL(upstream), seed);
    holder.injector = injector;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return injector;
  }

  /** The endpoint to give the code under test (AWS_ENDPOINT_URL_S3 and, for STS faults, AWS_ENDPOINT_URL_STS). */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  add(rule: Rule): void {
    this.book.add(rule);
  }

  /**
   * Resets the connection of the next `times` matching S3 requests once `afterBytes` of
   * their body have arrived: a reset mid-body, on exactly the requests a test names
   * (Toxiproxy's toxics pick connections, not requests).
   */
  cutMidBody(cut: { name: string; match: RequestMatch; afterBytes: number; times: number }): void {
    this.cuts.push({ name: cut.name, match: cut.match, afterBytes: cut.afterBytes, left: cut.times });
  }

  /** Role sessions older than `ms` (real time) get ExpiredToken from S3, as a short DurationSeconds would. */
  expireSessionsAfter(ms: number | undefined): void {
    this.sessionLifetimeMs = ms;
  }

  /** AssumeRole answers claim this lifetime (Expiration rewritten to Date.now() + s); S3 enforces it by Date.now(). */
  claimSessionLifetime(seconds: number | undefined): void {
    this.claimedLifetimeSeconds = seconds;
  }

  /** Removes every rule and session fault and forgets recorded requests (between cases). */
  reset(): void {
    this.book.clear();
    this.cuts = [];
    this.requests.length = 0;
    this.sessions.length = 0;
    this.sessionLifetimeMs = undefined;
    this.claimedLifetimeSeconds = undefined;
  }

  /** Recorded requests matching `m`. */
  recorded(m: RequestMatch = {}): RecordedRequest[] {
    return this.requests.filter((r) => matches(m, r));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://injector');
    const method = req.method ?? 'GET';
    const sts = isStsRequest(method, url.pathname, req.headers);
    const sha = String(req.headers['x-amz-content-sha256'] ?? '');
    const verify = HEX_SHA256.test(sha) || req.headers['content-md5'] !== undefined;
    const r: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      operation: 'Other',
      headers: req.headers,
      accessKeyId: signingKeyOf(req.headers),
      bodyBytes: 0,
    };
    if (!sts) {
      // S3 requests are recorded on arrival (a body cut off on the way still shows).
      r.operation = operationOf(method, url.pathname, url.searchParams);
      this.requests.push(r);
      const cut = this.cuts.find((c) => c.left > 0 && matches(c.match, r));
      if (cut) {
        cut.left--;
        r.answeredBy = cut.name;
        let seen = 0;
        req.on('data', (b: Buffer) => {
          seen += b.length;
          if (seen >= cut.afterBytes) req.socket.resetAndDestroy();
        });
      }
    }
    if (!sts && !verify) {
      // Nothing to read the body for: decide now and stream it through.
      req.on('data', (b: Buffer) => (r.bodyBytes += b.length));
      this.dispatch(r, req, res, undefined);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => {
      chunks.push(b);
      r.bodyBytes += b.length;
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (sts) {
        r.form = new URLSearchParams(body.toString('utf8'));
        const action = r.form.get('Action') ?? '';
        r.operation = operationOf(method, url.pathname, url.searchParams, action);
        this.requests.push(r);
      }
      this.dispatch(r, req, res, body);
    });
  }

  private dispatch(r: RecordedRequest, req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): void {
    const expired = this.expiredSession(r);
    if (expired) return this.answer(r, req, res, EXPIRED_TOKEN, expired);
    const uploadId = r.query.get('uploadId');
    if (uploadId && this.completedUploads.has(uploadId))
      return this.answer(r, req, res, NO_SUCH_UPLOAD, 'completed upload');
    const rule = this.book.pick(r);
    const a = rule?.answer ?? 'pass';
    if (rule && a !== 'pass') r.answeredBy = rule.name;
    if (a !== 'pass' && 'corrupt' in a && body && body.length > 0) body[body.length >> 1] ^= 0x01;
    const bad = body ? this.badPayload(r, body) : undefined;
    if (bad) {
      return this.answer(r, req, res, bad, r.answeredBy ?? `payload check (${bad.code})`);
    }
    if (a === 'pass' || 'corrupt' in a) return this.forward(r, req, res, body);
    if ('afterForward' in a) return this.forward(r, req, res, body, a.afterForward);
    if ('hold' in a) {
      const arrived = performance.now();
      let gone = false;
      res.on('close', () => {
        if (!res.writableFinished && !gone) {
          gone = true;
          r.clientGaveUpAfterMs = performance.now() - arrived;
        }
      });
      setTimeout(() => (gone ? res.destroy() : this.forward(r, req, res, body)), a.hold);
      return;
    }
    this.answer(r, req, res, a, rule?.name ?? '');
  }

  private answer(r: RecordedRequest, req: IncomingMessage, res: ServerResponse, a: ErrorAnswer, by: string): void {
    r.answeredBy = by;
    const send = (): void => {
      res.writeHead(a.status, {
        'content-type': a.sts ? 'text/xml' : 'application/xml',
        'x-amz-request-id': 'injected',
        ...a.headers,
      });
      res.end(r.method === 'HEAD' ? undefined : errorBody(a, r.path));
    };
    // Drain the body first: answering mid-upload makes clients see a reset instead of the error.
    if (req.readableEnded) send();
    else {
      req.resume();
      req.on('end', send);
    }
  }

  /** What S3 says of a body that does not match its signed hash or Content-MD5. */
  private badPayload(r: RecordedRequest, body: Buffer): ErrorAnswer | undefined {
    const sha = String(r.headers['x-amz-content-sha256'] ?? '');
    if (HEX_SHA256.test(sha) && createHash('sha256').update(body).digest('hex') !== sha) return SHA256_MISMATCH;
    const md5 = r.headers['content-md5'];
    if (typeof md5 === 'string' && createHash('md5').update(body).digest('base64') !== md5) return BAD_DIGEST;
    return undefined;
  }

  private expiredSession(r: RecordedRequest): string | undefined {
    if (r.operation === 'AssumeRole' || r.operation === 'GetCallerIdentity' || r.operation === 'StsOther') return;
    const s = this.sessions.find((x) => x.accessKeyId === r.accessKeyId);
    if (!s) return;
    if (this.sessionLifetimeMs !== undefined && performance.now() - s.issuedAt > this.sessionLifetimeMs)
      return 'expired session (lifetime)';
    if (s.claimedExpiry !== undefined && Date.now() >= s.claimedExpiry) return 'expired session (claimed expiry)';
    return undefined;
  }

  /** Sends the request to moto; with `instead`, moto's answer is read and dropped, and the client gets `instead`. */
  private forward(
    r: RecordedRequest,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | undefined,
    instead?: ErrorAnswer,
  ): void {
    const up = httpRequest(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        const uploadId = r.query.get('uploadId');
        if (r.operation === 'CompleteMultipartUpload' && upRes.statusCode === 200 && uploadId)
          this.completedUploads.add(uploadId);
        if (instead) {
          upRes.resume();
          upRes.on('end', () => this.answer(r, req, res, instead, r.answeredBy ?? 'after forward'));
          return;
        }
        if (r.operation === 'AssumeRole') return this.relayAssumeRole(upRes, res);
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    if (body) up.end(body);
    else req.pipe(up);
  }

  /** Remembers the session an AssumeRole answer issues, and rewrites the lifetime it claims if asked to. */
  private relayAssumeRole(upRes: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    upRes.on('data', (b: Buffer) => chunks.push(b));
    upRes.on('end', () => {
      let text = Buffer.concat(chunks).toString('utf8');
      const accessKeyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(text)?.[1];
      const session: Session | undefined = accessKeyId ? { accessKeyId, issuedAt: performance.now() } : undefined;
      if (session && this.claimedLifetimeSeconds !== undefined) {
        session.claimedExpiry = Date.now() + this.claimedLifetimeSeconds * 1000;
        const iso = new Date(session.claimedExpiry).toISOString();
        text = text.replace(/<Expiration>[^<]+<\/Expiration>/, `<Expiration>${iso}</Expiration>`);
      }
      if (session) this.sessions.push(session);
      const out = Buffer.from(text, 'utf8');
      const headers: IncomingHttpHeaders = { ...upRes.headers, 'content-length': String(out.length) };
      delete headers['transfer-encoding'];
      res.writeHead(upRes.statusCode ?? 502, headers);
      res.end(out);
    });
  }
}

/** A bucket that belongs to `owner`: any request naming another ExpectedBucketOwner gets S3's plain 403. */
export function bucketOwnedBy(bucket: string, owner: string): Rule {
  return {
    name: `bucket ${bucket} owned by ${owner}`,
    match: {
      path: new RegExp(`^/${bucket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/|$)`),
      when: (r) => {
        const expected = r.headers['x-amz-expected-bucket-owner'];
        return expected !== undefined && expected !== owner;
      },
    },
    answer: { status: 403, code: 'AccessDenied', message: 'Access Denied' },
  };
}
