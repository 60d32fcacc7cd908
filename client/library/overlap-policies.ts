/** The overlap policies as the CLI spells them, and Temporal's names for them. */
export const OVERLAP_POLICIES = {
  skip: 'SKIP',
  'buffer-one': 'BUFFER_ONE',
  'buffer-all': 'BUFFER_ALL',
  'cancel-other': 'CANCEL_OTHER',
  'terminate-other': 'TERMINATE_OTHER',
  'allow-all': 'ALLOW_ALL',
} as const;
export type OverlapName = keyof typeof OVERLAP_POLICIES;
export type TemporalOverlap = (typeof OVERLAP_POLICIES)[OverlapName];

export function overlapName(temporal: string | undefined): OverlapName {
  for (const [k, t] of Object.entries(OVERLAP_POLICIES)) if (t === temporal) return k as OverlapName;
  return 'skip';
}
