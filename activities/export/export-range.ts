import { gzipSync } from 'node:zlib';
import { DatashareError } from '../../common/errors';
import type { Compression } from '../../common/contracts/delivery';
import { FileTally, type CutPart } from './file-tally';
import type { FormatEncoder, RangeSource } from './format-encoder';
import { BLOCK_BYTES, PartEncoder, type EncoderPools } from './part-encoder';
import { rangeCopy } from './range-copy';
import { asQueryError, beginReadOnly } from './source-query';
import type { SourceConnector } from '../../common/infra/source-connections';
import { firstOutputDeadline, isCancelled, queryTimeout } from './statement-timeout';

export interface ExportDeps {
  sourcePool: SourceConnector;
  /** The worker's export buffers, shared by its files (see encoderPools). */
  pools: EncoderPools;
  /** Target size of one part, after compression. */
  partBytes: number;
  /** Source connections one file may read over at once (range-copy.ts); default: the format's own. */
  connectionsPerFile?: number;
  /** Raw bytes per slice of the key when a file is read over several connections (key-slices.ts). */
  sliceBytes?: number;
}

export interface RangeExport extends RangeSource {
  encoder: FormatEncoder;
  /** Names the file in errors. */
  key: string;
  /** The dataset's statement timeout: how long the COPY may take to produce its first output. */
  statementTimeoutMs?: number;
}

/**
 * Exports one key range as the parts of one file, handing each part to `send` as
 * it is cut: the format's bytes, in a read-only snapshot of the source, cut into
 * parts by the part encoder. `send` may wait (the upload window is full) or
 * throw (an upload failed), which stops the export. Returns the file's totals
 * once the last part has been handed over.
 */
export async function exportRange(
  deps: ExportDeps,
  x: RangeExport,
  send: (part: CutPart) => Promise<void>,
  signal: AbortSignal,
): Promise<{ parts: number; bytes: number; rows: number; sha256: string }> {
  const client = await deps.sourcePool.connect();
  // A connection left mid-COPY cannot take another query: it is discarded, not reused.
  let copying = false;
  let deadline: { arrived(): void; readonly fired: boolean } | undefined;
  try {
    await beginReadOnly(client, x.q.window);
    if (x.statementTimeoutMs) deadline = await firstOutputDeadline(deps.sourcePool, client, x.statementTimeoutMs);
    // A format that compresses inside (Parquet) is cut into parts as it is.
    const partCompression: Compression = x.encoder.compressesInside ? 'none' : x.compression;
    const parts = new PartEncoder(partCompression, deps.partBytes, BLOCK_BYTES, 2, deps.pools);
    const copy = rangeCopy(client, deps.sourcePool, x, parts.blocks, {
      lanes: deps.connectionsPerFile ?? x.encoder.defaultConnectionsPerFile,
      ...(deps.sliceBytes ? { sliceBytes: deps.sliceBytes } : {}),
    });
    const source = await x.encoder.open(client, x, parts.blocks, copy).catch((e: unknown) => {
      throw asQueryError(e, x.hint);
    });
    copying = true;
    const tally = new FileTally((body) => parts.release(body));
    for await (const block of source) {
      deadline?.arrived();
      if (signal.aborted) throw new Error('cancelled');
      for (const part of await parts.push(block)) await send(tally.next(part, source.rowsRead));
    }
    copying = false;
    // The source's own count against the rows we split into parts: a cheap guard
    // against ever completing a file the reader got wrong.
    if (source.rowsRead !== source.rowsSent) {
      throw new DatashareError(
        'InternalError',
        `file ${x.key}: COPY reported ${source.rowsSent} rows but ${source.rowsRead} were read; not completing it`,
      );
    }
    const last = await parts.finish();
    // S3 needs at least one part; an empty export still yields a valid (empty) file.
    if (last || tally.parts === 0) await send(tally.next(last ?? emptyFile(partCompression), source.rowsRead));
    await client.query('COMMIT');
    return { parts: tally.parts, ...tally.total(source.rowsRead) };
  } catch (e) {
    if (!copying) await client.query('ROLLBACK').catch(() => undefined);
    if (deadline?.fired && isCancelled(e) && x.statementTimeoutMs)
      throw queryTimeout(x.hint, x.statementTimeoutMs, 'before its first row');
    throw e;
  } finally {
    deadline?.arrived();
    client.release(copying);
  }
}

function emptyFile(compression: Compression): Buffer {
  if (compression === 'none') return Buffer.alloc(0);
  return gzipSync(Buffer.alloc(0), { level: 1 });
}
