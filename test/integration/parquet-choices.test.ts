import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, createEndUserRole, endUserProfile, uniqueName } from '../../scripts/local/end-user-account';
import { workflowIdFor } from '../../common/contracts/delivery';
import { startHarness, type Harness } from '../support/harness';
import { activityAttempts } from '../support/history';

/**
 * The documented choices for values Parquet cannot hold as mapped: each is a permanent failure
 * that names the column and the row's key and says what to change in the dataset's SQL (the
 * exact-string choices, numeric without precision and the ::text types, are read back in
 * parquet-readers.test.ts).
 */
describe('Parquet: values the schema cannot hold', () => {
  let h: Harness;
  let table: string;
  const bucket = uniqueName('parquet-choices');
  let profile = '';

  beforeAll(async () => {
    h = await startHarness({ taskQueue: uniqueName('parquet-choices') });
    table = uniqueName('pq_edge').replace(/-/g, '_');
    await h.pool
      .query(`CREATE TABLE ${table} (tenant text, id integer, n numeric(12,2), ts timestamp, tstz timestamptz, d date, ia integer[],
      PRIMARY KEY (tenant, id))`);
    await h.pool.query(`INSERT INTO ${table}
      SELECT 'acme', g, g, '2026-01-01', '2026-01-01+00', '2026-01-01', ARRAY[g] FROM generate_series(1, 1000) g`);
    await h.pool.query(`INSERT INTO ${table} VALUES
      ('acme', 1001, 'NaN', '2026-01-01', '2026-01-01+00', '2026-01-01', '{1}'),
      ('acme', 1002, 1, 'infinity', '-infinity', 'infinity', '{1}'),
      ('acme', 1003, 1, '294270-01-01 00:00:00', '294270-01-01 00:00:00+00', '2026-01-01', '{{1,2},{3,4}}'),
      ('o''brien', 1, 1, '2026-01-01', '2026-01-01+00', '-infinity', '[0:1]={1,2}')`);
    await createBucket('other', bucket);
    const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'e/' });
    profile = (await h.ds.setProfile(uniqueName('parquet-choices'), endUserProfile(role, bucket, 'e/'))).id;
  });

  afterAll(async () => {
    await h?.stop();
  });

  async function deliver(
    select: string,
    where: string,
  ): Promise<{ type?: string; message?: string; attempts: number }> {
    const dataset = uniqueName('pq-edge');
    await h.ds.setDataset(dataset, {
      sql: `SELECT tenant, id, ${select} FROM ${table} WHERE ${where}`,
      keyColumns: ['tenant', 'id'],
      format: 'parquet',
      sameForEveryone: true,
    });
    const d = await h.ds.waitForDelivery((await h.ds.share(profile, dataset)).id, undefined, 200);
    const attempts = await activityAttempts(h.temporal, workflowIdFor(d.id));
    return { type: d.error?.type, message: d.error?.message, attempts: attempts.uploadFile ?? 0 };
  }

  const cases: [string, string, string, RegExp[]][] = [
    [
      'NaN in numeric(12,2)',
      'n',
      "id IN (1, 1001) AND tenant = 'acme'",
      [/column "n"/, /key tenant='acme', id=1001/, /NaN has no DECIMAL\(12,2\) value/, /NULLIF/, /::text/],
    ],
    ['infinity in timestamp', 'ts', 'id IN (1, 1002)', [/column "ts"/, /id=1002/, /infinity has no Parquet TIMESTAMP/]],
    [
      '-infinity in timestamptz',
      'tstz',
      'id = 1002',
      [/column "tstz"/, /id=1002/, /-infinity has no Parquet TIMESTAMP/],
    ],
    [
      'a timestamp past INT64 microseconds',
      'ts',
      'id = 1003',
      [
        /column "ts"/,
        /id=1003/,
        /294270-01-01 00:00:00\.000000 is past the last Parquet TIMESTAMP\(MICROS\)/,
        /::text/,
      ],
    ],
    ['a timestamptz past INT64 microseconds', 'tstz', 'id = 1003', [/column "tstz"/, /294270-01-01/]],
    ['infinity in date', 'd', "tenant = 'acme' AND id = 1002", [/column "d"/, /infinity has no Parquet DATE/]],
    [
      '-infinity in date, with a quote in the key',
      'd',
      "tenant = 'o''brien'",
      [/key tenant='o''brien', id=1/, /-infinity has no Parquet DATE/],
    ],
    [
      'a two-dimensional array',
      'ia',
      'id = 1003',
      [/column "ia"/, /2-dimensional array has no Parquet LIST/, /col::text/],
    ],
    ['an array not numbered from 1', 'ia', "tenant = 'o''brien'", [/column "ia"/, /first index is 0/]],
  ];

  it.each(cases)('%s fails permanently, naming the column and the key', async (_name, select, where, patterns) => {
    const r = await deliver(select, where);
    expect(r.type).toBe('UnrepresentableValue');
    for (const p of patterns) expect(r.message).toMatch(p);
    // Permanent: no retry can fix the data.
    expect(r.attempts).toBe(1);
  });

  it('delivers the same rows once the dataset casts the column to text', async () => {
    const r = await deliver('n::text AS n, ts::text AS ts, d::text AS d, ia::text AS ia', 'true');
    expect(r.type).toBeUndefined();
  });
});
