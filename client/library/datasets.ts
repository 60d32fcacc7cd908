import { validateDatasetId } from '../../common/domain/ids';
import { assertSingleSelect, trimStatement } from '../../common/domain/sql-params';
import { DEFAULT_COMPRESSION, type Compression, type Format } from '../../common/contracts/delivery';
import { ValidationError } from '../../common/errors';
import { checkStatementTimeout, checkTenancy } from '../../common/domain/dataset-guards';
import { outputColumnType, prepareWithKeyColumns, QueryRefused } from '../../common/source/describe-query';
import * as store from '../../common/store/datasets';
import { checkCompression, checkFormat, checkFormatCompression } from './file-format';
import type { LibraryDeps } from './library-deps';

export interface DatasetInput {
  sql: string;
  keyColumns: string[];
  format?: Format;
  compression?: Compression;
  /** A timestamp/date column: each delivery then carries only rows whose column moved past the last completed one. */
  incrementalColumn?: string;
  /** Re-send this far before the last watermark, to catch rows that arrive late. */
  lookbackSeconds?: number;
  /** The SQL names no profile property on purpose: every end user gets the same rows (shared reference data). */
  sameForEveryone?: boolean;
  /** Bound on planning, sampling and the time to the first row (default DEFAULT_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs?: number;
}

/** The types an incremental column may have, as the source database's format_type names them. */
const TIME_TYPES = new Set(['date', 'timestamp without time zone', 'timestamp with time zone']);

/** Datasets: a SELECT over the source database, checked there before it is saved. */
export class Datasets {
  constructor(private readonly deps: Pick<LibraryDeps, 'metaPool' | 'sourcePool'>) {}

  /** Checks the SQL against the source database (syntax, tables, key columns) before saving it. */
  async set(id: string, input: DatasetInput): Promise<store.DatasetRow> {
    validateDatasetId(id);
    const format = checkFormat(input.format ?? 'csv');
    const compression = checkCompression(input.compression ?? DEFAULT_COMPRESSION[format]);
    checkFormatCompression(format, compression);
    if (input.keyColumns.length === 0 || input.keyColumns.some((k) => k.trim() === '')) {
      throw new ValidationError('--key needs one or more column names, e.g. --key id or --key tenant_id,id');
    }
    if (new Set(input.keyColumns).size !== input.keyColumns.length)
      throw new ValidationError('--key names a column twice');
    if (input.lookbackSeconds !== undefined && !input.incrementalColumn) {
      throw new ValidationError('--lookback applies to incremental datasets only; add --incremental <column>');
    }
    if (
      input.lookbackSeconds !== undefined &&
      (!Number.isInteger(input.lookbackSeconds) || input.lookbackSeconds < 0)
    ) {
      throw new ValidationError('--lookback must be a duration such as 15m, 1h or 2d');
    }
    assertSingleSelect(input.sql);
    const sql = trimStatement(input.sql);
    if (input.statementTimeoutMs !== undefined) checkStatementTimeout(input.statementTimeoutMs);
    await this.checkQuery(sql, input.keyColumns);
    if (input.incrementalColumn) await this.checkIncrementalColumn(sql, input.incrementalColumn);
    // After the SQL's own checks, so a broken query is told what is broken first.
    checkTenancy(id, sql, input.sameForEveryone ?? false);
    return store.saveDataset(this.deps.metaPool, {
      id,
      sql,
      keyColumns: input.keyColumns,
      format,
      compression,
      incrementalColumn: input.incrementalColumn ?? null,
      lookbackSeconds: input.lookbackSeconds ?? 0,
      sameForEveryone: input.sameForEveryone ?? false,
      statementTimeoutMs: input.statementTimeoutMs ?? null,
    });
  }

  get(id: string): Promise<store.DatasetRow> {
    return store.getDataset(this.deps.metaPool, id);
  }

  list(): Promise<store.DatasetRow[]> {
    return store.listDatasets(this.deps.metaPool);
  }

  async delete(id: string): Promise<void> {
    if (!(await store.deleteDataset(this.deps.metaPool, id))) await store.getDataset(this.deps.metaPool, id);
  }

  private async checkQuery(sql: string, keyColumns: string[]): Promise<void> {
    try {
      await prepareWithKeyColumns(this.deps.sourcePool, sql, keyColumns);
    } catch (e) {
      if (!(e instanceof QueryRefused)) throw e;
      if (e.unknownColumn)
        throw new ValidationError(`--key: ${e.message}; the key must be among the query's output columns`);
      throw new ValidationError(`dataset SQL is not valid on the source database: ${e.message}`);
    }
  }

  /** The incremental column must be an output column of a timestamp or date type: windows are times. */
  private async checkIncrementalColumn(sql: string, column: string): Promise<void> {
    let type: string;
    try {
      type = await outputColumnType(this.deps.sourcePool, sql, column);
    } catch (e) {
      if (e instanceof QueryRefused)
        throw new ValidationError(`--incremental: ${e.message}; name one of the query's output columns`);
      throw e;
    }
    if (!TIME_TYPES.has(type)) {
      throw new ValidationError(
        `--incremental column "${column}" must be a timestamp, timestamptz or date column of the query`,
      );
    }
  }
}
