import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../common/domain/durations';
import { ValidationError } from '../../common/errors';
import { parseDurationFlag, parseTime, type DurationFlag } from '../../client/cli/arg-grammar';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
}

const DURATION_FLAGS: DurationFlag[] = ['--every', '--catchup-window', '--lookback'];
const DAY_MS = 86_400_000;

describe('one duration grammar for every duration flag', () => {
  it.each(DURATION_FLAGS)('%s reads 15m, 1h30m, 2d and 1d2h3m4s, and refuses the same mistakes', (flag) => {
    expect(parseDurationFlag(flag, '15m')).toBe(900_000);
    expect(parseDurationFlag(flag, '1h30m')).toBe(5_400_000);
    expect(parseDurationFlag(flag, '2d')).toBe(2 * DAY_MS);
    expect(parseDurationFlag(flag, '1d2h3m4s')).toBe(DAY_MS + 2 * 3_600_000 + 3 * 60_000 + 4_000);
    expect(parseDurationFlag(flag, ' 1h 30m ')).toBe(5_400_000);
    expect(message(() => parseDurationFlag(flag, '90'))).toContain(
      `${flag} must be a duration such as 30s, 15m, 1h, 1h30m or 7d, not "90"`,
    );
    expect(message(() => parseDurationFlag(flag, '1.5h'))).toContain(`${flag} must be a duration`);
    expect(message(() => parseDurationFlag(flag, '-1h'))).toContain(`${flag} must be a duration`);
    expect(message(() => parseDurationFlag(flag, ''))).toContain(`${flag} must be a duration`);
    expect(message(() => parseDurationFlag(flag, '30m1h'))).toContain('largest to smallest');
    expect(message(() => parseDurationFlag(flag, '1h1h'))).toContain('once each');
  });

  it('--lookback takes 1h30m like --every, and still everything it took before', () => {
    expect(parseDurationFlag('--lookback', '1h30m')).toBe(parseDurationFlag('--every', '1h30m'));
    expect(parseDurationFlag('--lookback', '90s')).toBe(90_000);
    expect(parseDurationFlag('--lookback', '15 m')).toBe(900_000);
    expect(parseDurationFlag('--lookback', '0s')).toBe(0);
    expect(parseDurationFlag('--lookback', '400d')).toBe(400 * DAY_MS);
    // lookback_seconds is a 32-bit integer column.
    expect(parseDurationFlag('--lookback', '24855d') / 1000).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(message(() => parseDurationFlag('--lookback', '24856d'))).toContain('--lookback must be from 0s to 24855d');
  });

  it("keeps each flag's own bounds", () => {
    expect(message(() => parseDurationFlag('--every', '0s'))).toContain('--every must be from 1s to 366d, not "0s"');
    expect(message(() => parseDurationFlag('--every', '367d'))).toContain('--every must be from 1s to 366d');
    expect(parseDurationFlag('--catchup-window', '10s')).toBe(10_000);
    expect(message(() => parseDurationFlag('--catchup-window', '5s'))).toContain(
      '--catchup-window must be from 10s to 366d',
    );
  });

  it('writes back what it reads', () => {
    for (const ms of [0, 1000, 90_000, 5_400_000, DAY_MS + 1000, 366 * DAY_MS]) {
      expect(parseDurationFlag('--lookback', formatDuration(ms))).toBe(ms);
    }
  });
});

describe('one time grammar for --since, --from and --to', () => {
  const now = new Date('2026-11-27T12:00:00Z');
  const at = (flag: string, v: string): string => parseTime(flag, v, now).toISOString();

  it.each(['--since', '--from', '--to'])('%s reads ISO 8601 and durations ago alike', (flag) => {
    expect(at(flag, '2026-11-01T00:00:00Z')).toBe('2026-11-01T00:00:00.000Z');
    expect(at(flag, '2026-11-01T01:00:00+01:00')).toBe('2026-11-01T00:00:00.000Z');
    expect(at(flag, '2026-11-01')).toBe('2026-11-01T00:00:00.000Z');
    expect(at(flag, '90m')).toBe('2026-11-27T10:30:00.000Z');
    expect(at(flag, '24h')).toBe('2026-11-26T12:00:00.000Z');
    expect(at(flag, '7d')).toBe('2026-11-20T12:00:00.000Z');
    expect(at(flag, ' 2h ')).toBe('2026-11-27T10:00:00.000Z');
    // The duration grammar's, so what --every takes works as "that long ago" too.
    expect(at(flag, '1h30m')).toBe('2026-11-27T10:30:00.000Z');
    expect(at(flag, '0s')).toBe(now.toISOString());
  });

  it('refuses what is neither, naming the flag', () => {
    const expected = 'must be a time (2026-11-27T00:00:00Z) or a duration ago (90m, 24h, 7d)';
    expect(message(() => parseTime('--since', 'notatime', now))).toBe(`--since ${expected}, not "notatime"`);
    // Date.parse('5') would be a time in 2001.
    expect(message(() => parseTime('--since', '5', now))).toBe(`--since ${expected}, not "5"`);
    expect(message(() => parseTime('--from', '2026-13-45', now))).toBe(`--from ${expected}, not "2026-13-45"`);
    expect(message(() => parseTime('--to', '', now))).toContain(`--to ${expected}`);
    expect(message(() => parseTime('--since', '99999999999d', now))).toContain(`--since ${expected}`);
    expect(message(() => parseTime('--since', '30m1h', now))).toContain('largest to smallest');
  });
});
