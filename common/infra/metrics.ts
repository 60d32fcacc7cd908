/**
 * datashare's own Prometheus metrics (prom-client), in a registry of their own
 * that the worker's /metrics serves beside the Temporal SDK's (worker/metrics-server.ts).
 *
 * The counters count each delivery once, on its final outcome: the activities
 * that write that outcome to our table increment them only when the row really
 * changed state (completeDelivery / failDelivery report it), so a retried
 * activity never counts twice. Per-worker counters sum across a fleet; the
 * fleet-wide gauges (worker/fleet-gauges.ts) come from our tables instead.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OutcomeChange } from '../store/delivery-progress';

export const registry = new Registry();

const P = 'datashare_';

export const metrics = {
  deliveries: new Counter({
    name: `${P}deliveries_total`,
    help: 'Deliveries by outcome: started, completed, failed, cancelled (error_type on failures), each counted once',
    labelNames: ['status', 'dataset', 'error_type'] as const,
    registers: [registry],
  }),
  rowsDelivered: new Counter({
    name: `${P}rows_delivered_total`,
    help: 'Rows in completed deliveries, counted when the delivery completes',
    labelNames: ['dataset'] as const,
    registers: [registry],
  }),
  bytesDelivered: new Counter({
    name: `${P}bytes_delivered_total`,
    help: 'Bytes of the files of completed deliveries (as stored), counted when the delivery completes',
    labelNames: ['dataset'] as const,
    registers: [registry],
  }),
  bytesResent: new Counter({
    name: `${P}bytes_resent_total`,
    help: 'Bytes uploaded more than once (parts a retried or replayed uploadFile sent again), counted when the delivery completes',
    labelNames: ['dataset'] as const,
    registers: [registry],
  }),
  fileUploadSeconds: new Histogram({
    name: `${P}file_upload_duration_seconds`,
    help: 'Time one successful uploadFile attempt took, from holding a file slot to the completed multipart upload',
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600],
    registers: [registry],
  }),
  partsRetried: new Counter({
    name: `${P}parts_retried_total`,
    help: 'Multipart upload parts that needed more than one UploadPart request (the AWS SDK retried them)',
    registers: [registry],
  }),
  filesInFlight: new Gauge({
    name: `${P}files_in_flight`,
    help: 'Files this worker is exporting and uploading right now (holding a file slot)',
    registers: [registry],
  }),
};

/** Counts a delivery's final outcome, once: only when its row changed state just now. */
export function countOutcome(
  change: OutcomeChange,
  outcome: { status: 'completed'; rows: number; bytes: number } | { status: 'failed' | 'cancelled'; errorType: string },
): void {
  if (!change.changed) return;
  const dataset = change.datasetId;
  if (outcome.status === 'completed') {
    metrics.deliveries.inc({ status: 'completed', dataset });
    metrics.rowsDelivered.inc({ dataset }, outcome.rows);
    metrics.bytesDelivered.inc({ dataset }, outcome.bytes);
    metrics.bytesResent.inc({ dataset }, change.resentBytes);
  } else {
    // error_type only on failures: a cancel has no error to tell.
    metrics.deliveries.inc(
      outcome.status === 'failed'
        ? { status: 'failed', dataset, error_type: outcome.errorType }
        : { status: outcome.status, dataset },
    );
  }
}
