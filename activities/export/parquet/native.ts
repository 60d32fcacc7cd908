import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParquetColumnPlan } from './type-mapping';

/** A column as the native encoder takes it (native/parquet/src/lib.rs, `ParquetColumn`): the plan without what only SQL and the manifest use. */
export type NativeColumn = Omit<ParquetColumnPlan, 'castToText' | 'parquet'>;

export interface NativeOptions {
  codec: 'snappy' | 'zstd' | 'gzip' | 'none';
  createdBy: string;
  rowGroupRows: number;
  rowGroupBytes: number;
}

/** One Parquet file being written: chunks of binary COPY in, the file's bytes out. */
export interface NativeParquetEncoder {
  /** Resolves with the bytes of the row groups that closed (often none); pushes must not overlap. */
  push(chunk: Buffer): Promise<Buffer>;
  /** Resolves with the rest of the file: its last row group and the footer. */
  finish(): Promise<Buffer>;
  /** Rows decoded so far. */
  readonly rows: number;
  /** Rows in the row groups handed out so far. */
  readonly rowsFlushed: number;
}

interface Addon {
  ParquetEncoder: new (columns: NativeColumn[], options: NativeOptions) => NativeParquetEncoder;
}

// From sources (activities/export/parquet) and from dist/ (dist/activities/export/parquet): the repository root.
const ROOTS = [join(__dirname, '..', '..', '..'), join(__dirname, '..', '..', '..', '..')];
const ADDON = join('native', 'parquet', 'datashare-parquet.node');

let addon: Addon | undefined;

/** The native encoder, built by scripts/native/build.sh; a clear error when it was not built. */
export function parquetAddon(): Addon {
  if (addon) return addon;
  const path = ROOTS.map((r) => join(r, ADDON)).find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      `the Parquet encoder is not built (${ADDON} is missing): run \`bash scripts/native/build.sh\` (npm test, demo and bench run it)`,
    );
  }
  // A .node file is a shared library: loaded as Node's require would, without a require().
  const loaded = { exports: {} };
  process.dlopen(loaded, path);
  addon = loaded.exports as Addon;
  return addon;
}

let version: string | undefined;

/** `created_by` of every file: datashare and its version, from package.json. */
export function createdBy(): string {
  if (!version) {
    const pkg = ROOTS.map((r) => join(r, 'package.json')).find((p) => existsSync(p));
    version = pkg ? (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version : undefined;
  }
  return `datashare version ${version ?? 'unknown'}`;
}
