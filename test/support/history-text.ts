import type { Client } from '@temporalio/client';

/**
 * Every string in a workflow's real event history, with payloads decoded: payload
 * data is bytes, so a plain JSON dump would show base64 and hide a leaked secret.
 */
export async function historyText(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown): void => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string') out.push(v);
    else if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    else if (typeof v === 'object') {
      if (seen.has(v)) return;
      seen.add(v);
      for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) walk(x);
    }
  };
  walk(history);
  return out.join('\n');
}
