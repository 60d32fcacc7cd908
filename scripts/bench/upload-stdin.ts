import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/**
 * The hand-written baseline's last stage: `… | node upload-stdin.js <bucket> <key>`
 * streams stdin into one S3 multipart upload with lib-storage (16 MiB parts,
 * 4 in flight), the way a careful engineer would script it.
 */
async function main(): Promise<void> {
  const [bucket, key] = process.argv.slice(2);
  const s3 = new S3Client({
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: process.stdin },
    partSize: 16 * 1024 * 1024,
    queueSize: 4,
  });
  await upload.done();
  s3.destroy();
}

main().catch((e: unknown) => {
  process.stderr.write(`upload-stdin: ${String(e)}\n`);
  process.exitCode = 1;
});
