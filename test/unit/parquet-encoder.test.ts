import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createdBy, parquetAddon } from '../../activities/export/parquet/native';
import { planColumn } from '../../activities/export/parquet/type-mapping';

/** A `COPY … (FORMAT binary)` stream of (bigint id, text v) rows, as Postgres writes it. */
function binaryCopy(rows: [bigint, string | null][]): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
  for (const [id, v] of rows) {
    const head = Buffer.alloc(2 + 4 + 8 + 4);
    head.writeInt16BE(2, 0);
    head.writeInt32BE(8, 2);
    head.writeBigInt64BE(id, 6);
    const text = v === null ? Buffer.alloc(0) : Buffer.from(v, 'utf8');
    head.writeInt32BE(v === null ? -1 : text.length, 14);
    parts.push(head, text);
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1, 0);
  parts.push(trailer);
  return Buffer.concat(parts);
}

async function encode(
  stream: Buffer,
  chunk: number,
  codec: 'snappy' | 'zstd' | 'gzip' | 'none' = 'snappy',
): Promise<Buffer> {
  const { ParquetEncoder } = parquetAddon();
  const enc = new ParquetEncoder(
    [
      { name: 'id', kind: 'int64', list: false, dictionary: false, key: true },
      { name: 'v', kind: 'text', list: false, dictionary: true, key: false },
    ],
    { codec, createdBy: createdBy(), rowGroupRows: 5000, rowGroupBytes: 64 * 1024 },
  );
  const out: Buffer[] = [];
  for (let p = 0; p < stream.length; p += chunk) out.push(await enc.push(stream.subarray(p, p + chunk)));
  out.push(await enc.finish());
  expect(enc.rows).toBe(enc.rowsFlushed);
  return Buffer.concat(out);
}

describe('the native Parquet encoder', () => {
  const rows: [bigint, string | null][] = Array.from({ length: 20_000 }, (_, i) => [
    BigInt(i),
    i % 11 === 0 ? null : `row ${i} ${'é'.repeat(i % 7)}`,
  ]);
  const stream = binaryCopy(rows);

  it('gives the same bytes however the COPY stream is chunked (what byte-identical resume rests on)', async () => {
    const whole = await encode(stream, stream.length);
    const hash = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    for (const chunk of [13, 4096, 65_536 + 3])
      expect(hash(await encode(stream, chunk)), `chunks of ${chunk}`).toBe(hash(whole));
    expect(whole.subarray(0, 4).toString()).toBe('PAR1');
    expect(whole.subarray(-4).toString()).toBe('PAR1');
  });

  it('writes each codec deterministically', async () => {
    for (const codec of ['zstd', 'gzip', 'none'] as const)
      expect((await encode(stream, 100_000, codec)).equals(await encode(stream, 9_999, codec)), codec).toBe(true);
  });

  it('refuses a stream that ends before its trailer', async () => {
    const { ParquetEncoder } = parquetAddon();
    const enc = new ParquetEncoder(
      [
        { name: 'id', kind: 'int64', list: false, dictionary: false, key: true },
        { name: 'v', kind: 'text', list: false, dictionary: false, key: false },
      ],
      {
        codec: 'none',
        createdBy: 'test',
        rowGroupRows: 10,
        rowGroupBytes: 1024,
      },
    );
    await enc.push(stream.subarray(0, 1000));
    await expect(enc.finish()).rejects.toThrow(/ended before its trailer/);
  });
});

describe('the Parquet type mapping', () => {
  const t = (oid: number, name: string, typmod = -1, typtype = 'b') => ({ oid, typmod, name, typtype });
  it('maps numeric(p,s) to DECIMAL up to 38 digits, and to exact text beyond or without a precision', () => {
    expect(planColumn('a', t(1700, 'numeric', ((12 << 16) | 2) + 4), false)).toMatchObject({
      kind: 'decimal',
      precision: 12,
      scale: 2,
      parquet: { physical: 'INT64', logical: 'DECIMAL(12,2)' },
    });
    expect(planColumn('a', t(1700, 'numeric', ((38 << 16) | 10) + 4), false).parquet).toEqual({
      physical: 'FIXED_LEN_BYTE_ARRAY',
      logical: 'DECIMAL(38,10)',
    });
    expect(planColumn('a', t(1700, 'numeric', ((39 << 16) | 0) + 4), false)).toMatchObject({
      kind: 'numeric_text',
      parquet: { logical: 'STRING' },
    });
    expect(planColumn('a', t(1700, 'numeric'), false).parquet.note).toBe('exact text of numeric without a precision');
  });

  it('writes types Parquet has no equivalent for as their Postgres text, and arrays of mapped types as LISTs', () => {
    expect(planColumn('a', t(1186, 'interval'), false)).toMatchObject({ castToText: true, kind: 'text' });
    expect(planColumn('a', { ...t(1007, '_int4'), element: t(23, 'int4') }, false)).toMatchObject({
      list: true,
      kind: 'int32',
      parquet: { logical: 'LIST<INT32>' },
    });
    expect(planColumn('a', { ...t(1187, '_interval'), element: t(1186, 'interval') }, false)).toMatchObject({
      castToText: true,
      list: false,
    });
    expect(planColumn('a', t(99999, 'mood', -1, 'e'), false)).toMatchObject({ kind: 'text', dictionary: true });
  });
});
