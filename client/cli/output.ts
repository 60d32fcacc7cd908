import type { DeliveryView } from '../../common/contracts/delivery';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

export function deliveryLine(d: DeliveryView): string {
  const err = d.error ? `  ${d.error.type}: ${oneLine(d.error.message)}` : '';
  return `${d.id}  ${d.status.padEnd(9)}  ${d.profileId}/${d.datasetId}  ${d.rows} rows  ${formatBytes(d.bytes)}${err}`;
}

export function deliveryDetails(d: DeliveryView): string {
  const lines = [
    `delivery   ${d.id}`,
    `status     ${d.status}`,
    `profile    ${d.profileId}`,
    `dataset    ${d.datasetId} (${d.format}, ${d.compression})`,
    `rows       ${d.rows}`,
    `bytes      ${d.bytes} (${formatBytes(d.bytes)})`,
    `started    ${d.startedAt}`,
    `completed  ${d.completedAt ?? '-'}`,
  ];
  if (d.bucket) lines.push(`folder     s3://${d.bucket}/${d.folder ?? ''}`);
  for (const f of d.files)
    lines.push(`file       s3://${d.bucket}/${f.key}  ${f.rows} rows  ${f.bytes} bytes  sha256 ${f.sha256}`);
  if (d.manifestKey) lines.push(`manifest   s3://${d.bucket}/${d.manifestKey}`);
  if (d.error) lines.push(`error      ${d.error.type}: ${d.error.message}`);
  for (const w of d.webhooks ?? [])
    lines.push(
      `webhook    ${w.webhookId} ${w.event} attempt ${w.attempt}: ${w.outcome}${w.statusCode ? ` (HTTP ${w.statusCode})` : ''}${w.error && !w.statusCode ? ` (${oneLine(w.error)})` : ''}`,
    );
  const url = workflowUrl(d.workflowId);
  if (url) lines.push(`workflow   ${url}`);
  return lines.join('\n');
}

export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').slice(0, 300);
}

/** The delivery's page in the Temporal Web UI, when its address is known (DATASHARE_TEMPORAL_UI_URL; the local stack sets it). */
export function workflowUrl(workflowId: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const ui = env.DATASHARE_TEMPORAL_UI_URL;
  if (!ui) return undefined;
  const ns = env.TEMPORAL_NAMESPACE || 'default';
  return `${ui.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ns)}/workflows/${encodeURIComponent(workflowId)}`;
}
