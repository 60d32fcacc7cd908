import type { Pool } from 'pg';
import type { AwsAccess } from '../common/infra/aws';
import { roleS3 } from '../common/infra/aws';
import { destinationFromProperties } from '../common/domain/destination';
import { clearCheckpoints, openCheckpoints } from '../common/store/export-state';
import { getDelivery } from '../common/store/deliveries';
import { getProfile } from '../common/store/profiles';
import { abortUpload } from './upload/abort-upload';
import { expectedOwner } from '../common/domain/bucket-safety';

/**
 * After a cancel: aborts every multipart upload the delivery still has open
 * (each file checkpoints its upload id as soon as it creates it). Uploads the
 * role may not abort are recorded on the delivery instead.
 */
export async function abortOpenUploads(
  deps: { metaPool: Pool; aws: AwsAccess },
  input: { deliveryId: string; profileId: string },
): Promise<{ aborted: number; unaborted: number }> {
  const open = await openCheckpoints(deps.metaPool, input.deliveryId);
  if (open.length === 0) return { aborted: 0, unaborted: 0 };
  const delivery = await getDelivery(deps.metaPool, input.deliveryId);
  const d = destinationFromProperties((await getProfile(deps.metaPool, input.profileId)).properties);
  const s3 = roleS3(deps.aws, d, 'cancel', input.deliveryId);
  let aborted = 0;
  try {
    for (const c of open) {
      if (
        await abortUpload(
          deps.metaPool,
          s3,
          input.deliveryId,
          delivery.bucket ?? d.bucket,
          c.key,
          c.uploadId,
          expectedOwner(d).bucketOwner,
        )
      )
        aborted++;
    }
    await clearCheckpoints(deps.metaPool, input.deliveryId);
  } finally {
    s3.destroy();
  }
  return { aborted, unaborted: open.length - aborted };
}
