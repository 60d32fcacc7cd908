/**
 * Gauges about the whole fleet, read from our tables (and Temporal's schedule
 * list) at scrape time rather than kept in one worker's memory: every worker
 * reports the same value with no per-worker label, so N workers never multiply
 * them (aggregate them with max(), README "Operations").
 */
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { SCHEDULE_ID_PREFIX } from '../common/contracts/schedule-ids';

/** A scrape must answer even when Postgres does not: a query gets this long. */
const QUERY_TIMEOUT_MS = 3000;
/** Temporal's schedule list changes rarely; one listing serves scrapes for this long. */
const SCHEDULE_LIST_TTL_MS = 60_000;

export interface FleetGaugeDeps {
  metaPool: Pool;
  /** Temporal, for the schedules and their intervals; omitted, the table's schedules alone are reported. */
  temporal?: () => Promise<Client>;
  onError?: (what: string, e: unknown) => void;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

interface ScheduleInfo {
  id: string;
  /** Seconds between its next two runs (intervals, calendars and cron alike); undefined when fewer are planned. */
  intervalSeconds?: number;
}

/** A schedule the table names but the listing lacks (just created) refreshes it, at most this often. */
const SCHEDULE_LIST_MIN_AGE_MS = 5000;

/**
 * Active (unpaused) datashare schedules, listed at most once a minute, or sooner
 * when our table names a schedule the last listing did not have.
 */
function scheduleLister(temporal: () => Promise<Client>): (known: readonly string[]) => Promise<ScheduleInfo[]> {
  let cached: { at: number; list: ScheduleInfo[] } | undefined;
  return async (known) => {
    if (cached) {
      const age = Date.now() - cached.at;
      const ids = new Set(cached.list.map((s) => s.id));
      const missing = known.some((id) => !ids.has(id));
      if (age < SCHEDULE_LIST_TTL_MS && !(missing && age >= SCHEDULE_LIST_MIN_AGE_MS)) return cached.list;
    }
    const client = await temporal();
    const list: ScheduleInfo[] = [];
    for await (const s of client.schedule.list()) {
      if (!s.scheduleId.startsWith(SCHEDULE_ID_PREFIX) || s.state.paused) continue;
      const [a, b] = s.info.nextActionTimes;
      list.push({ id: s.scheduleId, ...(a && b ? { intervalSeconds: (b.getTime() - a.getTime()) / 1000 } : {}) });
    }
    cached = { at: Date.now(), list };
    return list;
  };
}

export function registerFleetGauges(registry: Registry, deps: FleetGaugeDeps): void {
  const noteError = deps.onError ?? (() => undefined);
  const listSchedules = deps.temporal ? scheduleLister(deps.temporal) : undefined;

  new Gauge({
    name: 'datashare_oldest_running_delivery_age_seconds',
    help: 'Age of the oldest delivery still running (0 when none runs), from the deliveries table',
    registers: [registry],
    async collect() {
      try {
        const { rows } = await withTimeout(
          deps.metaPool.query<{ age: number | null }>(
            `SELECT extract(epoch FROM now() - min(attempt_started_at))::float8 AS age FROM deliveries WHERE status = 'running'`,
          ),
          QUERY_TIMEOUT_MS,
          'the oldest running delivery query',
        );
        this.set(rows[0]?.age ?? 0);
      } catch (e) {
        // No value rather than a stale or made-up one: the alert sees the gap (absent()).
        this.reset();
        noteError('datashare_oldest_running_delivery_age_seconds', e);
      }
    },
  });

  const interval = new Gauge({
    name: 'datashare_schedule_interval_seconds',
    help: "Seconds between a schedule's next two runs, from Temporal's schedule list",
    labelNames: ['schedule'] as const,
    registers: [registry],
  });

  new Gauge({
    name: 'datashare_schedule_seconds_since_success',
    help: "Seconds since a schedule's last completed delivery (since its first run's start when none completed yet)",
    labelNames: ['schedule'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      interval.reset();
      let since: { schedule_id: string; since: number }[];
      try {
        ({ rows: since } = await withTimeout(
          deps.metaPool.query<{ schedule_id: string; since: number }>(
            `SELECT schedule_id, extract(epoch FROM now() - coalesce(
                 max(completed_at) FILTER (WHERE status = 'completed'), min(started_at)))::float8 AS since
             FROM deliveries WHERE schedule_id IS NOT NULL GROUP BY schedule_id`,
          ),
          QUERY_TIMEOUT_MS,
          'the last success per schedule query',
        ));
      } catch (e) {
        noteError('datashare_schedule_seconds_since_success', e);
        since = [];
      }
      let schedules: ScheduleInfo[] | undefined;
      try {
        schedules = listSchedules
          ? await withTimeout(listSchedules(since.map((r) => r.schedule_id)), QUERY_TIMEOUT_MS, 'listing schedules')
          : undefined;
      } catch (e) {
        noteError('datashare_schedule_interval_seconds', e);
      }
      for (const s of schedules ?? [])
        if (s.intervalSeconds !== undefined) interval.set({ schedule: s.id }, s.intervalSeconds);
      // Deleted or paused schedules drop out (when Temporal answered): no series that only grows.
      const active = schedules ? new Set(schedules.map((s) => s.id)) : undefined;
      for (const r of since) if (!active || active.has(r.schedule_id)) this.set({ schedule: r.schedule_id }, r.since);
    },
  });
}
