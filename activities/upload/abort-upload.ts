import { AbortMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Pool } from 'pg';
import { ownerParams } from '../../common/domain/bucket-safety';
import { recordUnaborted } from '../../common/store/delivery-progress';
import { awsErrorName } from '../failures/aws-errors';

/**
 * Best effort: the end user's role may lack s3:AbortMultipartUpload (the seed
 * policy grants only PutObject). What cannot be aborted is recorded on the
 * delivery; the end user's AbortIncompleteMultipartUpload lifecycle rule cleans it up.
 */
export async function abortUpload(
  metaPool: Pool,
  s3: S3Client,
  deliveryId: string,
  bucket: string,
  key: string,
  uploadId: string,
  bucketOwner: string,
): Promise<boolean> {
  try {
    await s3.send(
      new AbortMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        ...ownerParams({ bucketOwner }),
      }),
    );
    return true;
  } catch (e) {
    // Already completed or aborted (a cancel can land between Complete and the checkpoint's removal): nothing is left open.
    if (awsErrorName(e) === 'NoSuchUpload') return true;
    await recordUnaborted(metaPool, deliveryId, { key, uploadId, reason: awsErrorName(e) ?? 'Error' });
    return false;
  }
}
