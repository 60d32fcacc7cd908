import { Context, log } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { SendWebhookInput, WebhookEventInput } from '../common/contracts/webhooks';
import { WebhookRejectedError } from '../common/errors';
import { openSecret } from '../common/infra/secret-box';
import { getDelivery } from '../common/store/deliveries';
import { alreadyDelivered, findWebhook, recordWebhookAttempt, webhooksFor } from '../common/store/webhooks';
import { webhookBody } from '../common/webhooks/payload';
import { postWebhook } from '../common/webhooks/post';

/** The webhooks that want this event of this delivery: ids only, for the workflow to send to each. */
export async function webhookTargets(metaPool: Pool, input: WebhookEventInput): Promise<{ webhookIds: string[] }> {
  return { webhookIds: await webhooksFor(metaPool, input.deliveryId, input.event) };
}

/** Statuses a later try may get past: the receiver is busy, overloaded or down. */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Sends one event to one webhook, signed, and records the try. A 2xx is done;
 * 408, 429 and 5xx (and no answer at all) throw for Temporal to retry on backoff;
 * any other status (4xx, a redirect) is recorded as rejected and stops retries.
 * The secret is loaded and opened here, so it never enters history.
 */
export async function sendWebhook(
  metaPool: Pool,
  input: SendWebhookInput,
): Promise<{ outcome: 'delivered' | 'skipped'; statusCode?: number }> {
  const ctx = Context.current();
  const attempt = ctx.info.attempt;
  const hook = await findWebhook(metaPool, input.webhookId);
  // Deleted since the delivery ended: nobody to tell.
  if (!hook) return { outcome: 'skipped' };
  if (await alreadyDelivered(metaPool, input)) return { outcome: 'delivered' };
  const record = (outcome: 'delivered' | 'failed' | 'rejected', statusCode?: number, error?: string) =>
    recordWebhookAttempt(metaPool, input, {
      attempt,
      outcome,
      ...(statusCode !== undefined ? { statusCode } : {}),
      ...(error !== undefined ? { error } : {}),
    });
  let status: number;
  try {
    const secret = openSecret(hook.secretEncrypted, hook.id);
    const body = webhookBody(input.event, await getDelivery(metaPool, input.deliveryId));
    ({ status } = await postWebhook({
      url: hook.url,
      secret,
      event: input.event,
      deliveryId: input.deliveryId,
      body,
      signal: ctx.cancellationSignal,
    }));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const permanent = e instanceof Error && (e.name === 'WebhookUrlRefused' || e.name === 'SecretKeyMissing');
    await record(permanent ? 'rejected' : 'failed', undefined, message);
    log.warn('webhook not delivered', { webhookId: hook.id, event: input.event, error: message });
    throw e;
  }
  if (status >= 200 && status < 300) {
    await record('delivered', status);
    log.info('webhook delivered', { webhookId: hook.id, event: input.event, statusCode: status });
    return { outcome: 'delivered', statusCode: status };
  }
  const host = new URL(hook.url).host;
  if (retryable(status)) {
    await record('failed', status, `HTTP ${status}`);
    log.warn('webhook not delivered; will retry', { webhookId: hook.id, event: input.event, statusCode: status });
    throw new Error(`the receiver at ${host} answered HTTP ${status}; retrying`);
  }
  await record('rejected', status, `HTTP ${status}`);
  log.warn('webhook rejected; not retrying', { webhookId: hook.id, event: input.event, statusCode: status });
  throw new WebhookRejectedError(
    `the receiver at ${host} answered HTTP ${status} to webhook ${hook.id}; not retrying (only 408, 429 and 5xx are)`,
  );
}
