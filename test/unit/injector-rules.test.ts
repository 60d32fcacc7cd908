import { describe, expect, it } from 'vitest';
import {
  isStsRequest,
  operationOf,
  RuleBook,
  seededRandom,
  signingKeyOf,
  type RecordedRequest,
} from '../support/injector-rules';
import { SLOW_DOWN } from '../support/injector-faults';

const request = (operation: RecordedRequest['operation'], partNumber = '1'): RecordedRequest => ({
  method: 'PUT',
  path: '/b/k',
  query: new URLSearchParams({ partNumber, uploadId: 'u' }),
  operation,
  headers: {},
  bodyBytes: 0,
});

describe('fault injector rules', () => {
  it('tells STS calls from S3 ones, and names them by Action', () => {
    expect(isStsRequest('POST', '/', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' })).toBe(
      true,
    );
    expect(isStsRequest('POST', '/bucket/key', { 'content-type': 'application/x-www-form-urlencoded' })).toBe(false);
    expect(operationOf('POST', '/', new URLSearchParams(), 'AssumeRole')).toBe('AssumeRole');
    expect(operationOf('POST', '/', new URLSearchParams(), 'DecodeAuthorizationMessage')).toBe('StsOther');
    expect(operationOf('PUT', '/b/k', new URLSearchParams({ uploadId: 'u', partNumber: '2' }))).toBe('UploadPart');
    expect(operationOf('POST', '/b/k', new URLSearchParams({ uploadId: 'u' }))).toBe('CompleteMultipartUpload');
  });

  it('reads the signing key from the Authorization header', () => {
    expect(
      signingKeyOf({
        authorization:
          'AWS4-HMAC-SHA256 Credential=ASIAXYZ/20261201/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab',
      }),
    ).toBe('ASIAXYZ');
    expect(signingKeyOf({})).toBeUndefined();
  });

  it('draws the same faults for the same seed, and about the asked share', () => {
    const draws = (seed: number): boolean[] => {
      const book = new RuleBook(seed);
      book.add({ name: 'p', match: { operation: 'UploadPart' }, answer: SLOW_DOWN, probability: 0.1 });
      return Array.from({ length: 2000 }, () => book.pick(request('UploadPart')) !== undefined);
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    const hits = draws(7).filter(Boolean).length;
    expect(hits).toBeGreaterThan(150);
    expect(hits).toBeLessThan(250);
    const r = seededRandom(1);
    expect(r()).toBeGreaterThanOrEqual(0);
  });

  it('skips the first N matches, then applies `times` in a row, and ignores other operations', () => {
    const book = new RuleBook(1);
    book.add({ name: 'third and fourth', match: { operation: 'UploadPart' }, answer: SLOW_DOWN, skip: 2, times: 2 });
    const got = Array.from({ length: 6 }, () => book.pick(request('UploadPart'))?.name);
    expect(got).toEqual([undefined, undefined, 'third and fourth', 'third and fourth', undefined, undefined]);
    expect(book.pick(request('CompleteMultipartUpload'))).toBeUndefined();
  });

  it('counts a probabilistic rule`s `times` by the matches it took', () => {
    const book = new RuleBook(3);
    book.add({ name: 'twice', match: {}, answer: SLOW_DOWN, probability: 0.5, times: 2 });
    const taken = Array.from({ length: 50 }, () => book.pick(request('UploadPart'))).filter(Boolean);
    expect(taken).toHaveLength(2);
  });
});
