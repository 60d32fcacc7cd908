import { spawn, spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import {
  accountId,
  createRoleFromPolicies,
  ensureBucket,
  listKeys,
  uniqueName,
  type Account,
} from './local/end-user-account';
import { REPO_ROOT, readStackEnv } from './local/stack-env';
import { demoFollowUps } from './demo-follow-ups';
import { workflowUrl } from '../client/cli/output';
import { workflowIdFor } from '../common/contracts/delivery';

/**
 * The demo: two end users onboarded the way real ones are (profile → policy →
 * role → verify), one dataset, one delivery each, through the real CLI against
 * the local Temporal, Postgres and moto (S3/STS/IAM with IAM enforcement on).
 */

const CLI = join(REPO_ROOT, 'bin', 'datashare');

function say(s: string): void {
  process.stdout.write(`\n\x1b[1m== ${s}\x1b[0m\n`);
}

function datashare(args: string[], opts: { json?: boolean; quiet?: boolean } = {}): string {
  if (!opts.quiet)
    process.stdout.write(`$ datashare ${args.map((a) => (/[\s"'*]/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`);
  const r = spawnSync(CLI, args, { encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'inherit'] });
  if (!opts.json && !opts.quiet) process.stdout.write(r.stdout);
  if (r.status !== 0) throw new Error(`datashare ${args[0]} exited with ${r.status}`);
  return r.stdout;
}

interface EndUser {
  profile: string;
  account: Account;
  bucket: string;
  prefix: string;
  tenantId: string;
}

async function onboard(u: EndUser): Promise<void> {
  say(`onboard ${u.profile}: an end user in AWS account ${accountId(u.account)}`);
  await ensureBucket(u.account, u.bucket);
  const roleName = uniqueName(`datashare-writer-${u.profile}`);
  const roleArn = `arn:aws:iam::${accountId(u.account)}:role/${roleName}`;
  // The sharer records the end user's details; the ExternalId is generated for them.
  datashare([
    'profile',
    'set',
    u.profile,
    `s3_role_arn=${roleArn}`,
    `s3_bucket=${u.bucket}`,
    's3_region=us-east-1',
    `s3_prefix=${u.prefix}`,
    `tenant_id=${u.tenantId}`,
  ]);
  // The end user pastes exactly what `profile policy` prints into IAM.
  const policies = JSON.parse(datashare(['profile', 'policy', u.profile, '--json'], { json: true })) as {
    trustPolicy: object;
    permissionsPolicy: object;
  };
  process.stdout.write(`(end user creates role ${roleName} from the printed trust and permissions policies)\n`);
  await createRoleFromPolicies(u.account, roleName, policies.trustPolicy, policies.permissionsPolicy);
  datashare(['profile', 'verify', u.profile]);
}

async function main(): Promise<void> {
  Object.assign(process.env, readStackEnv());
  // moto checks trust policies only for the caller's exact ARN, so name it.
  process.env.DATASHARE_SHARER_PRINCIPAL_ARN ??= process.env.DATASHARE_SHARER_ARN;
  process.env.DATASHARE_TASK_QUEUE ??= 'datashare-demo';

  say('metadata tables');
  datashare(['migrate']);

  say('demo source data: 20,000 orders of two tenants');
  const pool = new Pool({ connectionString: process.env.DATABASE_URL });
  await pool.query(`DROP TABLE IF EXISTS demo_orders`);
  await pool.query(
    `CREATE TABLE demo_orders (id bigint PRIMARY KEY, tenant_id integer NOT NULL, customer text, amount numeric(12,2), created_at timestamptz)`,
  );
  await pool.query(`INSERT INTO demo_orders
    SELECT g, 1 + g % 2, 'customer "' || (g % 97) || '", ltd', round((g * 7.31)::numeric % 1000, 2), timestamptz '2026-01-01' + g * interval '17 minutes'
    FROM generate_series(1, 20000) g`);
  await pool.end();

  const acme: EndUser = {
    profile: 'acme',
    account: 'other',
    bucket: 'acme-analytics',
    prefix: 'incoming/datashare/',
    tenantId: '1',
  };
  const globex: EndUser = {
    profile: 'globex',
    account: 'sharer',
    bucket: 'globex-data-lake',
    prefix: 'vendors/orders/',
    tenantId: '2',
  };
  await onboard(acme);
  await onboard(globex);

  say('dataset: each end user gets their own orders (tenant_id is bound from the profile)');
  datashare([
    'dataset',
    'set',
    'orders',
    '--sql',
    'SELECT id, customer, amount, created_at FROM demo_orders WHERE tenant_id = :tenant_id',
    '--key',
    'id',
  ]);

  say('worker');
  const logFile = join(process.env.STACK_LOG_DIR ?? REPO_ROOT, 'demo-worker.log');
  const log = openSync(logFile, 'a');
  const worker = spawn(CLI, ['worker'], { env: process.env, stdio: ['ignore', log, log] });
  process.stdout.write(`$ datashare worker   (logs: ${logFile})\n`);
  try {
    say('deliver');
    const a = JSON.parse(datashare(['share', 'acme', 'orders', '--wait', '--json'], { json: true })) as DeliveryJson;
    const g = JSON.parse(
      datashare(['share', 'globex', 'orders', '--format', 'jsonl', '--wait', '--json'], { json: true }),
    ) as DeliveryJson;
    say('where the files are');
    for (const [u, d] of [
      [acme, a],
      [globex, g],
    ] as const) {
      process.stdout.write(`${u.profile}: delivery ${d.id} ${d.status}, ${d.rows} rows, ${d.bytes} bytes\n`);
      for (const f of d.files)
        process.stdout.write(
          `  file      s3://${d.bucket}/${f.key}  (${f.rows} rows, sha256 ${f.sha256.slice(0, 16)}…)\n`,
        );
      process.stdout.write(`  manifest  s3://${d.bucket}/${d.manifestKey}\n`);
      const keys = await listKeys(u.account, u.bucket, u.prefix);
      process.stdout.write(`  the end user's bucket now holds ${keys.length} objects under ${u.prefix}\n`);
    }
    const ui = process.env.DATASHARE_TEMPORAL_UI_URL;
    process.stdout.write(`\nS3 endpoint (moto): ${process.env.AWS_ENDPOINT_URL}\n`);
    if (ui) {
      process.stdout.write(`Temporal Web UI: ${ui}\n`);
      for (const d of [a, g]) process.stdout.write(`  delivery ${d.id}: ${workflowUrl(workflowIdFor(d.id))}\n`);
    }
    // Each line works pasted into a new shell in this checkout: the CLI finds the local stack's settings itself.
    process.stdout.write(`\nTry, from this folder in any shell:\n`);
    for (const cmd of demoFollowUps(a.id)) process.stdout.write(`  ${cmd}\n`);
    if (a.status !== 'completed' || g.status !== 'completed') process.exitCode = 1;
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
  }
}

interface DeliveryJson {
  id: string;
  status: string;
  rows: number;
  bytes: number;
  bucket: string;
  manifestKey: string;
  files: { key: string; rows: number; sha256: string }[];
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
