import type { Pool } from 'pg';
import { DatashareError } from '../common/errors';
import { profileInstance } from '../common/store/profile-instance';
import type { ProfileRow } from '../common/store/profiles';

/**
 * A worker serves one instance (or none, when no instances are configured) and
 * holds that instance's AWS identity. A delivery of a profile that belongs to
 * another instance would be made with the wrong identity (another partition's, or
 * across data-residency lines), so it is refused as permanent: a retry on this
 * worker cannot fix it, a replay starts it on the right queue.
 */
export async function checkServedInstance(
  metaPool: Pool,
  profile: ProfileRow,
  served: string | undefined,
): Promise<void> {
  const owner = (await profileInstance(metaPool, profile))?.name;
  if (owner === served) return;
  const theirs = owner ? `instance "${owner}"` : 'no instance (its partition has none: DATASHARE_TASK_QUEUE)';
  const mine = served ? `instance "${served}"` : 'no instance';
  throw new DatashareError(
    'WrongInstance',
    `profile "${profile.id}" belongs to ${theirs}, but this worker serves ${mine}; replay the delivery (datashare replay <id>) so it runs on its instance's task queue, or fix the profile's s3_instance`,
  );
}
