import type { DeliveryView } from '../contracts/delivery';

/**
 * The body of a webhook: the event and the delivery as `datashare delivery --json`
 * shows it. A delivery view holds ids, counts, the bucket and folder, files and
 * errors: no credential and no profile property other than the ids. The webhook
 * attempts are left out (they are about the receiver, not the delivery).
 */
export function webhookBody(event: string, delivery: DeliveryView): string {
  const view: DeliveryView = { ...delivery };
  delete view.webhooks;
  return JSON.stringify({ event, delivery: view });
}
