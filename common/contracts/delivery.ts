/**
 * Types that cross the workflow/activity boundary. Everything here lands in
 * Temporal's event history in plain text, so none of it may ever hold a secret:
 * no credentials, no ExternalId, no property values.
 */

export const FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type Format = (typeof FORMATS)[number];
export const COMPRESSIONS = ['gzip', 'none', 'snappy', 'zstd'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/**
 * The one rule of which compression goes with which format, and each format's default.
 * CSV and JSON Lines are gzipped whole (per block); Parquet compresses inside its pages with a
 * codec of its own, snappy by default because every Parquet reader has it.
 */
export const FORMAT_COMPRESSIONS: Readonly<Record<Format, readonly Compression[]>> = {
  csv: ['gzip', 'none'],
  jsonl: ['gzip', 'none'],
  parquet: ['snappy', 'zstd', 'gzip', 'none'],
};
export const DEFAULT_COMPRESSION: Readonly<Record<Format, Compression>> = {
  csv: 'gzip',
  jsonl: 'gzip',
  parquet: 'snappy',
};

/** Why this format and compression cannot go together (for a ValidationError), or undefined when they can. */
export function compressionProblem(format: Format, compression: Compression): string | undefined {
  if (!(FORMATS as readonly string[]).includes(format))
    return `--format must be one of ${FORMATS.join(', ')}, not "${String(format)}"`;
  const allowed = FORMAT_COMPRESSIONS[format];
  if (allowed.includes(compression)) return undefined;
  return `--compression for ${format} must be one of ${allowed.join(', ')}, not "${String(compression)}" (default ${DEFAULT_COMPRESSION[format]})`;
}

/**
 * The compression a delivery uses: the one asked for, else the dataset's when the format is the
 * dataset's, else the format's default (a CSV dataset's gzip says nothing about its Parquet).
 */
export function effectiveCompression(
  format: Format,
  requested: Compression | undefined,
  dataset: { format: Format; compression: Compression },
): Compression {
  if (requested) return requested;
  return format === dataset.format ? dataset.compression : DEFAULT_COMPRESSION[format];
}
export const DELIVERY_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

import type { WebhookAttemptView } from './webhooks';

export interface DeliveryInput {
  deliveryId: string;
  profileId: string;
  datasetId: string;
  format: Format;
  compression: Compression;
  /** Target maximum size of one stored file (after compression); default 256 MiB. */
  maxFileBytes?: number;
  /** Files exported at once for this delivery (each by its own activity, possibly on different workers). */
  maxParallelFiles?: number;
}

export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_PARALLEL_FILES = 4;

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
  /** The Postgres type, as format_type() writes it. */
  type: string;
  /** Parquet deliveries: how the column is stored (see activities/export/parquet/type-mapping.ts). */
  parquet?: ParquetColumnType;
}

/** A column's Parquet types, as the manifest shows them. */
export interface ParquetColumnType {
  /** BOOLEAN, INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY (of a LIST: of its elements). */
  physical: string;
  /** e.g. INT(16, signed), DECIMAL(12,2), STRING, UUID, TIMESTAMP(MICROS, UTC-adjusted), LIST<JSON>; absent for plain binary, float, double and boolean. */
  logical?: string;
  /** How the value was written when it is not the type's own: e.g. "exact text of numeric", "Postgres text of interval". */
  note?: string;
}

export interface ExportPlan {
  columns: Column[];
  keyColumns: string[];
  /** Absent in plans recorded before files were split (one file then). */
  keyTypes?: string[];
  fileCount?: number;
  totalRows?: number;
  /** false: only the first range is planned yet (planRanges does the rest while it exports). */
  restPlanned?: boolean;
  rowsPerFile?: number;
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
  /** Postgres types of the key columns, to read range bounds back exactly. */
  keyTypes?: string[];
}

export interface FinalizeInput {
  deliveryId: string;
  profileId: string;
  datasetId: string;
  format: Format;
  compression: Compression;
  target: DeliveryTarget;
  columns: Column[];
  /** Recorded in our table as each file completes; passed here only by histories from before that. */
  files?: DeliveredFile[];
}

export interface DeliveryResult {
  deliveryId: string;
  bucket: string;
  manifestKey: string;
  rows: number;
  bytes: number;
  fileCount?: number;
  /** Retries its AWS calls needed (SDK attempts past the first, activity retries); absent before issue 13. */
  retries?: number;
  /** The first files only: a result is history, and a big share has thousands (all are in the manifest). */
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
  /** Incremental datasets: the rows sent are those whose column lies in (from, to]. */
  window: { from: string | null; to: string } | null;
  /** Every run of this delivery: the first, then each replay. */
  attempts: {
    attempt: number;
    startedAt: string;
    endedAt: string | null;
    status: string;
    error?: { type: string; message: string };
  }[];
  /** Files planned (known once the export is planned) and done so far. */
  fileCount: number | null;
  filesCompleted: number;
  /** Multipart uploads a cancel could not abort (the role lacks s3:AbortMultipartUpload). */
  unabortedUploads: { key: string; uploadId: string; reason: string }[];
  error?: { type: string; message: string };
  /** Every try at telling a webhook how this delivery ended (`datashare webhook add`). */
  webhooks?: WebhookAttemptView[];
}

export function fileExtension(format: Format, compression: Compression): string {
  // A Parquet file is compressed inside: its name never changes with the codec.
  if (format === 'parquet') return 'parquet';
  return compression === 'gzip' ? `${format}.gz` : format;
}

export function workflowIdFor(deliveryId: string): string {
  return `datashare-delivery-${deliveryId}`;
}
