import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { objectWriteParams, ownerParams } from '../../common/domain/bucket-safety';
import type { PartRecord } from '../../common/store/export-state';
import { withPayloadSha256 } from './payload-sha256';
import { s3Failure } from './s3-failure';
import { metrics } from '../../common/infra/metrics';
import { SentBytes } from './sent-bytes';
import { UploadGone } from './upload-gone';
import { awsErrorName } from '../failures/aws-errors';
import type { WriteTarget } from './write-target';

/**
 * One file's multipart upload. Create, UploadPart and Complete all need only
 * s3:PutObject; nothing is ever read back from S3 (ListParts would need more),
 * so the parts uploaded so far are known from our checkpoints alone.
 */
export class MultipartUpload {
  /** Part bytes sent, every SDK retry included (uploadedBytes). */
  readonly sent = new SentBytes();

  private constructor(
    private readonly s3: S3Client,
    private readonly target: WriteTarget,
    readonly key: string,
    readonly uploadId: string,
    private readonly signal: AbortSignal,
  ) {}

  /** Continues an upload an earlier attempt created. */
  static resume(
    s3: S3Client,
    target: WriteTarget,
    key: string,
    uploadId: string,
    signal: AbortSignal,
  ): MultipartUpload {
    return new MultipartUpload(s3, target, key, uploadId, signal);
  }

  static async create(
    s3: S3Client,
    target: WriteTarget,
    key: string,
    contentType: string,
    signal: AbortSignal,
  ): Promise<MultipartUpload> {
    const created = await s3
      .send(
        new CreateMultipartUploadCommand({
          Bucket: target.bucket,
          Key: key,
          ContentType: contentType,
          ...(target.acl ? { ACL: target.acl } : {}),
          // Encryption is fixed when the upload is created; its parts inherit it.
          ...objectWriteParams(target),
        }),
        { abortSignal: signal },
      )
      .catch((e: unknown) => {
        throw s3Failure(e, target, key, 'CreateMultipartUpload');
      });
    if (!created.UploadId) throw new Error('S3 returned no UploadId for CreateMultipartUpload');
    return new MultipartUpload(s3, target, key, created.UploadId, signal);
  }

  /** Sends one part, signed with the SHA-256 the checkpoint records; returns its ETag. */
  async uploadPart(n: number, body: Buffer, sha256: string): Promise<string> {
    const command = new UploadPartCommand({
      Bucket: this.target.bucket,
      Key: this.key,
      UploadId: this.uploadId,
      PartNumber: n,
      Body: body,
      ...ownerParams(this.target),
    });
    const res = await this.s3
      .send(this.sent.watch(withPayloadSha256(command, sha256)), { abortSignal: this.signal })
      .catch((e: unknown) => {
        throw this.failure(e, 'UploadPart');
      });
    if ((res.$metadata.attempts ?? 1) > 1) metrics.partsRetried.inc();
    return res.ETag ?? '';
  }

  async complete(parts: PartRecord[]): Promise<void> {
    await this.s3
      .send(
        new CompleteMultipartUploadCommand({
          Bucket: this.target.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          ...ownerParams(this.target),
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.n, ETag: p.etag })) },
        }),
        { abortSignal: this.signal },
      )
      .catch((e: unknown) => {
        throw this.failure(e, 'CompleteMultipartUpload');
      });
  }

  private failure(e: unknown, operation: string): Error {
    if (awsErrorName(e) === 'NoSuchUpload') return new UploadGone(this.key, operation);
    return s3Failure(e, this.target, this.key, operation);
  }
}
