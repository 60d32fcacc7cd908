import type { IncomingHttpHeaders } from 'node:http';

/**
 * What the S3/STS injector (s3-injector.ts) knows of a request, and the rules a
 * test installs: which requests a rule takes (by operation, path, header), how
 * often (skip the first N, then `times`, or each with a seeded `probability`),
 * and what it does with them.
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

/** STS calls reach the same endpoint (AWS_ENDPOINT_URL_STS); they are told apart by the form's Action. */
export type StsOperation = 'AssumeRole' | 'GetCallerIdentity' | 'StsOther';

export type Operation = S3Operation | StsOperation;

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. /bucket/key. */
  path: string;
  query: URLSearchParams;
  operation: Operation;
  headers: IncomingHttpHeaders;
  /** An STS call's form parameters (Action, RoleArn, RoleSessionName, …). */
  form?: URLSearchParams;
  /** The access key id the request was signed with (from Authorization), if any. */
  accessKeyId?: string;
  /** Body bytes that reached the injector (STS and verified S3 bodies; streamed bodies count as they pass). */
  bodyBytes: number;
  /** The rule that answered it, or undefined when it went to moto untouched. */
  answeredBy?: string;
  /** When a held request's client gave up, ms after it arrived (stall tests). */
  clientGaveUpAfterMs?: number;
}

export interface RequestMatch {
  method?: string;
  operation?: Operation | Operation[];
  /** Matched against the path (no query string). */
  path?: string | RegExp;
  /** Each header (lower-case name): a value or pattern it must have, or null for "absent". */
  headers?: Record<string, string | RegExp | null>;
  /** Anything else. */
  when?: (r: RecordedRequest) => boolean;
}

/** An S3-style (or, with `sts`, an STS-style) XML error answer. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
  /** STS answers errors as <ErrorResponse><Error><Type>…; S3 as <Error>. */
  sts?: boolean;
}

/**
 * What a rule does with a request it takes:
 * - an ErrorAnswer: answers it instead of moto;
 * - 'pass': lets it through (to count, or to shadow a later rule);
 * - afterForward: moto gets and handles the request, the client gets this error instead of moto's answer;
 * - hold: answers nothing for `ms` (a stall), then forwards it (or ends the connection, when the client is gone);
 * - corrupt: flips one byte of the body on its way, as a faulty link would; the payload check then rejects it.
 */
export type Answer = ErrorAnswer | 'pass' | { afterForward: ErrorAnswer } | { hold: number } | { corrupt: true };

export interface Rule {
  name: string;
  match: RequestMatch;
  answer: Answer;
  /** Apply to the first `times` matches only (default: every one). */
  times?: number;
  /** Let this many matches through first (e.g. fail the third UploadPart: "after N requests"). */
  skip?: number;
  /** Take each match with this probability, drawn from the injector's seeded generator (reproducible). */
  probability?: number;
}

export function operationOf(method: string, path: string, query: URLSearchParams, stsAction?: string): Operation {
  if (stsAction !== undefined) {
    return stsAction === 'AssumeRole' || stsAction === 'GetCallerIdentity' ? stsAction : 'StsOther';
  }
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

/** An STS request: a form POST to the endpoint's root (S3 requests, path-style, always name a bucket). */
export function isStsRequest(method: string, path: string, headers: IncomingHttpHeaders): boolean {
  return (
    method === 'POST' && path === '/' && (headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
  );
}

/** AKID from `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, ...`. */
export function signingKeyOf(headers: IncomingHttpHeaders): string | undefined {
  return /Credential=([^/]+)\//.exec(headers.authorization ?? '')?.[1];
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

/** mulberry32: a small seeded generator, so a probabilistic fault hits the same draws on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks the rule that takes a request, counting matches per rule. */
export class RuleBook {
  private rules: { rule: Rule; matched: number }[] = [];
  private random: () => number;

  constructor(private readonly seed: number) {
    this.random = seededRandom(seed);
  }

  add(rule: Rule): void {
    this.rules.push({ rule, matched: 0 });
  }

  clear(): void {
    this.rules = [];
    this.random = seededRandom(this.seed);
  }

  pick(r: RecordedRequest): Rule | undefined {
    for (const entry of this.rules) {
      const { rule } = entry;
      if (!matches(rule.match, r)) continue;
      entry.matched++;
      if (entry.matched <= (rule.skip ?? 0)) continue;
      if (rule.times !== undefined && entry.matched > (rule.skip ?? 0) + rule.times) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) {
        // Not drawn: it does not use up one of the rule's `times`.
        entry.matched--;
        continue;
      }
      return rule;
    }
    return undefined;
  }
}
