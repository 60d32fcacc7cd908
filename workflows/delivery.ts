import { ContinueAsNew, continueAsNew, defineQuery, setHandler } from '@temporalio/workflow';
import type { DeliveryInput, DeliveryResult } from '../common/contracts/delivery';
import { assumeRole, finalizeManifest, loadProfile } from './delivery-activities';
import { recordOutcome } from './delivery-outcome';
import { FilePlan, type ContinuedDelivery } from './file-plan';
import { uploadFiles } from './upload-files';
import { notifyWebhooks } from './webhooks';

export type { ContinuedDelivery } from './file-plan';
export { FILES_PER_RUN } from './upload-files';

export type DeliveryStep =
  'load profile' | 'assume role' | 'export dataset' | 'multipart upload' | 'finalize manifest' | 'done';

export interface DeliveryProgress {
  step: DeliveryStep;
  filesCompleted: number;
  fileCount: number;
}

export const progressQuery = defineQuery<DeliveryProgress>('progress');

/**
 * One delivery of one dataset to one end user:
 * load profile → assume role → export dataset → multipart upload (one file per
 * key range, several at once) → finalize manifest.
 */
export async function deliveryWorkflow(input: DeliveryInput, continued?: ContinuedDelivery): Promise<DeliveryResult> {
  const progress: { step: DeliveryStep; filesCompleted: number } = {
    step: 'load profile',
    filesCompleted: continued?.nextFile ?? 0,
  };
  let plan = continued && FilePlan.continued(continued);
  setHandler(progressQuery, () => ({ ...progress, fileCount: plan?.fileCount ?? 0 }));

  try {
    if (!plan) {
      const target = await loadProfile(input);

      progress.step = 'assume role';
      await assumeRole({ deliveryId: input.deliveryId, profileId: input.profileId });

      progress.step = 'export dataset';
      plan = await FilePlan.plan(input, target);
    }

    progress.step = 'multipart upload';
    const until = await uploadFiles(input, plan, progress);
    if (until < plan.fileCount) return await continueAsNew<typeof deliveryWorkflow>(input, plan.continueFrom(until));

    progress.step = 'finalize manifest';
    const result = await finalizeManifest({ ...input, target: plan.target, columns: plan.columns });
    progress.step = 'done';
    await notifyWebhooks(input.deliveryId, 'completed');
    return result;
  } catch (err) {
    // Handing over to the next run is how this workflow keeps its history short, not a failure.
    if (err instanceof ContinueAsNew) throw err;
    await recordOutcome(input, err);
    throw err;
  }
}
