import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentBytes } from '../../activities/upload/sent-bytes';
import { RetryTally } from '../../common/infra/retry-tally';

/**
 * Against a loopback HTTP server (no AWS service is involved) that answers the first two
 * tries of each part 503 SlowDown: the SDK retries inside one send(), out of our code's
 * sight, and both counters still see every try.
 */
describe('counting what the SDK re-sends', () => {
  const tries = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const n = (tries.get(req.url ?? '') ?? 0) + 1;
      tries.set(req.url ?? '', n);
      if (n <= 2) {
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end('<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      } else {
        res.writeHead(200, { etag: '"e"' });
        res.end();
      }
    });
  });
  let s3: S3Client;

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 5,
    });
  });
  afterAll(async () => {
    s3.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('counts each attempt of a part, and the extra attempts as retries', async () => {
    const sent = new SentBytes();
    const tally = new RetryTally();
    s3.middlewareStack.use(tally.plugin());
    const body = Buffer.alloc(1000, 1);
    const command = sent.watch(
      new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 1, Body: body }),
    );
    const res = await s3.send(command);
    expect(res.$metadata.attempts).toBe(3);
    expect(sent.take()).toBe(3 * body.length);
    expect(sent.take()).toBe(0);
    expect(sent.sent).toBe(3 * body.length);
    expect(tally.count).toBe(2);
  }, 20_000);

  it('a tally plugin applied again to the same client replaces itself (fromTemporaryCredentials re-applies its plugins on every refresh)', () => {
    const tally = new RetryTally();
    const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    client.middlewareStack.use(tally.plugin());
    expect(() => client.middlewareStack.use(tally.plugin())).not.toThrow();
    client.destroy();
  });
});
