import { Client } from 'pg';

/**
 * The bench's tables. The realistic one looks like users' data: a tenant filter
 * bound from the profile, a timestamptz, a numeric, text with quotes, commas and
 * NULLs, and jsonb. The friendly one (md5 text, no filter, no quoting) is kept as a
 * second case because earlier figures came from it; it flatters a CSV pipeline.
 */
export interface BenchTable {
  kind: 'realistic' | 'friendly';
  /** Approximate bytes per row as CSV, to size a table by gigabytes. */
  bytesPerRow: number;
  name(gb: number): string;
  /** The query every path runs: the baseline and the peers with the tenant literal, datashare with :tenant_id bound. */
  select(table: string, tenant: string): string;
  datasetSql(table: string): string;
  /** Whether the dataset names no property (then it must be marked the same for everyone). */
  sameForEveryone: boolean;
  /** Rows the tenant of the bench profile gets, of `rows` in the table. */
  rowsFor(rows: number): number;
  build(c: Client, table: string, rows: number, log: (s: string) => void): Promise<void>;
}

export const BENCH_TENANT = '1';

async function fill(
  c: Client,
  table: string,
  rows: number,
  insert: (lo: number, hi: number) => string,
  log: (s: string) => void,
): Promise<void> {
  const step = 1_000_000;
  for (let lo = 1; lo <= rows; lo += step) {
    const hi = Math.min(rows, lo + step - 1);
    await c.query(insert(lo, hi));
    log(`  ${hi} rows`);
  }
  await c.query(`ALTER TABLE ${table} ADD PRIMARY KEY (id)`);
  await c.query(`VACUUM ANALYZE ${table}`);
}

export const REALISTIC: BenchTable = {
  kind: 'realistic',
  bytesPerRow: 154,
  name: (gb) => `bench_real_${String(gb).replace('.', '_')}g`,
  select: (t, tenant) => `SELECT * FROM ${t} WHERE tenant_id = ${tenant} ORDER BY id`,
  datasetSql: (t) => `SELECT * FROM ${t} WHERE tenant_id = :tenant_id`,
  sameForEveryone: false,
  // Nine rows in ten belong to tenant 1: the filter is paid on every row, and almost all of them are sent.
  rowsFor: (rows) => rows - Math.floor(rows / 10),
  async build(c, table, rows, log) {
    await c.query(`CREATE UNLOGGED TABLE ${table} (id bigint, tenant_id integer, created_at timestamptz, amount numeric(12,2),
      note text, attrs jsonb)`);
    await fill(
      c,
      table,
      rows,
      (lo, hi) => `INSERT INTO ${table}
        SELECT g, CASE WHEN g % 10 = 0 THEN 2 ELSE 1 END,
               timestamptz '2026-01-01 00:00:00+00' + g * interval '397 milliseconds',
               ((g * 7919) % 10000000) / 100.0,
               CASE WHEN g % 7 = 0 THEN NULL
                    ELSE 'order ' || g || ', "' || (ARRAY['rush','gift','bulk','return'])[1 + g % 4] || '" for customer ' || (g % 50021) END,
               jsonb_build_object('sku', 'SKU-' || (g % 9973), 'qty', 1 + g % 12, 'tags', jsonb_build_array('a' || (g % 5), 'b' || (g % 3)),
                                  'note', CASE WHEN g % 11 = 0 THEN 'café, "quoted"' END)
        FROM generate_series(${lo}::bigint, ${hi}::bigint) g`,
      log,
    );
  },
};

export const FRIENDLY: BenchTable = {
  kind: 'friendly',
  bytesPerRow: 134,
  name: (gb) => `bench_rows_${String(gb).replace('.', '_')}g`,
  select: (t) => `SELECT * FROM ${t} ORDER BY id`,
  datasetSql: (t) => `SELECT * FROM ${t}`,
  sameForEveryone: true,
  rowsFor: (rows) => rows,
  async build(c, table, rows, log) {
    await c.query(
      `CREATE UNLOGGED TABLE ${table} (id bigint, tenant_id integer, created_at timestamptz, amount numeric(12,2), name text, payload text)`,
    );
    await fill(
      c,
      table,
      rows,
      (lo, hi) => `INSERT INTO ${table}
        SELECT g, (g % 1000)::int, timestamptz '2026-01-01' + g * interval '1 second', (g % 100000) / 100.0,
               'customer ' || (g % 50000), md5(g::text) || md5((g * 7)::text)
        FROM generate_series(${lo}::bigint, ${hi}::bigint) g`,
      log,
    );
  },
};

/** Builds the table unless it is there with its rows (checked by content: an unlogged table comes back empty after a crash). */
export async function ensureTable(
  url: string,
  t: BenchTable,
  table: string,
  rows: number,
  log: (s: string) => void,
): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const { rows: exists } = await c.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [table]);
    if (exists.length > 0) {
      const { rows: have } = await c.query<{ n: string | null }>(`SELECT max(id)::text AS n FROM ${table}`);
      if (Number(have[0].n) === rows) return log(`table ${table}: present (${rows} rows)`);
    }
    log(
      `table ${table}: building ${rows} rows of ${t.kind} data (about ${((rows * t.bytesPerRow) / 1e9).toFixed(1)} GB of CSV)…`,
    );
    await c.query(`DROP TABLE IF EXISTS ${table}`);
    await t.build(c, table, rows, log);
  } finally {
    await c.end();
  }
}
