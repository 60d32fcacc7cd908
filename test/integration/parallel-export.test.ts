import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compression, Format } from '../../common/contracts/delivery';
import { createPool } from '../../common/infra/pool';
import { SourceConnections, type SourceConnector } from '../../common/infra/source-connections';
import { encoderFor } from '../../activities/export/encoders';
import { exportRange, type RangeExport } from '../../activities/export/export-range';
import { encoderPools } from '../../activities/export/part-encoder';
import type { KeyRange } from '../../activities/export/key-ranges';
import { testEnv } from '../../scripts/local/stack-env';
import { uniqueName } from '../../scripts/local/end-user-account';
import { copyCsv } from '../support/fixtures';
import { parquetRowsInKeyOrder } from '../support/parquet-readers';

/**
 * One file's COPY over several connections (activities/export/range-copy.ts): the
 * same bytes as one statement, in one snapshot, in every format, against real
 * PostgreSQL. `helpers` counts the extra connections a file really took.
 */
class CountingSource implements SourceConnector {
  helpers = 0;
  constructor(
    private readonly inner: SourceConnections,
    /** Runs just before a helper connection is handed over: a concurrent writer, in the tests. */
    private readonly beforeHelper?: () => Promise<void>,
  ) {}
  connect(): Promise<PoolClient> {
    return this.inner.connect();
  }
  async tryConnect(reserve?: number): Promise<PoolClient | undefined> {
    await this.beforeHelper?.();
    const c = await this.inner.tryConnect(reserve);
    if (c) this.helpers++;
    return c;
  }
}

const PART_BYTES = 5 * 1024 * 1024;
const SLICE_BYTES = 128 * 1024;

describe('a file read over several connections', () => {
  let pool: Pool;
  let table = '';

  beforeAll(async () => {
    pool = createPool(testEnv().DATABASE_URL, 12);
    table = uniqueName('parallel_rows').replace(/-/g, '_');
    // Realistic rows: a tenant filter, quotes, commas, newlines, NULLs, jsonb; gaps in the key.
    await pool.query(
      `CREATE TABLE ${table} (id bigint PRIMARY KEY, tenant_id integer, note text, amount numeric(12,2), attrs jsonb)`,
    );
    await pool.query(`INSERT INTO ${table}
      SELECT g * 3 + (g % 2), CASE WHEN g % 10 = 0 THEN 2 ELSE 1 END,
             CASE WHEN g % 7 = 0 THEN NULL ELSE 'order ' || g || E', "rush"\\n for ' || (g % 501) END,
             (g * 7919 % 1000000) / 100.0,
             jsonb_build_object('sku', 'SKU-' || (g % 97), 'tags', jsonb_build_array('a' || (g % 5)))
      FROM generate_series(1, 40000) g`);
    await pool.query(`ANALYZE ${table}`);
  });

  afterAll(async () => {
    await pool?.end();
  });

  async function exportFile(opts: {
    format: Format;
    compression: Compression;
    lanes: number;
    range?: KeyRange;
    sql?: string;
    beforeHelper?: () => Promise<void>;
  }): Promise<{ body: Buffer; rows: number; sha256: string; helpers: number }> {
    const source = new CountingSource(new SourceConnections(pool, 8), opts.beforeHelper);
    const x: RangeExport = {
      encoder: encoderFor(opts.format),
      compression: opts.compression,
      q: {
        sql: opts.sql ?? `SELECT * FROM ${table} WHERE tenant_id = :tenant_id`,
        keyColumns: ['id'],
        properties: { tenant_id: '1' },
        profileId: 'p',
      },
      range: opts.range ?? {},
      keyTypes: ['bigint'],
      hint: 'dataset parallel',
      key: 'part-00000',
    };
    const parts: Buffer[] = [];
    const out = await exportRange(
      {
        sourcePool: source,
        pools: encoderPools(PART_BYTES, 1, 2, 2, undefined, opts.lanes),
        partBytes: PART_BYTES,
        connectionsPerFile: opts.lanes,
        sliceBytes: SLICE_BYTES,
      },
      x,
      async (part) => {
        parts.push(Buffer.from(part.body));
        part.release();
        // A slow writer now and then, so lanes run ahead and wait on their budget.
        if (part.n % 2 === 0) await new Promise((r) => setTimeout(r, 20));
      },
      new AbortController().signal,
    );
    const body = Buffer.concat(parts);
    expect(createHash('sha256').update(body).digest('hex')).toBe(out.sha256);
    return { body, rows: out.rows, sha256: out.sha256, helpers: source.helpers };
  }

  const CASES: { format: Format; compression: Compression }[] = [
    { format: 'csv', compression: 'none' },
    { format: 'csv', compression: 'gzip' },
    { format: 'jsonl', compression: 'gzip' },
    { format: 'parquet', compression: 'snappy' },
  ];

  for (const c of CASES) {
    it(`writes the same ${c.format}/${c.compression} bytes on 1, 2 and 3 connections`, async () => {
      const one = await exportFile({ ...c, lanes: 1 });
      expect(one.helpers).toBe(0);
      expect(one.rows).toBe(36000);
      for (const lanes of [2, 3]) {
        const many = await exportFile({ ...c, lanes });
        expect(many.helpers, `${lanes} lanes`).toBe(lanes - 1);
        expect(many.rows).toBe(36000);
        expect(many.sha256, `${lanes} lanes`).toBe(one.sha256);
      }
      if (c.format === 'csv' && c.compression === 'none') {
        // And both are exactly what one COPY of the whole query writes.
        const expected = await copyCsv(pool, `SELECT * FROM ${table} WHERE tenant_id = 1 ORDER BY id`);
        expect(one.body.equals(expected)).toBe(true);
      }
      if (c.format === 'parquet') {
        // A reader no one here wrote sees one well-formed file with every row, in key order.
        expect(await parquetRowsInKeyOrder(one.body, 'id')).toEqual({ rows: 36000, ordered: true });
      }
    });
  }

  it('reads a middle range with bounds on both sides the same way', async () => {
    const range = { lower: ['30000'], upper: ['90000'] };
    const one = await exportFile({ format: 'csv', compression: 'gzip', lanes: 1, range });
    const two = await exportFile({ format: 'csv', compression: 'gzip', lanes: 2, range });
    expect(two.helpers).toBe(1);
    expect(two.sha256).toBe(one.sha256);
    expect(two.rows).toBe(one.rows);
  });

  it('keeps the file one snapshot: a write committed as a helper joins is not seen', async () => {
    const writer = await pool.connect();
    let wrote = false;
    const before = await exportFile({ format: 'csv', compression: 'none', lanes: 1 });
    try {
      const during = await exportFile({
        format: 'csv',
        compression: 'none',
        lanes: 2,
        // After the file's own connection took its snapshot, before the helper imports it.
        beforeHelper: async () => {
          if (wrote) return;
          wrote = true;
          await writer.query(`UPDATE ${table} SET note = 'changed' WHERE id > 100000`);
          await writer.query(`INSERT INTO ${table} VALUES (200001, 1, 'new row', 1, '{}')`);
        },
      });
      expect(wrote).toBe(true);
      expect(during.helpers).toBe(1);
      expect(during.sha256).toBe(before.sha256);
      // The change is real: a file exported now sees it.
      const after = await exportFile({ format: 'csv', compression: 'none', lanes: 2 });
      expect(after.rows).toBe(36001);
    } finally {
      await writer.query(`DELETE FROM ${table} WHERE id = 200001`);
      writer.release();
    }
  });

  it('keeps rows whose key is NULL, last, as one statement does', async () => {
    const nullable = uniqueName('parallel_nulls').replace(/-/g, '_');
    await pool.query(`CREATE TABLE ${nullable} (id bigint, tenant_id integer, note text)`);
    await pool.query(`INSERT INTO ${nullable} SELECT g, 1, repeat('x', 40) || g FROM generate_series(1, 20000) g`);
    await pool.query(`INSERT INTO ${nullable} VALUES (NULL, 1, 'no key'), (NULL, 1, 'no key either')`);
    await pool.query(`CREATE INDEX ON ${nullable} (id)`);
    await pool.query(`ANALYZE ${nullable}`);
    const sql = `SELECT * FROM ${nullable} WHERE tenant_id = :tenant_id`;
    const one = await exportFile({ format: 'csv', compression: 'none', lanes: 1, sql });
    const two = await exportFile({ format: 'csv', compression: 'none', lanes: 2, sql });
    expect(two.helpers).toBe(1);
    expect(one.rows).toBe(20002);
    expect(two.rows).toBe(20002);
    expect(two.sha256).toBe(one.sha256);
  });

  it('stays one statement when slices could not be read through an index', async () => {
    // An aggregate per key: the bound does not reach an index, so every slice would redo the whole query.
    const sql = `SELECT id, count(*) AS n FROM (SELECT id FROM ${table} WHERE tenant_id = :tenant_id ORDER BY random()) s GROUP BY id`;
    const r = await exportFile({ format: 'csv', compression: 'none', lanes: 2, sql });
    expect(r.rows).toBe(36000);
    expect(r.helpers).toBe(0);
  });

  it('fails the file, and frees every connection, when a later slice fails', async () => {
    const sql = `SELECT id, 1 / (id - 90004) AS boom FROM ${table} WHERE tenant_id = :tenant_id`;
    const source = new SourceConnections(pool, 8);
    const counting = new CountingSource(source);
    const x: RangeExport = {
      encoder: encoderFor('csv'),
      compression: 'none',
      q: { sql, keyColumns: ['id'], properties: { tenant_id: '1' }, profileId: 'p' },
      range: {},
      keyTypes: ['bigint'],
      hint: 'dataset boom',
      key: 'part-00000',
    };
    const deps = {
      sourcePool: counting,
      pools: encoderPools(PART_BYTES, 1, 2, 2, undefined, 3),
      partBytes: PART_BYTES,
      connectionsPerFile: 3,
      sliceBytes: 16 * 1024,
    };
    await expect(
      exportRange(
        deps,
        x,
        async (p) => {
          p.release();
          await Promise.resolve();
        },
        new AbortController().signal,
      ),
    ).rejects.toThrow(/division by zero/);
    expect(counting.helpers).toBe(2);
    // All eight slots are free again: none leaked by a lane that stopped mid-COPY.
    const held: PoolClient[] = [];
    for (let i = 0; i < 8; i++) {
      const c = await source.tryConnect();
      expect(c, `slot ${i}`).toBeDefined();
      held.push(c!);
    }
    for (const c of held) c.release();
  });
});
