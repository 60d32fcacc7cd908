import { ValidationError } from '../errors';

/*
 * The one way durations are written, by operators and in schedule views: whole
 * numbers of days, hours, minutes and seconds, largest unit first, each once, as
 * in 30s, 15m, 1h30m or 7d. Schedules work to the second, so sub-second values
 * and bare numbers (seconds? milliseconds?) are refused rather than rounded.
 */

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };
const EXAMPLES = '30s, 15m, 1h, 1h30m or 7d';
const SHAPE = /^(\d+\s*[dhms]\s*)+$/;

/**
 * A duration in milliseconds, or undefined when `v` is not shaped like one (so a
 * caller can try another reading, as times do). Units out of order are an error.
 */
export function readDuration(name: string, v: string): number | undefined {
  const s = v.trim();
  if (!SHAPE.test(s)) return undefined;
  let ms = 0;
  let lastUnit = Infinity;
  for (const m of s.matchAll(/(\d+)\s*([dhms])/g)) {
    const unit = UNIT_MS[m[2]];
    if (unit >= lastUnit)
      throw new ValidationError(
        `${name}: write the units from largest to smallest, once each (e.g. ${EXAMPLES}), not "${v}"`,
      );
    lastUnit = unit;
    ms += Number(m[1]) * unit;
  }
  return ms;
}

/** A duration in milliseconds, within the flag's limits. */
export function parseDuration(name: string, v: string, limits: { minMs: number; maxMs: number }): number {
  const ms = readDuration(name, v);
  if (ms === undefined) throw new ValidationError(`${name} must be a duration such as ${EXAMPLES}, not "${v}"`);
  if (!Number.isSafeInteger(ms) || ms < limits.minMs || ms > limits.maxMs) {
    throw new ValidationError(
      `${name} must be from ${formatDuration(limits.minMs)} to ${formatDuration(limits.maxMs)}, not "${v}"`,
    );
  }
  return ms;
}

/** The shortest spelling parseDuration reads back: 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms / 1000) * 1000;
  if (rest === 0) return '0s';
  let out = '';
  for (const [u, size] of Object.entries(UNIT_MS)) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return out;
}
