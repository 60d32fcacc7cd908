import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A discard-all S3 + STS endpoint for throughput measurements: it answers
 * AssumeRole, the multipart calls and PutObject, reads every body to the end and
 * keeps nothing. moto holds objects in memory and is far slower than S3, so it
 * would measure itself, not us. Both the baseline and datashare upload here.
 *
 * Run: node dist/scripts/bench/discard-s3.js [port]   (prints "listening <port>")
 */

let received = 0;
let uploads = 0;

function xml(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

async function drain(req: IncomingMessage): Promise<Buffer> {
  const keep: Buffer[] = [];
  let kept = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    // STS sends a small form body we need to read; S3 bodies are discarded.
    if (kept < 64 * 1024) {
      keep.push(chunk);
      kept += chunk.length;
    }
  }
  return Buffer.concat(keep);
}

function assumeRoleResponse(): string {
  const expiration = new Date(Date.now() + 3600_000).toISOString();
  return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIABENCHBENCHBENCH1</AccessKeyId><SecretAccessKey>bench-secret</SecretAccessKey>
<SessionToken>bench-token</SessionToken><Expiration>${expiration}</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/bench/bench</Arn><AssumedRoleId>AROABENCH:bench</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></AssumeRoleResponse>`;
}

const server = createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = await drain(req);
    const q = url.searchParams;
    if (req.method === 'GET' && url.pathname === '/__stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ received, uploads }));
    }
    if (
      req.method === 'POST' &&
      (q.get('Action') === 'AssumeRole' || body.toString('utf8').includes('Action=AssumeRole'))
    ) {
      return xml(res, assumeRoleResponse());
    }
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = rest.join('/');
    if (req.method === 'POST' && q.has('uploads')) {
      uploads++;
      return xml(
        res,
        `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>u${uploads}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    if (req.method === 'PUT') {
      res.writeHead(200, { etag: `"${q.get('partNumber') ?? '0'}-${body.length}"` });
      return res.end();
    }
    if (req.method === 'POST' && q.has('uploadId')) {
      return xml(
        res,
        `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"done"</ETag></CompleteMultipartUploadResult>`,
      );
    }
    if (req.method === 'DELETE') {
      res.writeHead(204);
      return res.end();
    }
    res.writeHead(400);
    res.end();
  })();
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
