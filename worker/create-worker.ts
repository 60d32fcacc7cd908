import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { Config } from '../common/infra/config';
import { connectWorkerToTemporal } from './temporal-connect';
import { deliveryLogContext } from './logging';

export interface WorkerSetup {
  config: Config;
  deps: ActivityDeps;
  /** A prebuilt workflow bundle (tests build it once); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Files this worker exports at once: memory is bounded by settings, not luck. */
  maxConcurrentFiles?: number;
  /** How a shutdown drains (worker/graceful-shutdown.ts); the SDK's defaults otherwise. */
  shutdown?: Pick<WorkerOptions, 'shutdownGraceTime' | 'shutdownForceTime'>;
}

/** workflows/index.js beside this file in dist/, or the TypeScript source when run from sources (tests, tsx). */
export function workflowsPath(): string {
  const js = join(__dirname, '..', 'workflows', 'index.js');
  return existsSync(js) ? js : join(__dirname, '..', 'workflows', 'index.ts');
}

/** A given bundle (tests), else the one `npm run build` wrote beside dist/workflows, else bundle now. */
function workflowSource(setup: WorkerSetup): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (setup.workflowBundle) return { workflowBundle: setup.workflowBundle };
  const prebuilt = join(__dirname, '..', 'workflow-bundle.js');
  const fresh = existsSync(prebuilt) && statSync(prebuilt).mtimeMs >= statSync(workflowsPath()).mtimeMs;
  return fresh ? { workflowBundle: { codePath: prebuilt } } : { workflowsPath: workflowsPath() };
}

export async function createWorker(setup: WorkerSetup): Promise<{ worker: Worker; connection: NativeConnection }> {
  const maxConcurrentFiles = setup.maxConcurrentFiles ?? setup.deps.maxConcurrentFiles ?? 2;
  const connection = await connectWorkerToTemporal(setup.config.temporal);
  const worker = await Worker.create({
    connection,
    namespace: setup.config.temporalNamespace,
    taskQueue: setup.config.taskQueue,
    ...workflowSource(setup),
    activities: createActivities({ ...setup.deps, maxConcurrentFiles }),
    // Every activity log line names its delivery, activity and attempt (worker/logging.ts).
    interceptors: { activity: [deliveryLogContext] },
    // Room for the small activities of other deliveries beside the files (which FileSlots bounds).
    maxConcurrentActivityTaskExecutions: maxConcurrentFiles + 8,
    // Heartbeats carry cancellation back to the activity: keep them frequent so a cancel lands in seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
    defaultHeartbeatThrottleInterval: '2 seconds',
    ...(setup.shutdown ?? {}),
  });
  return { worker, connection };
}
