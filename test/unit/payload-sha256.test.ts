import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { withPayloadSha256 } from '../../activities/upload/payload-sha256';

describe('withPayloadSha256', () => {
  it('sends the SHA-256 we computed as the signed payload hash, with the body it belongs to', async () => {
    const seen: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { ETag: '"etag"' }).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const s3 = new S3Client({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const body = Buffer.from('part bytes '.repeat(1000));
      const sha = createHash('sha256').update(body).digest('hex');
      const command = new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 1, Body: body });
      await s3.send(withPayloadSha256(command, sha));
      expect(seen).toHaveLength(1);
      expect(seen[0].body.equals(body)).toBe(true);
      expect(seen[0].headers['x-amz-content-sha256']).toBe(sha);
      expect(seen[0].headers.authorization).toMatch(/x-amz-content-sha256/);
      // The signer takes our value rather than hashing the body again (which is the point):
      // a value that is not the body's hash goes out as given (and real S3 would reject it).
      const other = 'f'.repeat(64);
      await s3.send(
        withPayloadSha256(
          new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 2, Body: body }),
          other,
        ),
      );
      expect(seen[1].headers['x-amz-content-sha256']).toBe(other);
    } finally {
      s3.destroy();
      server.close();
    }
  });
});
