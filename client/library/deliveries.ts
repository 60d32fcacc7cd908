import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import {
  effectiveCompression,
  workflowIdFor,
  type Compression,
  type DeliveryInput,
  type DeliveryView,
  type Format,
} from '../../common/contracts/delivery';
import { deliverableDestination } from '../../common/domain/destination';
import { newDeliveryId } from '../../common/domain/ids';
import { ConflictError, DatashareError, ValidationError } from '../../common/errors';
import { getDataset } from '../../common/store/datasets';
import * as store from '../../common/store/deliveries';
import * as progress from '../../common/store/delivery-progress';
import { getProfile } from '../../common/store/profiles';
import { profileTaskQueue } from '../../common/store/profile-instance';
import { webhookAttempts } from '../../common/store/webhooks';
import { deliveryWorkflow } from '../../workflows';
import { checkCompression, checkFormat, checkFormatCompression } from './file-format';
import type { LibraryDeps } from './library-deps';
import { pollUntil } from './poll-until';

export interface ShareOptions {
  format?: Format;
  compression?: Compression;
  /** Target maximum stored size of one file (default 256 MiB). */
  maxFileBytes?: number;
  /** Files exported at once for this delivery (default 4). */
  maxParallelFiles?: number;
  /** Incremental datasets: send everything up to now, ignoring the watermark. */
  fullRefresh?: boolean;
}

/** One delivery of `replayFailed`: its final state, or why it could not be replayed. */
export interface ReplayOutcome {
  id: string;
  result?: DeliveryView;
  error?: { type: string; message: string };
}

/** How a start that Temporal refuses is recorded on the delivery and reported. */
interface StartRefusal {
  errorType: 'StartFailed' | 'ReplayStartFailed';
  /** The Conflict reported when the workflow id is already taken. */
  conflict: string;
  /** Whether the delivery records that Conflict as its error too, rather than Temporal's own error. */
  recordConflict: boolean;
}

const leftRunning = (v: DeliveryView): boolean => v.status !== 'running';

/** A delivery's life: started by share, followed, cancelled, replayed. Our table is its record. */
export class Deliveries {
  constructor(private readonly deps: Pick<LibraryDeps, 'config' | 'metaPool' | 'temporal'>) {}

  /** Starts a delivery after checking everything that can be checked without AWS; returns it as `running`. */
  async share(profileId: string, datasetId: string, opts: ShareOptions = {}): Promise<DeliveryView> {
    const { metaPool } = this.deps;
    const profile = await getProfile(metaPool, profileId);
    const dataset = await getDataset(metaPool, datasetId);
    deliverableDestination(profile, dataset.sql);
    // Checked before the row is written: a profile no instance can take leaves nothing behind.
    const taskQueue = await profileTaskQueue(metaPool, profile, this.deps.config.taskQueue);
    const format = checkFormat(opts.format ?? dataset.format);
    const compression = checkCompression(effectiveCompression(format, opts.compression, dataset));
    checkFormatCompression(format, compression);
    if (opts.fullRefresh && !dataset.incrementalColumn) {
      throw new ValidationError(
        `--full-refresh applies to incremental datasets; "${datasetId}" always sends everything`,
      );
    }

    // Connected before the delivery is recorded: an unreachable Temporal leaves no row behind.
    await this.deps.temporal.client();
    const input: DeliveryInput = {
      deliveryId: newDeliveryId(),
      profileId,
      datasetId,
      format,
      compression,
      ...(opts.maxFileBytes ? { maxFileBytes: opts.maxFileBytes } : {}),
      ...(opts.maxParallelFiles ? { maxParallelFiles: opts.maxParallelFiles } : {}),
    };
    const workflowId = workflowIdFor(input.deliveryId);
    await store.insertDelivery(metaPool, {
      id: input.deliveryId,
      workflowId,
      profileId,
      datasetId,
      format,
      compression,
      fullRefresh: opts.fullRefresh ?? false,
    });
    return this.startDelivery(input, workflowId, taskQueue, {
      errorType: 'StartFailed',
      conflict: 'a workflow with this id already exists',
      recordConflict: true,
    });
  }

  /**
   * A delivery as our table knows it. A run that Temporal ended without the
   * workflow recording it (terminated, timed out) is reported failed.
   */
  async get(id: string): Promise<DeliveryView> {
    const view = await this.getUnchecked(id);
    return { ...view, webhooks: await webhookAttempts(this.deps.metaPool, id) };
  }

  private async getUnchecked(id: string): Promise<DeliveryView> {
    const { metaPool } = this.deps;
    const view = await store.getDelivery(metaPool, id);
    if (view.status !== 'running') return view;
    const temporal = await this.deps.temporal.client();
    try {
      const desc = await temporal.workflow.getHandle(view.workflowId).describe();
      const status = desc.status.name;
      if (status === 'TERMINATED' || status === 'TIMED_OUT') {
        await progress.failDelivery(metaPool, id, 'failed', {
          type: status,
          message: `the workflow was ${status.toLowerCase()} in Temporal`,
        });
        return store.getDelivery(metaPool, id);
      }
    } catch {
      // Temporal unreachable or history gone: our table is the record.
    }
    return view;
  }

  list(filter: store.DeliveryFilter = {}): Promise<DeliveryView[]> {
    return store.listDeliveries(this.deps.metaPool, filter);
  }

  /** Polls until the delivery leaves `running`, reporting progress along the way. */
  wait(id: string, onProgress?: (v: DeliveryView) => void, pollMs = 1000): Promise<DeliveryView> {
    return pollUntil(() => this.get(id), leftRunning, {
      everyMs: pollMs,
      ...(onProgress ? { onPending: onProgress } : {}),
    });
  }

  /**
   * Cancels a running delivery: its activities stop, its open multipart uploads
   * are aborted where the role allows it (the rest are listed on the delivery),
   * and it ends `cancelled`. Returns once the delivery has left `running`.
   */
  async cancel(id: string, waitMs = 60_000): Promise<DeliveryView> {
    const view = await store.getDelivery(this.deps.metaPool, id);
    if (view.status !== 'running') {
      throw new ConflictError(`delivery ${id} is already ${view.status}; only a running delivery can be cancelled`);
    }
    const temporal = await this.deps.temporal.client();
    await temporal.workflow.getHandle(view.workflowId).cancel();
    return pollUntil(() => this.get(id), leftRunning, { everyMs: 250, timeoutMs: waitMs });
  }

  /**
   * Runs a failed or cancelled delivery again under the same id, with the
   * profile as it is now. Files already recorded complete under an unchanged
   * prefix are kept and skipped; an interrupted file continues its upload; an
   * incremental delivery keeps its window. A completed delivery is never re-sent.
   */
  async replay(id: string): Promise<DeliveryView> {
    const { metaPool } = this.deps;
    const view = await store.getDelivery(metaPool, id);
    if (view.status === 'completed') {
      throw new ConflictError(
        `delivery ${id} already completed; a completed delivery is never sent twice. To send the data again, start a new delivery: datashare share ${view.profileId} ${view.datasetId}`,
      );
    }
    if (view.status === 'running')
      throw new ConflictError(`delivery ${id} is still running; cancel it first (datashare cancel ${id}) or wait`);
    const profile = await getProfile(metaPool, view.profileId);
    const dataset = await getDataset(metaPool, view.datasetId);
    deliverableDestination(profile, dataset.sql);
    // The profile's instance now: a profile moved to another instance is replayed there.
    const taskQueue = await profileTaskQueue(metaPool, profile, this.deps.config.taskQueue);

    // Our table records the failure a moment before the workflow run closes; the
    // new run may only start once it has.
    await this.waitForRunToClose(view.workflowId);
    if (!(await store.restartDelivery(metaPool, id)))
      throw new ConflictError(`delivery ${id} changed state meanwhile; look again with: datashare delivery ${id}`);
    const maxFileBytes = await progress.plannedMaxFileBytes(metaPool, id);
    const input: DeliveryInput = {
      deliveryId: id,
      profileId: view.profileId,
      datasetId: view.datasetId,
      format: view.format,
      compression: view.compression,
      ...(maxFileBytes ? { maxFileBytes } : {}),
    };
    return this.startDelivery(input, view.workflowId, taskQueue, {
      errorType: 'ReplayStartFailed',
      conflict: `Temporal refused to run delivery ${id} again (its workflow ${view.workflowId} completed or is still open)`,
      recordConflict: false,
    });
  }

  /**
   * Replays every failed delivery matching the filter, at most `maxParallel`
   * running at once; returns each one's final state (or its start error).
   */
  async replayFailed(
    filter: Omit<store.DeliveryFilter, 'status'>,
    opts: { maxParallel?: number; onStarted?: (v: DeliveryView) => void } = {},
  ): Promise<ReplayOutcome[]> {
    const failed = await store.listDeliveries(this.deps.metaPool, {
      ...filter,
      status: 'failed',
      limit: filter.limit ?? 1000,
    });
    const limit = Math.max(1, opts.maxParallel ?? 5);
    const out: ReplayOutcome[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < failed.length) {
        const d = failed[next++];
        try {
          // Not `onStarted?.(await …)`: optional call skips evaluating its argument when absent.
          const started = await this.replay(d.id);
          opts.onStarted?.(started);
          out.push({ id: d.id, result: await this.wait(d.id) });
        } catch (e) {
          const type = e instanceof DatashareError ? e.type : 'Error';
          out.push({ id: d.id, error: { type, message: e instanceof Error ? e.message : String(e) } });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, failed.length) }, worker));
    return out;
  }

  /**
   * Starts the workflow of a delivery our table has as running, for share and
   * replay alike. If Temporal refuses, the delivery is recorded failed.
   */
  private async startDelivery(
    input: DeliveryInput,
    workflowId: string,
    taskQueue: string,
    refusal: StartRefusal,
  ): Promise<DeliveryView> {
    const temporal = await this.deps.temporal.client();
    try {
      await temporal.workflow.start(deliveryWorkflow, {
        // The profile's instance's queue (DATASHARE_TASK_QUEUE without instances): only its workers run it.
        taskQueue,
        workflowId,
        args: [input],
        // A completed delivery can never be sent twice by accident; a failed one may be replayed.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      });
    } catch (e) {
      const taken = e instanceof WorkflowExecutionAlreadyStartedError;
      const message = taken && refusal.recordConflict ? refusal.conflict : String(e);
      await progress.failDelivery(this.deps.metaPool, input.deliveryId, 'failed', { type: refusal.errorType, message });
      if (taken) throw new ConflictError(refusal.conflict);
      throw e;
    }
    return store.getDelivery(this.deps.metaPool, input.deliveryId);
  }

  private async waitForRunToClose(workflowId: string, timeoutMs = 30_000): Promise<void> {
    const handle = (await this.deps.temporal.client()).workflow.getHandle(workflowId);
    await pollUntil(
      () => handle.describe().catch(() => undefined),
      (desc) => !desc || desc.status.name !== 'RUNNING',
      { everyMs: 100, timeoutMs },
    );
  }
}
