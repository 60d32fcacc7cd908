import type { Pool } from 'pg';
import { destinationFromProperties } from '../domain/destination';
import { instanceOfProfile, type Instance } from '../domain/instances';
import { listInstances } from './instances';
import type { ProfileRow } from './profiles';

/**
 * The instance a stored profile belongs to, or undefined when none serves its
 * partition. Read afresh each time: a profile moved to another instance is
 * delivered there from its next delivery on.
 */
export async function profileInstance(db: Pool, profile: ProfileRow): Promise<Instance | undefined> {
  const instances = await listInstances(db);
  if (instances.length === 0) return undefined;
  return instanceOfProfile(profile.id, destinationFromProperties(profile.properties), instances);
}

/** The task queue a profile's deliveries, schedules and replays run on. */
export async function profileTaskQueue(db: Pool, profile: ProfileRow, defaultQueue: string): Promise<string> {
  return (await profileInstance(db, profile))?.taskQueue ?? defaultQueue;
}
