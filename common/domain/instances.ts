/**
 * Instances: several sharer deployments side by side. AWS partitions share no
 * identities (a GovCloud role cannot trust a commercial account), and data
 * residency keeps an EU end user's rows on EU workers, so each deployment has its
 * own principal, region and task queue. Rules only, no I/O.
 */
import { ValidationError } from '../errors';
import { isPartition, PARTITIONS, partitionOfRegion, type Partition } from './aws-names';
import { validateInstanceName } from './ids';
import { sharerPartition } from './policy';
import { quoteValue } from './quoting';

export interface Instance {
  name: string;
  partition: Partition;
  region: string;
  /** The principal end users' roles trust: the account root, or a role or user of it. */
  principalArn: string;
  taskQueue: string;
}

const TASK_QUEUE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

/** Checks an instance as `instance set` receives it; returns it typed. */
export function checkInstance(i: {
  name: string;
  partition: string;
  region: string;
  principalArn: string;
  taskQueue: string;
}): Instance {
  validateInstanceName(i.name);
  if (!isPartition(i.partition))
    throw new ValidationError(`--partition ${quoteValue(i.partition)}: use one of ${PARTITIONS.join(', ')}`);
  const regionPartition = partitionOfRegion(i.region);
  if (regionPartition !== i.partition) {
    throw new ValidationError(
      `--region ${quoteValue(i.region)} is in partition ${regionPartition}, not ${i.partition}: a GovCloud instance runs in a us-gov- region, e.g. us-gov-west-1`,
    );
  }
  const principalPartition = sharerPartition(i.principalArn);
  if (principalPartition !== i.partition) {
    throw new ValidationError(
      `--principal ${quoteValue(i.principalArn)} is in partition ${principalPartition}, not ${i.partition}: partitions share no identities, so the instance needs a principal of its own partition (arn:${i.partition}:iam::<account>:root)`,
    );
  }
  if (!TASK_QUEUE.test(i.taskQueue))
    throw new ValidationError(
      `--task-queue ${quoteValue(i.taskQueue)}: use 1–200 letters, digits, "_", ".", ":" or "-", e.g. datashare-${i.name}`,
    );
  return { ...i, partition: i.partition };
}

/**
 * The instance a profile belongs to: the one its s3_instance names, else the only
 * one serving its role's partition; undefined when no instance serves that
 * partition (then the defaults apply: DATASHARE_TASK_QUEUE and the sharer principal).
 */
export function instanceOfProfile(
  profileId: string,
  dest: { partition: Partition; instance?: string },
  instances: readonly Instance[],
): Instance | undefined {
  if (dest.instance !== undefined) {
    const named = instances.find((i) => i.name === dest.instance);
    if (!named)
      throw new ValidationError(
        `profile "${profileId}" has s3_instance=${dest.instance}, but there is no such instance; list them with datashare instance list, or fix the profile with datashare profile set ${profileId} s3_instance=<name>`,
      );
    if (named.partition !== dest.partition)
      throw new ValidationError(
        `profile "${profileId}" has s3_instance=${dest.instance}, an instance in partition ${named.partition}, but its role is in partition ${dest.partition}; pick an instance of partition ${dest.partition}`,
      );
    return named;
  }
  const serving = instances.filter((i) => i.partition === dest.partition);
  if (serving.length <= 1) return serving[0];
  throw new ValidationError(
    `profile "${profileId}" could be delivered by any of the instances ${serving.map((i) => i.name).join(', ')} (all in partition ${dest.partition}); choose one with datashare profile set ${profileId} s3_instance=<name>`,
  );
}
