import { describe, expect, it } from 'vitest';
import {
  SCHEDULE_ID_PREFIX,
  canonicalWhere,
  deliveryStamp,
  fnv1a32Hex,
  nominalTimeFromWorkflowId,
  profileScheduleId,
  scheduledDeliveryId,
  scheduledDeliverySuffix,
  whereScheduleId,
} from '../../common/contracts/schedule-ids';
import { newDeliveryId } from '../../common/domain/ids';

// The ids in common/contracts/schedule-ids.ts name Temporal schedules and the deliveries their
// runs start. They are stored (schedule ids in Temporal, delivery ids in our tables and S3 keys),
// so the values are pinned: a change that gives the same inputs another id fails here.
// The pinned hashes were computed with a separate implementation of FNV-1a, not with this code.

describe('profileScheduleId', () => {
  it('is the prefix, the profile and the dataset, separated by ":"', () => {
    expect(SCHEDULE_ID_PREFIX).toBe('datashare:');
    expect(profileScheduleId('acme', 'orders')).toBe('datashare:acme:orders');
    expect(profileScheduleId('acme-corp.eu', 'orders_v2')).toBe('datashare:acme-corp.eu:orders_v2');
  });

  it('names exactly one profile × dataset pair', () => {
    // Ids may contain '-' but never ':', so a '-' separator would make these two one id.
    expect(profileScheduleId('a-b', 'c')).not.toBe(profileScheduleId('a', 'b-c'));
    expect(profileScheduleId('a', 'b')).not.toBe(profileScheduleId('b', 'a'));
  });
});

describe('canonicalWhere', () => {
  it('sorts the keys, whatever order the filter was written in', () => {
    expect(canonicalWhere({ region: 'eu', plan: 'enterprise' })).toBe('plan=enterprise,region=eu');
    expect(canonicalWhere({ c: '3', a: '1', b: '2' })).toBe('a=1,b=2,c=3');
    expect(canonicalWhere({ b: '2', c: '3', a: '1' })).toBe(canonicalWhere({ a: '1', b: '2', c: '3' }));
    // By code unit, as Array.prototype.sort does: upper case, then '_', then lower case.
    expect(canonicalWhere({ b: '1', _a: '2', B: '3' })).toBe('B=3,_a=2,b=1');
  });

  it('percent-encodes values, so a value cannot pose as a separator', () => {
    expect(canonicalWhere({ a: 'x,b=y' })).toBe('a=x%2Cb%3Dy');
    expect(canonicalWhere({ a: 'x,b=y' })).not.toBe(canonicalWhere({ a: 'x', b: 'y' }));
    expect(canonicalWhere({ k: 'a b' })).toBe('k=a%20b');
    expect(canonicalWhere({ k: '100%' })).toBe('k=100%25');
    expect(canonicalWhere({ k: 'a:b/c' })).toBe('k=a%3Ab%2Fc');
    expect(canonicalWhere({ k: 'Zürich' })).toBe('k=Z%C3%BCrich');
    expect(canonicalWhere({ k: 'plain-value_1.2~x' })).toBe('k=plain-value_1.2~x');
  });

  it('keeps empty values and writes an empty filter as ""', () => {
    expect(canonicalWhere({ plan: '' })).toBe('plan=');
    expect(canonicalWhere({})).toBe('');
  });
});

describe('whereScheduleId', () => {
  it('wraps the canonical filter in where(…) before the dataset', () => {
    expect(whereScheduleId({ region: 'eu', plan: 'enterprise' }, 'orders')).toBe(
      'datashare:where(plan=enterprise,region=eu):orders',
    );
    expect(whereScheduleId({ plan: 'enterprise', region: 'eu' }, 'orders')).toBe(
      whereScheduleId({ region: 'eu', plan: 'enterprise' }, 'orders'),
    );
    expect(whereScheduleId({ k: 'a,b' }, 'orders')).toBe('datashare:where(k=a%2Cb):orders');
    expect(whereScheduleId({}, 'orders')).toBe('datashare:where():orders');
  });

  it('never meets a profile schedule id', () => {
    // A profile id starts with a letter or digit, never with '('.
    expect(whereScheduleId({ plan: 'x' }, 'orders')).not.toBe(profileScheduleId('where', 'orders'));
    expect(whereScheduleId({}, 'orders').startsWith('datashare:where(')).toBe(true);
    expect(profileScheduleId('where', 'orders').startsWith('datashare:where(')).toBe(false);
  });
});

describe('fnv1a32Hex', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a32Hex('')).toBe('811c9dc5');
    expect(fnv1a32Hex('a')).toBe('e40c292c');
    expect(fnv1a32Hex('b')).toBe('e70c2de5');
    expect(fnv1a32Hex('foo')).toBe('a9f37ed7');
    expect(fnv1a32Hex('foobar')).toBe('bf9cf968');
  });

  it('writes 8 lowercase hex digits, leading zeros included', () => {
    expect(fnv1a32Hex('id110')).toBe('00719bf2');
    for (const s of ['', 'a', 'id110', 'datashare:acme:orders\nacme', '🚀'])
      expect(fnv1a32Hex(s)).toMatch(/^[0-9a-f]{8}$/);
  });

  it('hashes UTF-16 code units, not UTF-8 bytes', () => {
    // U+00E9 is one code unit, 0xE9; in UTF-8 it would be two bytes (FNV-1a of those: 1e9de8c1).
    expect(fnv1a32Hex('é')).toBe('6c0b6c44');
    expect(fnv1a32Hex('東')).toBe('f49ea95c');
    expect(fnv1a32Hex('🚀')).toBe('4b328e38'); // a surrogate pair: two code units
  });
});

describe('deliveryStamp', () => {
  it('is the UTC time to the whole second, without separators', () => {
    expect(deliveryStamp(new Date('2026-11-27T22:48:26.987Z'))).toBe('20261127T224826Z');
    expect(deliveryStamp(new Date('2026-01-01T00:00:00.000Z'))).toBe('20260101T000000Z');
    // Milliseconds are dropped, never rounded up into the next second.
    expect(deliveryStamp(new Date('2026-12-31T23:59:59.999Z'))).toBe('20261231T235959Z');
    // The same instant written with an offset gets the same (UTC) stamp.
    expect(deliveryStamp(new Date('2026-11-28T03:30:00+05:30'))).toBe('20261127T220000Z');
  });
});

describe('scheduled delivery ids', () => {
  const t = new Date('2026-11-28T01:00:00.000Z');

  it('hash the schedule and the profile, with a newline between them', () => {
    expect(scheduledDeliverySuffix('datashare:acme:orders', 'acme')).toBe('a30b4b5d');
    expect(scheduledDeliverySuffix('datashare:acme:orders', 'acme')).toBe(fnv1a32Hex('datashare:acme:orders\nacme'));
    expect(scheduledDeliverySuffix('datashare:acme:orders', 'globex')).toBe('ffc19554');
    expect(scheduledDeliverySuffix('datashare:where(plan=enterprise,region=eu):orders', 'acme')).toBe('b7f133c1');
    // The separator keeps the boundary: these would hash the same text without it.
    expect(scheduledDeliverySuffix('ab', 'c')).toBe('b76cae19');
    expect(scheduledDeliverySuffix('a', 'bc')).toBe('d325fa09');
  });

  it('are the nominal time stamp, then the suffix', () => {
    expect(scheduledDeliveryId('datashare:acme:orders', 'acme', t)).toBe('20261128T010000Z-a30b4b5d');
    expect(scheduledDeliveryId('datashare:acme:orders', 'globex', t)).toBe('20261128T010000Z-ffc19554');
    expect(scheduledDeliveryId('datashare:acme:orders', 'acme', t)).toBe(
      `${deliveryStamp(t)}-${scheduledDeliverySuffix('datashare:acme:orders', 'acme')}`,
    );
  });

  it('are stable: the same run gets the same id, another run or profile another', () => {
    const id = scheduledDeliveryId('datashare:acme:orders', 'acme', t);
    // A retried or duplicated run of the same nominal time, even computed later or elsewhere.
    expect(scheduledDeliveryId('datashare:acme:orders', 'acme', new Date(t.getTime()))).toBe(id);
    expect(scheduledDeliveryId('datashare:acme:orders', 'acme', new Date(t.getTime() + 999))).toBe(id);
    expect(scheduledDeliverySuffix('datashare:acme:orders', 'acme')).toBe(
      scheduledDeliverySuffix('datashare:acme:orders', 'acme'),
    );
    // The next second, another profile, another schedule of the same profile: another id.
    expect(scheduledDeliveryId('datashare:acme:orders', 'acme', new Date(t.getTime() + 1000))).not.toBe(id);
    expect(scheduledDeliveryId('datashare:acme:orders', 'globex', t)).not.toBe(id);
    expect(scheduledDeliveryId('datashare:acme:invoices', 'acme', t)).not.toBe(id);
    expect(scheduledDeliveryId(whereScheduleId({ plan: 'x' }, 'orders'), 'acme', t)).not.toBe(id);
  });

  it('have the shape of a manual share id', () => {
    const shape = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;
    expect(newDeliveryId(t)).toMatch(shape);
    expect(scheduledDeliveryId('datashare:acme:orders', 'acme', t)).toMatch(shape);
    expect(newDeliveryId(t).slice(0, 16)).toBe(scheduledDeliveryId('datashare:acme:orders', 'acme', t).slice(0, 16));
  });
});

describe('nominalTimeFromWorkflowId', () => {
  const prefix = 'datashare:acme:orders';
  const read = (workflowId: string): string | undefined => nominalTimeFromWorkflowId(workflowId, prefix)?.toISOString();

  it('reads the time Temporal appends to the id of a run a schedule starts', () => {
    expect(read(`${prefix}-2026-11-28T01:00:00Z`)).toBe('2026-11-28T01:00:00.000Z');
    expect(read(`${prefix}-2026-11-28T01:00:00.250Z`)).toBe('2026-11-28T01:00:00.250Z');
    expect(read(`${prefix}-2026-11-28T06:30:00+05:30`)).toBe('2026-11-28T01:00:00.000Z');
    expect(read(`${prefix}-2026-11-27T20:00:00-05:00`)).toBe('2026-11-28T01:00:00.000Z');
    expect(
      nominalTimeFromWorkflowId(
        'datashare:where(k=a%2Cb):orders-2026-11-28T01:00:00Z',
        'datashare:where(k=a%2Cb):orders',
      )?.toISOString(),
    ).toBe('2026-11-28T01:00:00.000Z');
  });

  it('rejects ids of other schedules, and ids without a time', () => {
    expect(read(prefix)).toBeUndefined();
    expect(read(`${prefix}-`)).toBeUndefined();
    expect(read('other-2026-11-28T01:00:00Z')).toBeUndefined();
    // Another schedule's id of the same length, which only the prefix tells apart.
    expect(read('datashare:acme:offers-2026-11-28T01:00:00Z')).toBeUndefined();
    // The id of another schedule whose name starts like this one's.
    expect(read(`${prefix}-extra-2026-11-28T01:00:00Z`)).toBeUndefined();
    expect(read(`${prefix}x-2026-11-28T01:00:00Z`)).toBeUndefined();
    expect(read(`${prefix}2026-11-28T01:00:00Z`)).toBeUndefined();
  });

  it('rejects times that are not a whole RFC 3339 timestamp', () => {
    expect(read(`${prefix}-2026-11-28`)).toBeUndefined();
    expect(read(`${prefix}-2026-11-28T01:00Z`)).toBeUndefined();
    expect(read(`${prefix}-2026-11-28T01:00:00`)).toBeUndefined();
    expect(read(`${prefix}-2026-11-28 01:00:00Z`)).toBeUndefined();
    expect(read(`${prefix}-2026-11-28T01:00:00Z-retry`)).toBeUndefined();
    expect(read(`${prefix}-1764291600`)).toBeUndefined();
    expect(read(`${prefix}--2026-11-28T01:00:00Z`)).toBeUndefined();
    // Shaped right, but not a date.
    expect(read(`${prefix}-2026-13-01T00:00:00Z`)).toBeUndefined();
  });
});
