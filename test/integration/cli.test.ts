import { spawn, type ChildProcess } from 'node:child_process';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBucket,
  createEndUserRole,
  createRoleFromPolicies,
  uniqueName,
} from '../../scripts/local/end-user-account';
import { useTestEnv } from '../../scripts/local/stack-env';
import { CLI, runCli } from '../support/cli';

interface DeliveryJson {
  id: string;
  profileId: string;
  datasetId: string;
  status: string;
  rows: number;
  bytes: number;
  bucket: string;
  files: { key: string; bytes: number; rows: number; sha256: string }[];
  manifestKey: string | null;
  startedAt: string;
  completedAt: string | null;
  error?: { type: string; message: string };
}

/** The operator's path through the real CLI and a real `datashare worker` process. */
describe('datashare CLI end to end', () => {
  let worker: ChildProcess;
  let workerLog = '';
  let pool: Pool;
  const env: NodeJS.ProcessEnv = {};
  const profile = uniqueName('cli-acme');
  const denied = uniqueName('cli-denied');
  const dataset = uniqueName('cli-orders');
  const bucket = uniqueName('cli-bucket');
  let table = '';

  beforeAll(async () => {
    Object.assign(env, process.env, useTestEnv(), {
      DATASHARE_TASK_QUEUE: uniqueName('cli-test'),
      // moto checks trust policies only for the caller's exact ARN, so the policy must name it.
      DATASHARE_SHARER_PRINCIPAL_ARN: process.env.DATASHARE_SHARER_ARN,
    });
    pool = new Pool({ connectionString: env.DATABASE_URL });
    table = uniqueName('cli_orders').replace(/-/g, '_');
    await pool.query(
      `CREATE TABLE ${table} AS SELECT g AS id, g % 3 AS tenant_id, 'item ' || g AS item FROM generate_series(1, 3000) g`,
    );
    worker = spawn(CLI, ['worker', '--max-concurrent-files', '2'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.on('data', (d: Buffer) => (workerLog += d.toString()));
    worker.stderr!.on('data', (d: Buffer) => (workerLog += d.toString()));
    await createBucket('sharer', bucket);
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
    }
    await pool?.end();
  });

  it('explains itself with --help (exit 0)', async () => {
    const top = await runCli(['--help'], env);
    expect(top.code).toBe(0);
    for (const cmd of ['migrate', 'profile', 'dataset', 'share', 'delivery', 'deliveries', 'worker'])
      expect(top.stdout).toContain(cmd);
    const share = await runCli(['share', '--help'], env);
    expect(share.code).toBe(0);
    expect(share.stdout).toContain('--wait');
  });

  it('onboards an end user: profile set → policy → role from that policy → verify', async () => {
    const set = await runCli(
      [
        'profile',
        'set',
        profile,
        `s3_role_arn=arn:aws:iam::123456789012:role/${profile}-writer`,
        `s3_bucket=${bucket}`,
        's3_region=us-east-1',
        's3_prefix=incoming/acme',
        'tenant_id=1',
        '--json',
      ],
      env,
    );
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    const p = JSON.parse(set.stdout) as { properties: Record<string, string> };
    expect(p.properties.s3_prefix).toBe('incoming/acme/');
    expect(p.properties.s3_external_id).toMatch(/^ds-[0-9a-f]{32}$/);

    const policy = await runCli(['profile', 'policy', profile, '--json'], env);
    expect(policy.code).toBe(0);
    const docs = JSON.parse(policy.stdout) as { trustPolicy: object; permissionsPolicy: object; bucketPolicy: object };
    expect(JSON.stringify(docs.trustPolicy)).toContain(p.properties.s3_external_id);
    expect(JSON.stringify(docs.permissionsPolicy)).toContain(`arn:aws:s3:::${bucket}/incoming/acme/*`);
    // The end user pastes exactly these documents; moto then enforces them.
    await createRoleFromPolicies('sharer', `${profile}-writer`, docs.trustPolicy, docs.permissionsPolicy);

    const verify = await runCli(['profile', 'verify', profile, '--json'], env);
    expect(verify.code, verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout) as {
      ok: boolean;
      checks: { name: string; status: string }[];
      markerKey: string;
    };
    expect(report.ok).toBe(true);
    expect(report.markerKey.startsWith('incoming/acme/')).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      'assume role with ExternalId',
      'ExternalId required',
      'write under prefix',
    ]);
  });

  it('verify exits 1 and says what to fix when the role may not write under the prefix', async () => {
    const role = await createEndUserRole({ account: 'sharer', bucket, allowPrefix: 'somewhere/else/' });
    const set = await runCli(
      [
        'profile',
        'set',
        denied,
        `s3_role_arn=${role.roleArn}`,
        `s3_bucket=${bucket}`,
        's3_region=us-east-1',
        's3_prefix=incoming/denied/',
        `s3_external_id=${role.externalId}`,
        'tenant_id=2',
      ],
      env,
    );
    expect(set.code).toBe(0);
    const verify = await runCli(['profile', 'verify', denied], env);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('FAIL  write under prefix');
    expect(verify.stdout).toContain(`arn:aws:s3:::${bucket}/incoming/denied/*`);
  });

  it('shares with --wait --json and prints the final delivery object', async () => {
    const ds = await runCli(
      [
        'dataset',
        'set',
        dataset,
        '--sql',
        `SELECT id, item FROM ${table} WHERE tenant_id = :tenant_id`,
        '--key',
        'id',
        '--json',
      ],
      env,
    );
    expect(ds.code, ds.stderr).toBe(0);
    const r = await runCli(['share', profile, dataset, '--wait', '--json'], env);
    expect(r.code, r.stderr + workerLog).toBe(0);
    const d = JSON.parse(r.stdout) as DeliveryJson;
    expect(d).toMatchObject({ profileId: profile, datasetId: dataset, status: 'completed', rows: 1000, bucket });
    expect(d.files).toHaveLength(1);
    expect(d.files[0]).toMatchObject({ rows: 1000 });
    expect(d.files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(d.bytes).toBe(d.files[0].bytes);
    expect(d.manifestKey).toBe(`incoming/acme/${dataset}/${d.id}/manifest.json`);
    expect(Date.parse(d.completedAt!)).toBeGreaterThanOrEqual(Date.parse(d.startedAt));
    expect(d.error).toBeUndefined();

    const show = await runCli(['delivery', d.id, '--json'], env);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: d.id, status: 'completed', rows: 1000 });
    const human = await runCli(['delivery', d.id], env);
    expect(human.stdout).toContain(`manifest   s3://${bucket}/${d.manifestKey}`);
  });

  it('share without --wait prints a running delivery; delivery/deliveries follow it', async () => {
    const r = await runCli(['share', profile, dataset, '--format', 'jsonl', '--compression', 'none', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const started = JSON.parse(r.stdout) as DeliveryJson;
    expect(started.status).toBe('running');
    expect(started.completedAt).toBeNull();
    let d = started;
    for (let i = 0; i < 120 && d.status === 'running'; i++) {
      await new Promise((res) => setTimeout(res, 500));
      d = JSON.parse((await runCli(['delivery', started.id, '--json'], env)).stdout) as DeliveryJson;
    }
    expect(d.status).toBe('completed');
    expect(d.files[0].key.endsWith('part-00000.jsonl')).toBe(true);

    const list = await runCli(['deliveries', '--profile', profile, '--json'], env);
    const all = JSON.parse(list.stdout) as DeliveryJson[];
    expect(all.map((x) => x.id)).toContain(started.id);
    expect(all.every((x) => x.profileId === profile)).toBe(true);
    const completed = JSON.parse(
      (await runCli(['deliveries', '--status', 'failed', '--profile', profile, '--json'], env)).stdout,
    ) as unknown[];
    expect(completed).toEqual([]);
  });

  it('a failing share --wait exits 1 with the error in the JSON', async () => {
    const r = await runCli(['share', denied, dataset, '--wait', '--json'], env);
    expect(r.code).toBe(1);
    const d = JSON.parse(r.stdout) as DeliveryJson;
    expect(d.status).toBe('failed');
    expect(d.error?.type).toBe('AccessDenied');
    expect(d.error?.message).toContain('incoming/denied/');
    const line = await runCli(['deliveries', '--status', 'failed', '--profile', denied], env);
    expect(line.stdout).toContain('AccessDenied');
  });

  it('lists, shows and deletes profiles and datasets', async () => {
    expect(JSON.parse((await runCli(['profile', 'list', '--json'], env)).stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: profile })]),
    );
    expect(JSON.parse((await runCli(['dataset', 'show', dataset, '--json'], env)).stdout)).toMatchObject({
      id: dataset,
      keyColumns: ['id'],
      format: 'csv',
      compression: 'gzip',
    });
    const del = await runCli(['profile', 'delete', denied, '--json'], env);
    expect(del.code).toBe(0);
    expect((await runCli(['profile', 'show', denied], env)).code).toBe(2);
    // Deliveries stay on record after their profile is gone.
    expect(JSON.parse((await runCli(['deliveries', '--profile', denied, '--json'], env)).stdout)).toHaveLength(1);
  });
});
