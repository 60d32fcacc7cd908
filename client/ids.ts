import { randomBytes } from 'node:crypto';

/** Delivery ids sort by start time and are safe in S3 keys, workflow ids and session names. */
export function newDeliveryId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}
