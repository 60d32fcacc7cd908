import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  patched,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { workflowIdFor } from '../common/contracts/delivery';
import type { WebhookEvent, WebhookEventInput } from '../common/contracts/webhooks';

const { webhookTargets } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumInterval: '1 minute' },
});

// A receiver that is down is retried on backoff (1 s, 2 s, 4 s … at most an hour apart) for up to a day.
const { sendWebhook } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 hour',
    nonRetryableErrorTypes: ['WebhookRejected', 'WebhookUrlRefused', 'SecretKeyMissing'],
  },
});

export interface WebhookRound {
  webhooks: number;
  delivered: number;
  notDelivered: number;
}

/**
 * Tells every matching webhook how one delivery ended. Its own workflow, started
 * by the delivery and never awaited by it, so a slow or failing receiver cannot
 * hold a delivery open, change its status or make a schedule skip a run.
 */
export async function webhookWorkflow(input: WebhookEventInput): Promise<WebhookRound> {
  const { webhookIds } = await webhookTargets(input);
  const results = await Promise.allSettled(webhookIds.map((webhookId) => sendWebhook({ ...input, webhookId })));
  const delivered = results.filter((r) => r.status === 'fulfilled').length;
  return { webhooks: webhookIds.length, delivered, notDelivered: webhookIds.length - delivered };
}

/**
 * Starts the webhook workflow for this delivery's outcome and returns once
 * Temporal has it (the child is abandoned: it outlives the delivery). Its id
 * names the delivery, the event and this run, so a retried or replayed
 * workflow task starts it at most once. Any failure to start it is the
 * webhook's, not the delivery's: it is swallowed.
 */
export async function notifyWebhooks(deliveryId: string, event: WebhookEvent): Promise<void> {
  // Histories recorded before webhooks existed replay without this step.
  if (!patched('webhooks')) return;
  const runKey = workflowInfo().firstExecutionRunId;
  try {
    await startChild(webhookWorkflow, {
      // From the input, not workflowInfo().workflowId: the same id whoever replays the history.
      workflowId: `${workflowIdFor(deliveryId)}/webhook/${event}/${runKey}`,
      args: [{ deliveryId, event, runKey }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch {
    // Already started (the same event of the same run), or Temporal refused it: the delivery stands as it is.
  }
}
