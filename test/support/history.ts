import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

/** How many times each activity type was started in a workflow's real history. */
export async function activityAttempts(client: Client, workflowId: string): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<number, string>();
  const counts: Record<string, number> = {};
  for (const e of history.events ?? []) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      scheduled.set(Number(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
    }
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const attrs = e.activityTaskStartedEventAttributes;
      const name = scheduled.get(Number(attrs?.scheduledEventId)) ?? '?';
      counts[name] = Math.max(counts[name] ?? 0, attrs?.attempt ?? 1);
    }
  }
  return counts;
}
