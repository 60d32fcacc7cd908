import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../common/domain/durations';
import { ValidationError } from '../../common/errors';
import { parseDurationFlag, type DurationFlag } from '../../client/cli/arg-grammar';

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
    expect(message(() => parseDurationFlag(flag, '90'))).toContain(`${flag} must be a duration such as 30s, 15m, 1h, 1h30m or 7d, not "90"`);
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
    expect(message(() => parseDurationFlag('--catchup-window', '5s'))).toContain('--catchup-window must be from 10s to 366d');
  });

  it('writes back what it reads', () => {
    for (const ms of [0, 1000, 90_000, 5_400_000, DAY_MS + 1000, 366 * DAY_MS]) {
      expect(parseDurationFlag('--lookback', formatDuration(ms))).toBe(ms);
    }
  });
});
