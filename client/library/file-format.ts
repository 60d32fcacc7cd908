import {
  COMPRESSIONS,
  FORMATS,
  compressionProblem,
  type Compression,
  type Format,
} from '../../common/contracts/delivery';
import { ValidationError } from '../../common/errors';

/*
 * The one check of a file format and a compression, for every input that names
 * one: datasets, shares, schedules, and the CLI (whose --format and --compression
 * choices list the same FORMATS and COMPRESSIONS).
 */

export function checkFormat(v: unknown, flag = '--format'): Format {
  if (!(FORMATS as readonly unknown[]).includes(v))
    throw new ValidationError(`${flag} must be one of ${FORMATS.join(', ')}, not "${String(v)}"`);
  return v as Format;
}

export function checkCompression(v: unknown, flag = '--compression'): Compression {
  if (!(COMPRESSIONS as readonly unknown[]).includes(v)) {
    throw new ValidationError(`${flag} must be one of ${COMPRESSIONS.join(', ')}, not "${String(v)}"`);
  }
  return v as Compression;
}

/** A format and a compression that go together (Parquet's codecs are not CSV's), or a ValidationError saying which do. */
export function checkFormatCompression(format: Format, compression: Compression): void {
  const problem = compressionProblem(format, compression);
  if (problem) throw new ValidationError(problem);
}
