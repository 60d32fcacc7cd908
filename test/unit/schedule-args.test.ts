import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../common/errors';
import {
  canonicalWhere,
  deliveryStamp,
  fnv1a32Hex,
  nominalTimeFromWorkflowId,
  profileScheduleId,
  scheduledDeliveryId,
  whereScheduleId,
} from '../../common/contracts/schedule-ids';
import { formatDuration, parseDuration } from '../../common/domain/durations';
import { parseTime, parseWhere, validateCron, validateTimezone } from '../../client/cli/arg-grammar';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
}

const LIMITS = { minMs: 1000, maxMs: 366 * 86_400_000 };

describe('schedule arguments', () => {
  it('reads durations in whole seconds and writes them back the same way', () => {
    expect(parseDuration('--every', '2s', LIMITS)).toBe(2000);
    expect(parseDuration('--every', '1h30m', LIMITS)).toBe(5_400_000);
    expect(parseDuration('--every', '7d', LIMITS)).toBe(7 * 86_400_000);
    for (const ms of [1000, 90_000, 5_400_000, 86_400_000 + 1000])
      expect(parseDuration('--every', formatDuration(ms), LIMITS)).toBe(ms);
    expect(message(() => parseDuration('--every', '90', LIMITS))).toContain('must be a duration');
    expect(message(() => parseDuration('--every', '1.5h', LIMITS))).toContain('must be a duration');
    expect(message(() => parseDuration('--every', '30m1h', LIMITS))).toContain('largest to smallest');
    expect(message(() => parseDuration('--every', '0s', LIMITS))).toContain('from 1s to 366d');
  });

  it('checks cron expressions and time zones before Temporal sees them', () => {
    expect(validateCron('  0 2  * * * ')).toBe('0 2 * * *');
    expect(validateCron('@Daily')).toBe('@daily');
    expect(message(() => validateCron('0 2 * *'))).toContain('has 4 fields');
    expect(message(() => validateCron('@every 1h'))).toContain('use --every');
    expect(message(() => validateCron('CRON_TZ=Europe/Paris 0 2 * * *'))).toContain('--timezone');
    expect(message(() => validateCron('0 2 * * * ; rm'))).toContain('not a cron field');
    expect(validateTimezone('Europe/Paris')).toBe('Europe/Paris');
    expect(message(() => validateTimezone('Mars/Olympus'))).toContain('not a time zone');
  });

  it('parses --where filters and refuses secrets and duplicates', () => {
    expect(parseWhere(['plan=enterprise,region=eu', 'tier=a=b'])).toEqual({
      plan: 'enterprise',
      region: 'eu',
      tier: 'a=b',
    });
    expect(parseWhere(['plan='])).toEqual({ plan: '' });
    expect(message(() => parseWhere(['plan']))).toContain('not key=value');
    expect(message(() => parseWhere(['plan=a', 'plan=b']))).toContain('twice');
    expect(message(() => parseWhere(['s3_external_id=x']))).toContain('secret');
    expect(message(() => parseWhere(['1plan=x']))).toContain('property name');
  });

  it('reads times as ISO 8601 or a duration ago', () => {
    const now = new Date('2026-11-27T12:00:00Z');
    expect(parseTime('--from', '2h', now).toISOString()).toBe('2026-11-27T10:00:00.000Z');
    expect(parseTime('--from', '2026-11-01T00:00:00Z', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(message(() => parseTime('--from', '5', now))).toContain('--from must be a time');
  });
});

describe('schedule and delivery ids', () => {
  it('names each profile × dataset and each filter × dataset once', () => {
    expect(profileScheduleId('acme', 'orders')).toBe('datashare:acme:orders');
    // With '-' as separator these two would collide.
    expect(profileScheduleId('a-b', 'c')).not.toBe(profileScheduleId('a', 'b-c'));
    expect(whereScheduleId({ region: 'eu', plan: 'enterprise' }, 'orders')).toBe(
      'datashare:where(plan=enterprise,region=eu):orders',
    );
    expect(canonicalWhere({ a: 'x,b=y' })).not.toBe(canonicalWhere({ a: 'x', b: 'y' }));
  });

  it('derives a delivery id from the scheduled time alone, in the shape of a share id', () => {
    const t = new Date('2026-11-28T01:00:00.000Z');
    const id = scheduledDeliveryId('datashare:acme:orders', 'acme', t);
    expect(id).toMatch(/^20261128T010000Z-[0-9a-f]{8}$/);
    expect(scheduledDeliveryId('datashare:acme:orders', 'acme', new Date(t))).toBe(id);
    expect(scheduledDeliveryId('datashare:acme:orders', 'globex', t)).not.toBe(id);
    expect(scheduledDeliveryId('datashare:where(plan=x):orders', 'acme', t)).not.toBe(id);
    // Pinned: delivery ids already in tables must keep meaning the same run.
    expect(fnv1a32Hex('')).toBe('811c9dc5');
    expect(fnv1a32Hex('a')).toBe('e40c292c');
    expect(deliveryStamp(new Date('2026-11-27T22:48:26.987Z'))).toBe('20261127T224826Z');
  });

  it('reads the nominal time Temporal appends to a scheduled run id', () => {
    expect(
      nominalTimeFromWorkflowId('datashare:acme:orders-2026-11-28T01:00:00Z', 'datashare:acme:orders')?.toISOString(),
    ).toBe('2026-11-28T01:00:00.000Z');
    expect(nominalTimeFromWorkflowId('datashare:acme:orders', 'datashare:acme:orders')).toBeUndefined();
    expect(nominalTimeFromWorkflowId('other-2026-11-28T01:00:00Z', 'datashare:acme:orders')).toBeUndefined();
  });
});
