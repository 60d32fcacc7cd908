import type { PoolClient } from 'pg';
import type { Format } from '../../common/contracts/delivery';
import type { CopyStream, RunCopy } from './copy-query';
import type { EncodedRange, FormatEncoder, RangeSource } from './format-encoder';
import { rangeCondition } from './key-ranges';
import { datasetTable, inlineParamsAsSettings, quoteIdent } from './source-query';

/** A text format that Postgres's COPY writes by itself: what to select per row, and the COPY options. */
interface CopyTextFormat {
  format: Format;
  contentType: string;
  /** The select list over the row `datashare_src`. */
  select: string;
  /** COPY's WITH options, without HEADER. */
  options: string;
  /** Lines before the first row. */
  headerLines: number;
  sampleRowSql: string;
}

/** Exactly what `COPY (query) TO STDOUT WITH (FORMAT csv, HEADER)` writes. */
export const CSV = copyTextEncoder({
  format: 'csv',
  contentType: 'text/csv; charset=utf-8',
  select: '*',
  options: 'FORMAT csv',
  headerLines: 1,
  sampleRowSql: 'datashare_src::text',
});

/**
 * Postgres's own row_to_json text: JSON escapes every control character, so with
 * quote and delimiter set to control bytes CSV mode never quotes it and each row
 * comes out as one raw line, at COPY speed.
 */
export const JSONL = copyTextEncoder({
  format: 'jsonl',
  contentType: 'application/x-ndjson; charset=utf-8',
  select: 'row_to_json(datashare_src)',
  options: "FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01'",
  headerLines: 0,
  sampleRowSql: 'row_to_json(datashare_src)::text',
});

function copyTextEncoder(f: CopyTextFormat): FormatEncoder {
  return {
    format: f.format,
    contentType: f.contentType,
    compressesInside: false,
    // Postgres renders the text: one backend, one core, is a single stream's ceiling.
    defaultConnectionsPerFile: 2,
    sampleRowSql: f.sampleRowSql,
    async open(client: PoolClient, source: RangeSource, _blocks: unknown, copy: RunCopy): Promise<EncodedRange> {
      const { q } = source;
      const sql = await inlineParamsAsSettings(client, q);
      const where = await rangeCondition(client, q.keyColumns, source.keyTypes, source.range);
      const order = q.keyColumns.map((k) => `datashare_src.${quoteIdent(k)}`).join(', ');
      const stream = await copy({
        select: f.select,
        from: datasetTable(sql, q.window),
        where,
        order,
        options: f.options,
        header: f.headerLines > 0,
        binary: false,
      });
      return new CopyTextRange(stream, f);
    },
  };
}

/** The blocks of one COPY: whole buffers of the pool, the last maybe shorter; its rows are COPY's own messages. */
class CopyTextRange implements EncodedRange {
  constructor(
    private readonly stream: CopyStream,
    private readonly f: CopyTextFormat,
  ) {}

  get rowsRead(): number {
    return Math.max(0, this.stream.messages - this.f.headerLines);
  }

  get rowsSent(): number {
    return this.stream.rowCount;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return (this.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }
}
