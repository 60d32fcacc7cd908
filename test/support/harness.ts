import { Client } from '@temporalio/client';
import {
  DefaultLogger,
  Runtime,
  bundleWorkflowCode,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { Pool } from 'pg';
import { createPool } from '../../common/infra/pool';
import { DEFAULT_CONNECTIONS_PER_FILE } from '../../common/infra/source-connections';
import { createAwsAccess, type AwsAccess } from '../../common/infra/aws';
import { loadConfig } from '../../common/infra/config';
import { Datashare } from '../../client/datashare';
import { connectTemporal } from '../../client/library/temporal-connection';
import { createWorker, workflowsPath } from '../../worker/create-worker';
import { WorkerLogger } from '../../worker/logging';
import { useTestEnv } from '../../scripts/local/stack-env';

/** Every credential AWS issued to datashare during the suite, to prove none of them leaked. */
export const issuedSecrets = new Set<string>();
/** Everything the worker runtime logged: the worker's own JSON lines (worker/logging.ts), one per entry. */
export const logLines: string[] = [];

function remember(c: { SecretAccessKey?: string; SessionToken?: string; AccessKeyId?: string } | undefined): void {
  if (!c) return;
  for (const v of [c.SecretAccessKey, c.SessionToken, c.AccessKeyId]) if (v) issuedSecrets.add(v);
}

function observeSts(sts: STSClient): STSClient {
  sts.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      remember(
        (out.output as { Credentials?: { SecretAccessKey?: string; SessionToken?: string; AccessKeyId?: string } })
          .Credentials,
      );
      return out;
    },
    { step: 'initialize', name: 'observeIssuedCredentials' },
  );
  return sts;
}

/**
 * The real AWS access, with a tap on the credentials AWS hands back. Nothing is
 * replaced: every call still goes to moto.
 */
export function observedAws(): AwsAccess {
  const real = createAwsAccess();
  return {
    sts: (region, retries) => observeSts(real.sts(region, retries)),
    roleCredentials: (s) => {
      const provider = real.roleCredentials(s);
      return async (o) => {
        const c: AwsCredentialIdentity = await provider(o);
        issuedSecrets.add(c.secretAccessKey);
        if (c.sessionToken) issuedSecrets.add(c.sessionToken);
        issuedSecrets.add(c.accessKeyId);
        return c;
      };
    },
    s3: (region, credentials, retries) => real.s3(region, credentials, retries),
  };
}

let runtimeInstalled = false;
function installRuntimeLogger(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  // The logger `datashare worker` uses, in JSON, into memory instead of stderr.
  Runtime.install({
    logger: new WorkerLogger('DEBUG', 'json', {
      write: (line: string) => {
        logLines.push(line.trimEnd());
      },
    }),
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: new DefaultLogger('WARN') });
  return bundle;
}

export interface Harness {
  ds: Datashare;
  pool: Pool;
  temporal: Client;
  worker: Worker;
  stop(): Promise<void>;
}

/** Key slices in tests: a 1 MB file is read in four. */
export const TEST_SLICE_BYTES = 256 * 1024;

/** A running worker on a task queue of its own, plus a library client and clients for assertions. */
export async function startHarness(opts: {
  taskQueue: string;
  partBytes?: number;
  partsInFlight?: number;
  /** Send the code under test's S3 requests here (an S3Injector in front of moto) via AWS_ENDPOINT_URL_S3. */
  s3Endpoint?: string;
  /** Likewise for STS (AWS_ENDPOINT_URL_STS): the injector tells STS calls apart by their Action. */
  stsEndpoint?: string;
  /** A source pool of its own, shown in pg_stat_activity under this application_name, capped per worker. */
  source?: { applicationName: string; maxConnections: number };
  maxConcurrentFiles?: number;
  /** Source connections per file (default: the worker's default, DEFAULT_CONNECTIONS_PER_FILE). */
  connectionsPerFile?: number;
  /** Variables laid over the test environment before anything connects (a TLS Temporal, an instance). */
  env?: Record<string, string>;
}): Promise<Harness> {
  const overridden = Object.keys(opts.env ?? {}).map((k) => [k, process.env[k]] as const);
  useTestEnv();
  Object.assign(process.env, opts.env ?? {});
  if (opts.s3Endpoint) process.env.AWS_ENDPOINT_URL_S3 = opts.s3Endpoint;
  if (opts.stsEndpoint) process.env.AWS_ENDPOINT_URL_STS = opts.stsEndpoint;
  process.env.DATASHARE_TASK_QUEUE = opts.taskQueue;
  installRuntimeLogger();
  const config = loadConfig();
  const pool = createPool(config.databaseUrl, 6);
  const aws = observedAws();
  const sourcePool = opts.source
    ? // Deliberately larger than the cap: the worker's gate, not pg's own pool size, must hold the line.
      createPool(config.sourceDatabaseUrl, opts.source.maxConnections * 3, () => undefined, opts.source.applicationName)
    : pool;
  const { worker, connection: workerConnection } = await createWorker({
    config,
    deps: {
      metaPool: pool,
      sourcePool,
      aws,
      sourceDatabaseUrl: config.sourceDatabaseUrl,
      ...(opts.source ? { maxSourceConnections: opts.source.maxConnections } : {}),
      ...(opts.maxConcurrentFiles ? { maxConcurrentFiles: opts.maxConcurrentFiles } : {}),
      ...(opts.partBytes ? { partBytes: opts.partBytes } : {}),
      ...(opts.partsInFlight ? { partsInFlight: opts.partsInFlight } : {}),
      // As the worker runs by default, with slices small enough that the suite's tables of a few MB
      // are read over several connections too: every delivery test also tests that path.
      connectionsPerFile: opts.connectionsPerFile ?? DEFAULT_CONNECTIONS_PER_FILE,
      sliceBytes: TEST_SLICE_BYTES,
    },
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  const ds = new Datashare(config, aws);
  const connection = await connectTemporal(config.temporal, 10_000);
  const temporal = new Client({ connection, namespace: config.temporalNamespace });
  return {
    ds,
    pool,
    temporal,
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
      await ds.close();
      if (sourcePool !== pool) await sourcePool.end();
      await pool.end();
      for (const [k, v] of overridden) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}
