import type { Pool } from 'pg';
import type { ListProfilesPageInput } from '../common/contracts/schedules';
import { matchingProfileIds } from '../common/store/profile-filter';

/**
 * One page of the profiles matching a `--where` filter, by id. Returns ids only:
 * property values stay in our database, out of history. A profile added while a
 * round runs is included if its id sorts after the page being delivered, and by
 * the next round in any case.
 */
export async function listProfilesPage(
  metaPool: Pool,
  input: ListProfilesPageInput,
): Promise<{ profileIds: string[] }> {
  return { profileIds: await matchingProfileIds(metaPool, input.where, input.afterProfileId, input.limit) };
}
