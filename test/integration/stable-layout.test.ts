import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compression, DeliveryView, Format } from '../../common/contracts/delivery';
import {
  createBucket,
  createEndUserRole,
  endUserProfile,
  getObjectBytes,
  uniqueName,
} from '../../scripts/local/end-user-account';
import { startHarness, type Harness } from '../support/harness';

/** One way of delivering the same rows. A new format joins the test by adding its case here. */
interface LayoutCase {
  format: Format;
  compression: Compression;
  /** Small enough that the ~20 MB table becomes several files. */
  maxFileBytes: number;
}

const CASES: LayoutCase[] = [
  { format: 'csv', compression: 'none', maxFileBytes: 6 * 1024 * 1024 },
  { format: 'jsonl', compression: 'none', maxFileBytes: 8 * 1024 * 1024 },
  { format: 'csv', compression: 'gzip', maxFileBytes: 2 * 1024 * 1024 },
  { format: 'parquet', compression: 'snappy', maxFileBytes: 3 * 1024 * 1024 },
];

/** What a delivery's files are, apart from the delivery's own folder: the same data must give the same list. */
interface FileFacts {
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/**
 * The same data gives the same files: a file's boundaries are a function of the
 * rows and the settings, not of the order the rows lie in on disk. Each case
 * delivers a table, CLUSTERs it on an index other than the key (which moves
 * every row but changes none), and delivers it again.
 */
describe('the same data gives the same files', () => {
  let h: Harness;
  const bucket = uniqueName('layout');
  let profile = '';

  beforeAll(async () => {
    h = await startHarness({ taskQueue: uniqueName('layout-test') });
    await createBucket('other', bucket);
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'l/' });
    profile = (await h.ds.setProfile(uniqueName('layout'), endUserProfile(role, bucket, 'l/'))).id;
  });

  afterAll(async () => {
    await h?.stop();
  });

  /**
   * 200,000 rows (~20 MB of CSV), written in an order that is not the key's, and
   * rows whose length follows the non-key column `tenant_id` that the table is
   * later clustered on: a sample of whatever rows lie first would see other
   * lengths after the CLUSTER, and cut other files.
   */
  async function createTable(): Promise<string> {
    const table = uniqueName('layout_rows').replace(/-/g, '_');
    await h.pool.query(
      `CREATE TABLE ${table} (id integer PRIMARY KEY, tenant_id integer NOT NULL, label text, note text)`,
    );
    await h.pool.query(`INSERT INTO ${table}
      SELECT g, g % 97, 'row "' || g || '", ' || md5(g::text), repeat('n', (g % 97) * 2)
      FROM generate_series(1, 200000) g ORDER BY md5(g::text)`);
    await h.pool.query(`CREATE INDEX ${table}_tenant ON ${table} (tenant_id)`);
    await h.pool.query(`ANALYZE ${table}`);
    return table;
  }

  /** The ids of the first rows as they lie on disk: proof that a CLUSTER moved them. */
  async function diskOrder(table: string): Promise<number[]> {
    const { rows } = await h.pool.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY ctid LIMIT 50`);
    return rows.map((r) => r.id);
  }

  async function deliver(dataset: string, c: LayoutCase): Promise<DeliveryView> {
    const started = await h.ds.share(profile, dataset, { maxFileBytes: c.maxFileBytes });
    const d = await h.ds.waitForDelivery(started.id, undefined, 250);
    expect(d.error).toBeUndefined();
    expect(d.status).toBe('completed');
    return d;
  }

  /** The delivery's files as stored: each object is read back and hashed, and must match what was recorded. */
  async function storedFiles(d: DeliveryView): Promise<FileFacts[]> {
    expect(d.files).toHaveLength(d.fileCount!);
    const facts: FileFacts[] = [];
    for (const f of d.files) {
      expect(f.key.startsWith(d.folder!)).toBe(true);
      const bytes = await getObjectBytes('other', bucket, f.key);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      expect(sha256).toBe(f.sha256);
      expect(bytes.length).toBe(f.bytes);
      facts.push({ name: f.key.slice(d.folder!.length), rows: f.rows, bytes: f.bytes, sha256 });
    }
    return facts;
  }

  /** Delivers a fresh table, CLUSTERs it on a non-key index, delivers it again; returns both deliveries' files. */
  async function deliverAroundCluster(c: LayoutCase): Promise<{ before: FileFacts[]; after: FileFacts[] }> {
    const table = await createTable();
    const dataset = uniqueName(`layout-${c.format}`);
    await h.ds.setDataset(dataset, {
      sql: `SELECT * FROM ${table}`,
      keyColumns: ['id'],
      format: c.format,
      compression: c.compression,
      sameForEveryone: true,
    });
    const before = await storedFiles(await deliver(dataset, c));
    const disk = await diskOrder(table);
    await h.pool.query(`CLUSTER ${table} USING ${table}_tenant`);
    await h.pool.query(`ANALYZE ${table}`);
    expect(await diskOrder(table)).not.toEqual(disk);
    const after = await storedFiles(await deliver(dataset, c));
    return { before, after };
  }

  it.each(CASES)('$format ($compression): a CLUSTER between two deliveries changes no file', async (c) => {
    const { before, after } = await deliverAroundCluster(c);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.reduce((n, f) => n + f.rows, 0)).toBe(200_000);
    for (const f of before) expect(f.bytes).toBeLessThanOrEqual(c.maxFileBytes);
    expect(after).toEqual(before);
  });
});
