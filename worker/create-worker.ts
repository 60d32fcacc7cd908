import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { Config } from '../common/config';

export interface WorkerSetup {
  config: Config;
  deps: ActivityDeps;
  /** A prebuilt workflow bundle (tests build it once); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Limits how many files upload at once on this worker, so memory is bounded by settings, not luck. */
  maxConcurrentActivities?: number;
}

/** workflows/index.js beside this file in dist/, or the TypeScript source when run from sources (tests, tsx). */
export function workflowsPath(): string {
  const js = join(__dirname, '..', 'workflows', 'index.js');
  return existsSync(js) ? js : join(__dirname, '..', 'workflows', 'index.ts');
}

export async function createWorker(setup: WorkerSetup): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: setup.config.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: setup.config.temporalNamespace,
    taskQueue: setup.config.taskQueue,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: createActivities(setup.deps),
    maxConcurrentActivityTaskExecutions: setup.maxConcurrentActivities ?? 4,
    // Heartbeats carry cancellation back to the activity: keep them frequent so a cancel lands in seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
    defaultHeartbeatThrottleInterval: '2 seconds',
  });
  return { worker, connection };
}
