/**
 * `datashare doctor`: can a delivery run right now? One check per dependency, in
 * the order a delivery needs them, each a line that says what was found and, when
 * it failed, which variable sets it and what to do.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Pool } from 'pg';
import { createAwsAccess } from '../../common/infra/aws';
import { awsEndpoint, loadConfig, type Config } from '../../common/infra/config';
import { createPool } from '../../common/infra/pool';
import { explainUnreachable, type Service } from '../../common/infra/service-errors';
import { migrationStatus } from '../../common/store/migrate';
import {
  describeTemporalSecurity,
  temporalSecurity,
  type TemporalSecurity,
} from '../../common/infra/temporal-settings';
import { connectTemporal } from './temporal-connection';
import type { Instance } from '../../common/domain/instances';
import { listInstances } from '../../common/store/instances';

/** Which temporal.toml profile the connection came from, if one. */
function profileNote(config: Config): string {
  const t = config.temporal;
  return t.configFile ? ` (profile "${t.profileName ?? 'default'}" of ${t.configFile})` : '';
}

export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** What was found (ok) or what is wrong and how to fix it (not ok). */
  detail: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
  /** The Temporal connection doctor made (or tried): where, and its TLS and API-key state. */
  temporal?: TemporalSecurity & { address: string; namespace: string; connected: boolean };
}

/** A worker's long poll lasts up to about 70 s, so an idle one that runs has polled within this. */
const RECENT_POLL_MS = 90_000;

/** Connect and request deadlines: a doctor that hangs on a dead service is no doctor. */
const TIMEOUT_MS = 5000;

function message(e: unknown, config: Config, service: Service, env: NodeJS.ProcessEnv = process.env): string {
  const unreachable = explainUnreachable(e, config, service, env);
  if (unreachable) return unreachable.message;
  return e instanceof Error ? e.message : String(e);
}

async function withPool<T>(url: string, fn: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPool(url, 1);
  try {
    return await fn(pool);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** The address of a URL without its credentials, for display. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = u.password ? '***' : '';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

async function checkDatabases(config: Config, checks: DoctorCheck[]): Promise<void> {
  try {
    const status = await withPool(config.databaseUrl, migrationStatus);
    const current = status.applied ?? 0;
    checks.push(
      current >= status.latest
        ? {
            name: 'metadata database',
            ok: true,
            detail: `${redactUrl(config.databaseUrl)}, migrated to version ${current}`,
          }
        : {
            name: 'metadata database',
            ok: false,
            detail: `${redactUrl(config.databaseUrl)} is at migration ${current} of ${status.latest}: run datashare migrate`,
          },
    );
  } catch (e) {
    checks.push({ name: 'metadata database', ok: false, detail: message(e, config, 'metadata database') });
  }
  try {
    await withPool(config.sourceDatabaseUrl, (p) => p.query('SELECT 1'));
    const same = config.sourceDatabaseUrl === config.databaseUrl;
    checks.push({
      name: 'source database',
      ok: true,
      detail: same ? 'the metadata database (SOURCE_DATABASE_URL is not set)' : redactUrl(config.sourceDatabaseUrl),
    });
  } catch (e) {
    checks.push({ name: 'source database', ok: false, detail: message(e, config, 'source database') });
  }
}

/** Workers that polled the queue lately: Temporal keeps listing a poller for minutes after it left. */
async function recentPollers(connection: Connection, namespace: string, queue: string): Promise<number> {
  const pollers = await connection.withDeadline(new Date(Date.now() + TIMEOUT_MS), () =>
    connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    }),
  );
  const recent = Date.now() - RECENT_POLL_MS;
  return (pollers.pollers ?? []).filter((p) => {
    const t = p.lastAccessTime;
    return !t || Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) >= recent;
  }).length;
}

async function checkTemporal(config: Config, checks: DoctorCheck[], instances: readonly Instance[]): Promise<void> {
  let connection: Connection | undefined;
  try {
    connection = await connectTemporal(config.temporal, TIMEOUT_MS);
    const deadline = (): Date => new Date(Date.now() + TIMEOUT_MS);
    const ns = await connection.withDeadline(deadline(), () =>
      connection!.workflowService.describeNamespace({ namespace: config.temporalNamespace }),
    );
    checks.push({
      name: 'Temporal',
      ok: true,
      detail: `${config.temporalAddress}, namespace ${ns.namespaceInfo?.name ?? config.temporalNamespace}, ${describeTemporalSecurity(temporalSecurity(config.temporal))}${profileNote(config)}`,
    });
    const polling = (queue: string): Promise<number> => recentPollers(connection!, config.temporalNamespace, queue);
    const n = await polling(config.taskQueue);
    const workers = (k: number): string => `${k} worker${k === 1 ? '' : 's'}`;
    if (n > 0) {
      checks.push({ name: 'worker', ok: true, detail: `${workers(n)} polling task queue "${config.taskQueue}"` });
    } else if (instances.length > 0) {
      // With instances, the default queue serves only --where rounds and profiles no instance takes.
      checks.push({
        name: 'worker',
        ok: true,
        detail: `no worker polls task queue "${config.taskQueue}" (DATASHARE_TASK_QUEUE); with instances it runs only --where schedule rounds and profiles of partitions no instance serves`,
      });
    } else {
      checks.push({
        name: 'worker',
        ok: false,
        detail: `no worker polls task queue "${config.taskQueue}" (DATASHARE_TASK_QUEUE): start one with datashare worker`,
      });
    }
    for (const i of instances) {
      const k = await polling(i.taskQueue);
      checks.push({
        name: `worker (instance ${i.name})`,
        ok: k > 0,
        detail:
          k > 0
            ? `${workers(k)} polling task queue "${i.taskQueue}" as ${i.principalArn}`
            : `no worker polls task queue "${i.taskQueue}": start one with datashare worker --instance ${i.name}, with that instance's AWS credentials`,
      });
    }
  } catch (e) {
    const text = message(e, config, 'Temporal');
    if (/namespace/i.test(text) && /not found/i.test(text)) {
      checks.push({
        name: 'Temporal',
        ok: false,
        detail: `${config.temporalAddress} has no namespace "${config.temporalNamespace}" (TEMPORAL_NAMESPACE): create it or set the right one`,
      });
    } else {
      checks.push({ name: 'Temporal', ok: false, detail: text });
    }
    checks.push({ name: 'worker', ok: false, detail: 'not checked: Temporal is not reachable' });
    for (const i of instances)
      checks.push({ name: `worker (instance ${i.name})`, ok: false, detail: 'not checked: Temporal is not reachable' });
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

async function checkAws(config: Config, env: NodeJS.ProcessEnv, checks: DoctorCheck[]): Promise<void> {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const sts = createAwsAccess(env).sts(region);
  try {
    const me = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: AbortSignal.timeout(TIMEOUT_MS) });
    const partition = me.Arn?.split(':')[1] ?? 'unknown';
    checks.push({
      name: 'sharer identity',
      ok: true,
      detail: `${me.Arn ?? '?'} (account ${me.Account ?? '?'}, partition ${partition})`,
    });
  } catch (e) {
    const text = message(e, config, 'STS', env);
    checks.push({
      name: 'sharer identity',
      ok: false,
      detail: explainUnreachable(e, config, 'STS', env)
        ? text
        : `STS GetCallerIdentity failed: ${text}; check the worker's AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, or its IAM role)`,
    });
  } finally {
    sts.destroy();
  }
  const s3 = awsEndpoint('S3', env)?.url;
  const stsUrl = awsEndpoint('STS', env)?.url;
  const describe = (u: string | undefined, service: string): string =>
    u ? u : `AWS's own ${service} endpoint for each region`;
  if (!s3) {
    checks.push({ name: 'S3 endpoint', ok: true, detail: `${describe(s3, 'S3')}; STS: ${describe(stsUrl, 'STS')}` });
    return;
  }
  try {
    // Any HTTP answer means something listens; S3 itself answers an unsigned request with 403.
    await fetch(s3, { method: 'GET', signal: AbortSignal.timeout(TIMEOUT_MS) });
    checks.push({ name: 'S3 endpoint', ok: true, detail: `${s3}; STS: ${describe(stsUrl, 'STS')}` });
  } catch (e) {
    checks.push({ name: 'S3 endpoint', ok: false, detail: message(e, config, 'S3', env) });
  }
}

/** `env` configures datashare; the AWS SDK reads its credentials from the process environment, as a worker does. */
export async function runDoctor(env: NodeJS.ProcessEnv = process.env): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  let config: Config;
  try {
    config = loadConfig(env);
    checks.push({
      name: 'configuration',
      ok: true,
      detail: `task queue "${config.taskQueue}", Temporal ${config.temporalAddress} namespace ${config.temporalNamespace}`,
    });
  } catch (e) {
    checks.push({ name: 'configuration', ok: false, detail: e instanceof Error ? e.message : String(e) });
    return { ok: false, checks };
  }
  await checkDatabases(config, checks);
  // Unreadable (database down, not migrated): the database check above says so already.
  const instances = await withPool(config.databaseUrl, listInstances).catch(() => []);
  await checkTemporal(config, checks, instances);
  const connected = checks.find((c) => c.name === 'Temporal')?.ok ?? false;
  const temporal = {
    address: config.temporalAddress,
    namespace: config.temporalNamespace,
    connected,
    ...temporalSecurity(config.temporal),
  };
  await checkAws(config, env, checks);
  return { ok: checks.every((c) => c.ok), checks, temporal };
}

export function doctorLines(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines = report.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`);
  lines.push(report.ok ? 'a delivery can run now' : 'a delivery cannot run until the FAIL lines are fixed');
  return lines.join('\n');
}
