import type { ScheduleView } from '../library/schedule-view';
import { oneLine } from './output';

function describeTarget(v: ScheduleView): string {
  if (v.profileId !== null) return `profile ${v.profileId}`;
  const filter = Object.entries(v.where ?? {})
    .map(([k, val]) => `${k}=${val}`)
    .join(',');
  return `every profile where ${filter}`;
}

function describeWhen(v: ScheduleView): string {
  return v.cron !== null ? `cron "${v.cron}" (${v.timezone ?? 'UTC'})` : `every ${v.every ?? '?'}`;
}

export function scheduleLine(v: ScheduleView): string {
  const state = v.paused ? 'paused' : 'active';
  return `${v.id}  ${state.padEnd(6)}  ${describeWhen(v)}  ${v.datasetId} → ${describeTarget(v)}  next ${v.nextRuns[0] ?? '-'}`;
}

export function scheduleDetails(v: ScheduleView): string {
  const lines = [`schedule   ${v.id}`];
  let delivers = `dataset ${v.datasetId} to ${describeTarget(v)}`;
  if (v.matchingProfiles !== undefined) delivers += ` (${v.matchingProfiles} match now)`;
  if (v.maxParallel !== null) delivers += `, ${v.maxParallel} at once`;
  if (v.format || v.compression)
    delivers += ` as ${v.format ?? 'dataset format'}/${v.compression ?? 'dataset compression'}`;
  lines.push(`delivers   ${delivers}`);
  lines.push(`when       ${describeWhen(v)}`);
  lines.push(`policy     overlap ${v.overlap}, catch-up window ${v.catchupWindow}`);
  lines.push(`state      ${v.paused ? 'paused' : 'active'}${v.note ? `  (${oneLine(v.note)})` : ''}`);
  lines.push(`next runs  ${v.nextRuns.length ? v.nextRuns.join(', ') : '-'}`);
  if (v.actionsTaken !== undefined) {
    lines.push(
      `runs       ${v.actionsTaken} taken, ${v.skippedOverlap ?? 0} skipped (overlap), ${v.missedCatchupWindow ?? 0} missed (catch-up window)`,
    );
  }
  for (const r of v.running ?? []) lines.push(`running    ${r.workflowId}`);
  for (const a of v.recentActions ?? []) {
    const d = a.deliveries;
    const counts =
      v.profileId !== null
        ? d.deliveryIds.length
          ? `delivery ${d.deliveryIds[0]} ${d.completed ? 'completed' : d.failed ? 'failed' : d.cancelled ? 'cancelled' : 'running'}`
          : 'no delivery registered'
        : `${d.total} deliveries: ${d.completed} completed, ${d.failed} failed, ${d.running} running${d.cancelled ? `, ${d.cancelled} cancelled` : ''}`;
    lines.push(`run        ${a.scheduledAt}  ${(a.runStatus ?? '?').toLowerCase().padEnd(9)}  ${counts}`);
    for (const f of d.failures.slice(0, 5))
      lines.push(`             ${f.deliveryId}  ${f.profileId}  ${f.error.type}: ${oneLine(f.error.message)}`);
    if (d.failures.length > 5)
      lines.push(
        `             … ${d.failures.length - 5} more: datashare deliveries --status failed --dataset ${v.datasetId}`,
      );
  }
  return lines.join('\n');
}
