import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Format } from '../../common/contracts/delivery';
import { createAwkwardTable, copyCsv, decode, rowToJsonLines } from '../support/fixtures';
import { startHarness, type Harness } from '../support/harness';
import {
  createBucket,
  createEndUserRole,
  endUserProfile,
  getObjectBytes,
  listKeys,
  uniqueName,
} from '../../scripts/local/end-user-account';

describe('delivery of a dataset into an end user bucket (real Temporal, Postgres, moto)', () => {
  let h: Harness;
  let table: string;
  const bucket = uniqueName('enduser-data');
  const prefix = 'uploads/acme/';
  const profiles = { t1: uniqueName('tenant-one'), t2: uniqueName('tenant-two') };

  beforeAll(async () => {
    h = await startHarness({ taskQueue: uniqueName('delivery-test') });
    table = await createAwkwardTable(h.pool);
    await createBucket('other', bucket);
    // Exactly the seed's permissions policy: PutObject and PutObjectAcl on bucket/prefix/*.
    for (const [tenant, id] of [
      ['1', profiles.t1],
      ['2', profiles.t2],
    ] as const) {
      const role = await createEndUserRole({
        account: 'other',
        bucket,
        allowPrefix: `${prefix}${id}/`,
        extraActions: ['s3:PutObjectAcl'],
      });
      await h.ds.setProfile(id, {
        ...endUserProfile(role, bucket, `${prefix}${id}/`),
        tenant_id: tenant,
      });
    }
  });

  afterAll(async () => {
    await h?.stop();
  });

  const cases: [Exclude<Format, 'parquet'>, 'gzip' | 'none'][] = [
    ['csv', 'gzip'],
    ['csv', 'none'],
    ['jsonl', 'gzip'],
    ['jsonl', 'none'],
  ];

  it.each(cases)(
    'delivers %s/%s byte-for-byte as Postgres renders it, with a manifest',
    async (format, compression) => {
      const datasetId = uniqueName(`awk-${format}-${compression}`);
      await h.ds.setDataset(datasetId, {
        sql: `SELECT * FROM ${table} WHERE tenant_id = :tenant_id`,
        keyColumns: ['id'],
        format,
        compression,
      });
      const started = await h.ds.share(profiles.t1, datasetId);
      expect(started.status).toBe('running');
      const done = await h.ds.waitForDelivery(started.id, undefined, 200);
      expect(done.error).toBeUndefined();
      expect(done.status).toBe('completed');
      expect(done.rows).toBe(7);
      expect(done.files).toHaveLength(1);
      expect(done.bucket).toBe(bucket);

      const file = done.files[0];
      expect(file.key).toBe(
        `${prefix}${profiles.t1}/${datasetId}/${done.id}/part-00000.${format}${compression === 'gzip' ? '.gz' : ''}`,
      );
      const body = await getObjectBytes('other', bucket, file.key);
      expect(body.length).toBe(file.bytes);
      expect(createHash('sha256').update(body).digest('hex')).toBe(file.sha256);

      const query = `SELECT * FROM ${table} WHERE tenant_id = 1 ORDER BY id`;
      const expected =
        format === 'csv'
          ? await copyCsv(h.pool, query)
          : await rowToJsonLines(h.pool, `SELECT * FROM ${table} WHERE tenant_id = 1`, 'id');
      expect(decode(body, compression).toString('utf8')).toBe(expected.toString('utf8'));
      expect(decode(body, compression).equals(expected)).toBe(true);

      const manifest = JSON.parse(
        (await getObjectBytes('other', bucket, done.manifestKey!)).toString('utf8'),
      ) as Record<string, unknown>;
      expect(done.manifestKey).toBe(`${prefix}${profiles.t1}/${datasetId}/${done.id}/manifest.json`);
      expect(manifest).toMatchObject({
        deliveryId: done.id,
        profileId: profiles.t1,
        datasetId,
        format,
        compression,
        rowCount: 7,
        files: [file],
        entries: [
          { url: `s3://${bucket}/${file.key}`, mandatory: true, meta: { content_length: file.bytes, record_count: 7 } },
        ],
      });
      expect(manifest.columns).toEqual([
        { name: 'id', type: 'integer' },
        { name: 'tenant_id', type: 'integer' },
        { name: 'txt', type: 'text' },
        { name: 'num', type: 'numeric' },
        { name: 'ts', type: 'timestamp with time zone' },
        { name: 'tsn', type: 'timestamp without time zone' },
        { name: 'arr', type: 'integer[]' },
        { name: 'tarr', type: 'text[]' },
        { name: 'js', type: 'jsonb' },
        { name: 'bin', type: 'bytea' },
        { name: 'flag', type: 'boolean' },
        { name: 'f8', type: 'double precision' },
      ]);
      expect(typeof manifest.startedAt).toBe('string');
      expect(typeof manifest.completedAt).toBe('string');
    },
  );

  it('gives each end user only their own rows (tenancy through bound properties)', async () => {
    const datasetId = uniqueName('tenancy');
    await h.ds.setDataset(datasetId, {
      sql: `SELECT id, txt FROM ${table} WHERE tenant_id = :tenant_id`,
      keyColumns: ['id'],
      compression: 'none',
    });
    const a = await h.ds.share(profiles.t1, datasetId);
    const b = await h.ds.share(profiles.t2, datasetId);
    const [da, db] = await Promise.all([
      h.ds.waitForDelivery(a.id, undefined, 200),
      h.ds.waitForDelivery(b.id, undefined, 200),
    ]);
    expect([da.status, db.status]).toEqual(['completed', 'completed']);
    const csvA = (await getObjectBytes('other', bucket, da.files[0].key)).toString('utf8');
    const csvB = (await getObjectBytes('other', bucket, db.files[0].key)).toString('utf8');
    expect(csvA).not.toContain('tenant two');
    expect(csvB).toBe('id,txt\n8,tenant two secret row\n9,tenant two other row\n');
    // Each end user's files sit under their own prefix only.
    expect((await listKeys('other', bucket, `${prefix}${profiles.t1}/`)).some((k) => k.includes(db.id))).toBe(false);
  });

  it('writes a valid file and manifest when the dataset has no rows', async () => {
    const datasetId = uniqueName('empty');
    await h.ds.setDataset(datasetId, {
      sql: `SELECT id, txt FROM ${table} WHERE tenant_id = :tenant_id AND false`,
      keyColumns: ['id'],
      format: 'jsonl',
    });
    const d = await h.ds.waitForDelivery((await h.ds.share(profiles.t1, datasetId)).id, undefined, 200);
    expect(d.status).toBe('completed');
    expect(d.rows).toBe(0);
    expect(decode(await getObjectBytes('other', bucket, d.files[0].key), 'gzip').length).toBe(0);
  });
});
