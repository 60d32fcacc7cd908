import type { ParquetColumnType } from '../../../common/contracts/delivery';

/**
 * Postgres column types → Parquet, decided from the types alone before the first row, so every
 * file of a delivery has the same schema (README "Parquet" has this as a table).
 *
 * Pure: the encoder (parquet-encoder.ts) and the plan (the manifest's column types) both call it.
 */

/** What the native encoder stores a value as (native/parquet/src/columns.rs, `Kind`). */
export type ParquetKind =
  | 'bool'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'decimal'
  | 'numeric_text'
  | 'text'
  | 'json'
  | 'jsonb'
  | 'bytea'
  | 'uuid'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz';

/** A column's Postgres type after domains are resolved to their base (pg_type facts). */
export interface PgType {
  oid: number;
  /** The type modifier (numeric's precision and scale); -1 without one. */
  typmod: number;
  /** pg_type.typname, e.g. citext, whose oid differs per database. */
  name: string;
  /** pg_type.typtype: b base, e enum, c composite, r range, m multirange, p pseudo. */
  typtype: string;
  /** Of an array: its element's type, resolved the same way. */
  element?: PgType;
}

export interface ParquetColumnPlan {
  name: string;
  kind: ParquetKind;
  /** A one-dimensional array of `kind`: a Parquet LIST. */
  list: boolean;
  precision?: number;
  scale?: number;
  /** Dictionary-encode this column (see dictionaryFor). */
  dictionary: boolean;
  /** Part of the dataset's key: messages about a row name it. */
  key: boolean;
  /** Selected as `col::text`: a type Parquet has no equivalent for, written as its Postgres text. */
  castToText: boolean;
  /** The Parquet types, as the manifest shows them. */
  parquet: ParquetColumnType;
}

/** Parquet DECIMAL as INT32/INT64/FIXED_LEN_BYTE_ARRAY holds 38 digits at most in 16 bytes (what arrow's Decimal128 writes). */
export const MAX_DECIMAL_PRECISION = 38;

const SCALARS: Record<number, ParquetKind> = {
  16: 'bool',
  21: 'int16',
  23: 'int32',
  20: 'int64',
  700: 'float32',
  701: 'float64',
  25: 'text', // text
  1043: 'text', // varchar
  1042: 'text', // char(n), with its padding, as Postgres prints it
  18: 'text', // "char"
  19: 'text', // name
  114: 'json',
  3802: 'jsonb',
  17: 'bytea',
  2950: 'uuid',
  1082: 'date',
  1083: 'time',
  1114: 'timestamp',
  1184: 'timestamptz',
};
const NUMERIC = 1700;

/** numeric's typmod: ((precision << 16) | scale) + 4, the scale a signed 16-bit number (Postgres 15 allows it negative). */
function numericModifier(typmod: number): { precision: number; scale: number } | undefined {
  if (typmod < 4) return undefined;
  const m = typmod - 4;
  const scale = ((m & 0xffff) << 16) >> 16;
  return { precision: (m >> 16) & 0xffff, scale };
}

interface Scalar {
  kind: ParquetKind;
  precision?: number;
  scale?: number;
  note?: string;
}

/** How a scalar (non-array) type is stored, or undefined when it is written as its Postgres text. */
function scalarOf(t: PgType): Scalar | undefined {
  if (t.typtype === 'e') return { kind: 'text', note: 'enum label' };
  if (t.name === 'citext') return { kind: 'text' };
  if (t.oid === NUMERIC) {
    const m = numericModifier(t.typmod);
    if (m && m.precision <= MAX_DECIMAL_PRECISION && m.scale >= 0 && m.scale <= m.precision)
      return { kind: 'decimal', ...m };
    return {
      kind: 'numeric_text',
      note: m
        ? `exact text of numeric(${m.precision},${m.scale}): beyond DECIMAL(38)`
        : 'exact text of numeric without a precision',
    };
  }
  const kind = SCALARS[t.oid];
  return kind ? { kind } : undefined;
}

/** The physical and logical Parquet types of a scalar kind, as parquet-rs writes them (checked by the readers test). */
function parquetTypeOf(s: Scalar): ParquetColumnType {
  const t = (physical: string, logical?: string): ParquetColumnType => ({ physical, ...(logical ? { logical } : {}) });
  switch (s.kind) {
    case 'bool':
      return t('BOOLEAN');
    case 'int16':
      return t('INT32', 'INT(16, signed)');
    case 'int32':
      return t('INT32');
    case 'int64':
      return t('INT64');
    case 'float32':
      return t('FLOAT');
    case 'float64':
      return t('DOUBLE');
    case 'decimal': {
      const p = s.precision ?? 0;
      // arrow's writer picks the physical type by precision, as the Parquet spec suggests.
      return t(p <= 9 ? 'INT32' : p <= 18 ? 'INT64' : 'FIXED_LEN_BYTE_ARRAY', `DECIMAL(${p},${s.scale ?? 0})`);
    }
    case 'numeric_text':
    case 'text':
      return t('BYTE_ARRAY', 'STRING');
    case 'json':
    case 'jsonb':
      return t('BYTE_ARRAY', 'JSON');
    case 'bytea':
      return t('BYTE_ARRAY');
    case 'uuid':
      return t('FIXED_LEN_BYTE_ARRAY', 'UUID');
    case 'date':
      return t('INT32', 'DATE');
    case 'time':
      return t('INT64', 'TIME(MICROS, not UTC-adjusted)');
    case 'timestamp':
      return t('INT64', 'TIMESTAMP(MICROS, not UTC-adjusted)');
    case 'timestamptz':
      return t('INT64', 'TIMESTAMP(MICROS, UTC-adjusted)');
  }
}

/**
 * Dictionary encoding where it pays, decided by type alone: on for types whose values usually
 * repeat (enums, short text, small integers, dates, booleans), off for those that rarely do
 * (bigint keys, decimals and floats, timestamps, uuids, json, bytea, exact numeric text). A
 * dictionary that grows past 1 MiB in a row group falls back to plain encoding by itself, so a
 * wrong guess for text costs some CPU, never size.
 */
function dictionaryFor(kind: ParquetKind, note: string | undefined): boolean {
  if (note === 'enum label') return true;
  return kind === 'text' || kind === 'int16' || kind === 'int32' || kind === 'date' || kind === 'bool';
}

/** The plan of one column, from its resolved Postgres type. */
export function planColumn(name: string, type: PgType, key: boolean): ParquetColumnPlan {
  const element = type.element;
  const scalar = element ? (scalarOf(element) ?? undefined) : scalarOf(type);
  if (!scalar) {
    // interval, timetz, money, inet, ranges, composites, arrays of those…: their Postgres text.
    const pgName = element ? `${element.name}[]` : type.name;
    return {
      name,
      kind: 'text',
      list: false,
      dictionary: false,
      key,
      castToText: true,
      parquet: { physical: 'BYTE_ARRAY', logical: 'STRING', note: `Postgres text of ${pgName}` },
    };
  }
  const inner = parquetTypeOf(scalar);
  const parquet: ParquetColumnType = element
    ? {
        physical: inner.physical,
        logical: `LIST<${inner.logical ?? inner.physical}>`,
        ...(scalar.note ? { note: `elements: ${scalar.note}` } : {}),
      }
    : { ...inner, ...(scalar.note ? { note: scalar.note } : {}) };
  return {
    name,
    kind: scalar.kind,
    list: element !== undefined,
    ...(scalar.precision !== undefined ? { precision: scalar.precision, scale: scalar.scale } : {}),
    dictionary: dictionaryFor(scalar.kind, scalar.note),
    key,
    castToText: false,
    parquet,
  };
}
