import type { Pool } from 'pg';
import { deliverableDestination } from '../common/domain/destination';
import { getDataset } from '../common/store/datasets';
import { setDeliveryTarget } from '../common/store/delivery-progress';
import { getProfile } from '../common/store/profiles';
import type { DeliveryInput, DeliveryTarget } from '../common/contracts/delivery';
import { checkServedInstance } from './instance-check';

/**
 * Reads and validates the profile and dataset. Returns only where to write, never
 * the ExternalId or property values: those stay in our database, out of history.
 */
export async function loadProfile(
  metaPool: Pool,
  input: DeliveryInput,
  servedInstance?: string,
): Promise<DeliveryTarget> {
  const profile = await getProfile(metaPool, input.profileId);
  await checkServedInstance(metaPool, profile, servedInstance);
  const dataset = await getDataset(metaPool, input.datasetId);
  const destination = deliverableDestination(profile, dataset.sql);

  const target: DeliveryTarget = {
    roleArn: destination.roleArn,
    bucket: destination.bucket,
    region: destination.region,
    folder: `${destination.prefix}${dataset.id}/${input.deliveryId}/`,
    ...(destination.acl ? { acl: destination.acl } : {}),
  };
  await setDeliveryTarget(metaPool, input.deliveryId, { bucket: target.bucket, folder: target.folder });
  return target;
}
