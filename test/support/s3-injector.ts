import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of the local S3 stand-in that plays what moto does not:
 * a bucket owned by another account, and (issue 13) throttling, resets, expired
 * tokens. Requests pass through untouched — Host header included, so SigV4
 * signatures still verify upstream — and bodies stream both ways. A test installs
 * rules; the first rule that matches a request answers it instead of moto.
 * Every request is recorded (method, path, operation, headers), so a test can
 * assert on what the code under test really sent.
 */

export type S3Operation =
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'PutObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'ListObjects'
  | 'Other';

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. /bucket/key. */
  path: string;
  query: URLSearchParams;
  operation: S3Operation;
  headers: IncomingHttpHeaders;
  /** The rule that answered it, or undefined when it went to moto. */
  answeredBy?: string;
}

export interface RequestMatch {
  method?: string;
  operation?: S3Operation | S3Operation[];
  /** Matched against the path (no query string). */
  path?: string | RegExp;
  /** Each header (lower-case name): a value or pattern it must have, or null for "absent". */
  headers?: Record<string, string | RegExp | null>;
  /** Anything else. */
  when?: (r: RecordedRequest) => boolean;
}

/** An S3-style XML error answer. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

export interface Rule {
  name: string;
  match: RequestMatch;
  /** What to do with a matching request: answer with an error, or let it through (useful to count, or to shadow a later rule). */
  answer: ErrorAnswer | 'pass';
  /** Apply to the first `times` matches only (default: every one). */
  times?: number;
  /** Let this many matches through first (e.g. fail the third UploadPart). */
  skip?: number;
}

interface InstalledRule extends Rule {
  matched: number;
}

export function operationOf(method: string, path: string, query: URLSearchParams): S3Operation {
  const hasKey = path.split('/').filter(Boolean).length >= 2;
  if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && query.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'PUT' && query.has('uploadId') && query.has('partNumber')) return 'UploadPart';
  if (method === 'DELETE' && query.has('uploadId')) return 'AbortMultipartUpload';
  // The SDK adds x-id=<operation> to some requests; any other sub-resource (?acl, ?tagging) is not a PutObject.
  if (method === 'PUT' && hasKey && [...query.keys()].every((k) => k === 'x-id')) return 'PutObject';
  if (method === 'GET' && hasKey) return 'GetObject';
  if (method === 'HEAD' && hasKey) return 'HeadObject';
  if (method === 'DELETE' && hasKey) return 'DeleteObject';
  if (method === 'GET') return 'ListObjects';
  return 'Other';
}

function headerMatches(actual: string | string[] | undefined, want: string | RegExp | null): boolean {
  const value = Array.isArray(actual) ? actual.join(',') : actual;
  if (want === null) return value === undefined;
  if (value === undefined) return false;
  return typeof want === 'string' ? value === want : want.test(value);
}

export function matches(m: RequestMatch, r: RecordedRequest): boolean {
  if (m.method !== undefined && m.method !== r.method) return false;
  if (m.operation !== undefined && !(Array.isArray(m.operation) ? m.operation : [m.operation]).includes(r.operation))
    return false;
  if (m.path !== undefined && !(typeof m.path === 'string' ? r.path === m.path : m.path.test(r.path))) return false;
  for (const [name, want] of Object.entries(m.headers ?? {})) if (!headerMatches(r.headers[name], want)) return false;
  return m.when ? m.when(r) : true;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function errorXml(code: string, message: string, resource: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>injected</RequestId></Error>`;
}

export class S3Injector {
  readonly requests: RecordedRequest[] = [];
  private rules: InstalledRule[] = [];

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
  ) {}

  /** Starts on a free loopback port in front of `upstream` (moto's URL). */
  static async start(upstream: string): Promise<S3Injector> {
    const holder: { injector?: S3Injector } = {};
    const server = createServer((req, res) => holder.injector?.handle(req, res));
    const injector = new S3Injector(server, new URL(upstream));
    holder.injector = injector;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return injector;
  }

  /** The endpoint to give the code under test (AWS_ENDPOINT_URL_S3). */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  add(rule: Rule): void {
    this.rules.push({ ...rule, matched: 0 });
  }

  /** Removes every rule and forgets recorded requests (between cases). */
  reset(): void {
    this.rules = [];
    this.requests.length = 0;
  }

  /** Recorded requests matching `m`. */
  recorded(m: RequestMatch = {}): RecordedRequest[] {
    return this.requests.filter((r) => matches(m, r));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pick(r: RecordedRequest): InstalledRule | undefined {
    for (const rule of this.rules) {
      if (!matches(rule.match, r)) continue;
      rule.matched++;
      if (rule.matched <= (rule.skip ?? 0)) continue;
      if (rule.times !== undefined && rule.matched > (rule.skip ?? 0) + rule.times) continue;
      return rule;
    }
    return undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://injector');
    const method = req.method ?? 'GET';
    const r: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      operation: operationOf(method, url.pathname, url.searchParams),
      headers: req.headers,
    };
    this.requests.push(r);
    const rule = this.pick(r);
    if (rule && rule.answer !== 'pass') {
      r.answeredBy = rule.name;
      const a = rule.answer;
      // Drain the body first: answering mid-upload makes clients see a reset instead of the error.
      req.resume();
      req.on('end', () => {
        res.writeHead(a.status, {
          'content-type': 'application/xml',
          'x-amz-request-id': 'injected',
          ...a.headers,
        });
        res.end(method === 'HEAD' ? undefined : errorXml(a.code, a.message, url.pathname));
      });
      return;
    }
    this.forward(req, res);
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const up = httpRequest(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
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
