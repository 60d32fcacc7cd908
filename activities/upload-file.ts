import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import { destinationFromProperties } from '../common/destination';
import type { AwsAccess } from '../common/aws';
import { roleSessionName } from '../common/aws';
import { getDataset } from '../common/store/datasets';
import { recordFile, recordProgress } from '../common/store/deliveries';
import { getProfile } from '../common/store/profiles';
import { fileExtension, type DeliveredFile, type UploadFileInput } from '../common/types';
import { LineCounter } from './line-counter';
import { PartEncoder } from './part-encoder';
import { asQueryError, beginReadOnly, openCopyStream } from './source-query';
import { s3Failure } from './s3-failure';

export interface UploadDeps {
  metaPool: Pool;
  sourcePool: Pool;
  aws: AwsAccess;
  partBytes: number;
}

export function contentType(input: Pick<UploadFileInput, 'format' | 'compression'>): string {
  if (input.compression === 'gzip') return 'application/gzip';
  return input.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
}

/**
 * Streams one file of the export into one S3 multipart upload: COPY out of
 * Postgres → gzip blocks → parts → CompleteMultipartUpload. Only s3:PutObject is
 * needed. Progress goes to heartbeats and our table; both hold counts only.
 */
export async function uploadFile(deps: UploadDeps, input: UploadFileInput): Promise<DeliveredFile> {
  const ctx = Context.current();
  const { target } = input;
  const key = `${target.folder}part-${String(input.fileIndex).padStart(5, '0')}.${fileExtension(input.format, input.compression)}`;

  const profile = await getProfile(deps.metaPool, input.profileId);
  const dataset = await getDataset(deps.metaPool, input.datasetId);
  const destination = destinationFromProperties(profile.properties);
  const s3 = deps.aws.s3(
    target.region,
    deps.aws.roleCredentials({
      roleArn: target.roleArn,
      externalId: destination.externalId,
      sessionName: roleSessionName('upload', input.deliveryId),
      region: target.region,
    }),
  );
  const signal = ctx.cancellationSignal;

  // Writing is checked before reading: a role that may not write fails before
  // the source database is touched.
  const created = await s3
    .send(
      new CreateMultipartUploadCommand({
        Bucket: target.bucket,
        Key: key,
        ContentType: contentType(input),
        ...(target.acl ? { ACL: target.acl } : {}),
      }),
      { abortSignal: signal },
    )
    .catch((e: unknown) => {
      s3.destroy();
      throw s3Failure(e, target, key, 'CreateMultipartUpload');
    });
  let uploadId: string | undefined = created.UploadId;
  if (!uploadId) throw new Error('S3 returned no UploadId for CreateMultipartUpload');

  const client = await deps.sourcePool.connect().catch(async (e: unknown) => {
    await abortQuietly(s3, target.bucket, key, created.UploadId!);
    s3.destroy();
    throw e;
  });
  // A connection left mid-COPY cannot take another query: it is discarded, not reused.
  let copying = false;
  try {
    await beginReadOnly(client);
    const stream = await openCopyStream(
      client,
      { sql: dataset.sql, keyColumns: dataset.keyColumns, properties: profile.properties, profileId: profile.id },
      input.format,
    ).catch((e: unknown) => {
      throw asQueryError(e, `dataset "${dataset.id}" failed for profile "${profile.id}"`);
    });
    copying = true;

    const encoder = new PartEncoder(input.compression, deps.partBytes);
    const counter = new LineCounter(input.format === 'csv');
    const sha = createHash('sha256');
    const parts: CompletedPart[] = [];
    let lines = 0;
    let bytes = 0;

    const sendPart = async (body: Buffer): Promise<void> => {
      const partNumber = parts.length + 1;
      const res = await s3
        .send(new UploadPartCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body }), {
          abortSignal: signal,
        })
        .catch((e: unknown) => {
          throw s3Failure(e, target, key, 'UploadPart');
        });
      parts.push({ PartNumber: partNumber, ETag: res.ETag });
      sha.update(body);
      bytes += body.length;
      const rows = input.format === 'csv' ? Math.max(0, lines - 1) : lines;
      ctx.heartbeat({ fileIndex: input.fileIndex, partsUploaded: parts.length, rows, bytes });
      await recordProgress(deps.metaPool, input.deliveryId, { rows, bytes, uploadedBytesDelta: body.length });
    };

    for await (const chunk of stream as AsyncIterable<Buffer>) {
      lines += counter.count(chunk);
      const part = await encoder.push(chunk);
      if (part) await sendPart(part);
    }
    copying = false;
    const last = await encoder.finish();
    // S3 needs at least one part; an empty export still yields a valid (empty) file.
    if (last || parts.length === 0) await sendPart(last ?? (await emptyFile(input.compression)));

    await s3
      .send(
        new CompleteMultipartUploadCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
        { abortSignal: signal },
      )
      .catch((e: unknown) => {
        throw s3Failure(e, target, key, 'CompleteMultipartUpload');
      });
    uploadId = undefined;
    await client.query('COMMIT');

    const file: DeliveredFile = {
      key,
      bytes,
      rows: input.format === 'csv' ? Math.max(0, lines - 1) : lines,
      sha256: sha.digest('hex'),
    };
    await recordFile(deps.metaPool, input.deliveryId, input.fileIndex, file);
    return file;
  } catch (e) {
    if (!copying) await client.query('ROLLBACK').catch(() => undefined);
    if (uploadId) await abortQuietly(s3, target.bucket, key, uploadId);
    throw e;
  } finally {
    client.release(copying);
    s3.destroy();
  }
}

async function emptyFile(compression: UploadFileInput['compression']): Promise<Buffer> {
  if (compression === 'none') return Buffer.alloc(0);
  const { gzipSync } = await import('node:zlib');
  return gzipSync(Buffer.alloc(0), { level: 1 });
}

/**
 * Best effort: the end user's role may lack s3:AbortMultipartUpload (the seed
 * policy grants only PutObject). Their lifecycle rule cleans up what we cannot.
 */
async function abortQuietly(s3: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  try {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  } catch {
    Context.current().log.warn('could not abort multipart upload (the role may not allow s3:AbortMultipartUpload)', {
      bucket,
      key,
    });
  }
}
