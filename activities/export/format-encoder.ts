import type { PoolClient } from 'pg';
import type { Column, Compression, Format } from '../../common/contracts/delivery';
import type { BufferPool } from './buffer-pool';
import type { RunCopy } from './copy-query';
import type { KeyRange } from './key-ranges';
import type { DatasetQuery } from './source-query';

/**
 * An output format: how one key range of a dataset becomes the bytes of one file.
 *
 * The export engine (export-range.ts) knows no format. It begins the read-only
 * snapshot, asks the format to `open` the range, cuts the bytes it yields into
 * upload parts (part-encoder.ts, which gzips per block when the delivery asks for
 * it), and checks the rows it read against the rows the source says it sent.
 * Parts, resume, checkpoints, signing and the manifest never look at the format.
 *
 * CSV and JSON Lines are two configurations of one implementation
 * (copy-text-encoder.ts): Postgres's COPY writes the text at COPY speed, one
 * protocol message per row, which counts them.
 *
 * A new format (Parquet is next) plugs in by:
 * 1. adding its name to FORMATS and its extension to fileExtension
 *    (common/contracts/delivery.ts);
 * 2. implementing this interface in its own file: `open` reads the range in key
 *    order on the given connection (for Parquet, rows through binary COPY or a
 *    row stream), and yields the file's bytes in order, in buffers of `blocks`
 *    (row groups as they fill, the footer last). A format that compresses inside
 *    itself is delivered with compression 'none' at the part layer;
 * 3. adding it to ENCODERS (encoders.ts), which the compiler requires for every
 *    name in FORMATS.
 * One rule it must keep: the same rows give the same bytes. A retried file is
 * regenerated and compared part by part with what was already uploaded; that is
 * what makes a resumed file byte-identical to an uninterrupted one.
 */
export interface FormatEncoder {
  readonly format: Format;
  /** MIME type of an uncompressed file (or of any file, when it compresses inside). */
  readonly contentType: string;
  /** Compresses inside its own bytes (Parquet's pages): the part layer then gets compression 'none'. */
  readonly compressesInside: boolean;
  /**
   * Source connections a file reads over unless the worker sets a number: more only help
   * a format whose ceiling is the Postgres backend rather than its own encoder.
   */
  readonly defaultConnectionsPerFile: number;
  /**
   * SQL over the row `datashare_src` giving text about as long as the row is in
   * this format: plan-export samples it to size files.
   */
  readonly sampleRowSql: string;
  /** The plan's columns with what the format adds to the manifest about each (Parquet: its types). */
  describeColumns?(client: PoolClient, q: DatasetQuery, columns: Column[]): Promise<Column[]>;
  /**
   * Starts reading one key range of the query, inside the transaction the engine began on
   * `client`: it sets the query's parameters and bounds there, and runs its COPY through
   * `copy`, which may spread it over several connections (range-copy.ts).
   */
  open(client: PoolClient, source: RangeSource, blocks: BufferPool, copy: RunCopy): Promise<EncodedRange>;
}

/** What a file holds: the delivery's query, one key range of it, and the key columns' types to bound it exactly. */
export interface RangeSource {
  q: DatasetQuery;
  range: KeyRange;
  keyTypes: string[];
  /** The delivery's compression: a format that compresses inside uses it itself. */
  compression: Compression;
  /** Prefixes errors about the dataset's SQL or rows. */
  hint: string;
}

/** One range's bytes in file order, with the count of rows they hold. */
export interface EncodedRange extends AsyncIterable<Buffer> {
  /** Rows read so far (a header is not a row); it may run up to a block ahead of the bytes yielded. */
  readonly rowsRead: number;
  /** Rows the source reports having sent, known once iteration has ended: a guard against a reader that lost or invented rows. */
  readonly rowsSent: number;
}
