import { checkInstance, type Instance } from '../../common/domain/instances';
import { ConflictError } from '../../common/errors';
import * as store from '../../common/store/instances';
import type { LibraryDeps } from './library-deps';

const UNIQUE_VIOLATION = '23505';

/** Sharer deployments (`datashare instance …`), kept in our own tables. */
export class Instances {
  constructor(private readonly deps: Pick<LibraryDeps, 'metaPool'>) {}

  async set(input: Instance): Promise<store.InstanceRow> {
    const instance = checkInstance(input);
    try {
      return await store.saveInstance(this.deps.metaPool, instance);
    } catch (e) {
      if ((e as { code?: unknown }).code === UNIQUE_VIOLATION) {
        const other = (await store.listInstances(this.deps.metaPool)).find(
          (i) => i.taskQueue === instance.taskQueue && i.name !== instance.name,
        );
        throw new ConflictError(
          `task queue "${instance.taskQueue}" belongs to instance "${other?.name ?? '?'}" already: each instance needs a task queue of its own, so that its workers alone run its deliveries`,
        );
      }
      throw e;
    }
  }

  get(name: string): Promise<store.InstanceRow> {
    return store.getInstance(this.deps.metaPool, name);
  }

  list(): Promise<store.InstanceRow[]> {
    return store.listInstances(this.deps.metaPool);
  }

  /** Refused while a profile names it: those profiles could no longer be delivered. */
  async delete(name: string): Promise<void> {
    const naming = await store.profilesNamingInstance(this.deps.metaPool, name);
    if (naming.length > 0) {
      throw new ConflictError(
        `instance "${name}" is named by ${naming.length} profile(s) (${naming.slice(0, 5).join(', ')}${naming.length > 5 ? ', …' : ''}) through s3_instance: move them first with datashare profile set <id> s3_instance=<other>`,
      );
    }
    if (!(await store.deleteInstance(this.deps.metaPool, name))) await store.getInstance(this.deps.metaPool, name);
  }
}
