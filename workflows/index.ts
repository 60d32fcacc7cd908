export { deliveryWorkflow, progressQuery } from './delivery';
export type { DeliveryProgress, DeliveryStep } from './delivery';
export { scheduledDeliveryWorkflow } from './scheduled-delivery';
export { fanOutDeliveryWorkflow } from './fan-out';
export { roundProgressQuery } from './scheduled-round';
export type { RoundProgress } from './scheduled-round';
export { webhookWorkflow } from './webhooks';
