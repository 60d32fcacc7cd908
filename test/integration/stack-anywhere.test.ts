import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, createEndUserRole, getObjectBytes, uniqueName } from '../../scripts/local/end-user-account';
import { REPO_ROOT, STACK_DIR } from '../../scripts/local/stack-env';

/**
 * The first hour of a new clone, in the one place where it used to fail: a folder the
 * unprivileged Postgres user cannot enter (root's mode-700 home, a `mktemp -d` folder).
 * Clones this repository's HEAD into a new mode-700 folder, starts that clone's own
 * stack with its own scripts (its own .stack, ports and Temporal; nothing shared with
 * the suite's stack), delivers one dataset through its CLI and worker, then stops it
 * and checks that the folder Postgres ran from is gone and its data came back.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface DeliveryJson {
  id: string;
  status: string;
  rows: number;
  bucket: string;
  manifestKey: string | null;
  files: { key: string; rows: number }[];
  error?: { type: string; message: string };
}

const PG_OS_USER = process.env.DATASHARE_PG_OS_USER ?? 'datashare-pg';
const asRoot = process.getuid?.() === 0;

/** Runs a program to its end, output captured; never throws for a non-zero exit. */
function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** This process's environment without anything that points at the suite's stack or checkout (npm's variables under `npm test`). */
function envWithoutStack(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      /^(DATASHARE_|AWS_|TEMPORAL_|PG_|MOTO_|STACK_|npm_)/i.test(k) ||
      ['DATABASE_URL', 'SOURCE_DATABASE_URL', 'INIT_CWD'].includes(k)
    )
      continue;
    env[k] = v;
  }
  if (process.env.DATASHARE_PG_OS_USER) env.DATASHARE_PG_OS_USER = process.env.DATASHARE_PG_OS_USER;
  return env;
}

/** The variables of a stack's env file, as bash reads them (start.sh writes them with %q). */
function readEnvFile(file: string): Record<string, string> {
  const names = [...readFileSync(file, 'utf8').matchAll(/^export ([A-Z0-9_]+)=/gm)].map((m) => m[1]);
  const out = execFileSync(
    'bash',
    ['-c', 'source "$1"; shift; for k; do printf "%s\\0" "${!k}"; done', '_', file, ...names],
    {
      encoding: 'utf8',
    },
  );
  const values = out.split('\0');
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

/** Whether the process in a pid file (first line) is alive. */
function pidFileAlive(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

describe('a fresh clone in a mode-700 folder runs its own stack', () => {
  let base = '';
  let clone = '';
  let stackDir = '';
  const scriptEnv = envWithoutStack();
  let awayDir = '';
  let started: Run | undefined;
  let stopped = false;
  let env: NodeJS.ProcessEnv = {};
  let stackEnv: Record<string, string> = {};
  let worker: ChildProcess | undefined;
  let workerLog = '';
  const savedEnv = { ...process.env };

  const stackScript = (name: 'start' | 'stop') =>
    run('bash', [join(clone, 'scripts', 'stack', `${name}.sh`)], { cwd: clone, env: scriptEnv, timeoutMs: 240_000 });
  const datashare = (args: string[]) => run(join(clone, 'bin', 'datashare'), args, { cwd: clone, env });

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'ds-anywhere-'));
    chmodSync(base, 0o700);
    clone = join(base, 'ds');
    stackDir = join(clone, '.stack');
    execFileSync('git', ['clone', '--quiet', REPO_ROOT, clone], { stdio: 'ignore' });
    symlinkSync(realpathSync(join(REPO_ROOT, 'node_modules')), join(clone, 'node_modules'));
    // The venv is not what this test is about and takes a minute of pip: borrow the
    // suite's when its pins are the clone's (install.sh then leaves it alone).
    const pins = execFileSync('bash', ['-c', 'source scripts/stack/lib.sh && printf %s "$PIP_PINS"'], {
      cwd: clone,
      env: scriptEnv,
      encoding: 'utf8',
    });
    const venv = join(STACK_DIR, 'venv');
    if (existsSync(join(venv, '.datashare-pins')) && readFileSync(join(venv, '.datashare-pins'), 'utf8') === pins) {
      symlinkSync(realpathSync(venv), join(stackDir, 'venv'));
    }
    const key = createHash('sha256').update(realpathSync(stackDir)).digest('hex').slice(0, 12);

    // bin/datashare runs dist/ (its tsx fallback cannot load the worker), as after npm ci.
    const build = await run('npm', ['run', '--silent', 'build'], { cwd: clone, env: scriptEnv });
    if (build.code !== 0) throw new Error(`npm run build failed in the clone:\n${build.stdout}\n${build.stderr}`);
    awayDir = `/var/tmp/datashare-pg-${key}`;
    started = await stackScript('start');
    if (started.code !== 0) throw new Error(`the clone's start.sh failed:\n${started.stdout}\n${started.stderr}`);
    stackEnv = readEnvFile(join(stackDir, 'env'));
    env = { ...scriptEnv, ...stackEnv, DATASHARE_TASK_QUEUE: uniqueName('anywhere'), DATASHARE_LOG_LEVEL: 'WARN' };
    // end-user-account plays the end user against the moto named in process.env.
    Object.assign(process.env, stackEnv);
  }, 300_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const w = worker;
      w.kill('SIGTERM');
      await new Promise((r) => w.once('exit', r));
    }
    if (awayDir && !stopped) {
      await stackScript('stop').catch(() => undefined);
      // If stop.sh could not stop them, end the clone's daemons by their recorded pids,
      // and remove the Postgres folder if it is still there and this clone's.
      for (const f of [
        join(stackDir, 'run', 'temporal.pid'),
        join(stackDir, 'run', 'moto.pid'),
        join(awayDir, 'data', 'postmaster.pid'),
        join(stackDir, 'pg', 'postmaster.pid'),
      ]) {
        const pid = pidFileAlive(f);
        if (pid) process.kill(pid, 'SIGKILL');
      }
      const marker = join(awayDir, 'stack-dir');
      if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === realpathSync(stackDir))
        rmSync(awayDir, { recursive: true, force: true });
    }
    if (base) rmSync(base, { recursive: true, force: true }); // symlinks (node_modules, venv) are removed, not followed
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }, 120_000);

  it('starts there, on ports of its own, and says where Postgres keeps its files', async () => {
    expect(statSync(base).mode & 0o777).toBe(0o700);
    if (asRoot) {
      expect(started?.stderr).toContain(`user ${PG_OS_USER} cannot reach ${stackDir}`);
      expect(started?.stderr).toContain(awayDir);
      const st = statSync(awayDir);
      expect(st.mode & 0o777).toBe(0o700);
      expect(st.uid).toBe(Number(execFileSync('id', ['-u', PG_OS_USER], { encoding: 'utf8' }).trim()));
      expect(stackEnv.PG_DATA).toBe(join(awayDir, 'data'));
      expect(stackEnv.PG_SOCKET_DIR).toBe(join(awayDir, 'socket'));
      expect(existsSync(join(stackDir, 'pg'))).toBe(false);
    } else {
      // Postgres runs as the caller, who can always reach its own folder.
      expect(existsSync(awayDir)).toBe(false);
      expect(stackEnv.PG_DATA).toBe(join(stackDir, 'pg'));
    }
    // Everything else stays in the clone's .stack.
    expect(stackEnv.DATASHARE_STACK_DIR).toBe(stackDir);
    expect(stackEnv.STACK_LOG_DIR).toBe(join(stackDir, 'logs'));
    expect(readFileSync(join(stackDir, 'logs', 'postgres.log'), 'utf8')).toContain(
      'database system is ready to accept connections',
    );
    // Nothing shared with the suite's stack, if one is up.
    const suiteEnvFile = join(STACK_DIR, 'env');
    if (existsSync(suiteEnvFile)) {
      const suite = readEnvFile(suiteEnvFile);
      const ours = [stackEnv.PG_PORT, stackEnv.TEMPORAL_PORT, stackEnv.MOTO_PORT];
      for (const p of [suite.PG_PORT, suite.TEMPORAL_PORT, suite.MOTO_PORT]) expect(ours).not.toContain(p);
    }
    // The Temporal web UI answers where the env file says.
    expect(stackEnv.DATASHARE_TEMPORAL_UI_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started?.stdout).toContain(`web UI:   ${stackEnv.DATASHARE_TEMPORAL_UI_URL}`);
    const ui = await fetch(`${stackEnv.DATASHARE_TEMPORAL_UI_URL}/`);
    expect(ui.status).toBe(200);
  });

  it("delivers a dataset end to end with the clone's CLI and worker", async () => {
    const migrate = await datashare(['migrate']);
    expect(migrate.code, migrate.stderr).toBe(0);
    const table = uniqueName('anywhere_rows').replace(/-/g, '_');
    const pool = new Pool({ connectionString: env.DATABASE_URL });
    try {
      await pool.query(
        `CREATE TABLE ${table} AS SELECT g AS id, g % 2 AS tenant_id, 'row ' || g AS item FROM generate_series(1, 500) g`,
      );
    } finally {
      await pool.end();
    }
    const bucket = uniqueName('anywhere');
    await createBucket('sharer', bucket);
    const role = await createEndUserRole({ account: 'sharer', bucket, allowPrefix: 'in/' });
    const profile = uniqueName('anywhere');
    const dataset = uniqueName('anywhere-ds');
    const set = await datashare([
      'profile',
      'set',
      profile,
      `s3_role_arn=${role.roleArn}`,
      `s3_bucket=${bucket}`,
      's3_region=us-east-1',
      's3_prefix=in/',
      `s3_external_id=${role.externalId}`,
      'tenant_id=1',
    ]);
    expect(set.code, set.stderr).toBe(0);
    const ds = await datashare([
      'dataset',
      'set',
      dataset,
      '--sql',
      `SELECT id, item FROM ${table} WHERE tenant_id = :tenant_id`,
      '--key',
      'id',
    ]);
    expect(ds.code, ds.stderr).toBe(0);

    const w = spawn(join(clone, 'bin', 'datashare'), ['worker'], {
      cwd: clone,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker = w;
    w.stdout.on('data', (d: Buffer) => (workerLog += d.toString()));
    w.stderr.on('data', (d: Buffer) => (workerLog += d.toString()));
    // A worker that dies fails the test now, with its log, rather than at share's timeout.
    const died = new Promise<never>((_, reject) =>
      w.once('exit', (code) => reject(new Error(`the worker exited (${code}):\n${workerLog}`))),
    );
    died.catch(() => undefined); // it exits on purpose after this test
    const share = await Promise.race([datashare(['share', profile, dataset, '--wait', '--json']), died]);
    expect(share.code, share.stderr + workerLog).toBe(0);
    const d = JSON.parse(share.stdout) as DeliveryJson;
    expect(d).toMatchObject({ status: 'completed', rows: 250, bucket });
    expect(d.error).toBeUndefined();
    const manifest = JSON.parse((await getObjectBytes('sharer', bucket, d.manifestKey!)).toString('utf8')) as {
      rowCount: number;
    };
    expect(manifest.rowCount).toBe(250);
  }, 180_000);

  it('stops with its stop.sh, which moves the data back and removes the Postgres folder', async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const w = worker;
      w.kill('SIGTERM');
      await new Promise((r) => w.once('exit', r));
    }
    const stop = await stackScript('stop');
    stopped = stop.code === 0;
    expect(stop.code, stop.stderr).toBe(0);
    expect(existsSync(awayDir)).toBe(false);
    expect(existsSync(join(stackDir, 'pg', 'PG_VERSION'))).toBe(true);
    for (const f of ['temporal.pid', 'moto.pid']) expect(pidFileAlive(join(stackDir, 'run', f))).toBeUndefined();
    expect(pidFileAlive(join(stackDir, 'pg', 'postmaster.pid'))).toBeUndefined();
  }, 120_000);
});
