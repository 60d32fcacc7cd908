import type { PoolClient } from 'pg';
import type { Column, Compression } from '../../../common/contracts/delivery';
import { DatashareError } from '../../../common/errors';
import { bindNamedParams } from '../../../common/domain/sql-params';
import type { BufferPool } from '../buffer-pool';
import type { CopyStream, RunCopy } from '../copy-query';
import type { EncodedRange, FormatEncoder, RangeSource } from '../format-encoder';
import { rangeCondition } from '../key-ranges';
import { datasetTable, inlineParamsAsSettings, quoteIdent, type DatasetQuery } from '../source-query';
import { resolveTypes, type ResultField } from './column-types';
import { createdBy, parquetAddon, type NativeOptions, type NativeParquetEncoder } from './native';
import { planColumn, type ParquetColumnPlan } from './type-mapping';

/**
 * Row groups close at this many rows (DuckDB's default) or at ROW_GROUP_BYTES of encoded data,
 * whichever comes first. A file's working set is about twice a row group (the one filling and
 * its bytes on their way into parts); with a worker's two files at once that stays well inside
 * its 300 MB bound, and engines still read row groups this size efficiently.
 */
export const ROW_GROUP_ROWS = 122_880;
export const ROW_GROUP_BYTES = 16 * 1024 * 1024;

/** The plan of every column of a result, from its types alone. */
async function planColumns(
  client: PoolClient,
  fields: ResultField[],
  keyColumns: string[],
): Promise<ParquetColumnPlan[]> {
  const types = await resolveTypes(client, fields);
  return fields.map((f, i) => planColumn(f.name, types[i], keyColumns.includes(f.name)));
}

function codecOf(compression: Compression): NativeOptions['codec'] {
  return compression;
}

/**
 * Parquet: the range read with `COPY … (FORMAT binary)` and encoded by the native encoder
 * (native/parquet), which compresses inside the file's pages; the part layer cuts its bytes
 * into parts uncompressed. The same rows give the same bytes: row groups end where the rows
 * say, never where the socket's chunks did.
 */
export const PARQUET: FormatEncoder = {
  format: 'parquet',
  contentType: 'application/vnd.apache.parquet',
  compressesInside: true,
  // The encoder, not Postgres, is Parquet's ceiling: a second connection measured 0.95× the speed at 46 MB more.
  defaultConnectionsPerFile: 1,
  // Files are sized from the rows' Postgres text: Parquet, columnar, encoded and compressed, comes
  // out smaller than that on every table measured, so files stay under --max-file-size (often well under).
  sampleRowSql: 'datashare_src::text',
  async describeColumns(client: PoolClient, q: DatasetQuery, columns: Column[]): Promise<Column[]> {
    const bound = bindNamedParams(q.sql, q.properties, q.profileId);
    const { fields } = await client.query({
      text: `SELECT * FROM ${datasetTable(bound.text, q.window)} LIMIT 0`,
      values: bound.values,
    });
    const plans = await planColumns(client, fields, q.keyColumns);
    return columns.map((c, i) => ({ ...c, parquet: plans[i].parquet }));
  },
  async open(client: PoolClient, source: RangeSource, blocks: BufferPool, copy: RunCopy): Promise<EncodedRange> {
    const { q } = source;
    const addon = parquetAddon();
    const sql = await inlineParamsAsSettings(client, q);
    const from = datasetTable(sql, q.window);
    const { fields } = await client.query(`SELECT * FROM ${from} LIMIT 0`);
    const plans = await planColumns(client, fields, q.keyColumns);
    const where = await rangeCondition(client, q.keyColumns, source.keyTypes, source.range);
    const order = q.keyColumns.map((k) => `datashare_src.${quoteIdent(k)}`).join(', ');
    const select = plans
      .map((c) =>
        c.castToText
          ? `datashare_src.${quoteIdent(c.name)}::text AS ${quoteIdent(c.name)}`
          : `datashare_src.${quoteIdent(c.name)}`,
      )
      .join(', ');
    const encoder = new addon.ParquetEncoder(
      plans.map((c) => ({
        name: c.name,
        kind: c.kind,
        list: c.list,
        ...(c.precision !== undefined ? { precision: c.precision, scale: c.scale } : {}),
        dictionary: c.dictionary,
        key: c.key,
      })),
      {
        codec: codecOf(source.compression),
        createdBy: createdBy(),
        rowGroupRows: ROW_GROUP_ROWS,
        rowGroupBytes: ROW_GROUP_BYTES,
      },
    );
    const stream = await copy({ select, from, where, order, options: 'FORMAT binary', header: false, binary: true });
    return new ParquetRange(stream, encoder, blocks, source.hint);
  },
};

/** One file's bytes as its row groups close, then the footer. */
class ParquetRange implements EncodedRange {
  private flushed = 0;

  constructor(
    private readonly stream: CopyStream,
    private readonly encoder: NativeParquetEncoder,
    private readonly blocks: BufferPool,
    private readonly hint: string,
  ) {}

  get rowsRead(): number {
    return this.flushed;
  }

  get rowsSent(): number {
    return this.stream.rowCount;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for await (const block of this.stream as AsyncIterable<Buffer>) {
      let bytes: Buffer;
      try {
        // On the thread pool: meanwhile the COPY stream fills the next block.
        bytes = await this.encoder.push(block);
      } catch (e) {
        throw this.failure(e);
      } finally {
        // The encoder has copied what it needs of the block.
        this.blocks.give(block);
      }
      this.flushed = this.encoder.rowsFlushed;
      if (bytes.length > 0) yield bytes;
    }
    const last = await this.encoder.finish().catch((e: unknown) => {
      throw this.failure(e);
    });
    this.flushed = this.encoder.rows;
    yield last;
  }

  /** A value the schema cannot hold is the dataset's to fix: permanent, naming the column and the row's key. */
  private failure(e: unknown): unknown {
    if (e instanceof Error && (e as { code?: unknown }).code === 'InvalidArg') {
      return new DatashareError('UnrepresentableValue', `${this.hint}: ${e.message}`);
    }
    return e;
  }
}
