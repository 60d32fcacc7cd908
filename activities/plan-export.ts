import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { Pool } from 'pg';
import { recordPlan } from '../common/store/delivery-progress';
import { keptPlan, loadRange, saveRanges } from '../common/store/export-state';
import type { Compression, ExportPlan, Format } from '../common/contracts/delivery';
import { loadDeliveryQuery } from './export/delivery-query';
import { encoderFor, partCompressionOf } from './export/encoders';
import { firstBoundary, splitByKey } from './export/key-ranges';
import { asQueryError, beginReadOnly, describeDataset, estimateRows, sampleRows } from './export/source-query';
import { isCancelled, limitStatements, queryTimeout } from './export/statement-timeout';
import { statementTimeoutOf } from '../common/domain/dataset-guards';
import type { SourceConnector } from '../common/infra/source-connections';

const gzip = promisify(gzipCb);
const SAMPLE_ROWS = 2000;

export interface PlanExportInput {
  deliveryId: string;
  profileId: string;
  datasetId: string;
  format: Format;
  compression: Compression;
  maxFileBytes: number;
  /** Plan only the first range now; planRanges splits the rest while the first file exports. */
  planRestLater?: boolean;
}

/**
 * Plans the export: learns the columns and their types, fails fast on bad SQL or
 * key columns, and cuts the key order into ranges sized so each file stays under
 * the maximum file size (estimated from a sample of rows, compressed as the files
 * will be). The ranges go to our table, not into workflow history.
 *
 * The layout is a function of the data and the settings alone: the sample is the
 * first rows in key order, so rows per file follow from those rows, the format,
 * the compression and the maximum file size; and every range but the last ends at
 * a multiple of that count in key order. Two deliveries of the same rows cut the
 * same files whatever order the rows lie in on disk.
 */
export async function planExport(
  deps: { metaPool: Pool; sourcePool: SourceConnector },
  input: PlanExportInput,
): Promise<ExportPlan> {
  const { q, dataset, hint } = await loadDeliveryQuery(deps.metaPool, input);
  const timeout = statementTimeoutOf(dataset);
  const client = await deps.sourcePool.connect();
  try {
    await beginReadOnly(client, q.window);
    // Describing, sampling and cutting the first range are each bounded by the dataset's timeout.
    await limitStatements(client, timeout);
    const encoder = encoderFor(input.format);
    const described = await describeDataset(client, q).catch((e: unknown) => {
      throw asQueryError(e, hint);
    });
    const columns = encoder.describeColumns ? await encoder.describeColumns(client, q, described) : described;
    const keyTypes = dataset.keyColumns.map((k) => columns.find((c) => c.name === k)?.type ?? 'text');

    // A replay keeps the ranges of the earlier attempt, so the files it already
    // completed stay valid — unless the prefix moved, and with it every key.
    const kept = await keptPlan(deps.metaPool, input.deliveryId);
    if (kept)
      return {
        columns,
        keyColumns: dataset.keyColumns,
        keyTypes,
        fileCount: kept.fileCount,
        totalRows: kept.estimatedRows,
      };

    const sample = await sampleRows(client, q, encoder.sampleRowSql, SAMPLE_ROWS).catch((e: unknown) => {
      throw asQueryError(e, hint);
    });
    const rowsPerFile = await rowsPerFileFor(sample, input);
    const oneFile = sample.rows < SAMPLE_ROWS && sample.rows <= rowsPerFile;
    if (input.planRestLater) {
      const first = oneFile
        ? undefined
        : await firstBoundary(client, q, rowsPerFile).catch((e: unknown) => {
            throw asQueryError(e, hint);
          });
      await saveRanges(deps.metaPool, input.deliveryId, first ? [first] : []);
      if (!first)
        await recordPlan(deps.metaPool, input.deliveryId, {
          fileCount: 1,
          estimatedRows: sample.rows,
          maxFileBytes: input.maxFileBytes,
        });
      return {
        columns,
        keyColumns: dataset.keyColumns,
        keyTypes,
        fileCount: first ? 2 : 1,
        restPlanned: !first,
        rowsPerFile,
      };
    }
    // The key pass costs a scan of the keys; skip it when the sample saw every row and they fit one file.
    // (The planner's estimate is not trusted for this: stale statistics would make one huge file.)
    const estimated = await estimateRows(client, q);
    const shape = oneFile
      ? { boundaries: [] }
      : await splitByKey(client, q, rowsPerFile).catch((e: unknown) => {
          throw asQueryError(e, hint);
        });
    await saveRanges(deps.metaPool, input.deliveryId, shape.boundaries);
    const fileCount = shape.boundaries.length + 1;
    const totalRows = shape.boundaries.length
      ? Math.max(estimated, shape.boundaries.length * rowsPerFile)
      : Math.max(estimated, sample.rows);
    await recordPlan(deps.metaPool, input.deliveryId, {
      fileCount,
      estimatedRows: Math.round(totalRows),
      maxFileBytes: input.maxFileBytes,
    });
    return { columns, keyColumns: dataset.keyColumns, keyTypes, fileCount, totalRows: Math.round(totalRows) };
  } catch (e) {
    if (isCancelled(e))
      throw queryTimeout(hint, timeout, 'while planning the export (describing, sampling, cutting ranges)');
    throw e;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

export interface PlanRangesInput {
  deliveryId: string;
  profileId: string;
  datasetId: string;
  rowsPerFile: number;
  keyTypes: string[];
  maxFileBytes: number;
}

/**
 * Not bounded by the dataset's statement timeout: this is one pass over every key of
 * the export, as long as a healthy large share is big, and it runs beside the first
 * file, whose COPY has the first-row deadline. The activity's own timeout bounds it.
 *
 * Splits the key order after the first range (planned by planExport) into the
 * remaining ranges, while the first file is already exporting.
 */
export async function planRanges(
  deps: { metaPool: Pool; sourcePool: SourceConnector },
  input: PlanRangesInput,
): Promise<{ fileCount: number }> {
  const { q, hint } = await loadDeliveryQuery(deps.metaPool, input);
  const first = (await loadRange(deps.metaPool, input.deliveryId, 0)).upper;
  if (!first) return { fileCount: 1 };
  const client = await deps.sourcePool.connect();
  try {
    await beginReadOnly(client, q.window);
    const rest = await splitByKey(client, q, input.rowsPerFile, first, input.keyTypes).catch((e: unknown) => {
      throw asQueryError(e, hint);
    });
    const boundaries = [first, ...rest.boundaries];
    await saveRanges(deps.metaPool, input.deliveryId, boundaries);
    const fileCount = boundaries.length + 1;
    await recordPlan(deps.metaPool, input.deliveryId, {
      fileCount,
      estimatedRows: fileCount * input.rowsPerFile,
      maxFileBytes: input.maxFileBytes,
    });
    return { fileCount };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

/** Rows per file so that a file's stored size stays under the maximum, with a margin for uneven rows. */
async function rowsPerFileFor(sample: { rows: number; text: string }, input: PlanExportInput): Promise<number> {
  if (sample.rows === 0) return 1_000_000;
  const raw = Buffer.from(sample.text, 'utf8');
  const stored =
    partCompressionOf(input.format, input.compression) === 'gzip' ? (await gzip(raw, { level: 1 })).length : raw.length;
  const bytesPerRow = Math.max(1, (stored + sample.rows) / sample.rows);
  return Math.max(1, Math.floor((input.maxFileBytes * 0.8) / bytesPerRow));
}
