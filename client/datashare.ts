import type { Pool } from 'pg';
import type { DeliveryView } from '../common/contracts/delivery';
import type { S3Destination } from '../common/domain/destination';
import type { EndUserPolicies } from '../common/domain/policy';
import { createAwsAccess, type AwsAccess } from '../common/infra/aws';
import { loadConfig, type Config } from '../common/infra/config';
import { createPool } from '../common/infra/pool';
import type { DatasetRow } from '../common/store/datasets';
import type { DeliveryFilter } from '../common/store/deliveries';
import { migrate, type AppliedMigration } from '../common/store/migrate';
import type { ProfileRow } from '../common/store/profiles';
import { Datasets, type DatasetInput } from './library/datasets';
import { Deliveries, type ReplayOutcome, type ShareOptions } from './library/deliveries';
import { Instances } from './library/instances';
import { Profiles } from './library/profiles';
import { Schedules } from './library/schedules';
import { TemporalConnection } from './library/temporal-connection';
import { Webhooks } from './library/webhooks';
import type { VerifyReport } from './library/verify-destination';

export type { DatasetRow } from '../common/store/datasets';
export type { ProfileRow } from '../common/store/profiles';
export type { InstanceRow } from '../common/store/instances';
export type { DeliveryFilter } from '../common/store/deliveries';
export type { DatasetInput } from './library/datasets';
export type { ReplayOutcome, ShareOptions } from './library/deliveries';
export type { ScheduleCreateInput } from './library/schedule-input';
export type { RoundDeliveries, ScheduleAction, ScheduleView } from './library/schedule-view';
export type { VerifyReport } from './library/verify-destination';

/**
 * The datashare library: what the CLI calls, and what a backend would import.
 * Every method validates its input first and changes nothing when it fails.
 *
 * It builds the parts once (the pools, one Temporal connection opened on first
 * use) and hands them to `profiles`, `datasets`, `deliveries` and `schedules`;
 * the methods below are theirs, under the names the README documents.
 */
export class Datashare {
  readonly metaPool: Pool;
  readonly sourcePool: Pool;
  readonly profiles: Profiles;
  readonly datasets: Datasets;
  readonly deliveries: Deliveries;
  readonly schedules: Schedules;
  /** Sharer deployments side by side (`datashare instance …`). */
  readonly instances: Instances;
  readonly webhooks: Webhooks;
  private readonly temporal: TemporalConnection;

  constructor(
    readonly config: Config = loadConfig(),
    readonly aws: AwsAccess = createAwsAccess(),
  ) {
    this.metaPool = createPool(config.databaseUrl, 4);
    this.sourcePool =
      config.sourceDatabaseUrl === config.databaseUrl ? this.metaPool : createPool(config.sourceDatabaseUrl, 2);
    this.temporal = new TemporalConnection(config);
    const deps = { config, aws, metaPool: this.metaPool, sourcePool: this.sourcePool, temporal: this.temporal };
    this.profiles = new Profiles(deps);
    this.datasets = new Datasets(deps);
    this.deliveries = new Deliveries(deps);
    this.schedules = new Schedules(deps);
    this.instances = new Instances(deps);
    this.webhooks = new Webhooks(deps);
  }

  async close(): Promise<void> {
    await this.temporal.close();
    if (this.sourcePool !== this.metaPool) await this.sourcePool.end();
    await this.metaPool.end();
  }

  migrate(): Promise<AppliedMigration[]> {
    return migrate(this.metaPool);
  }

  // ---- profiles -------------------------------------------------------------

  setProfile(id: string, updates: Record<string, string>, opts: { unset?: string[] } = {}): Promise<ProfileRow> {
    return this.profiles.set(id, updates, opts);
  }

  getProfile(id: string): Promise<ProfileRow> {
    return this.profiles.get(id);
  }

  listProfiles(): Promise<ProfileRow[]> {
    return this.profiles.list();
  }

  deleteProfile(id: string): Promise<void> {
    return this.profiles.delete(id);
  }

  destination(id: string): Promise<S3Destination> {
    return this.profiles.destination(id);
  }

  sharerPrincipal(d: S3Destination): Promise<string> {
    return this.profiles.sharerPrincipal(d);
  }

  policies(id: string): Promise<EndUserPolicies & { sharerPrincipal: string; destination: S3Destination }> {
    return this.profiles.policies(id);
  }

  verifyProfile(id: string): Promise<VerifyReport> {
    return this.profiles.verify(id);
  }

  // ---- datasets -------------------------------------------------------------

  setDataset(id: string, input: DatasetInput): Promise<DatasetRow> {
    return this.datasets.set(id, input);
  }

  getDataset(id: string): Promise<DatasetRow> {
    return this.datasets.get(id);
  }

  listDatasets(): Promise<DatasetRow[]> {
    return this.datasets.list();
  }

  deleteDataset(id: string): Promise<void> {
    return this.datasets.delete(id);
  }

  // ---- deliveries -----------------------------------------------------------

  share(profileId: string, datasetId: string, opts: ShareOptions = {}): Promise<DeliveryView> {
    return this.deliveries.share(profileId, datasetId, opts);
  }

  getDelivery(id: string): Promise<DeliveryView> {
    return this.deliveries.get(id);
  }

  listDeliveries(filter: DeliveryFilter = {}): Promise<DeliveryView[]> {
    return this.deliveries.list(filter);
  }

  waitForDelivery(id: string, onProgress?: (v: DeliveryView) => void, pollMs = 1000): Promise<DeliveryView> {
    return this.deliveries.wait(id, onProgress, pollMs);
  }

  cancelDelivery(id: string, waitMs = 60_000): Promise<DeliveryView> {
    return this.deliveries.cancel(id, waitMs);
  }

  replay(id: string): Promise<DeliveryView> {
    return this.deliveries.replay(id);
  }

  replayFailed(
    filter: Omit<DeliveryFilter, 'status'>,
    opts: { maxParallel?: number; onStarted?: (v: DeliveryView) => void } = {},
  ): Promise<ReplayOutcome[]> {
    return this.deliveries.replayFailed(filter, opts);
  }
}
