import { ValidationError } from '../common/errors';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../common/contracts/delivery';

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

export function parseSince(v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const rel = /^(\d+)([smhd])$/.exec(v);
  if (rel) {
    const ms = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(Date.now() - Number(rel[1]) * ms);
  }
  // Only ISO-shaped times: Date.parse('5') would quietly mean the year 2001.
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(t)) throw new ValidationError(`--since must be a time (2026-11-27T00:00:00Z) or a duration ago (90m, 24h, 7d), not "${v}"`);
  return new Date(t);
}

export function parsePositiveInt(name: string, v: string | undefined, max = 1_000_000): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) <= 0 || Number(v) > max) {
    throw new ValidationError(`${name} must be a whole number from 1 to ${max}, not "${v}"`);
  }
  return Number(v);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 };

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

/** Durations like 90s, 15m, 1h, 2d (whole numbers). */
export function parseDurationSeconds(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(v.trim());
  if (!m) throw new ValidationError(`${name} must be a duration such as 90s, 15m, 1h or 2d, not "${v}"`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}
