import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Pool } from 'pg';
import { createPool } from '../common/pool';
import { createAwsAccess, type AwsAccess } from '../common/aws';
import { loadConfig, type Config } from '../common/config';
import {
  destinationFromProperties,
  generateExternalId,
  normalizePrefix,
  validateProfileId,
  validatePropertyName,
  type S3Destination,
} from '../common/destination';
import { ConflictError, MissingPropertyError, ValidationError } from '../common/errors';
import { buildPolicies, sharerRootArn, type EndUserPolicies } from '../common/policy';
import { assertSingleSelect, bindNamedParams, namedParams, trimStatement } from '../common/sql-params';
import * as datasets from '../common/store/datasets';
import * as deliveries from '../common/store/deliveries';
import { migrate, type AppliedMigration } from '../common/store/migrate';
import * as profiles from '../common/store/profiles';
import {
  COMPRESSIONS,
  FORMATS,
  workflowIdFor,
  type Compression,
  type DeliveryInput,
  type DeliveryView,
  type Format,
} from '../common/types';
import { deliveryWorkflow } from '../workflows';
import { newDeliveryId } from './ids';
import { verifyDestination, type VerifyReport } from './verify';

export type { DatasetRow } from '../common/store/datasets';
export type { ProfileRow } from '../common/store/profiles';
export type { DeliveryFilter } from '../common/store/deliveries';

export interface DatasetInput {
  sql: string;
  keyColumns: string[];
  format?: Format;
  compression?: Compression;
}

export interface ShareOptions {
  format?: Format;
  compression?: Compression;
  /** Target maximum stored size of one file (default 256 MiB). */
  maxFileBytes?: number;
  /** Files exported at once for this delivery (default 4). */
  maxParallelFiles?: number;
}

const MAX_PROPERTY_VALUE = 4096;

/**
 * The datashare library: what the CLI calls, and what a backend would import.
 * Every method validates its input first and changes nothing when it fails.
 */
export class Datashare {
  private temporal?: Client;
  private connection?: Connection;
  readonly metaPool: Pool;
  readonly sourcePool: Pool;

  constructor(
    readonly config: Config = loadConfig(),
    readonly aws: AwsAccess = createAwsAccess(),
  ) {
    this.metaPool = createPool(config.databaseUrl, 4);
    this.sourcePool =
      config.sourceDatabaseUrl === config.databaseUrl ? this.metaPool : createPool(config.sourceDatabaseUrl, 2);
  }

  async close(): Promise<void> {
    await this.connection?.close();
    if (this.sourcePool !== this.metaPool) await this.sourcePool.end();
    await this.metaPool.end();
  }

  migrate(): Promise<AppliedMigration[]> {
    return migrate(this.metaPool);
  }

  private async temporalClient(): Promise<Client> {
    if (!this.temporal) {
      this.connection = await Connection.connect({ address: this.config.temporalAddress });
      this.temporal = new Client({ connection: this.connection, namespace: this.config.temporalNamespace });
    }
    return this.temporal;
  }

  // ---- profiles -------------------------------------------------------------

  /**
   * Upserts properties (other keys are kept). A profile without s3_external_id
   * gets a fresh unique one, so every end user's trust policy can require it.
   */
  async setProfile(id: string, updates: Record<string, string>, opts: { unset?: string[] } = {}): Promise<profiles.ProfileRow> {
    validateProfileId(id);
    for (const [k, v] of Object.entries(updates)) {
      validatePropertyName(k);
      if (v.length > MAX_PROPERTY_VALUE) throw new ValidationError(`property "${k}" is longer than ${MAX_PROPERTY_VALUE} characters`);
      if (v.includes('\u0000')) throw new ValidationError(`property "${k}" contains a NUL character, which Postgres cannot store`);
    }
    const existing = await profiles.findProfile(this.metaPool, id);
    const merged: Record<string, string> = { ...(existing?.properties ?? {}), ...updates };
    for (const k of opts.unset ?? []) delete merged[k];
    if (merged.s3_external_id === undefined) merged.s3_external_id = generateExternalId();
    if (merged.s3_prefix !== undefined) merged.s3_prefix = normalizePrefix(merged.s3_prefix);
    destinationFromProperties(merged);
    return profiles.saveProfile(this.metaPool, id, merged);
  }

  getProfile(id: string): Promise<profiles.ProfileRow> {
    return profiles.getProfile(this.metaPool, id);
  }

  listProfiles(): Promise<profiles.ProfileRow[]> {
    return profiles.listProfiles(this.metaPool);
  }

  async deleteProfile(id: string): Promise<void> {
    if (!(await profiles.deleteProfile(this.metaPool, id))) await profiles.getProfile(this.metaPool, id);
  }

  async destination(id: string): Promise<S3Destination> {
    return destinationFromProperties((await profiles.getProfile(this.metaPool, id)).properties);
  }

  /**
   * The sharer principal end users must trust. DATASHARE_SHARER_PRINCIPAL_ARN names
   * it exactly; otherwise the whole sharer account (its root ARN), as in the setup guide.
   */
  async sharerPrincipal(d: S3Destination): Promise<string> {
    const explicit = process.env.DATASHARE_SHARER_PRINCIPAL_ARN;
    if (explicit) return explicit;
    const sts = this.aws.sts(d.region);
    try {
      const me = await sts.send(new GetCallerIdentityCommand({}));
      if (!me.Account) throw new Error('STS GetCallerIdentity returned no account');
      return sharerRootArn(d.partition, me.Account);
    } finally {
      sts.destroy();
    }
  }

  async policies(id: string): Promise<EndUserPolicies & { sharerPrincipal: string }> {
    const d = await this.destination(id);
    const sharerPrincipal = await this.sharerPrincipal(d);
    return { sharerPrincipal, ...buildPolicies(d, sharerPrincipal) };
  }

  async verifyProfile(id: string): Promise<VerifyReport> {
    return verifyDestination(this.aws, id, await this.destination(id));
  }

  // ---- datasets -------------------------------------------------------------

  /** Checks the SQL against the source database (syntax, tables, key columns) before saving it. */
  async setDataset(id: string, input: DatasetInput): Promise<datasets.DatasetRow> {
    validateProfileId(id);
    const format = input.format ?? 'csv';
    const compression = input.compression ?? 'gzip';
    if (!FORMATS.includes(format)) throw new ValidationError(`--format must be one of ${FORMATS.join(', ')}, not "${String(format)}"`);
    if (!COMPRESSIONS.includes(compression)) {
      throw new ValidationError(`--compression must be one of ${COMPRESSIONS.join(', ')}, not "${String(compression)}"`);
    }
    if (input.keyColumns.length === 0 || input.keyColumns.some((k) => k.trim() === '')) {
      throw new ValidationError('--key needs one or more column names, e.g. --key id or --key tenant_id,id');
    }
    if (new Set(input.keyColumns).size !== input.keyColumns.length) throw new ValidationError('--key names a column twice');
    assertSingleSelect(input.sql);
    const sql = trimStatement(input.sql);
    await this.checkDatasetSql(sql, input.keyColumns);
    return datasets.saveDataset(this.metaPool, { id, sql, keyColumns: input.keyColumns, format, compression });
  }

  private async checkDatasetSql(sql: string, keyColumns: string[]): Promise<void> {
    // Placeholders only: no profile is involved yet, and PREPARE infers types without values.
    const placeholders = Object.fromEntries(namedParams(sql).map((n) => [n, '']));
    const bound = bindNamedParams(sql, placeholders, '(check)');
    // Qualified: a bare "datashare_src" would name the whole row of the alias and pass.
    const keys = keyColumns.map((k) => `datashare_src."${k.replace(/"/g, '""')}"`).join(', ');
    const client = await this.sourcePool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`PREPARE datashare_check AS SELECT ${keys} FROM (\n${bound.text}\n) AS datashare_src LIMIT 0`);
      // Prepared statements outlive the transaction; pooled connections must not keep it.
      await client.query('DEALLOCATE datashare_check');
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
      if (code === '42703' && msg.includes('datashare_src.')) {
        throw new ValidationError(`--key: ${msg}; the key must be among the query's output columns`);
      }
      throw new ValidationError(`dataset SQL is not valid on the source database: ${msg}`);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  getDataset(id: string): Promise<datasets.DatasetRow> {
    return datasets.getDataset(this.metaPool, id);
  }

  listDatasets(): Promise<datasets.DatasetRow[]> {
    return datasets.listDatasets(this.metaPool);
  }

  async deleteDataset(id: string): Promise<void> {
    if (!(await datasets.deleteDataset(this.metaPool, id))) await datasets.getDataset(this.metaPool, id);
  }

  // ---- deliveries -----------------------------------------------------------

  /** Starts a delivery after checking everything that can be checked without AWS; returns it as `running`. */
  async share(profileId: string, datasetId: string, opts: ShareOptions = {}): Promise<DeliveryView> {
    const profile = await profiles.getProfile(this.metaPool, profileId);
    const dataset = await datasets.getDataset(this.metaPool, datasetId);
    destinationFromProperties(profile.properties);
    const missing = namedParams(dataset.sql).filter((n) => !Object.prototype.hasOwnProperty.call(profile.properties, n));
    if (missing.length > 0) throw new MissingPropertyError(missing, profileId);
    const format = opts.format ?? dataset.format;
    const compression = opts.compression ?? dataset.compression;
    if (!FORMATS.includes(format)) throw new ValidationError(`--format must be one of ${FORMATS.join(', ')}`);
    if (!COMPRESSIONS.includes(compression)) throw new ValidationError(`--compression must be one of ${COMPRESSIONS.join(', ')}`);

    const temporal = await this.temporalClient();
    const input: DeliveryInput = {
      deliveryId: newDeliveryId(),
      profileId,
      datasetId,
      format,
      compression,
      ...(opts.maxFileBytes ? { maxFileBytes: opts.maxFileBytes } : {}),
      ...(opts.maxParallelFiles ? { maxParallelFiles: opts.maxParallelFiles } : {}),
    };
    const workflowId = workflowIdFor(input.deliveryId);
    await deliveries.insertDelivery(this.metaPool, { id: input.deliveryId, workflowId, profileId, datasetId, format, compression });
    try {
      await temporal.workflow.start(deliveryWorkflow, {
        taskQueue: this.config.taskQueue,
        workflowId,
        args: [input],
        // A completed delivery can never be sent twice by accident; a failed one may be replayed.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      });
    } catch (e) {
      const message = e instanceof WorkflowExecutionAlreadyStartedError ? 'a workflow with this id already exists' : String(e);
      await deliveries.failDelivery(this.metaPool, input.deliveryId, 'failed', { type: 'StartFailed', message });
      if (e instanceof WorkflowExecutionAlreadyStartedError) throw new ConflictError(message);
      throw e;
    }
    return deliveries.getDelivery(this.metaPool, input.deliveryId);
  }

  /**
   * A delivery as our table knows it. A run that Temporal ended without the
   * workflow recording it (terminated, timed out) is reported failed.
   */
  async getDelivery(id: string): Promise<DeliveryView> {
    const view = await deliveries.getDelivery(this.metaPool, id);
    if (view.status !== 'running') return view;
    const temporal = await this.temporalClient();
    try {
      const desc = await temporal.workflow.getHandle(view.workflowId).describe();
      const status = desc.status.name;
      if (status === 'TERMINATED' || status === 'TIMED_OUT') {
        await deliveries.failDelivery(this.metaPool, id, 'failed', { type: status, message: `the workflow was ${status.toLowerCase()} in Temporal` });
        return deliveries.getDelivery(this.metaPool, id);
      }
    } catch {
      // Temporal unreachable or history gone: our table is the record.
    }
    return view;
  }

  /**
   * Cancels a running delivery: its activities stop, its open multipart uploads
   * are aborted where the role allows it (the rest are listed on the delivery),
   * and it ends `cancelled`. Returns once the delivery has left `running`.
   */
  async cancelDelivery(id: string, waitMs = 60_000): Promise<DeliveryView> {
    const view = await deliveries.getDelivery(this.metaPool, id);
    if (view.status !== 'running') {
      throw new ConflictError(`delivery ${id} is already ${view.status}; only a running delivery can be cancelled`);
    }
    const temporal = await this.temporalClient();
    await temporal.workflow.getHandle(view.workflowId).cancel();
    const deadline = Date.now() + waitMs;
    for (;;) {
      const now = await this.getDelivery(id);
      if (now.status !== 'running' || Date.now() > deadline) return now;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  listDeliveries(filter: deliveries.DeliveryFilter = {}): Promise<DeliveryView[]> {
    return deliveries.listDeliveries(this.metaPool, filter);
  }

  /** Polls until the delivery leaves `running`, reporting progress along the way. */
  async waitForDelivery(id: string, onProgress?: (v: DeliveryView) => void, pollMs = 1000): Promise<DeliveryView> {
    for (;;) {
      const view = await this.getDelivery(id);
      if (view.status !== 'running') return view;
      onProgress?.(view);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}
