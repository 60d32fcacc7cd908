/**
 * The two guards a dataset carries: who may receive its rows (the tenancy guard),
 * and how long its query may think before it must produce them (the statement timeout).
 */
import { ValidationError } from '../errors';
import { namedParams } from './sql-params';

/**
 * 10 minutes. Planning (describe, sample, the first range's keys) and the time to a
 * COPY's first output normally take seconds, even on large tables: the export streams.
 * A query still thinking after 10 minutes is almost always a missing join condition or
 * index, and holds a source backend (and its snapshot, which blocks vacuum) all the
 * while. Long enough for a legitimately heavy aggregate on a replica; raise it per
 * dataset when one needs more.
 */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 10 * 60 * 1000;

export function statementTimeoutOf(d: { statementTimeoutMs: number | null }): number {
  return d.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
}

/** Why a dataset that names no property is refused, for `dataset set` and `schedule create --where`. */
export function sameRowsRisk(datasetId: string): string {
  return (
    `dataset "${datasetId}"'s SQL names no profile property (such as :tenant_id), so every end user would receive the same rows — ` +
    `right for shared reference data, a data leak if a filter like WHERE tenant_id = :tenant_id was forgotten`
  );
}

/** The tenancy guard at `dataset set`: a property-less query must be declared same-for-everyone. */
export function checkTenancy(datasetId: string, sql: string, sameForEveryone: boolean): void {
  if (sameForEveryone || namedParams(sql).length > 0) return;
  throw new ValidationError(
    `${sameRowsRisk(datasetId)}. Add the filter that selects each end user's rows (e.g. WHERE tenant_id = :tenant_id), ` +
      `or, if every end user should indeed get the same rows, declare it with --same-for-everyone`,
  );
}

/** The tenancy guard at `schedule create --where`: one schedule would send the same rows to many end users. */
export function checkFanOutTenancy(d: { id: string; sql: string; sameForEveryone: boolean }): void {
  if (d.sameForEveryone || namedParams(d.sql).length > 0) return;
  throw new ValidationError(
    `${sameRowsRisk(d.id)}, and --where would send them to every matching end user. Add the filter to the dataset ` +
      `(datashare dataset set ${d.id} --sql "… WHERE tenant_id = :tenant_id" …), or declare it with datashare dataset set ${d.id} … --same-for-everyone`,
  );
}

/** --statement-timeout: a positive duration that fits Postgres's statement_timeout (an int of milliseconds). */
export function checkStatementTimeout(ms: number): number {
  if (!Number.isInteger(ms) || ms < 1000 || ms > 2_147_483_647) {
    throw new ValidationError('--statement-timeout must be a duration from 1s to 24d, e.g. 30s, 10m or 2h');
  }
  return ms;
}
