import type { DeliveryTarget } from '../../common/contracts/delivery';
import { expectedOwner, type BucketOwner, type Encryption } from '../../common/domain/bucket-safety';
import type { S3Destination } from '../../common/domain/destination';

/**
 * Where a delivery writes (from history) and what every request must also say,
 * read from the profile each time: the bucket's expected owner and the encryption.
 * Kept out of DeliveryTarget so recorded histories and running deliveries pick
 * them up without a workflow change.
 */
export interface WriteTarget extends DeliveryTarget, BucketOwner {
  encryption?: Encryption;
}

export function writeTarget(target: DeliveryTarget, d: S3Destination): WriteTarget {
  return {
    ...target,
    ...expectedOwner(d),
    ...(d.encryption ? { encryption: d.encryption } : {}),
  };
}
