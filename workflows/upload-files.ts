import { CancellationScope } from '@temporalio/workflow';
import { DEFAULT_MAX_PARALLEL_FILES, type DeliveryInput } from '../common/contracts/delivery';
import { uploadFile } from './delivery-activities';
import type { FilePlan } from './file-plan';

/** Files handled by one workflow run before it continues as new, keeping each history far below Temporal's limits. */
export const FILES_PER_RUN = 200;

/**
 * Uploads this run's files, at most maxParallelFiles at once; the first failure
 * cancels the rest. When the plan still has ranges to plan, file 0 starts at
 * once and the remaining key ranges are planned while it exports. Returns the
 * end of this run's share of files (at most FILES_PER_RUN; the next run
 * continues from there).
 */
export async function uploadFiles(
  input: DeliveryInput,
  plan: FilePlan,
  progress: { filesCompleted: number },
): Promise<number> {
  const limit = Math.max(1, input.maxParallelFiles ?? DEFAULT_MAX_PARALLEL_FILES);
  const scope = new CancellationScope();
  return await scope.run(async () => {
    const running = new Set<Promise<void>>();
    let failed: Error | undefined;
    const firstFailure = (): Error | undefined => failed;
    const start = (i: number): void => {
      const p: Promise<void> = uploadFile({ ...input, fileIndex: i, target: plan.target, keyTypes: plan.keyTypes })
        .then(
          () => {
            progress.filesCompleted++;
          },
          (e: unknown) => {
            if (failed === undefined) {
              failed = e instanceof Error ? e : new Error(String(e));
              scope.cancel();
            }
          },
        )
        .finally(() => running.delete(p));
      running.add(p);
    };
    let next = plan.nextFile;
    if (plan.restToPlan) {
      start(next++);
      try {
        await plan.planRest();
      } catch (e) {
        // If file 0 failed first, planning was cancelled because of it: report the cause.
        scope.cancel();
        await Promise.all(running);
        throw firstFailure() ?? e;
      }
    }
    const until = Math.min(plan.fileCount, plan.nextFile + FILES_PER_RUN);
    for (; next < until && failed === undefined; next++) {
      while (running.size >= limit) await Promise.race(running);
      if (failed !== undefined) break;
      start(next);
    }
    await Promise.all(running);
    if (failed !== undefined) throw failed;
    return until;
  });
}
