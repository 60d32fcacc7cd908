import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  DatashareError,
  ERROR_REGISTRY,
  MissingPropertyError,
  NotFoundError,
  PERMANENT_ERROR_TYPES,
  ValidationError,
  exitCodeFor,
  isPermanent,
  type ErrorType,
} from '../../common/errors';

// common/errors.ts is the one list of error types: activities fail non-retryable on the permanent
// ones, retry policies and the scheduled rounds list them, and the CLI's exit code comes from it.

/** No retry can fix these. */
const PERMANENT: ErrorType[] = [
  'ValidationError',
  'NotFound',
  'MissingProperty',
  'AccessDenied',
  'AssumeRoleDenied',
  'DatasetQueryError',
  'UnrepresentableValue',
  'NoSuchBucket',
  'SharerCredentialsInvalid',
  'WebhookRejected',
  'WebhookUrlRefused',
  'SecretKeyMissing',
];
/** A retry, or a later attempt, may succeed. */
const TRANSIENT: ErrorType[] = ['Conflict', 'Cancelled', 'InternalError'];

/** Bad usage or input: exit 2. */
const USAGE: ErrorType[] = [
  'ValidationError',
  'NotFound',
  'MissingProperty',
  'Conflict',
  'WebhookUrlRefused',
  'SecretKeyMissing',
];
/** The work failed: exit 1. */
const FAILED: ErrorType[] = [
  'AccessDenied',
  'AssumeRoleDenied',
  'DatasetQueryError',
  'UnrepresentableValue',
  'NoSuchBucket',
  'SharerCredentialsInvalid',
  'Cancelled',
  'InternalError',
  'WebhookRejected',
];

/** Names an object has without being error types. */
const NOT_TYPES = [
  '',
  'Bogus',
  'validationerror',
  'VALIDATIONERROR',
  'ValidationError ',
  'Error',
  'toString',
  'constructor',
  '__proto__',
  'hasOwnProperty',
];

describe('the error registry', () => {
  it('lists every permanent type in PERMANENT_ERROR_TYPES, and no other', () => {
    for (const t of PERMANENT) {
      expect(PERMANENT_ERROR_TYPES, t).toContain(t);
      expect(isPermanent(t), t).toBe(true);
    }
    for (const t of TRANSIENT) {
      expect(PERMANENT_ERROR_TYPES, t).not.toContain(t);
      expect(isPermanent(t), t).toBe(false);
    }
    // Derived from the registry, one entry per permanent type, whatever types are added later.
    const registryPermanent = (Object.keys(ERROR_REGISTRY) as ErrorType[]).filter((t) => ERROR_REGISTRY[t].permanent);
    expect([...PERMANENT_ERROR_TYPES].sort()).toEqual(registryPermanent.sort());
    expect(new Set(PERMANENT_ERROR_TYPES).size).toBe(PERMANENT_ERROR_TYPES.length);
  });

  it('gives exit code 2 for bad usage or input and 1 for failed work', () => {
    for (const t of USAGE) expect(exitCodeFor(t), t).toBe(2);
    for (const t of FAILED) expect(exitCodeFor(t), t).toBe(1);
    for (const t of Object.keys(ERROR_REGISTRY) as ErrorType[])
      expect(exitCodeFor(t), t).toBe(ERROR_REGISTRY[t].exitCode);
  });

  it('treats an unknown type as failed work that a retry may fix', () => {
    for (const t of NOT_TYPES) {
      expect(exitCodeFor(t), JSON.stringify(t)).toBe(1);
      expect(isPermanent(t), JSON.stringify(t)).toBe(false);
      expect(PERMANENT_ERROR_TYPES as readonly string[]).not.toContain(t);
    }
  });

  it('gives every type, also ones added later, an exit code of 1 or 2 and a hint', () => {
    for (const [t, spec] of Object.entries(ERROR_REGISTRY)) {
      expect([1, 2], t).toContain(spec.exitCode);
      expect(typeof spec.permanent, t).toBe('boolean');
      expect(spec.hint.trim().length, t).toBeGreaterThan(10);
    }
  });
});

describe('DatashareError and its subclasses', () => {
  const cases: { error: DatashareError; type: ErrorType; exitCode: 1 | 2 }[] = [
    { error: new ValidationError('bad input'), type: 'ValidationError', exitCode: 2 },
    { error: new NotFoundError('no profile "x"'), type: 'NotFound', exitCode: 2 },
    { error: new MissingPropertyError(['tenant_id'], 'acme'), type: 'MissingProperty', exitCode: 2 },
    { error: new ConflictError('it is running'), type: 'Conflict', exitCode: 2 },
    { error: new DatashareError('AccessDenied', 'denied'), type: 'AccessDenied', exitCode: 1 },
    { error: new DatashareError('InternalError', 'a bug'), type: 'InternalError', exitCode: 1 },
  ];

  it.each(cases)('$type carries its registry type, as its type and its name', ({ error, type, exitCode }) => {
    expect(error).toBeInstanceOf(DatashareError);
    expect(error).toBeInstanceOf(Error);
    expect(error.type).toBe(type);
    expect(Object.keys(ERROR_REGISTRY)).toContain(error.type);
    // The name is what Temporal records as the failure's type, and what the CLI prints.
    expect(error.name).toBe(type);
    expect(exitCodeFor(error.type)).toBe(exitCode);
    expect(isPermanent(error.type)).toBe(ERROR_REGISTRY[type].permanent);
  });

  it('keeps the message it was given', () => {
    expect(new ValidationError('s3_bucket "Ab": bucket names are lowercase').message).toBe(
      's3_bucket "Ab": bucket names are lowercase',
    );
    expect(new DatashareError('NoSuchBucket', 'no bucket "b"').message).toBe('no bucket "b"');
  });

  it('MissingPropertyError names the missing properties and the command that sets them', () => {
    const one = new MissingPropertyError(['tenant_id'], 'acme');
    expect(one.missing).toEqual(['tenant_id']);
    expect(one.message).toBe(
      `profile "acme" lacks property "tenant_id" that the dataset's SQL uses; set it with: datashare profile set acme tenant_id=<value>`,
    );
    const two = new MissingPropertyError(['region', 'tenant_id'], 'acme');
    expect(two.missing).toEqual(['region', 'tenant_id']);
    expect(two.message).toBe(
      `profile "acme" lacks properties "region", "tenant_id" that the dataset's SQL uses; set them with: datashare profile set acme region=<value> tenant_id=<value>`,
    );
  });
});
