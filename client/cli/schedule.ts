import { Option, type Command } from 'commander';
import { COMPRESSIONS, FORMATS } from '../../common/contracts/delivery';
import type { ScheduleTarget } from '../../common/contracts/schedules';
import { validateProfileId } from '../../common/domain/ids';
import { ValidationError } from '../../common/errors';
import { checkCompression, checkFormat } from '../library/file-format';
import { OVERLAP_POLICIES } from '../library/overlap-policies';
import { MAX_PARALLEL_LIMIT } from '../library/schedule-input';
import {
  parseDurationFlag,
  parseOverlap,
  parsePositiveInt,
  parseTime,
  parseWhere,
  validateCron,
  validateTimezone,
} from './arg-grammar';
import { printJson } from './output';
import { scheduleDetails, scheduleLine } from './schedule-output';
import { withDatashare } from './with-datashare';

const OVERLAP_CHOICES = Object.keys(OVERLAP_POLICIES);

interface CreateOptions {
  where?: string[];
  cron?: string;
  timezone?: string;
  every?: string;
  overlap: string;
  catchupWindow: string;
  format?: string;
  compression?: string;
  maxParallel?: string;
  pageSize?: string;
  paused?: boolean;
  note?: string;
  json?: boolean;
}

/** `datashare schedule …`: recurring deliveries as Temporal Schedules. */
export function addScheduleCommands(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('recurring deliveries (Temporal Schedules): to one profile, or to every profile matching --where');

  schedule
    .command('create')
    .argument('<profile|dataset>', 'the profile, then the dataset; with --where, only the dataset')
    .argument('[dataset]')
    .usage(
      '<profile> <dataset> | --where <key=value,…> <dataset>  (--cron "<expr>" [--timezone <tz>] | --every <duration>) [options]',
    )
    .summary('schedule a dataset for one profile, or for every profile matching --where')
    .description(
      'Schedule a dataset for one profile, or (--where) for every profile whose properties match at each run, ' +
        'so profiles added later are included. The schedule id is datashare:<profile>:<dataset>, or ' +
        'datashare:where(<filter>):<dataset>.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  datashare schedule create acme orders --cron "0 2 * * *" --timezone Europe/Paris\n' +
        '  datashare schedule create acme orders --every 1h --overlap buffer-one\n' +
        '  datashare schedule create --where plan=enterprise orders --every 1d --max-parallel 50\n',
    )
    .option(
      '--where <key=value,…>',
      'deliver to every profile having all these properties (repeatable)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option(
      '--cron <expr>',
      'cron expression: minute hour day-of-month month day-of-week (e.g. "0 2 * * *"), or @daily, @hourly, …',
    )
    .option('--timezone <tz>', 'IANA time zone the cron expression is read in (default UTC)')
    .option('--every <duration>', 'fixed interval from the epoch, e.g. 15m, 1h, 1d (runs at 00:00 UTC)')
    .addOption(
      new Option('--overlap <policy>', 'when a run is due while the previous one still runs')
        .choices(OVERLAP_CHOICES)
        .default('skip'),
    )
    .option(
      '--catchup-window <duration>',
      'after an outage of Temporal, still take runs missed up to this long ago',
      '1h',
    )
    .addOption(new Option('--format <format>', "override the dataset's format").choices(FORMATS))
    .addOption(new Option('--compression <compression>', "override the dataset's compression").choices(COMPRESSIONS))
    .option('--max-parallel <n>', 'with --where: deliveries running at once per run (default 20)')
    .addOption(
      new Option(
        '--page-size <n>',
        'with --where: profiles per workflow run before it continues as new (default 500)',
      ).hideHelp(),
    )
    .option('--paused', 'create the schedule paused')
    .option('--note <text>', 'a note kept with the schedule (shown by show)')
    .option('--json', 'print the schedule as JSON')
    .action(
      withDatashare(async ({ schedules: s }, first: string, second: string | undefined, opts: CreateOptions) => {
        let target: ScheduleTarget;
        let datasetId: string;
        if (opts.where !== undefined) {
          if (second !== undefined) {
            throw new ValidationError(
              `with --where give only the dataset, e.g. datashare schedule create --where plan=enterprise ${second} --every 1h`,
            );
          }
          target = { kind: 'where', where: parseWhere(opts.where) };
          datasetId = first;
        } else {
          if (second === undefined) {
            throw new ValidationError(
              'give a profile and a dataset (datashare schedule create acme orders …), or --where key=value and a dataset',
            );
          }
          validateProfileId(first);
          target = { kind: 'profile', profileId: first };
          datasetId = second;
        }
        if (opts.cron !== undefined && opts.every !== undefined)
          throw new ValidationError('give either --cron or --every, not both');
        if (opts.cron === undefined && opts.every === undefined)
          throw new ValidationError('say when: --cron "<expression>" or --every <duration>');
        if (opts.timezone !== undefined && opts.cron === undefined)
          throw new ValidationError('--timezone applies to --cron only');
        if (target.kind === 'profile' && (opts.maxParallel !== undefined || opts.pageSize !== undefined)) {
          throw new ValidationError(
            '--max-parallel applies to --where schedules only (a profile schedule runs one delivery)',
          );
        }
        const maxParallel = parsePositiveInt('--max-parallel', opts.maxParallel, MAX_PARALLEL_LIMIT);
        const pageSize = parsePositiveInt('--page-size', opts.pageSize, 1000);
        const view = await s.create({
          datasetId,
          target,
          ...(opts.cron !== undefined ? { cron: validateCron(opts.cron) } : {}),
          ...(opts.timezone !== undefined ? { timezone: validateTimezone(opts.timezone) } : {}),
          ...(opts.every !== undefined ? { everyMs: parseDurationFlag('--every', opts.every) } : {}),
          overlap: parseOverlap('--overlap', opts.overlap),
          catchupWindowMs: parseDurationFlag('--catchup-window', opts.catchupWindow),
          ...(opts.format ? { format: checkFormat(opts.format) } : {}),
          ...(opts.compression ? { compression: checkCompression(opts.compression) } : {}),
          ...(maxParallel !== undefined ? { maxParallel } : {}),
          ...(pageSize !== undefined ? { pageSize } : {}),
          ...(opts.paused ? { paused: true } : {}),
          ...(opts.note !== undefined ? { note: opts.note } : {}),
        });
        if (opts.json) printJson(view);
        else process.stdout.write(`created ${scheduleDetails(view)}\n`);
        if (view.matchingProfiles === 0) {
          process.stderr.write(
            'datashare: note: no profile matches the filter yet; runs deliver to those that match when they run\n',
          );
        }
      }),
    );

  schedule
    .command('list')
    .description("this deployment's schedules (those whose runs go to DATASHARE_TASK_QUEUE)")
    .option('--json', 'print a JSON array')
    .action(
      withDatashare(async ({ schedules: s }, opts: { json?: boolean }) => {
        const all = await s.list();
        if (opts.json) printJson(all);
        else for (const v of all) process.stdout.write(`${scheduleLine(v)}\n`);
      }),
    );

  schedule
    .command('show <id>')
    .description('one schedule: spec, policies, paused/note, next runs, and the deliveries of its recent runs')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async ({ schedules: s }, id: string, opts: { json?: boolean }) => {
        const v = await s.show(id);
        if (opts.json) printJson(v);
        else process.stdout.write(`${scheduleDetails(v)}\n`);
      }),
    );

  schedule
    .command('pause <id>')
    .description('stop taking runs until unpaused (a run in progress finishes)')
    .option('--note <text>', 'why, for whoever looks next')
    .option('--json', 'print the schedule as JSON')
    .action(
      withDatashare(async ({ schedules: s }, id: string, opts: { note?: string; json?: boolean }) => {
        const v = await s.pause(id, opts.note);
        if (opts.json) printJson(v);
        else process.stdout.write(`paused ${id}${v.note ? `: ${v.note}` : ''}\n`);
      }),
    );

  schedule
    .command('unpause <id>')
    .description('take runs again from the next scheduled time (missed ones are not caught up)')
    .option('--note <text>', 'replaces the pause note')
    .option('--json', 'print the schedule as JSON')
    .action(
      withDatashare(async ({ schedules: s }, id: string, opts: { note?: string; json?: boolean }) => {
        const v = await s.unpause(id, opts.note);
        if (opts.json) printJson(v);
        else process.stdout.write(`unpaused ${id}; next run ${v.nextRuns[0] ?? '-'}\n`);
      }),
    );

  schedule
    .command('trigger <id>')
    .description("run now (also when paused), under the schedule's overlap policy unless --overlap says otherwise")
    .addOption(
      new Option('--overlap <policy>', "override the schedule's overlap policy for this run").choices(OVERLAP_CHOICES),
    )
    .option('--json', 'print JSON')
    .action(
      withDatashare(async ({ schedules: s }, id: string, opts: { overlap?: string; json?: boolean }) => {
        const r = await s.trigger(id, opts.overlap !== undefined ? parseOverlap('--overlap', opts.overlap) : undefined);
        if (opts.json) printJson(r);
        else process.stdout.write(`triggered ${id}\n`);
        if (r.runningBefore.length > 0 && r.overlap === 'skip') {
          process.stderr.write(
            `datashare: note: a run is in progress (${r.runningBefore.join(', ')}); with overlap "skip" this trigger is skipped. ` +
              'Use --overlap buffer-one to run after it, or --overlap allow-all to run alongside it.\n',
          );
        }
      }),
    );

  schedule
    .command('backfill <id>')
    .description(
      'take now the runs the schedule would have taken between --from and --to (each with its own delivery ids)',
    )
    .requiredOption('--from <time>', 'start: ISO 8601 time or a duration ago (24h)')
    .requiredOption('--to <time>', 'end: ISO 8601 time or a duration ago')
    .addOption(
      new Option('--overlap <policy>', 'how the backfilled runs overlap')
        .choices(OVERLAP_CHOICES)
        .default('buffer-all'),
    )
    .option('--json', 'print JSON')
    .action(
      withDatashare(
        async ({ schedules: s }, id: string, opts: { from: string; to: string; overlap: string; json?: boolean }) => {
          const now = new Date();
          const r = await s.backfill(
            id,
            parseTime('--from', opts.from, now),
            parseTime('--to', opts.to, now),
            parseOverlap('--overlap', opts.overlap),
          );
          if (opts.json) printJson(r);
          else
            process.stdout.write(
              `backfilling ${id} from ${r.from} to ${r.to} (overlap ${r.overlap}); follow it with: datashare schedule show '${id}'\n`,
            );
        },
      ),
    );

  schedule
    .command('delete <id>')
    .description('delete the schedule (a run in progress finishes; its deliveries stay on record)')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async ({ schedules: s }, id: string, opts: { json?: boolean }) => {
        const r = await s.delete(id);
        if (opts.json) printJson(r);
        else {
          process.stdout.write(`deleted schedule ${id}\n`);
          if (r.stillRunning.length > 0)
            process.stdout.write(`still running (finishes on its own): ${r.stillRunning.join(', ')}\n`);
        }
      }),
    );
}
