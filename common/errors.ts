/**
 * Error types shared by the CLI, the client library, the activities and the workflows.
 *
 * The `type` strings double as Temporal ApplicationFailure types, so an operator
 * sees the same name in `datashare delivery <id>` as in the Temporal UI.
 */

/**
 * The one list of error types: whether a retry can fix each, the CLI's exit code
 * for it, and what the operator should do. Activities, workflow retry policies,
 * the scheduled rounds and the CLI all read it, so they cannot drift apart.
 *
 * Pure data: workflow code imports this module.
 */
export interface ErrorSpec {
  /** No retry can fix it: activities fail non-retryable, and retry policies list it too. */
  permanent: boolean;
  /** The CLI's exit code when a command ends with it: 2 bad usage or input, 1 the work failed. */
  exitCode: 1 | 2;
  /** What to do about it, for `--help` and the README. */
  hint: string;
}

export const ERROR_REGISTRY = {
  ValidationError: { permanent: true, exitCode: 2, hint: 'fix the input the message names, as it shows' },
  NotFound: {
    permanent: true,
    exitCode: 2,
    hint: 'check the id; `datashare profile list` and `dataset list` show what exists',
  },
  MissingProperty: {
    permanent: true,
    exitCode: 2,
    hint: 'set the property on the profile with `datashare profile set`',
  },
  Conflict: { permanent: false, exitCode: 2, hint: 'it exists already, or is running; look at it before trying again' },
  AccessDenied: {
    permanent: true,
    exitCode: 1,
    hint: "the end user's role may not write there: compare it with `datashare profile policy`",
  },
  AssumeRoleDenied: {
    permanent: true,
    exitCode: 1,
    hint: "the role's trust policy or the profile's s3_external_id is wrong: see `datashare profile policy`",
  },
  DatasetQueryError: {
    permanent: true,
    exitCode: 1,
    hint: "the dataset's SQL failed on the source database: fix it with `datashare dataset set`",
  },
  BucketOwnerMismatch: {
    permanent: true,
    exitCode: 1,
    hint: 'the bucket is owned by another account than the profile expects: set s3_bucket_owner if it moved on purpose, otherwise stop sending to it',
  },
  QueryTimeout: {
    permanent: true,
    exitCode: 1,
    hint: "the dataset's query ran past its statement timeout before its first row: make it faster, or raise it with `datashare dataset set … --statement-timeout`",
  },
  UnrepresentableValue: {
    permanent: true,
    exitCode: 1,
    hint: "a value cannot be written in the delivery's format (the message names the column and the row's key): change or cast that column in the dataset's SQL with `datashare dataset set`",
  },
  NoSuchBucket: { permanent: true, exitCode: 1, hint: "the bucket does not exist: fix the profile's s3_bucket" },
  SharerCredentialsInvalid: {
    permanent: true,
    exitCode: 1,
    hint: "the worker's own AWS credentials were rejected: fix its environment",
  },
  ServiceUnreachable: {
    permanent: false,
    exitCode: 1,
    hint: 'a service datashare needs did not answer: the message names it and the variable that sets it',
  },
  TemporalConnectionRefused: {
    permanent: true,
    exitCode: 1,
    hint: "Temporal answered but refused the connection's TLS, client certificate or API key: the message names the TEMPORAL_* variable to set",
  },
  WrongInstance: {
    permanent: true,
    exitCode: 1,
    hint: "the delivery's profile belongs to another instance than this worker serves: start it again (`datashare replay`) so it goes to that instance's task queue, or fix the profile's s3_instance",
  },
  Cancelled: { permanent: false, exitCode: 1, hint: 'someone cancelled it; `datashare replay` sends it again' },
  WebhookRejected: {
    permanent: true,
    exitCode: 1,
    hint: 'the receiver refused the webhook (a 4xx other than 429, or a redirect): fix the receiver or the URL, then check with `datashare webhook test`',
  },
  WebhookUrlRefused: {
    permanent: true,
    exitCode: 2,
    hint: 'webhook URLs must be https to a public address; http to loopback needs DATASHARE_WEBHOOK_ALLOW_LOOPBACK=1, private addresses DATASHARE_WEBHOOK_ALLOW_PRIVATE=1',
  },
  SecretKeyMissing: {
    permanent: true,
    exitCode: 2,
    hint: 'set DATASHARE_SECRET_KEY (32 characters or more), the same for the CLI and every worker',
  },
  InternalError: {
    permanent: false,
    exitCode: 1,
    hint: 'a bug or an inconsistency: the message says which; report it',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorType = keyof typeof ERROR_REGISTRY;

function isErrorType(type: string): type is ErrorType {
  return Object.prototype.hasOwnProperty.call(ERROR_REGISTRY, type);
}

/** Failures no retry can fix, as retry policies' `nonRetryableErrorTypes`. */
export const PERMANENT_ERROR_TYPES: readonly ErrorType[] = (Object.keys(ERROR_REGISTRY) as ErrorType[]).filter(
  (t) => ERROR_REGISTRY[t].permanent,
);

export function isPermanent(type: string): boolean {
  return isErrorType(type) && ERROR_REGISTRY[type].permanent;
}

/** The CLI's exit code for an error of this type; unknown types are failed work (1). */
export function exitCodeFor(type: string): 1 | 2 {
  return isErrorType(type) ? ERROR_REGISTRY[type].exitCode : 1;
}

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
        .join(
          ', ',
        )} that the dataset's SQL uses; set ${missing.length === 1 ? 'it' : 'them'} with: datashare profile set ${profileId} ${missing
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

/** The receiver answered a webhook with a status no retry can change. */
export class WebhookRejectedError extends DatashareError {
  constructor(message: string) {
    super('WebhookRejected', message);
  }
}

/** A webhook URL that datashare will not call (scheme, or where its name resolves to). */
export class WebhookUrlRefusedError extends DatashareError {
  constructor(message: string) {
    super('WebhookUrlRefused', message);
  }
}

export class SecretKeyMissingError extends DatashareError {
  constructor(message: string) {
    super('SecretKeyMissing', message);
  }
}
