import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindNamedParams } from '../../common/domain/sql-params';
import { uniqueName } from '../../scripts/local/end-user-account';
import { useTestEnv } from '../../scripts/local/stack-env';
import { runCli, type CliResult } from '../support/cli';

/**
 * Bad input through the real CLI (`bin/datashare …` in a child process):
 * each case must exit 2, say on stderr what is wrong and how to fix it, print
 * nothing on stdout, and leave the profiles, datasets and deliveries tables
 * exactly as they were. `share` fails its checks before it ever talks to
 * Temporal, so no worker is needed.
 */

/** Each case is one quick command; one that hangs fails its case rather than the whole file. */
const CLI_TIMEOUT_MS = 30_000;

/** Fails with the whole output, so a broken setup step says why. */
async function runOk(args: readonly string[]): Promise<CliResult> {
  const r = await runCli(args, process.env, CLI_TIMEOUT_MS);
  expect(r.code, `datashare ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
}

const VALID_DESTINATION = [
  's3_role_arn=arn:aws:iam::222233334444:role/Writer',
  's3_bucket=some-bucket',
  's3_region=us-east-1',
  's3_prefix=x/',
];

const profileId = uniqueName('bad-in-profile');
const datasetId = uniqueName('bad-in-ds');
const missingPropDatasetId = uniqueName('bad-in-missing');
const injectionProfileId = uniqueName('bad-in-inject');
const newProfileId = uniqueName('bad-in-new');
const newDatasetId = uniqueName('bad-in-newds');
const table = uniqueName('bad_inputs_src').replace(/-/g, '_');

interface Case {
  name: string;
  args: () => string[];
  /** Each must appear in stderr: what is wrong and how to fix it. */
  stderr: string[];
  /** None may appear in stderr: e.g. the wrong kind of id. */
  notInStderr?: string[];
}

const profileSet = (id: string, ...pairs: string[]): string[] => ['profile', 'set', id, ...pairs];
const updateProfile =
  (...pairs: string[]): (() => string[]) =>
  () =>
    profileSet(profileId, ...pairs);
const datasetSet = (id: string, ...opts: string[]): string[] => ['dataset', 'set', id, ...opts];

const cases: Case[] = [
  // ---- profiles: an update of the valid profile must not change it ---------------------------
  {
    name: 'role ARN in an unknown partition',
    args: updateProfile('s3_role_arn=arn:aws-moon:iam::222233334444:role/Writer'),
    stderr: [
      's3_role_arn "arn:aws-moon:iam::222233334444:role/Writer"',
      'the partition must be aws, aws-us-gov or aws-cn',
      'arn:aws:iam::111122223333:role/',
    ],
  },
  {
    name: 'role ARN with an 11-digit account id',
    args: updateProfile('s3_role_arn=arn:aws:iam::22223333444:role/Writer'),
    stderr: [
      's3_role_arn "arn:aws:iam::22223333444:role/Writer"',
      'the account id must be 12 digits',
      'arn:aws:iam::111122223333:role/',
    ],
  },
  {
    name: 'an IAM user ARN instead of a role',
    args: updateProfile('s3_role_arn=arn:aws:iam::222233334444:user/Bob'),
    stderr: ['this is an IAM user, not a role', 'create a role that trusts the sharer'],
  },
  {
    name: 'an assumed-role (session) ARN',
    args: updateProfile('s3_role_arn=arn:aws:sts::222233334444:assumed-role/Writer/session-1'),
    stderr: ['role session ARN', "use the role's own ARN, e.g. arn:aws:iam::222233334444:role/Writer"],
  },
  {
    name: 'a role name with an illegal character',
    args: updateProfile('s3_role_arn=arn:aws:iam::222233334444:role/Wr!ter'),
    stderr: ['the role name contains "!"', 'IAM role names use only letters, digits and _+=,.@-'],
  },
  {
    name: 'an uppercase bucket name',
    args: updateProfile('s3_bucket=Some-Bucket'),
    stderr: ['s3_bucket "Some-Bucket"', 'bucket names are lowercase, e.g. "some-bucket"'],
  },
  {
    name: 'a bucket name that is too short',
    args: updateProfile('s3_bucket=ab'),
    stderr: ['s3_bucket "ab"', 'bucket names are 3–63 characters; this one is 2'],
  },
  {
    name: 'a bucket name shaped like an IP address',
    args: updateProfile('s3_bucket=192.168.1.1'),
    stderr: ['s3_bucket "192.168.1.1"', 'cannot look like an IP address'],
  },
  {
    name: 'a bucket name with the reserved xn-- prefix',
    args: updateProfile('s3_bucket=xn--data'),
    stderr: ['s3_bucket "xn--data"', 'the prefix "xn--" is reserved by S3'],
  },
  {
    name: 'a garbage region',
    args: updateProfile('s3_region=mars-central'),
    stderr: ['s3_region "mars-central"', 'not a region name; expected e.g. us-east-1'],
  },
  {
    name: 'a GovCloud region with an aws-partition role ARN',
    args: updateProfile('s3_region=us-gov-west-1'),
    stderr: [
      's3_region "us-gov-west-1" is in partition aws-us-gov but s3_role_arn',
      'is in partition aws',
      'arn:aws-us-gov:iam::',
    ],
  },
  {
    name: 'a prefix with a leading "/"',
    args: updateProfile('s3_prefix=/exports/'),
    stderr: ['s3_prefix "/exports/"', 'remove the leading "/"', 'e.g. "exports/"'],
  },
  {
    name: 'a prefix with a ".." segment',
    args: updateProfile('s3_prefix=exports/../other/'),
    stderr: ['s3_prefix "exports/../other/"', 'cannot contain a ".." folder'],
  },
  {
    name: 'a prefix with a control character',
    args: updateProfile('s3_prefix=exp\u0001orts/'),
    stderr: ['s3_prefix "exp\\u0001orts/"', 'contains a control character; use printable characters only'],
  },
  {
    name: 'an ExternalId that is too short',
    args: updateProfile('s3_external_id=x'),
    stderr: ['s3_external_id "x"', 'an ExternalId is 2–1224 characters (this one is 1)'],
  },
  {
    name: 'an ExternalId with an illegal character',
    args: updateProfile('s3_external_id=ds-abc!def'),
    stderr: ['s3_external_id "ds-abc!def"', 'contains "!"; an ExternalId uses only letters, digits and _+=,.@:/-'],
  },
  {
    name: 'an s3_acl other than bucket-owner-full-control',
    args: updateProfile('s3_acl=public-read'),
    stderr: ['s3_acl "public-read"', 'only bucket-owner-full-control is supported', 'leave s3_acl unset'],
  },
  {
    name: 'an assignment without "="',
    args: updateProfile('tenant_id'),
    stderr: ['"tenant_id" is not key=value', 'write e.g. s3_bucket=acme-data'],
  },
  {
    name: 'a property name starting with a digit',
    args: updateProfile('1tenant=5'),
    stderr: ['property name "1tenant"', 'not starting with a digit', 'e.g. tenant_id'],
  },
  {
    name: 'a typo in an s3_ key',
    args: updateProfile('s3_buckett=other-bucket'),
    stderr: [
      'property s3_buckett is not a destination property (a typo?)',
      's3_role_arn, s3_bucket, s3_region, s3_prefix, s3_external_id, s3_acl',
    ],
  },
  {
    name: 'the same key given twice',
    args: updateProfile('tenant_id=2', 'tenant_id=3'),
    stderr: ['property "tenant_id" is given twice'],
  },
  // ---- profiles: a new profile must not be created --------------------------------------------
  {
    name: 'a profile id with "/"',
    args: () => profileSet('acme/corp', ...VALID_DESTINATION),
    stderr: ['profile id "acme/corp"', 'use 1–64 letters, digits, "_", "." or "-"', 'e.g. acme-corp'],
  },
  {
    name: 'a profile id with ".."',
    args: () => profileSet('acme..corp', ...VALID_DESTINATION),
    stderr: ['profile id "acme..corp"', 'cannot contain ".."'],
  },
  {
    name: 'a new profile without s3_role_arn',
    args: () => profileSet(newProfileId, 's3_bucket=some-bucket', 's3_region=us-east-1'),
    stderr: [
      'the profile lacks property s3_role_arn',
      "set s3_role_arn to the ARN of the end user's role, e.g. arn:aws:iam::",
    ],
  },
  {
    name: 'a new profile with an uppercase bucket',
    args: () =>
      profileSet(
        newProfileId,
        ...VALID_DESTINATION.map((kv) => (kv.startsWith('s3_bucket=') ? 's3_bucket=Some-Bucket' : kv)),
      ),
    stderr: ['s3_bucket "Some-Bucket"', 'bucket names are lowercase, e.g. "some-bucket"'],
  },
  // ---- datasets: a new dataset must not be created --------------------------------------------
  {
    name: 'a dataset id with "/"',
    args: () => datasetSet('bad/id', '--sql', 'SELECT 1 AS id', '--key', 'id'),
    stderr: ['dataset id "bad/id"', 'use 1–64 letters, digits, "_", "." or "-"', 'e.g. orders'],
    notInStderr: ['profile id'],
  },
  // ---- datasets: replacing the valid dataset must not change it -------------------------------
  {
    name: 'dataset SQL that is not a SELECT',
    args: () => datasetSet(datasetId, '--sql', `DELETE FROM ${table}`, '--key', 'id'),
    stderr: ['dataset SQL must be a query starting with SELECT, WITH, VALUES or TABLE', 'not "DELETE FROM'],
  },
  {
    name: 'dataset SQL with two statements',
    args: () => datasetSet(datasetId, '--sql', `SELECT * FROM ${table}; DROP TABLE ${table}`, '--key', 'id'),
    stderr: ['dataset SQL must be exactly one query; remove the other statements'],
  },
  {
    name: 'dataset SQL with a $1 positional parameter',
    args: () => datasetSet(datasetId, '--sql', `SELECT * FROM ${table} WHERE tenant_id = $1`, '--key', 'id'),
    stderr: ['$1 is a positional parameter; name a profile property instead, e.g. :tenant_id'],
  },
  {
    name: 'dataset SQL with a syntax error',
    args: () => datasetSet(datasetId, '--sql', `SELECT id, FROM ${table}`, '--key', 'id'),
    stderr: ['dataset SQL is not valid on the source database', 'syntax error at or near "FROM"'],
  },
  {
    name: 'dataset SQL naming an unknown table',
    args: () => datasetSet(datasetId, '--sql', 'SELECT * FROM bad_inputs_no_such_table', '--key', 'id'),
    stderr: ['dataset SQL is not valid on the source database', 'relation "bad_inputs_no_such_table" does not exist'],
  },
  {
    name: 'a key column that the query does not output',
    args: () => datasetSet(datasetId, '--sql', `SELECT id, v FROM ${table}`, '--key', 'tenant_id'),
    stderr: [
      '--key: column datashare_src.tenant_id does not exist',
      "the key must be among the query's output columns",
    ],
  },
  {
    name: 'a key named like the internal alias of the query',
    args: () => datasetSet(datasetId, '--sql', `SELECT id, v FROM ${table}`, '--key', 'datashare_src'),
    stderr: ['--key: column datashare_src.datashare_src does not exist'],
  },
  {
    name: 'an empty --key',
    args: () => datasetSet(datasetId, '--sql', `SELECT id, v FROM ${table}`, '--key', ''),
    stderr: ['--key needs one or more column names, e.g. --key id'],
  },
  {
    name: 'dataset --format xml',
    args: () => datasetSet(datasetId, '--sql', `SELECT id, v FROM ${table}`, '--key', 'id', '--format', 'xml'),
    stderr: ["argument 'xml' is invalid", 'Allowed choices are csv, jsonl'],
  },
  {
    name: 'dataset --compression zip',
    args: () => datasetSet(datasetId, '--sql', `SELECT id, v FROM ${table}`, '--key', 'id', '--compression', 'zip'),
    stderr: ["argument 'zip' is invalid", 'Allowed choices are gzip, none'],
  },
  {
    name: 'dataset set without --sql',
    args: () => datasetSet(newDatasetId, '--key', 'id'),
    stderr: ["required option '--sql <select>' not specified", 'run with --help'],
  },
  // ---- CLI and share ---------------------------------------------------------------------------
  {
    name: 'an unknown command',
    args: () => ['frobnicate', profileId],
    stderr: ["unknown command 'frobnicate'", 'run with --help'],
  },
  {
    name: 'share with a nonexistent profile',
    args: () => ['share', 'bad-in-no-such-profile', datasetId],
    stderr: ['no profile "bad-in-no-such-profile"', 'datashare profile list'],
  },
  {
    name: 'share with a nonexistent dataset',
    args: () => ['share', profileId, 'bad-in-no-such-dataset'],
    stderr: ['no dataset "bad-in-no-such-dataset"', 'datashare dataset list'],
  },
  {
    name: 'share a dataset whose SQL uses a property the profile lacks',
    args: () => ['share', profileId, missingPropDatasetId],
    stderr: [
      `profile "${profileId}" lacks property "missing_prop"`,
      `datashare profile set ${profileId} missing_prop=<value>`,
    ],
  },
  {
    name: 'share --format xml',
    args: () => ['share', profileId, datasetId, '--format', 'xml'],
    stderr: ["argument 'xml' is invalid", 'Allowed choices are csv, jsonl'],
  },
  {
    name: 'deliveries --status bogus',
    args: () => ['deliveries', '--status', 'bogus'],
    stderr: ['--status must be one of running, completed, failed, cancelled, not "bogus"'],
  },
  {
    name: 'deliveries --since notatime',
    args: () => ['deliveries', '--since', 'notatime'],
    stderr: ['--since must be a time', 'or a duration ago (90m, 24h, 7d), not "notatime"'],
  },
  {
    name: 'deliveries --since with a number but no unit',
    args: () => ['deliveries', '--since', '5'],
    stderr: ['--since must be a time', 'not "5"'],
  },
  {
    name: 'deliveries --limit beyond any sensible page',
    args: () => ['deliveries', '--limit', '99999999999999999999'],
    stderr: ['--limit must be a whole number from 1 to 1000000'],
  },
  {
    name: 'deliveries --limit -3',
    args: () => ['deliveries', '--limit', '-3'],
    stderr: ['--limit must be a whole number from 1 to 1000000, not "-3"'],
  },
  {
    name: 'delivery with an unknown id',
    args: () => ['delivery', '20260101T000000Z-deadbeef'],
    stderr: ['no delivery "20260101T000000Z-deadbeef"', 'datashare deliveries'],
  },
  {
    name: 'profile show with an unknown id',
    args: () => ['profile', 'show', 'bad-in-no-such-profile'],
    stderr: ['no profile "bad-in-no-such-profile"', 'datashare profile list'],
  },
];

describe('bad inputs through the CLI: exit 2, a clear message, nothing changed', () => {
  let pool: Pool;

  /** The three metadata tables, whole rows in a stable order. */
  async function snapshot(): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const t of ['profiles', 'datasets', 'deliveries']) {
      const { rows } = await pool.query<{ r: unknown }>(`SELECT to_jsonb(x) AS r FROM ${t} x ORDER BY id`);
      out[t] = rows.map((row) => row.r);
    }
    return out;
  }

  beforeAll(async () => {
    useTestEnv();
    pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, tenant_id int, v text)`);
    await pool.query(`INSERT INTO ${table} VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c')`);
    await runOk(profileSet(profileId, ...VALID_DESTINATION, 'tenant_id=1'));
    await runOk(
      datasetSet(
        datasetId,
        '--sql',
        `SELECT id, tenant_id, v FROM ${table} WHERE tenant_id = :tenant_id`,
        '--key',
        'id',
      ),
    );
    await runOk(
      datasetSet(missingPropDatasetId, '--sql', `SELECT id, v FROM ${table} WHERE v = :missing_prop`, '--key', 'id'),
    );
  });

  afterAll(async () => {
    await pool?.end();
  });

  it('has the valid profile and dataset the cases try to break', async () => {
    const snap = await snapshot();
    expect(snap.profiles).toContainEqual(expect.objectContaining({ id: profileId }));
    expect(snap.datasets).toContainEqual(expect.objectContaining({ id: datasetId }));
    expect(snap.datasets).toContainEqual(expect.objectContaining({ id: missingPropDatasetId }));
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$name', async (c) => {
    const args = c.args();
    const before = await snapshot();
    const r = await runCli(args, process.env, CLI_TIMEOUT_MS);
    const after = await snapshot();

    const context = `datashare ${JSON.stringify(args)}\nexit ${r.code} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
    expect(r.code, context).toBe(2);
    for (const fragment of c.stderr) expect(r.stderr, context).toContain(fragment);
    for (const fragment of c.notInStderr ?? []) expect(r.stderr, context).not.toContain(fragment);
    // An operator's message, not a crash: one line or two, no stack trace.
    expect(r.stderr, context).not.toMatch(/\n\s+at /);
    expect(r.stdout, context).toBe('');
    expect(after, context).toEqual(before);
  });

  it('binds hostile property values as data: the source table survives and they match no rows', async () => {
    const exists = async (): Promise<boolean> =>
      (await pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table])).rows[0].t !== null;
    const before = await snapshot();

    // Such a value is valid as a property: it is only data.
    const drop = `1; DROP TABLE ${table}; --`;
    const quoteTrick = "' OR '1'='1";
    const set = await runOk(
      profileSet(injectionProfileId, ...VALID_DESTINATION, `tenant_id=${drop}`, `v_filter=${quoteTrick}`),
    );
    expect(set.stdout).toContain(`tenant_id=${drop}`);
    expect(set.stdout).toContain(`v_filter=${quoteTrick}`);
    expect(await exists()).toBe(true);
    // The snapshot the cases compare does see a change that really happens.
    expect((await snapshot()).profiles).not.toEqual(before.profiles);

    const stored = await pool.query<{ properties: Record<string, string> }>(
      'SELECT properties FROM profiles WHERE id = $1',
      [injectionProfileId],
    );
    const props = stored.rows[0].properties;
    expect(props.tenant_id).toBe(drop);
    expect(props.v_filter).toBe(quoteTrick);
    const valid = (
      await pool.query<{ properties: Record<string, string> }>('SELECT properties FROM profiles WHERE id = $1', [
        profileId,
      ])
    ).rows[0].properties;

    // Compared as text, the hostile value is just a string that no row has.
    const byText = `SELECT id FROM ${table} WHERE tenant_id::text = :tenant_id ORDER BY id`;
    const control = bindNamedParams(byText, valid, profileId);
    expect((await pool.query(control.text, control.values)).rows).toEqual([{ id: 1 }, { id: 2 }]);
    const hostile = bindNamedParams(byText, props, injectionProfileId);
    expect(hostile.text).not.toContain('DROP');
    expect(hostile.values).toEqual([drop]);
    expect((await pool.query(hostile.text, hostile.values)).rowCount).toBe(0);
    expect(await exists()).toBe(true);

    // The dataset's own SQL compares with an int column: the value is rejected as data, never run.
    const asInt = bindNamedParams(`SELECT id FROM ${table} WHERE tenant_id = :tenant_id`, props, injectionProfileId);
    await expect(pool.query(asInt.text, asInt.values)).rejects.toThrow(/invalid input syntax for type integer/);
    expect(await exists()).toBe(true);

    // The classic quote trick matches nothing either, where spliced text would match every row.
    const quoted = bindNamedParams(`SELECT id FROM ${table} WHERE v = :v_filter`, props, injectionProfileId);
    expect(quoted.text).not.toContain("'1'='1");
    expect((await pool.query(quoted.text, quoted.values)).rowCount).toBe(0);
    const spliced = `SELECT id FROM ${table} WHERE v = '${quoteTrick}'`;
    expect((await pool.query(spliced)).rowCount).toBe(3);

    expect(await exists()).toBe(true);
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows).toEqual([{ n: 3 }]);
    expect((await snapshot()).deliveries).toEqual(before.deliveries);
  });
});
