import { Command, CommanderError, Option } from 'commander';
import { DatashareError, ValidationError, exitCodeFor } from '../common/errors';
import { COMPRESSIONS, DEFAULT_COMPRESSION, FORMATS, type DeliveryView } from '../common/contracts/delivery';
import { addScheduleCommands } from './cli-schedule';
import { Datashare } from './datashare';
import { deliveryDetails, deliveryLine, formatBytes, printJson } from './output';
import {
  parseAssignments,
  parseCompression,
  parseFormat,
  parseKeyColumns,
  parsePositiveInt,
  parseDurationSeconds,
  parseSince,
  parseSize,
  parseStatus,
} from './parse-args';

/** Exit codes: 0 success, 1 the work failed (a delivery, a verification), 2 bad usage or input. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function withDatashare<A extends unknown[]>(fn: (ds: Datashare, ...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const ds = new Datashare();
    try {
      await fn(ds, ...args);
    } finally {
      await ds.close();
    }
  };
}

function printProfile(p: { id: string; properties: Record<string, string>; updatedAt: string }): void {
  process.stdout.write(`profile ${p.id} (updated ${p.updatedAt})\n`);
  for (const [k, v] of Object.entries(p.properties).sort(([a], [b]) => a.localeCompare(b))) process.stdout.write(`  ${k}=${v}\n`);
}

function progressLine(v: DeliveryView, startedMs: number): string {
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  const files = v.fileCount ? `  files ${v.filesCompleted}/${v.fileCount}` : '';
  return `${v.id}  ${v.status}${files}  ${v.rows} rows (${Math.round(v.rows / secs)}/s)  ${formatBytes(v.bytes)} (${(v.bytes / 1e6 / secs).toFixed(1)} MB/s)`;
}

/** Prints a started delivery, or with --wait follows it to the end (exit 1 unless it completed). */
async function followOrPrint(ds: Datashare, started: DeliveryView, opts: { wait?: boolean; json?: boolean }): Promise<void> {
  if (!opts.wait) {
    if (opts.json) printJson(started);
    else process.stdout.write(`${started.id}\n`);
    return;
  }
  const t0 = Date.now();
  const tty = process.stderr.isTTY;
  if (!opts.json) process.stderr.write(`delivery ${started.id} started\n`);
  const final = await ds.waitForDelivery(started.id, (v) => {
    if (tty) process.stderr.write(`\r\x1b[K${progressLine(v, t0)}`);
  });
  if (tty) process.stderr.write('\r\x1b[K');
  if (opts.json) printJson(final);
  else process.stdout.write(`${deliveryDetails(final)}\n`);
  if (final.status !== 'completed') throw new ExitCode(EXIT_FAILED);
}

export function buildProgram(): Command {
  const program = new Command('datashare')
    .description(
      "Deliver datasets from Postgres into end users' own S3 buckets through cross-account IAM roles.\n" +
        'Configuration: DATABASE_URL, SOURCE_DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATASHARE_TASK_QUEUE,\n' +
        'and the AWS SDK variables (AWS_ACCESS_KEY_ID, AWS_REGION, AWS_ENDPOINT_URL, ...).',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('migrate')
    .description('create or upgrade the datashare tables in DATABASE_URL')
    .action(
      withDatashare(async (ds) => {
        const applied = await ds.migrate();
        process.stdout.write(applied.length ? applied.map((m) => `applied ${m.name}\n`).join('') : 'schema is up to date\n');
      }),
    );

  const profile = program.command('profile').description("manage end users' profiles (key:value properties, one S3 destination each)");
  profile
    .command('set <id> <key=value...>')
    .description(
      'create or update a profile; keys not given are kept.\n' +
        'Destination keys: s3_role_arn, s3_bucket, s3_region, s3_prefix, s3_external_id (generated when absent), s3_acl (bucket-owner-full-control).\n' +
        'Any other key (e.g. tenant_id=42) is a property datasets can use as :tenant_id.',
    )
    .option('--unset <key...>', 'remove these properties')
    .option('--json', 'print the profile as JSON')
    .action(
      withDatashare(async (ds, id: string, pairs: string[], opts: { unset?: string[]; json?: boolean }) => {
        const p = await ds.setProfile(id, parseAssignments(pairs), { unset: opts.unset ?? [] });
        if (opts.json) printJson(p);
        else printProfile(p);
      }),
    );
  profile
    .command('show <id>')
    .description('show one profile')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        const p = await ds.getProfile(id);
        if (opts.json) printJson(p);
        else printProfile(p);
      }),
    );
  profile
    .command('list')
    .description('list profiles')
    .option('--json', 'print a JSON array')
    .action(
      withDatashare(async (ds, opts: { json?: boolean }) => {
        const all = await ds.listProfiles();
        if (opts.json) printJson(all);
        else for (const p of all) process.stdout.write(`${p.id}  ${p.properties.s3_bucket ?? '-'}/${p.properties.s3_prefix ?? ''}  ${p.properties.s3_role_arn ?? '-'}\n`);
      }),
    );
  profile
    .command('delete <id>')
    .description('delete a profile (its deliveries stay on record)')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        await ds.deleteProfile(id);
        if (opts.json) printJson({ id, deleted: true });
        else process.stdout.write(`deleted profile ${id}\n`);
      }),
    );
  profile
    .command('policy <id>')
    .description("print the trust, permissions and bucket policies the end user pastes into AWS (set DATASHARE_SHARER_PRINCIPAL_ARN to name the sharer's principal; default: its account root)")
    .option('--json', 'print one JSON object')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        const p = await ds.policies(id);
        if (opts.json) return printJson(p);
        process.stdout.write(`# 1. Trust policy of the role (trusts ${p.sharerPrincipal}, requires the ExternalId)\n`);
        process.stdout.write(`${JSON.stringify(p.trustPolicy, null, 2)}\n\n`);
        process.stdout.write('# 2. Permissions policy of the role (writes under the prefix only)\n');
        process.stdout.write(`${JSON.stringify(p.permissionsPolicy, null, 2)}\n\n`);
        process.stdout.write('# 3. Optional bucket policy (only if the bucket restricts access further)\n');
        process.stdout.write(`${JSON.stringify(p.bucketPolicy, null, 2)}\n`);
      }),
    );
  profile
    .command('verify <id>')
    .description('assume the role, check the ExternalId is required, write one marker object under the prefix; exit 1 if a delivery would fail')
    .option('--json', 'print the report as JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        const report = await ds.verifyProfile(id);
        if (opts.json) printJson(report);
        else {
          for (const c of report.checks) process.stdout.write(`${c.status.toUpperCase().padEnd(5)} ${c.name}: ${c.detail}\n`);
          process.stdout.write(report.ok ? `profile ${id} can receive deliveries\n` : `profile ${id} cannot receive deliveries yet\n`);
        }
        if (!report.ok) throw new ExitCode(EXIT_FAILED);
      }),
    );

  const dataset = program.command('dataset').description('manage datasets (a SELECT over the source database)');
  dataset
    .command('set <id>')
    .description('create or replace a dataset; the SQL may use profile properties as :name (bound as parameters)')
    .requiredOption('--sql <select>', 'one SELECT (or WITH/VALUES/TABLE) query')
    .requiredOption('--key <columns>', 'unique key column(s), comma-separated; the export is ordered by it')
    .addOption(new Option('--format <format>', 'file format').choices(FORMATS).default('csv'))
    .addOption(new Option('--compression <compression>', `compression (default: ${Object.entries(DEFAULT_COMPRESSION).map(([f, c]) => `${c} for ${f}`).join(', ')})`).choices(COMPRESSIONS))
    .option('--incremental <column>', 'a timestamp/date column: each delivery sends only rows whose column moved past the last completed delivery')
    .option('--lookback <duration>', 'with --incremental: start this far before the last watermark (e.g. 15m, 1h) to catch late rows')
    .option('--json', 'print the dataset as JSON')
    .action(
      withDatashare(
        async (
          ds,
          id: string,
          opts: { sql: string; key: string; format: string; compression?: string; incremental?: string; lookback?: string; json?: boolean },
        ) => {
        const lookbackSeconds = parseDurationSeconds('--lookback', opts.lookback);
        const d = await ds.setDataset(id, {
          sql: opts.sql,
          keyColumns: parseKeyColumns(opts.key),
          format: parseFormat(opts.format) ?? 'csv',
          ...(opts.compression ? { compression: parseCompression(opts.compression) } : {}),
          ...(opts.incremental !== undefined ? { incrementalColumn: opts.incremental } : {}),
          ...(lookbackSeconds !== undefined ? { lookbackSeconds } : {}),
        });
        if (opts.json) printJson(d);
        else {
          const inc = d.incrementalColumn ? `, incremental on ${d.incrementalColumn} (lookback ${d.lookbackSeconds}s)` : '';
          process.stdout.write(`dataset ${d.id}: ${d.format}, ${d.compression}, key ${d.keyColumns.join(',')}${inc}\n`);
        }
        },
      ),
    );
  dataset
    .command('show <id>')
    .description('show one dataset')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        const d = await ds.getDataset(id);
        if (opts.json) printJson(d);
        else process.stdout.write(`dataset ${d.id}\n  format ${d.format}, compression ${d.compression}, key ${d.keyColumns.join(',')}\n  sql ${d.sql}\n`);
      }),
    );
  dataset
    .command('list')
    .description('list datasets')
    .option('--json', 'print a JSON array')
    .action(
      withDatashare(async (ds, opts: { json?: boolean }) => {
        const all = await ds.listDatasets();
        if (opts.json) printJson(all);
        else for (const d of all) process.stdout.write(`${d.id}  ${d.format}/${d.compression}  key ${d.keyColumns.join(',')}\n`);
      }),
    );
  dataset
    .command('delete <id>')
    .description('delete a dataset (its deliveries stay on record)')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        await ds.deleteDataset(id);
        if (opts.json) printJson({ id, deleted: true });
        else process.stdout.write(`deleted dataset ${id}\n`);
      }),
    );

  program
    .command('share <profile> <dataset>')
    .description("deliver a dataset to a profile's bucket; prints the delivery id (with --wait, follows it to the end)")
    .addOption(new Option('--format <format>', "override the dataset's format").choices(FORMATS))
    .addOption(new Option('--compression <compression>', "override the dataset's compression").choices(COMPRESSIONS))
    .option('--max-file-size <size>', 'target maximum size of one stored file, e.g. 256MiB (default), 1GB')
    .option('--max-parallel-files <n>', 'files exported at once for this delivery (default 4)')
    .option('--full-refresh', 'incremental datasets: send every row up to now, not just those past the watermark')
    .option('--wait', 'wait for the delivery to finish, showing progress; exit 1 if it fails')
    .option('--json', 'print the delivery as JSON (with --wait: the final state)')
    .action(
      withDatashare(
        async (
          ds,
          profileId: string,
          datasetId: string,
          opts: {
            format?: string;
            compression?: string;
            maxFileSize?: string;
            maxParallelFiles?: string;
            fullRefresh?: boolean;
            wait?: boolean;
            json?: boolean;
          },
        ) => {
          const maxFileBytes = parseSize('--max-file-size', opts.maxFileSize);
          const maxParallelFiles = parsePositiveInt('--max-parallel-files', opts.maxParallelFiles);
          const started = await ds.share(profileId, datasetId, {
            ...(opts.format ? { format: parseFormat(opts.format) } : {}),
            ...(opts.compression ? { compression: parseCompression(opts.compression) } : {}),
            ...(maxFileBytes ? { maxFileBytes } : {}),
            ...(maxParallelFiles ? { maxParallelFiles } : {}),
            ...(opts.fullRefresh ? { fullRefresh: true } : {}),
          });
          await followOrPrint(ds, started, opts);
        },
      ),
    );

  program
    .command('replay [id]')
    .description(
      'run a failed or cancelled delivery again under the same id, with the profile as it is now; files already\n' +
        'delivered under an unchanged prefix are kept. With --failed, replay every matching failed delivery.',
    )
    .option('--failed', 'replay every failed delivery matching --since/--profile/--dataset')
    .option('--since <time>', 'with --failed: started at or after a time (ISO 8601) or a duration ago (24h, 7d)')
    .option('--profile <id>', 'with --failed: only this profile')
    .option('--dataset <id>', 'with --failed: only this dataset')
    .option('--max-parallel <n>', 'with --failed: replays running at once (default 5)')
    .option('--wait', 'wait for the delivery to finish; exit 1 if it fails')
    .option('--json', 'print JSON')
    .action(
      withDatashare(
        async (
          ds,
          id: string | undefined,
          opts: { failed?: boolean; since?: string; profile?: string; dataset?: string; maxParallel?: string; wait?: boolean; json?: boolean },
        ) => {
          if (opts.failed) {
            if (id) throw new ValidationError('give either a delivery id or --failed, not both');
            const since = parseSince(opts.since);
            const maxParallel = parsePositiveInt('--max-parallel', opts.maxParallel);
            const results = await ds.replayFailed(
              { ...(since ? { since } : {}), ...(opts.profile ? { profileId: opts.profile } : {}), ...(opts.dataset ? { datasetId: opts.dataset } : {}) },
              {
                ...(maxParallel ? { maxParallel } : {}),
                onStarted: (v) => {
                  if (!opts.json) process.stderr.write(`replaying ${v.id} (${v.profileId}/${v.datasetId})\n`);
                },
              },
            );
            if (opts.json) printJson(results);
            else for (const r of results) process.stdout.write(r.result ? `${deliveryLine(r.result)}\n` : `${r.id}  not replayed: ${r.error?.message ?? ''}\n`);
            if (results.some((r) => r.result?.status !== 'completed')) throw new ExitCode(EXIT_FAILED);
            return;
          }
          if (!id) throw new ValidationError('replay needs a delivery id, or --failed to replay every failed delivery');
          if (opts.since || opts.profile || opts.dataset || opts.maxParallel) {
            throw new ValidationError('--since, --profile, --dataset and --max-parallel go with --failed');
          }
          await followOrPrint(ds, await ds.replay(id), opts);
        },
      ),
    );

  program
    .command('delivery <id>')
    .description('show one delivery: status, counts, files, manifest, error')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        const d = await ds.getDelivery(id);
        if (opts.json) printJson(d);
        else process.stdout.write(`${deliveryDetails(d)}\n`);
      }),
    );

  program
    .command('cancel <id>')
    .description('cancel a running delivery: stop its uploads, abort them where the role allows, mark it cancelled')
    .option('--json', 'print the delivery as JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        const d = await ds.cancelDelivery(id);
        if (opts.json) printJson(d);
        else process.stdout.write(`${deliveryDetails(d)}\n`);
        if (d.status !== 'cancelled') throw new ExitCode(EXIT_FAILED);
      }),
    );

  program
    .command('deliveries')
    .description('list deliveries, newest first')
    .option('--status <status>', 'running | completed | failed | cancelled')
    .option('--profile <id>', 'only this profile')
    .option('--dataset <id>', 'only this dataset')
    .option('--since <time>', 'started at or after a time (ISO 8601) or a duration ago (24h, 7d)')
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--json', 'print a JSON array')
    .action(
      withDatashare(
        async (ds, opts: { status?: string; profile?: string; dataset?: string; since?: string; limit?: string; json?: boolean }) => {
          const status = parseStatus(opts.status);
          const since = parseSince(opts.since);
          const limit = parsePositiveInt('--limit', opts.limit);
          const list = await ds.listDeliveries({
            ...(status ? { status } : {}),
            ...(opts.profile ? { profileId: opts.profile } : {}),
            ...(opts.dataset ? { datasetId: opts.dataset } : {}),
            ...(since ? { since } : {}),
            ...(limit ? { limit } : {}),
          });
          if (opts.json) printJson(list);
          else for (const d of list) process.stdout.write(`${deliveryLine(d)}\n`);
        },
      ),
    );

  program
    .command('worker')
    .description('run a worker: executes delivery workflows and their activities until SIGINT/SIGTERM')
    .option('--max-concurrent-files <n>', 'files this worker exports at once; bounds its memory (about 180 MB + 50 MB per file)', '2')
    .action(async (opts: { maxConcurrentFiles: string }) => {
      const max = parsePositiveInt('--max-concurrent-files', opts.maxConcurrentFiles);
      const { runWorker } = await import('../worker/main');
      await runWorker(max ? { maxConcurrentFiles: max } : {});
    });

  addScheduleCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof ExitCode) return e.code;
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof DatashareError) {
      process.stderr.write(`datashare: ${e.type === 'ValidationError' ? 'invalid input' : e.type}: ${e.message}\n`);
      return exitCodeFor(e.type);
    }
    process.stderr.write(`datashare: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_FAILED;
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`datashare: ${String(e)}\n`);
      process.exitCode = EXIT_FAILED;
    },
  );
}
