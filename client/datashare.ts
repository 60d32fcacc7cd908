import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Pool } from 'pg';
import { createPool } from '../common/infra/pool';
import { createAwsAccess, type AwsAccess } from '../common/infra/aws';
import { loadConfig, type Config } from '../common/infra/config';
import {
  destinationFromProperties,
  generateExternalId,
  normalizePrefix,
  type S3Destination,
  deliverableDestination,
} from '../common/domain/destination';
import { validateDatasetId, validateProfileId, validatePropertyName } from '../common/domain/ids';
import { ConflictError, DatashareError, ValidationError } from '../common/errors';
import { buildPolicies, sharerRootArn, type EndUserPolicies } from '../common/domain/policy';
import { assertSingleSelect, bindNamedParams, namedParams, trimStatement } from '../common/domain/sql-params';
import * as datasets from '../common/store/datasets';
import * as deliveries from '../common/store/deliveries';
import { migrate, type AppliedMigration } from '../common/store/migrate';
import * as profiles from '../common/store/profiles';
import {
  DEFAULT_COMPRESSION,
  compressionProblem,
  effectiveCompression,
  workflowIdFor,
  type Compression,
  type DeliveryInput,
  type DeliveryView,
  type Format,
} from '../common/contracts/delivery';
import { deliveryWorkflow } from '../workflows';
import { newDeliveryId } from '../common/domain/ids';
import { verifyDestination, type VerifyReport } from './verify';

export type { DatasetRow } from '../common/store/datasets';
export type { ProfileRow } from '../common/store/profiles';
export type { DeliveryFilter } from '../common/store/deliveries';

export interface DatasetInput {
  sql: string;
  keyColumns: string[];
  format?: Format;
  compression?: Compression;
  /** A timestamp/date column: each delivery then carries only rows whose column moved past the last completed one. */
  incrementalColumn?: string;
  /** Re-send this far before the last watermark, to catch rows that arrive late. */
  lookbackSeconds?: number;
}

export interface ShareOptions {
  format?: Format;
  compression?: Compression;
  /** Target maximum stored size of one file (default 256 MiB). */
  maxFileBytes?: number;
  /** Files exported at once for this delivery (default 4). */
  maxParallelFiles?: number;
  /** Incremental datasets: send everything up to now, ignoring the watermark. */
  fullRefresh?: boolean;
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
    validateDatasetId(id);
    const format = input.format ?? 'csv';
    const compression = input.compression ?? DEFAULT_COMPRESSION[format];
    const problem = compressionProblem(format, compression);
    if (problem) throw new ValidationError(problem);
    if (input.keyColumns.length === 0 || input.keyColumns.some((k) => k.trim() === '')) {
      throw new ValidationError('--key needs one or more column names, e.g. --key id or --key tenant_id,id');
    }
    if (new Set(input.keyColumns).size !== input.keyColumns.length) throw new ValidationError('--key names a column twice');
    if (input.lookbackSeconds !== undefined && !input.incrementalColumn) {
      throw new ValidationError('--lookback applies to incremental datasets only; add --incremental <column>');
    }
    if (input.lookbackSeconds !== undefined && (!Number.isInteger(input.lookbackSeconds) || input.lookbackSeconds < 0)) {
      throw new ValidationError('--lookback must be a duration such as 15m, 1h or 2d');
    }
    assertSingleSelect(input.sql);
    const sql = trimStatement(input.sql);
    await this.checkDatasetSql(sql, input.keyColumns);
    if (input.incrementalColumn) await this.checkIncrementalColumn(sql, input.incrementalColumn);
    return datasets.saveDataset(this.metaPool, {
      id,
      sql,
      keyColumns: input.keyColumns,
      format,
      compression,
      incrementalColumn: input.incrementalColumn ?? null,
      lookbackSeconds: input.lookbackSeconds ?? 0,
    });
  }

  /** The incremental column must be an output column of a timestamp or date type: windows are times. */
  private async checkIncrementalColumn(sql: string, column: string): Promise<void> {
    const names = namedParams(sql);
    // NULL is a valid value of every type, so the query can be described without a profile.
    const bound = bindNamedParams(sql, Object.fromEntries(names.map((n) => [n, ''])), '(check)');
    const client = await this.sourcePool.connect();
    try {
      await client.query('BEGIN READ ONLY');
      const res = await client.query({
        text: `SELECT datashare_src."${column.replace(/"/g, '""')}" FROM (\n${bound.text}\n) AS datashare_src LIMIT 0`,
        values: names.map(() => null),
      });
      const TIME_TYPES = new Set([1082, 1114, 1184]); // date, timestamp, timestamptz
      if (!TIME_TYPES.has(res.fields[0]?.dataTypeID ?? 0)) {
        throw new ValidationError(`--incremental column "${column}" must be a timestamp, timestamptz or date column of the query`);
      }
    } catch (e) {
      if (e instanceof ValidationError) throw e;
      throw new ValidationError(`--incremental: ${e instanceof Error ? e.message : String(e)}; name one of the query's output columns`);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
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
    deliverableDestination(profile, dataset.sql);
    const format = opts.format ?? dataset.format;
    const compression = effectiveCompression(format, opts.compression, dataset);
    const problem = compressionProblem(format, compression);
    if (problem) throw new ValidationError(problem);

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
    if (opts.fullRefresh && !dataset.incrementalColumn) {
      throw new ValidationError(`--full-refresh applies to incremental datasets; "${datasetId}" always sends everything`);
    }
    await deliveries.insertDelivery(this.metaPool, {
      id: input.deliveryId,
      workflowId,
      profileId,
      datasetId,
      format,
      compression,
      fullRefresh: opts.fullRefresh ?? false,
    });
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
   * Runs a failed or cancelled delivery again under the same id, with the
   * profile as it is now. Files already recorded complete under an unchanged
   * prefix are kept and skipped; an interrupted file continues its upload; an
   * incremental delivery keeps its window. A completed delivery is never re-sent.
   */
  async replay(id: string): Promise<DeliveryView> {
    const view = await deliveries.getDelivery(this.metaPool, id);
    if (view.status === 'completed') {
      throw new ConflictError(
        `delivery ${id} already completed; a completed delivery is never sent twice. To send the data again, start a new delivery: datashare share ${view.profileId} ${view.datasetId}`,
      );
    }
    if (view.status === 'running') throw new ConflictError(`delivery ${id} is still running; cancel it first (datashare cancel ${id}) or wait`);
    const profile = await profiles.getProfile(this.metaPool, view.profileId);
    const dataset = await datasets.getDataset(this.metaPool, view.datasetId);
    deliverableDestination(profile, dataset.sql);

    const temporal = await this.temporalClient();
    // Our table records the failure a moment before the workflow run closes; the
    // new run may only start once it has.
    await this.waitForRunToClose(view.workflowId);
    if (!(await deliveries.restartDelivery(this.metaPool, id))) throw new ConflictError(`delivery ${id} changed state meanwhile; look again with: datashare delivery ${id}`);
    const { rows } = await this.metaPool.query<{ max_file_bytes: string | null }>('SELECT max_file_bytes FROM deliveries WHERE id = $1', [id]);
    const maxFileBytes = rows[0]?.max_file_bytes ? Number(rows[0].max_file_bytes) : undefined;
    const input: DeliveryInput = {
      deliveryId: id,
      profileId: view.profileId,
      datasetId: view.datasetId,
      format: view.format,
      compression: view.compression,
      ...(maxFileBytes ? { maxFileBytes } : {}),
    };
    try {
      await temporal.workflow.start(deliveryWorkflow, {
        taskQueue: this.config.taskQueue,
        workflowId: view.workflowId,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      });
    } catch (e) {
      await deliveries.failDelivery(this.metaPool, id, 'failed', { type: 'ReplayStartFailed', message: String(e) });
      if (e instanceof WorkflowExecutionAlreadyStartedError) {
        throw new ConflictError(`Temporal refused to run delivery ${id} again (its workflow ${view.workflowId} completed or is still open)`);
      }
      throw e;
    }
    return deliveries.getDelivery(this.metaPool, id);
  }

  private async waitForRunToClose(workflowId: string, timeoutMs = 30_000): Promise<void> {
    const handle = (await this.temporalClient()).workflow.getHandle(workflowId);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const desc = await handle.describe().catch(() => undefined);
      if (!desc || desc.status.name !== 'RUNNING') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Replays every failed delivery matching the filter, at most `maxParallel`
   * running at once; returns each one's final state (or its start error).
   */
  async replayFailed(
    filter: Omit<deliveries.DeliveryFilter, 'status'>,
    opts: { maxParallel?: number; onStarted?: (v: DeliveryView) => void } = {},
  ): Promise<{ id: string; result?: DeliveryView; error?: { type: string; message: string } }[]> {
    const failed = await deliveries.listDeliveries(this.metaPool, { ...filter, status: 'failed', limit: filter.limit ?? 1000 });
    const limit = Math.max(1, opts.maxParallel ?? 5);
    const out: { id: string; result?: DeliveryView; error?: { type: string; message: string } }[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < failed.length) {
        const d = failed[next++];
        try {
          // Not `onStarted?.(await …)`: optional call skips evaluating its argument when absent.
          const started = await this.replay(d.id);
          opts.onStarted?.(started);
          out.push({ id: d.id, result: await this.waitForDelivery(d.id) });
        } catch (e) {
          const type = e instanceof DatashareError ? e.type : 'Error';
          out.push({ id: d.id, error: { type, message: e instanceof Error ? e.message : String(e) } });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, failed.length) }, worker));
    return out;
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
