/**
 * Error types shared by the CLI, the client library and the activities.
 *
 * The `type` strings double as Temporal ApplicationFailure types, so an operator
 * sees the same name in `datashare delivery <id>` as in the Temporal UI.
 */

export type ErrorType =
  | 'ValidationError'
  | 'NotFound'
  | 'MissingProperty'
  | 'AccessDenied'
  | 'AssumeRoleDenied'
  | 'DatasetQueryError'
  | 'Conflict'
  | 'Cancelled'
  | 'InternalError';

/**
 * Failures no retry can fix: the activities mark them non-retryable, and the
 * workflow's retry policies list them too, as a second line of defence.
 */
export const PERMANENT_ERROR_TYPES: readonly string[] = [
  'ValidationError',
  'NotFound',
  'MissingProperty',
  'AccessDenied',
  'AssumeRoleDenied',
  'DatasetQueryError',
  'NoSuchBucket',
  'SharerCredentialsInvalid',
];

/** An error whose message is written for the operator: it says what is wrong and how to fix it. */
export class DatashareError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

/** Bad input: a profile property, a dataset definition, a CLI argument. Exit code 2. */
export class ValidationError extends DatashareError {
  constructor(message: string) {
    super('ValidationError', message);
  }
}

export class NotFoundError extends DatashareError {
  constructor(message: string) {
    super('NotFound', message);
  }
}

/** A dataset's SQL names a `:property` that the profile does not have. */
export class MissingPropertyError extends DatashareError {
  constructor(
    readonly missing: string[],
    profileId: string,
  ) {
    super(
      'MissingProperty',
      `profile "${profileId}" lacks ${missing.length === 1 ? 'property' : 'properties'} ${missing
        .map((m) => `"${m}"`)
        .join(', ')} that the dataset's SQL uses; set ${missing.length === 1 ? 'it' : 'them'} with: datashare profile set ${profileId} ${missing
        .map((m) => `${m}=<value>`)
        .join(' ')}`,
    );
  }
}

export class ConflictError extends DatashareError {
  constructor(message: string) {
    super('Conflict', message);
  }
}
