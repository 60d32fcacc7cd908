import { describe, expect, it } from 'vitest';
import { DEFAULT_SHUTDOWN_GRACE_MS, shutdownGraceMs, shutdownOptions } from '../../worker/graceful-shutdown';

describe('worker shutdown grace', () => {
  it('is 30s by default, else the flag, else DATASHARE_SHUTDOWN_GRACE', () => {
    expect(shutdownGraceMs(undefined, {})).toBe(DEFAULT_SHUTDOWN_GRACE_MS);
    expect(DEFAULT_SHUTDOWN_GRACE_MS).toBe(30_000);
    expect(shutdownGraceMs(undefined, { DATASHARE_SHUTDOWN_GRACE: '2m' })).toBe(120_000);
    expect(shutdownGraceMs('45s', { DATASHARE_SHUTDOWN_GRACE: '2m' })).toBe(45_000);
    expect(() => shutdownGraceMs('30', {})).toThrow(/--shutdown-grace must be a duration/);
    expect(() => shutdownGraceMs(undefined, { DATASHARE_SHUTDOWN_GRACE: '2h' })).toThrow(/DATASHARE_SHUTDOWN_GRACE/);
  });

  it('drains first and keeps the end of the grace for cancelled uploads to checkpoint', () => {
    expect(shutdownOptions(30_000)).toEqual({ shutdownGraceTime: 25_000, shutdownForceTime: 30_000 });
    expect(shutdownOptions(2_000)).toEqual({ shutdownGraceTime: 1_000, shutdownForceTime: 2_000 });
  });
});
