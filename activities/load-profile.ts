import type { Pool } from 'pg';
import { destinationFromProperties } from '../common/destination';
import { MissingPropertyError } from '../common/errors';
import { namedParams } from '../common/sql-params';
import { getDataset } from '../common/store/datasets';
import { setDeliveryTarget } from '../common/store/deliveries';
import { getProfile } from '../common/store/profiles';
import type { DeliveryInput, DeliveryTarget } from '../common/types';

/**
 * Reads and validates the profile and dataset. Returns only where to write, never
 * the ExternalId or property values: those stay in our database, out of history.
 */
export async function loadProfile(metaPool: Pool, input: DeliveryInput): Promise<DeliveryTarget> {
  const profile = await getProfile(metaPool, input.profileId);
  const dataset = await getDataset(metaPool, input.datasetId);
  const destination = destinationFromProperties(profile.properties);
  const missing = namedParams(dataset.sql).filter((name) => !Object.prototype.hasOwnProperty.call(profile.properties, name));
  if (missing.length > 0) throw new MissingPropertyError(missing, profile.id);

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
