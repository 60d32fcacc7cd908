import { gunzipSync } from 'node:zlib';
import type { Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { uniqueName } from '../../scripts/local/end-user-account';

/**
 * Source data that trips up naive encoders: NULL vs empty string, quotes, commas,
 * newlines, a lone `\.`, unicode, big numerics, timestamps, arrays, json, bytea.
 */
export async function createAwkwardTable(pool: Pool): Promise<string> {
  const table = uniqueName('awkward').replace(/-/g, '_');
  await pool.query(`CREATE TABLE ${table} (
    id integer PRIMARY KEY, tenant_id integer NOT NULL, txt text, num numeric, ts timestamptz, tsn timestamp,
    arr integer[], tarr text[], js jsonb, bin bytea, flag boolean, f8 double precision)`);
  await pool.query(`INSERT INTO ${table} VALUES
    (1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (2, 1, '', 0, '2026-01-02 03:04:05.123456+00', '2026-01-02 03:04:05.654321', '{}', '{}', '{}', '', false, 0),
    (3, 1, 'a "quoted" word', 12345678901234567890.123456789, '1999-12-31 23:59:59.999999+05:30', '1970-01-01', '{1,NULL,3}',
        '{"a b","c,d","e\\"f",NULL,"NULL"}', '{"k": [1, "x"], "n": null, "s": "q\\"\\n"}', '\\x00ff10', true, 1.5e300),
    (4, 1, E'comma, here\\nand a newline\\r\\nand CRLF', -0.5, 'infinity', '-infinity', '{-1}', '{""}', '[1, 2.50, "три"]', '\\x5c2e', NULL, 'NaN'),
    (5, 1, E'Zürich 東京 🚀 \\\\ backslash', 'NaN', '2026-06-30 12:00:00+00', '2026-06-30 12:00:00', NULL, '{"x\\ty"}', '"just a string"', '\\x', true, 0.1),
    (6, 1, E'\\\\.', 1e-20, NULL, NULL, NULL, NULL, 'null', NULL, NULL, -0.0),
    (7, 1, ' leading and trailing ', 100, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 3.141592653589793),
    (8, 2, 'tenant two secret row', 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (9, 2, 'tenant two other row', 3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
  return table;
}

/** What PostgreSQL's own COPY writes for the query: the reference CSV. */
export async function copyCsv(pool: Pool, query: string): Promise<Buffer> {
  const client = await pool.connect();
  try {
    const stream = client.query(copyTo(`COPY (${query}) TO STDOUT WITH (FORMAT csv, HEADER)`));
    const chunks: Buffer[] = [];
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  } finally {
    client.release();
  }
}

/** What PostgreSQL's row_to_json renders for each row: the reference JSON Lines. */
export async function rowToJsonLines(pool: Pool, query: string, orderBy: string): Promise<Buffer> {
  const { rows } = await pool.query<{ j: string }>(
    `SELECT row_to_json(t)::text AS j FROM (${query}) t ORDER BY ${orderBy}`,
  );
  return Buffer.from(rows.map((r) => `${r.j}\n`).join(''), 'utf8');
}

export function decode(body: Buffer, compression: 'gzip' | 'none'): Buffer {
  return compression === 'gzip' ? gunzipSync(body) : body;
}
