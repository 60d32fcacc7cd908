import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../activities/export/source-query';
import type { Column } from '../../common/contracts/delivery';
import {
  createBucket,
  createEndUserRole,
  endUserProfile,
  getObjectBytes,
  uniqueName,
} from '../../scripts/local/end-user-account';
import { startHarness, type Harness } from '../support/harness';
import { checkWithReaders, type CheckedColumn } from '../support/parquet-readers';

/** Days since 1970 and microseconds since 1970 / midnight: how the readers' values are compared. */
const days = (c: string): string => `(${c} - date '1970-01-01')::text`;
const micros = (c: string): string => `(extract(epoch from ${c}) * 1000000)::numeric(30,0)::text`;

interface Col extends CheckedColumn {
  /** The Postgres type in the table. */
  pg: string;
  /** SQL giving the value's canonical text (see test/support/parquet_check.py). */
  canon: (c: string) => string;
}

const col = (
  name: string,
  pg: string,
  kind: string,
  canon: (c: string) => string = (c) => `${c}::text`,
  list = false,
): Col => ({
  name,
  pg,
  kind,
  list,
  canon,
});
/** A one-dimensional array: its elements' canonical texts as a JSON array (NULL stays NULL, {} stays []). */
const arr = (name: string, pg: string, kind: string, canon: (c: string) => string = (c) => `${c}::text`): Col =>
  col(
    name,
    pg,
    kind,
    (c) =>
      `CASE WHEN ${c} IS NULL THEN NULL ELSE coalesce((SELECT json_agg(${canon('e')} ORDER BY o) FROM unnest(${c}) WITH ORDINALITY AS u(e, o)), '[]')::text END`,
    true,
  );
const hex = (c: string): string => `encode(${c}, 'hex')`;

/** Every type of the issue's table, and the ones written as their Postgres text. */
const COLUMNS: Col[] = [
  col('id', 'bigint', 'int64'),
  col('i16', 'smallint', 'int16'),
  col('i32', 'integer', 'int32'),
  col('f4', 'real', 'float32'),
  col('f8', 'double precision', 'float64'),
  col('b', 'boolean', 'bool'),
  col('n38', 'numeric(38,10)', 'decimal'),
  col('n12', 'numeric(12,2)', 'decimal'),
  col('n4', 'numeric(4,0)', 'decimal'),
  col('nu', 'numeric', 'numeric_text'),
  col('n50', 'numeric(50,5)', 'numeric_text'),
  col('txt', 'text', 'text'),
  col('vc', 'varchar(20)', 'text'),
  // char(n) keeps its padding, as Postgres prints it (a cast to text would strip it).
  col('ch', 'char(5)', 'text', (c) => `rpad(${c}::text, 5)`),
  col('ci', 'citext', 'text'),
  col('mood', 'pq_mood', 'text'),
  col('u', 'uuid', 'uuid'),
  col('d', 'date', 'date', days),
  col('ts', 'timestamp', 'timestamp', micros),
  col('tstz', 'timestamptz', 'timestamptz', micros),
  col('t', 'time', 'time', micros),
  col('j', 'json', 'json'),
  col('jb', 'jsonb', 'jsonb'),
  col('by', 'bytea', 'bytea', hex),
  arr('ia', 'integer[]', 'int32'),
  arr('ta', 'text[]', 'text'),
  arr('na', 'numeric(10,2)[]', 'decimal'),
  arr('tsa', 'timestamptz[]', 'timestamptz', micros),
  col('iv', 'interval', 'text'),
  col('tz', 'timetz', 'text'),
  col('ip', 'inet', 'text'),
  col('m', 'money', 'text'),
  col('r', 'int4range', 'text'),
  col('pair', 'pq_pair', 'text'),
];

const ROWS = `
  (1, -32768, -2147483648, '-3.4e38', '-1e308', false, -9999999999999999999999999999.9999999999, -9999999999.99, -9999,
      '-123456789012345678901234567890.123456789012345678901234567890', 123456789012345678901234567890123456789012345.12345,
      '', '', 'a', 'MiXeD', 'sad', '00000000-0000-0000-0000-000000000000',
      '4713-01-01 BC', '4713-01-01 00:00:00 BC', '4713-01-01 00:00:00+00 BC', '00:00:00',
      '{"ü": "✓", "k": [1, null]}', '{"emoji": "🚀", "n": [1, null], "s": "q\\"\\n"}', '\\x',
      '{}', '{}', '{}', '{}',
      '1 year 2 mons -3 days 04:05:06.789', '12:34:56+05:30', '192.168.0.1/24', '12.34', '[1,10)', ROW(1, 'x, "y"')),
  (2, 32767, 2147483647, '3.4e38', '1e308', true, 9999999999999999999999999999.9999999999, 9999999999.99, 9999,
      '0.000000000000000000000000000000000000000000000001', -0.5,
      E'Zürich 東京 🚀 "q", c\\n', 'twenty characters!!!', 'abcde', 'ÄÖÜ', 'happy', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '294276-12-31', '294246-12-31 23:59:59.999999', '294246-12-31 23:59:59.999999+00', '23:59:59.999999',
      '[]', 'null', (SELECT string_agg(decode(md5(g::text), 'hex'), ''::bytea) FROM generate_series(1, 65536) g),
      '{1,NULL,3}', '{a,NULL,"","c,\\"d"}', '{1.50,NULL,-2.25}', '{"2024-06-30 12:34:56.789012+05",NULL}',
      '-1 days', '00:00:00-12', '::1', '-0.01', 'empty', ROW(NULL, NULL)),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 0, 0, '0.1', 'NaN', true, 0.0000000001, 0, 0, 'NaN', 0, ' ', NULL, ' ', '', 'ok', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      '1970-01-01', '1970-01-01 00:00:00.000001', '2024-06-30 12:34:56.789012+05', '12:00:00.5',
      '"just a string"', '{}', '\\x00ff5c2e',
      '{NULL}', '{""}', '{NULL}', '{NULL}', '0', '24:00:00+00', '10.0.0.0/8', '0', '(,)', ROW(0, '')),
  (5, 1, 1, '-0', 'Infinity', false, 1, 1, 1, '-Infinity', 1, 'NULL', 'null', 'NULL', 'NULL', 'sad', NULL,
      '2000-02-29', '1999-12-31 23:59:59.999999', '1900-01-01 00:00:00+00', '00:00:00.000001',
      '{"deep": {"a": [[], {}]}}', '"ünïcode ✓"', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`;

describe('Parquet read back by pyarrow and DuckDB, value for value', () => {
  let h: Harness;
  let table: string;
  const bucket = uniqueName('parquet-readers');
  const prefix = 'pq/';
  let profile = '';

  beforeAll(async () => {
    h = await startHarness({ taskQueue: uniqueName('parquet-readers') });
    table = uniqueName('pq_awkward').replace(/-/g, '_');
    await h.pool.query(`CREATE EXTENSION IF NOT EXISTS citext`);
    await h.pool.query(
      `DO $$ BEGIN CREATE TYPE pq_mood AS ENUM ('sad', 'ok', 'happy'); EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
    );
    await h.pool.query(
      `DO $$ BEGIN CREATE TYPE pq_pair AS (a integer, b text); EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
    );
    await h.pool.query(
      `CREATE TABLE ${table} (${COLUMNS.map((c) => `${quoteIdent(c.name)} ${c.pg}`).join(', ')}, PRIMARY KEY (id))`,
    );
    await h.pool.query(`INSERT INTO ${table} VALUES ${ROWS}`);
    // More rows, so the delivery has several files.
    await h.pool.query(`INSERT INTO ${table} (id, i32, txt, n12, tstz, ta, jb, mood)
      SELECT g, g % 7, 'row ' || g || ' ' || md5(g::text), g * 1.25, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute',
             ARRAY['x' || g, NULL], jsonb_build_object('g', g, 'ü', 'ü'), (ARRAY['sad', 'ok', 'happy']::pq_mood[])[g % 3 + 1]
      FROM generate_series(10, 6009) g`);
    await createBucket('other', bucket);
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: prefix });
    profile = (await h.ds.setProfile(uniqueName('parquet-readers'), endUserProfile(role, bucket, prefix))).id;
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('delivers files both readers read back exactly, with types, statistics and a manifest', async () => {
    const dataset = uniqueName('pq-awkward');
    await h.ds.setDataset(dataset, {
      sql: `SELECT * FROM ${table}`,
      keyColumns: ['id'],
      format: 'parquet',
      sameForEveryone: true,
    });
    expect((await h.ds.getDataset(dataset)).compression).toBe('snappy');
    // Small files, so that the delivery has several (row 2's 1 MiB bytea weighs on the sample).
    const d = await h.ds.waitForDelivery(
      (await h.ds.share(profile, dataset, { maxFileBytes: 2 * 1024 * 1024 })).id,
      undefined,
      200,
    );
    expect(d.error).toBeUndefined();
    expect(d.status).toBe('completed');
    expect(d.rows).toBe(6005);
    expect(d.files.length).toBeGreaterThanOrEqual(3);
    d.files.forEach((f, i) =>
      expect(f.key).toBe(`${prefix}${dataset}/${d.id}/part-${String(i).padStart(5, '0')}.parquet`),
    );

    const bodies = await Promise.all(d.files.map((f) => getObjectBytes('other', bucket, f.key)));
    bodies.forEach((b, i) => {
      expect(b.subarray(0, 4).toString()).toBe('PAR1');
      expect(b.length).toBe(d.files[i].bytes);
      expect(createHash('sha256').update(b).digest('hex')).toBe(d.files[i].sha256);
    });
    const manifest = JSON.parse((await getObjectBytes('other', bucket, d.manifestKey!)).toString('utf8')) as {
      format: string;
      compression: string;
      columns: Column[];
      entries: { url: string; meta: { content_length: number; record_count: number } }[];
    };
    expect(manifest).toMatchObject({ format: 'parquet', compression: 'snappy' });
    expect(manifest.entries.map((e) => e.meta.content_length)).toEqual(d.files.map((f) => f.bytes));

    const { rows } = await h.pool.query<unknown[]>({
      text: `SELECT ${COLUMNS.map((c) => `${c.canon(quoteIdent(c.name))} AS ${quoteIdent(c.name)}`).join(', ')} FROM ${table} AS src ORDER BY src.id`,
      rowMode: 'array',
    });
    const report = await checkWithReaders({
      columns: COLUMNS.map(({ name, kind, list }) => ({ name, kind, list })),
      key: ['id'],
      expected: rows,
      files: bodies,
      manifestUrls: manifest.entries.map((e) => e.url),
    });
    expect(report.problems).toEqual([]);

    // The manifest's Parquet types are those in the files, and the Postgres types stay beside them.
    const leaves = report.files[0].leaves;
    for (const c of manifest.columns) {
      const leaf = leaves[c.name];
      expect(c.parquet, c.name).toBeDefined();
      expect(leaf.physical, c.name).toBe(c.parquet!.physical);
      const logical = c.parquet!.logical?.replace(/^LIST<(.*)>$/, '$1');
      expect(leaf.logical ?? leaf.physical, c.name).toBe(logical ?? c.parquet!.physical);
    }
    expect(manifest.columns.find((c) => c.name === 'n12')).toEqual({
      name: 'n12',
      type: 'numeric(12,2)',
      parquet: { physical: 'INT64', logical: 'DECIMAL(12,2)' },
    });
    expect(manifest.columns.find((c) => c.name === 'nu')?.parquet?.note).toMatch(/exact text of numeric/);
    expect(manifest.columns.find((c) => c.name === 'iv')?.parquet).toEqual({
      physical: 'BYTE_ARRAY',
      logical: 'STRING',
      note: 'Postgres text of interval',
    });
    expect(manifest.columns.find((c) => c.name === 'ia')?.parquet?.logical).toBe('LIST<INT32>');

    for (const f of report.files) {
      expect(f.created_by).toMatch(/^datashare version \d+\.\d+\.\d+/);
      for (const g of f.row_groups) {
        for (const name of ['id', 'n12', 'txt', 'tstz']) {
          expect(g.columns[name].null_count, name).not.toBeNull();
          if (g.columns[name].null_count! < g.rows) expect(g.columns[name].min_max, name).toBe(true);
        }
        expect(g.columns.mood.dictionary).toBe(true);
        expect(g.columns.by.dictionary).toBe(false);
      }
    }
    // DuckDB sees the logical types, not raw bytes.
    const duck = Object.fromEntries(report.duckdb_types);
    expect(duck).toMatchObject({
      u: 'UUID',
      tstz: 'TIMESTAMP WITH TIME ZONE',
      ts: 'TIMESTAMP',
      t: 'TIME',
      n38: 'DECIMAL(38,10)',
      i16: 'SMALLINT',
      ia: 'INTEGER[]',
    });
  });
});
