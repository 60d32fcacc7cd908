/**
 * Types that cross the workflow/activity boundary. Everything here lands in
 * Temporal's event history in plain text, so none of it may ever hold a secret:
 * no credentials, no ExternalId, no property values.
 */

export const FORMATS = ['csv', 'jsonl'] as const;
export type Format = (typeof FORMATS)[number];
export const COMPRESSIONS = ['gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];
export const DELIVERY_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryInput {
  deliveryId: string;
  profileId: string;
  datasetId: string;
  format: Format;
  compression: Compression;
}

/** Where a delivery's files go. The role ARN is not a secret; the ExternalId stays in our database. */
export interface DeliveryTarget {
  roleArn: string;
  bucket: string;
  region: string;
  /** The delivery's own folder: `<profile prefix><dataset>/<delivery>/`. */
  folder: string;
  acl?: 'bucket-owner-full-control';
}

export interface Column {
  name: string;
  type: string;
}

export interface ExportPlan {
  columns: Column[];
  keyColumns: string[];
}

export interface AssumedRole {
  assumedRoleArn: string;
  expiration: string;
}

export interface DeliveredFile {
  key: string;
  bytes: number;
  rows: number;
  sha256: string;
}

export interface UploadFileInput {
  deliveryId: string;
  profileId: string;
  datasetId: string;
  fileIndex: number;
  format: Format;
  compression: Compression;
  target: DeliveryTarget;
}

export interface FinalizeInput {
  deliveryId: string;
  profileId: string;
  datasetId: string;
  format: Format;
  compression: Compression;
  target: DeliveryTarget;
  columns: Column[];
  files: DeliveredFile[];
}

export interface DeliveryResult {
  deliveryId: string;
  bucket: string;
  manifestKey: string;
  rows: number;
  bytes: number;
  files: DeliveredFile[];
}

/** The public JSON shape of a delivery (`datashare delivery <id> --json`). */
export interface DeliveryView {
  id: string;
  profileId: string;
  datasetId: string;
  workflowId: string;
  format: Format;
  compression: Compression;
  status: DeliveryStatus;
  rows: number;
  bytes: number;
  uploadedBytes: number;
  bucket: string | null;
  folder: string | null;
  files: DeliveredFile[];
  manifestKey: string | null;
  startedAt: string;
  completedAt: string | null;
  error?: { type: string; message: string };
}

export function fileExtension(format: Format, compression: Compression): string {
  const base = format === 'csv' ? 'csv' : 'jsonl';
  return compression === 'gzip' ? `${base}.gz` : base;
}

export function workflowIdFor(deliveryId: string): string {
  return `datashare-delivery-${deliveryId}`;
}
