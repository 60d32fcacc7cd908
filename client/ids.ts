import { randomBytes } from 'node:crypto';
import { deliveryStamp } from '../common/schedule-ids';

/** Delivery ids sort by start time and are safe in S3 keys, workflow ids and session names. */
export function newDeliveryId(now: Date = new Date()): string {
  return `${deliveryStamp(now)}-${randomBytes(4).toString('hex')}`;
}
