import { parseDuration, readDuration } from '../../common/domain/durations';
import { validatePropertyName } from '../../common/domain/ids';
import { ValidationError } from '../../common/errors';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../common/contracts/delivery';
import { OVERLAP_POLICIES, type OverlapName } from '../library/overlap-policies';
import { MIN_CATCHUP_WINDOW_MS } from '../library/schedule-input';

/*
 * The CLI's argument grammar: how every flag's value is read, and what is refused
 * with which message. Durations and times share one duration grammar.
 */

/** `key=value` pairs; the value may itself contain '='. */
export function parseAssignments(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ValidationError(`"${pair}" is not key=value; write e.g. s3_bucket=acme-data`);
    const key = pair.slice(0, eq);
    if (key in out) throw new ValidationError(`property "${key}" is given twice`);
    out[key] = pair.slice(eq + 1);
  }
  return out;
}

export function parseStatus(v: string | undefined): DeliveryStatus | undefined {
  if (v === undefined) return undefined;
  if (!(DELIVERY_STATUSES as readonly string[]).includes(v)) {
    throw new ValidationError(`--status must be one of ${DELIVERY_STATUSES.join(', ')}, not "${v}"`);
  }
  return v as DeliveryStatus;
}

export function parseKeyColumns(v: string): string[] {
  return v.split(',').map((k) => k.trim());
}

export function parsePositiveInt(name: string, v: string | undefined, max = 1_000_000): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) <= 0 || Number(v) > max) {
    throw new ValidationError(`${name} must be a whole number from 1 to ${max}, not "${v}"`);
  }
  return Number(v);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** Sizes like 256MiB, 1GB, 500k or plain bytes; at least 1 KiB, at most 5 TiB (an S3 object's limit). */
export function parseSize(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  const bytes = m && unit ? Math.floor(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isFinite(bytes) || bytes < 1024 || bytes > 5 * 1024 ** 4) {
    throw new ValidationError(`${name} must be a size from 1KiB to 5TiB such as 256MiB or 1GB, not "${v}"`);
  }
  return bytes;
}

const DAY_MS = 86_400_000;

/** Every duration flag and its bounds; all of them read the one duration grammar (common/domain/durations.ts). */
const DURATION_FLAGS = {
  '--every': { minMs: 1_000, maxMs: 366 * DAY_MS },
  '--catchup-window': { minMs: MIN_CATCHUP_WINDOW_MS, maxMs: 366 * DAY_MS },
  // Stored in lookback_seconds, a 32-bit integer column: 24855 days is the most whole days it holds.
  '--lookback': { minMs: 0, maxMs: 24_855 * DAY_MS },
  // Postgres's statement_timeout is a 32-bit count of milliseconds: 24 days is the most it holds.
  '--statement-timeout': { minMs: 1_000, maxMs: 24 * DAY_MS },
} as const;

export type DurationFlag = keyof typeof DURATION_FLAGS;

/** A duration flag's value in milliseconds (whole seconds): `30s`, `15m`, `1h30m`, `7d`. */
export function parseDurationFlag(flag: DurationFlag, v: string): number {
  return parseDuration(flag, v, DURATION_FLAGS[flag]);
}

/**
 * A point in time, for --since, --from and --to: ISO 8601 (`2026-11-27T00:00:00Z`,
 * `2026-11-27`) or a duration ago in the one duration grammar (`90m`, `24h`, `1h30m`).
 */
export function parseTime(name: string, v: string, now: Date = new Date()): Date {
  const ago = readDuration(name, v);
  const s = v.trim();
  // Only ISO-shaped times: Date.parse('5') would quietly mean the year 2001.
  const iso = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : Number.NaN;
  // A duration too long to subtract (`99999999999d`) gives an Invalid Date, refused like any non-time.
  const time = new Date(ago !== undefined ? now.getTime() - ago : iso);
  if (Number.isNaN(time.getTime())) {
    throw new ValidationError(
      `${name} must be a time (2026-11-27T00:00:00Z) or a duration ago (90m, 24h, 7d), not "${v}"`,
    );
  }
  return time;
}

export function parseOverlap(name: string, v: string): OverlapName {
  if (!Object.prototype.hasOwnProperty.call(OVERLAP_POLICIES, v)) {
    throw new ValidationError(`${name} must be one of ${Object.keys(OVERLAP_POLICIES).join(', ')}, not "${v}"`);
  }
  return v as OverlapName;
}

const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/**
 * A first check of a cron expression (Temporal's own parser has the last word,
 * and its refusal is reported the same way): 5 fields (minute hour day-of-month
 * month day-of-week), 6 (+ year) or 7 (second first, + year), or a macro.
 */
export function validateCron(expr: string): string {
  const e = expr.trim().replace(/\s+/g, ' ');
  const example = 'e.g. --cron "0 2 * * *" (02:00 every day) or --cron "*/15 * * * *"';
  if (e === '') throw new ValidationError(`--cron is empty; ${example}`);
  if (/^(CRON_)?TZ=/i.test(e)) {
    throw new ValidationError(`--cron: give the time zone with --timezone, not inside the expression ("${expr}")`);
  }
  if (/^@every\b/i.test(e))
    throw new ValidationError(`--cron "${expr}": for a fixed interval use --every (e.g. --every 1h)`);
  if (e.startsWith('@')) {
    if (!CRON_MACROS.includes(e.toLowerCase())) {
      throw new ValidationError(`--cron "${expr}" is not a cron macro; the macros are ${CRON_MACROS.join(', ')}`);
    }
    return e.toLowerCase();
  }
  const fields = e.split(' ');
  if (fields.length < 5 || fields.length > 7) {
    throw new ValidationError(
      `--cron "${expr}" has ${fields.length} field${fields.length === 1 ? '' : 's'}; write 5 (minute hour day-of-month month day-of-week), ${example}`,
    );
  }
  for (const f of fields) {
    if (!/^[A-Za-z0-9*?/,-]+$/.test(f))
      throw new ValidationError(`--cron "${expr}": field "${f}" is not a cron field; ${example}`);
  }
  return e;
}

/** An IANA time zone name this machine knows (`Europe/Paris`, `UTC`); Temporal checks it again with its own tz data. */
export function validateTimezone(tz: string): string {
  const t = tz.trim();
  if (t === '')
    throw new ValidationError('--timezone is empty; give an IANA name such as UTC, Europe/Paris or America/New_York');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: t });
  } catch {
    throw new ValidationError(
      `--timezone "${tz}" is not a time zone; give an IANA name such as UTC, Europe/Paris or America/New_York`,
    );
  }
  return t;
}

/** Keys that must never travel into Temporal in a filter: their values are secrets. */
const SECRET_KEYS = new Set(['s3_external_id']);

/**
 * `--where plan=enterprise,region=eu` (the option may also be repeated): every
 * pair must match a profile's property exactly. Values cannot contain ',' (it
 * separates pairs); '=' after the first is part of the value.
 */
export function parseWhere(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const example = 'e.g. --where plan=enterprise or --where plan=enterprise,region=eu';
  for (const v of values) {
    for (const pair of v.split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new ValidationError(`--where "${pair}" is not key=value; ${example}`);
      const key = pair.slice(0, eq).trim();
      validatePropertyName(key);
      if (SECRET_KEYS.has(key)) {
        throw new ValidationError(
          `--where cannot filter on ${key}: the filter is stored in Temporal, and ${key} is a secret`,
        );
      }
      if (key in out) throw new ValidationError(`--where names "${key}" twice`);
      out[key] = pair.slice(eq + 1);
    }
  }
  if (Object.keys(out).length === 0) throw new ValidationError(`--where needs at least one key=value; ${example}`);
  return out;
}
