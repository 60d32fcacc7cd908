export { deliveryWorkflow, progressQuery } from './delivery';
export type { DeliveryProgress, DeliveryStep } from './delivery';
