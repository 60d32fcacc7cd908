import { ValidationError } from '../errors';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Durations in whole seconds: `30s`, `15m`, `1h`, `1h30m`, `7d`. Schedules work
 * to the second, so sub-second values and bare numbers (seconds? milliseconds?)
 * are refused rather than rounded.
 */
export function parseDuration(name: string, v: string, limits: { minMs: number; maxMs: number }): number {
  const example = 'e.g. 30s, 15m, 1h, 1h30m or 7d';
  const s = v.trim();
  if (!/^(\d+[smhd])+$/.test(s)) throw new ValidationError(`${name} must be a duration such as ${example}, not "${v}"`);
  let ms = 0;
  let lastUnit = Infinity;
  for (const m of s.matchAll(/(\d+)([smhd])/g)) {
    const unit = UNIT_MS[m[2]];
    if (unit >= lastUnit) throw new ValidationError(`${name}: write the units from largest to smallest, once each (${example}), not "${v}"`);
    lastUnit = unit;
    ms += Number(m[1]) * unit;
  }
  if (!Number.isSafeInteger(ms) || ms < limits.minMs || ms > limits.maxMs) {
    throw new ValidationError(`${name} must be from ${formatDuration(limits.minMs)} to ${formatDuration(limits.maxMs)}, not "${v}"`);
  }
  return ms;
}

/** The shortest spelling parseDuration reads back: 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms / 1000) * 1000;
  if (rest === 0) return '0s';
  let out = '';
  for (const [u, size] of Object.entries(UNIT_MS).reverse()) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return out;
}
