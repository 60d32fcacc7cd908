/**
 * The ids an operator chooses (profiles, datasets) and the ones we make (deliveries).
 * Each becomes a folder in S3 keys and part of workflow ids, so the rules are strict.
 */
import { randomBytes } from 'node:crypto';
import { deliveryStamp } from '../contracts/schedule-ids';
import { ValidationError } from '../errors';
import { quoteValue } from './quoting';

/** Property names, as dataset SQL refers to them (`:tenant_id`). */
export const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const ID_RULE = 'use 1–64 letters, digits, "_", "." or "-", starting with a letter or digit';

function validateId(label: string, id: string, example: string): void {
  const rule = `${ID_RULE}, e.g. ${example}`;
  if (id === '') throw new ValidationError(`${label} is empty: ${rule}`);
  if (id.length > 64) throw new ValidationError(`${label} ${quoteValue(id)}: is ${id.length} characters; ${rule}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw new ValidationError(`${label} ${quoteValue(id)}: ${rule}`);
  // The id becomes a folder in S3 keys and part of workflow ids; '..' reads as a parent directory.
  if (id.includes('..')) throw new ValidationError(`${label} ${quoteValue(id)}: cannot contain ".."; ${rule}`);
}

export function validateProfileId(id: string): void {
  validateId('profile id', id, 'acme-corp');
}

export function validateDatasetId(id: string): void {
  validateId('dataset id', id, 'orders');
}

/** An instance's name is part of task queue names and profile properties (s3_instance). */
export function validateInstanceName(name: string, label = 'instance name'): void {
  validateId(label, name, 'us-east or govcloud');
}

export function validatePropertyName(key: string): void {
  if (!PROPERTY_NAME.test(key)) {
    throw new ValidationError(
      `property name ${quoteValue(key)}: use 1–63 letters, digits and "_", not starting with a digit (dataset SQL refers to it as :name), e.g. tenant_id`,
    );
  }
}

/** Delivery ids sort by start time and are safe in S3 keys, workflow ids and session names. */
export function newDeliveryId(now: Date = new Date()): string {
  return `${deliveryStamp(now)}-${randomBytes(4).toString('hex')}`;
}
