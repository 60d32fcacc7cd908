import { PutObjectCommand } from '@aws-sdk/client-s3';
import { log } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { AwsAccess } from '../common/infra/aws';
import { roleS3 } from '../common/infra/aws';
import { destinationFromProperties } from '../common/domain/destination';
import { getDelivery } from '../common/store/deliveries';
import { completeDelivery, recordRetries, retriesOf } from '../common/store/delivery-progress';
import { RetryTally } from '../common/infra/retry-tally';
import { Context } from '@temporalio/activity';
import { getDataset } from '../common/store/datasets';
import { getProfile } from '../common/store/profiles';
import type { DeliveryResult, FinalizeInput } from '../common/contracts/delivery';
import { buildManifest } from './manifest/build-manifest';
import { s3Failure } from './upload/s3-failure';
import { writeTarget } from './upload/write-target';
import { objectWriteParams } from '../common/domain/bucket-safety';
import { countOutcome } from '../common/infra/metrics';

/**
 * Writes manifest.json after every file is complete; its presence tells the end
 * user the delivery is whole. Then marks the delivery completed in our table.
 */
export async function finalizeManifest(
  deps: { metaPool: Pool; aws: AwsAccess },
  input: FinalizeInput,
): Promise<DeliveryResult> {
  const delivery = await getDelivery(deps.metaPool, input.deliveryId);
  const profile = await getProfile(deps.metaPool, input.profileId);
  const destination = destinationFromProperties(profile.properties);
  const target = writeTarget(input.target, destination);
  const manifestKey = `${target.folder}manifest.json`;
  // The delivery's view already holds its completed files, in file order.
  const files = input.files ?? delivery.files;
  const dataset = await getDataset(deps.metaPool, input.datasetId);
  const window =
    dataset.incrementalColumn && delivery.window
      ? { column: dataset.incrementalColumn, from: delivery.window.from, to: delivery.window.to }
      : undefined;
  const manifest = buildManifest(
    { ...input, files },
    { startedAt: delivery.startedAt, completedAt: new Date().toISOString() },
    window,
  );

  const tally = new RetryTally();
  if (Context.current().info.attempt > 1) tally.add(1);
  const s3 = roleS3(
    deps.aws,
    { roleArn: target.roleArn, externalId: destination.externalId, region: target.region },
    'manifest',
    input.deliveryId,
    tally,
  );
  try {
    await s3
      .send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: manifestKey,
          Body: JSON.stringify(manifest, null, 2),
          ContentType: 'application/json',
          ...(target.acl ? { ACL: target.acl } : {}),
          ...objectWriteParams(target),
        }),
      )
      .catch((e: unknown) => {
        throw s3Failure(e, target, manifestKey, 'PutObject');
      });
  } finally {
    s3.destroy();
    await recordRetries(deps.metaPool, input.deliveryId, tally.take()).catch(() => undefined);
  }
  const rows = files.reduce((n, f) => n + f.rows, 0);
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  const change = await completeDelivery(deps.metaPool, input.deliveryId, { manifestKey, rows, bytes });
  countOutcome(change, { status: 'completed', rows, bytes });
  log.info('delivery completed', { manifestKey, rows, bytes, files: files.length });
  return {
    deliveryId: input.deliveryId,
    bucket: target.bucket,
    manifestKey,
    rows,
    bytes,
    fileCount: files.length,
    retries: await retriesOf(deps.metaPool, input.deliveryId),
    files: files.slice(0, 20),
  };
}
