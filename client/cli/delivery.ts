import { Option, type Command } from 'commander';
import { COMPRESSIONS, FORMATS } from '../../common/contracts/delivery';
import { ValidationError } from '../../common/errors';
import { checkCompression, checkFormat } from '../library/file-format';
import { parsePositiveInt, parseSize, parseStatus, parseTime } from './arg-grammar';
import { EXIT_FAILED, ExitCode } from './exit-codes';
import { followOrPrint } from './follow-delivery';
import { deliveryDetails, deliveryLine, printJson } from './output';
import { withDatashare } from './with-datashare';

/** `datashare share | replay | delivery | cancel | deliveries`: a delivery's life. */
export function addDeliveryCommands(program: Command): void {
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
            ...(opts.format ? { format: checkFormat(opts.format) } : {}),
            ...(opts.compression ? { compression: checkCompression(opts.compression) } : {}),
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
          opts: {
            failed?: boolean;
            since?: string;
            profile?: string;
            dataset?: string;
            maxParallel?: string;
            wait?: boolean;
            json?: boolean;
          },
        ) => {
          if (opts.failed) {
            if (id) throw new ValidationError('give either a delivery id or --failed, not both');
            const since = opts.since !== undefined ? parseTime('--since', opts.since) : undefined;
            const maxParallel = parsePositiveInt('--max-parallel', opts.maxParallel);
            const results = await ds.replayFailed(
              {
                ...(since ? { since } : {}),
                ...(opts.profile ? { profileId: opts.profile } : {}),
                ...(opts.dataset ? { datasetId: opts.dataset } : {}),
              },
              {
                ...(maxParallel ? { maxParallel } : {}),
                onStarted: (v) => {
                  if (!opts.json) process.stderr.write(`replaying ${v.id} (${v.profileId}/${v.datasetId})\n`);
                },
              },
            );
            if (opts.json) printJson(results);
            else
              for (const r of results)
                process.stdout.write(
                  r.result ? `${deliveryLine(r.result)}\n` : `${r.id}  not replayed: ${r.error?.message ?? ''}\n`,
                );
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
        async (
          ds,
          opts: { status?: string; profile?: string; dataset?: string; since?: string; limit?: string; json?: boolean },
        ) => {
          const status = parseStatus(opts.status);
          const since = opts.since !== undefined ? parseTime('--since', opts.since) : undefined;
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
}
