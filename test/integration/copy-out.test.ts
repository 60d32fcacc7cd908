import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferPool } from '../../activities/export/buffer-pool';
import { CopyOutBlocks } from '../../activities/export/copy-out-blocks';
import { createPool } from '../../common/infra/pool';
import { testEnv } from '../../scripts/local/stack-env';
import { copyCsv, createAwkwardTable } from '../support/fixtures';

/** The export's COPY reader against real PostgreSQL, with pg-copy-streams as the oracle. */
describe('CopyOutBlocks against PostgreSQL', () => {
  let pool: Pool;
  let query = '';

  beforeAll(async () => {
    pool = createPool(testEnv().DATABASE_URL, 2);
    const awkward = await createAwkwardTable(pool);
    // The awkward rows, then enough plain ones that messages straddle many socket reads.
    query = `SELECT id, txt, num, ts, arr, tarr, js, bin FROM ${awkward}
             UNION ALL SELECT g + 100, md5(g::text) || E'\\n"' || g, g / 7.0, NULL, ARRAY[g], NULL, NULL, NULL FROM generate_series(1, 30000) g
             ORDER BY id`;
  });

  afterAll(async () => {
    await pool?.end();
  });

  it('yields what COPY writes, in blocks of the asked size, counts its rows, and leaves the connection usable', async () => {
    const expected = await copyCsv(pool, query);
    const client = await pool.connect();
    try {
      const stream = client.query(
        new CopyOutBlocks(`COPY (${query}) TO STDOUT WITH (FORMAT csv, HEADER)`, new BufferPool(4096 + 13, 0)),
      );
      const chunks: Buffer[] = [];
      for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
      expect(chunks.length).toBeGreaterThan(100);
      expect(chunks.slice(0, -1).every((c) => c.length === 4096 + 13)).toBe(true);
      expect(Buffer.concat(chunks).equals(expected)).toBe(true);
      await new Promise((r) => setImmediate(r));
      expect(stream.rowCount).toBe(30009);
      // One message per output line, the header included, whatever newlines and quotes the rows hold.
      expect(stream.messages).toBe(30009 + 1);
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      client.release();
    }
  });

  it('fails with the error Postgres raises mid-COPY, and the connection stays usable', async () => {
    const client = await pool.connect();
    try {
      const failing = `SELECT g, 1 / (g - 25000) AS boom FROM generate_series(1, 30000) g`;
      const stream = client.query(
        new CopyOutBlocks(`COPY (${failing}) TO STDOUT WITH (FORMAT csv)`, new BufferPool(65536, 0)),
      );
      let received = 0;
      const read = (async () => {
        for await (const c of stream as AsyncIterable<Buffer>) received += c.length;
      })();
      await expect(read).rejects.toMatchObject({ code: '22012', message: 'division by zero' });
      expect(received).toBeGreaterThan(0);
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      client.release();
    }
  });
});
