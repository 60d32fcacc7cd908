import type { Column, Compression, DeliveredFile, FinalizeInput, Format } from '../../common/contracts/delivery';

export interface Manifest {
  deliveryId: string;
  profileId: string;
  datasetId: string;
  format: Format;
  compression: Compression;
  rowCount: number;
  files: DeliveredFile[];
  columns: Column[];
  startedAt: string;
  completedAt: string;
  /** Incremental datasets: this delivery holds the rows whose column lies in (from, to]. */
  window?: { column: string; from: string | null; to: string };
  /** The Redshift COPY manifest shape, so a consumer can `COPY … MANIFEST` straight from this file. */
  entries: { url: string; mandatory: true; meta: { content_length: number; record_count: number } }[];
}

export function buildManifest(
  input: FinalizeInput & { files: DeliveredFile[] },
  times: { startedAt: string; completedAt: string },
  window?: Manifest['window'],
): Manifest {
  return {
    deliveryId: input.deliveryId,
    profileId: input.profileId,
    datasetId: input.datasetId,
    format: input.format,
    compression: input.compression,
    rowCount: input.files.reduce((n, f) => n + f.rows, 0),
    files: input.files,
    columns: input.columns,
    startedAt: times.startedAt,
    completedAt: times.completedAt,
    ...(window ? { window } : {}),
    entries: input.files.map((f) => ({
      url: `s3://${input.target.bucket}/${f.key}`,
      mandatory: true,
      meta: { content_length: f.bytes, record_count: f.rows },
    })),
  };
}
