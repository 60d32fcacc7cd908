/**
 * The worker's logs: one logger (pino) behind the Temporal Runtime logger, so the
 * SDK's own lines, the workflow and activity context loggers and our lines all
 * come out in one format.
 *
 * DATASHARE_LOG_FORMAT=json|pretty: JSON lines for log collectors, a human line
 * for terminals; the default is pretty when stderr is a terminal, JSON otherwise.
 * Every line of a delivery's work carries deliveryId and workflowId; activity
 * lines also carry activity and attempt (the interceptor below).
 */
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { format } from 'node:util';
import pino, { type DestinationStream } from 'pino';

export type LogFormat = 'json' | 'pretty';

const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** DATASHARE_LOG_LEVEL (default INFO; WARN hides the workflow bundler's build report). */
export function logLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const v = (env.DATASHARE_LOG_LEVEL ?? 'INFO').toUpperCase();
  return (LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : 'INFO';
}

export function logFormat(env: NodeJS.ProcessEnv = process.env, isTty = process.stderr.isTTY === true): LogFormat {
  const v = env.DATASHARE_LOG_FORMAT?.toLowerCase();
  if (v === 'json' || v === 'pretty') return v;
  return isTty ? 'pretty' : 'json';
}

// Delivery workflows are `datashare-delivery-<id>`; the webhook workflows a delivery starts
// are `datashare-delivery-<id>/webhook/…`: either names its delivery.
const DELIVERY_WORKFLOW = /^datashare-delivery-([^/]+)/;

/** The SDK's attribute names, plus the four every line of a delivery's work carries. */
export function deliveryFields(meta: LogMetadata | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta ?? {})) {
    // pino serializes an Error under `err` (message, type, stack); under another name it would print {}.
    if (v instanceof Error) out[k === 'error' ? 'err' : k] = v;
    else out[k] = v;
  }
  const workflowId = typeof out.workflowId === 'string' ? out.workflowId : undefined;
  const m = workflowId ? DELIVERY_WORKFLOW.exec(workflowId) : null;
  if (m && out.deliveryId === undefined) out.deliveryId = m[1];
  if (out.activity === undefined && typeof out.activityType === 'string') out.activity = out.activityType;
  return out;
}

const PINO_LEVEL: Record<LogLevel, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

// Said once by the line's other fields, or the same on every line of this worker.
const PRETTY_HIDDEN = new Set([
  'sdkComponent',
  'namespace',
  'taskQueue',
  'activityType',
  'activityId',
  'workflowType',
  'runId',
  'isLocal',
  'err',
]);
const PRETTY_FIRST = ['deliveryId', 'activity', 'attempt', 'workflowId'];

/** The one-line human format: time, level, message, whose work it is, then the line's other simple fields. */
function prettyLine(level: LogLevel, message: string, fields: Record<string, unknown>): string {
  const simple = (v: unknown): v is string | number | boolean =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  const keys = [
    ...PRETTY_FIRST.filter((k) => k in fields),
    ...Object.keys(fields).filter((k) => !PRETTY_FIRST.includes(k) && !PRETTY_HIDDEN.has(k)),
  ];
  const shown = keys.filter((k) => simple(fields[k])).map((k) => `${k}=${String(fields[k] as string)}`);
  const err = fields.err instanceof Error ? ` (${fields.err.message})` : '';
  return `${new Date().toISOString()} ${level.padEnd(5)} ${message}${err}${shown.length ? ` ${shown.join(' ')}` : ''}\n`;
}

/**
 * A Temporal `Logger` writing through pino. `destination` defaults to stderr
 * (written synchronously, so the last lines before an exit are not lost); tests
 * pass a stream of their own to read what was logged.
 */
export class WorkerLogger implements Logger {
  private readonly pino: pino.Logger;

  constructor(
    private readonly level: LogLevel = logLevel(),
    private readonly format: LogFormat = logFormat(),
    private readonly destination: DestinationStream = pino.destination({ fd: 2, sync: true }),
  ) {
    this.pino = pino(
      {
        level: PINO_LEVEL[level],
        base: { pid: process.pid, service: 'datashare-worker' },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        serializers: { err: pino.stdSerializers.err },
      },
      destination,
    );
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (LEVELS.indexOf(level) < LEVELS.indexOf(this.level)) return;
    const fields = deliveryFields(meta);
    if (this.format === 'pretty') this.destination.write(prettyLine(level, message, fields));
    else this.pino[PINO_LEVEL[level]](fields, message);
  }
  /**
   * The worker's lifecycle lines (started on which queue, draining after SIGTERM, stopped):
   * written whatever the level, as before the logger existed, since operators and scripts
   * wait for them; in JSON mode as a line of the same shape as pino's.
   */
  announce(message: string, meta?: LogMetadata): void {
    const fields = deliveryFields(meta);
    if (this.format === 'pretty') this.destination.write(prettyLine('INFO', message, fields));
    else
      this.destination.write(
        `${JSON.stringify({ level: 'info', time: new Date().toISOString(), pid: process.pid, service: 'datashare-worker', ...fields, msg: message })}\n`,
      );
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/**
 * Adds the delivery's id, the activity's name and its attempt to every line an
 * activity logs through its context logger (`Context.current().log`, also the
 * SDK's "Activity started/completed/failed"). The id comes from the activity's
 * input when it has one, else from the workflow id.
 */
export const deliveryLogContext: ActivityInterceptorsFactory = (ctx) => {
  let deliveryId: string | undefined;
  return {
    inbound: {
      async execute(input, next) {
        const first = input.args[0] as { deliveryId?: unknown } | undefined;
        if (first && typeof first.deliveryId === 'string') deliveryId = first.deliveryId;
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        return next({
          ...input,
          ...(deliveryId ? { deliveryId } : {}),
          ...(ctx.info.workflowExecution ? { workflowId: ctx.info.workflowExecution.workflowId } : {}),
          activity: ctx.info.activityType,
          attempt: ctx.info.attempt,
        });
      },
    },
  };
};

/**
 * Sends what libraries print with console.* (the AWS SDK's warnings, for one)
 * through the logger, so that in JSON mode every line on stderr is JSON.
 */
export function routeConsole(logger: Logger): void {
  const to =
    (level: LogLevel) =>
    (...args: unknown[]): void => {
      logger.log(level, format(...args), { source: 'console' });
    };
  console.log = to('INFO');
  console.info = to('INFO');
  console.warn = to('WARN');
  console.error = to('ERROR');
  console.debug = to('DEBUG');
}
