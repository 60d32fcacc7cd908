/**
 * Webhook events and the inputs of the webhook workflow and its activities.
 * They land in Temporal history: ids and the event name only, never a URL's
 * secret parts or a signing secret (the activity loads and opens those itself).
 */

export const WEBHOOK_EVENTS = ['completed', 'failed', 'cancelled'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Input of `webhookWorkflow`: one event of one run of a delivery. */
export interface WebhookEventInput {
  deliveryId: string;
  event: WebhookEvent;
  /** The delivery run the event is about (its first run id): a replay's events are its own. */
  runKey: string;
}

export interface SendWebhookInput extends WebhookEventInput {
  webhookId: string;
}

/** One try at sending an event to a webhook, as `delivery --json` shows it. */
export interface WebhookAttemptView {
  webhookId: string;
  event: WebhookEvent;
  attempt: number;
  outcome: 'delivered' | 'failed' | 'rejected';
  statusCode?: number;
  error?: string;
  at: string;
}
