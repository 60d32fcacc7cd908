import type { Compression, Format } from '../../common/contracts/delivery';
import { CSV, JSONL } from './copy-text-encoder';
import type { FormatEncoder } from './format-encoder';
import { PARQUET } from './parquet/parquet-encoder';

/** Every output format's encoder: a format added to FORMATS does not compile until it has one (see format-encoder.ts). */
const ENCODERS: Record<Format, FormatEncoder> = { csv: CSV, jsonl: JSONL, parquet: PARQUET };

export function encoderFor(format: Format): FormatEncoder {
  return ENCODERS[format];
}

/** The compression the part layer applies: none for a format that compresses inside (Parquet). */
export function partCompressionOf(format: Format, compression: Compression): Compression {
  return encoderFor(format).compressesInside ? 'none' : compression;
}

/** The Content-Type of a delivered file: gzip whatever it holds, else the format's own. */
export function contentTypeOf(format: Format, compression: Compression): string {
  return partCompressionOf(format, compression) === 'gzip' ? 'application/gzip' : encoderFor(format).contentType;
}
