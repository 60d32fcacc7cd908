import { Option, type Command } from 'commander';
import { COMPRESSIONS, DEFAULT_COMPRESSION, FORMATS } from '../../common/contracts/delivery';
import { checkCompression, checkFormat } from '../library/file-format';
import { parseDurationFlag, parseKeyColumns } from './arg-grammar';
import { formatDuration } from '../../common/domain/durations';
import { printJson } from './output';
import { DEFAULT_STATEMENT_TIMEOUT_MS, statementTimeoutOf } from '../../common/domain/dataset-guards';
import type { DatasetRow } from '../../common/store/datasets';
import { withDatashare } from './with-datashare';

const DEFAULT_TIMEOUT = formatDuration(DEFAULT_STATEMENT_TIMEOUT_MS);

function guards(d: DatasetRow): string {
  return `${d.sameForEveryone ? ', same for everyone' : ''}, statement timeout ${formatDuration(statementTimeoutOf(d))}`;
}

/** `datashare dataset …`: datasets, a SELECT each over the source database. */
export function addDatasetCommands(program: Command): void {
  const dataset = program.command('dataset').description('manage datasets (a SELECT over the source database)');
  dataset
    .command('set <id>')
    .description('create or replace a dataset; the SQL may use profile properties as :name (bound as parameters)')
    .requiredOption('--sql <select>', 'one SELECT (or WITH/VALUES/TABLE) query')
    .requiredOption('--key <columns>', 'unique key column(s), comma-separated; the export is ordered by it')
    .addOption(new Option('--format <format>', 'file format').choices(FORMATS).default('csv'))
    .addOption(
      new Option(
        '--compression <compression>',
        `compression (default: ${Object.entries(DEFAULT_COMPRESSION)
          .map(([f, c]) => `${c} for ${f}`)
          .join(', ')})`,
      ).choices(COMPRESSIONS),
    )
    .option(
      '--incremental <column>',
      'a timestamp/date column: each delivery sends only rows whose column moved past the last completed delivery',
    )
    .option(
      '--lookback <duration>',
      'with --incremental: start this far before the last watermark (e.g. 15m, 1h) to catch late rows',
    )
    .option(
      '--same-for-everyone',
      'the SQL names no profile property on purpose: every end user gets the same rows (shared reference data); without it such SQL is refused',
    )
    .option(
      '--statement-timeout <duration>',
      `how long planning, sampling and the wait for the first row may take (default ${DEFAULT_TIMEOUT})`,
    )
    .option('--json', 'print the dataset as JSON')
    .action(
      withDatashare(
        async (
          ds,
          id: string,
          opts: {
            sql: string;
            key: string;
            format: string;
            compression?: string;
            incremental?: string;
            lookback?: string;
            sameForEveryone?: boolean;
            statementTimeout?: string;
            json?: boolean;
          },
        ) => {
          const lookbackSeconds =
            opts.lookback !== undefined ? parseDurationFlag('--lookback', opts.lookback) / 1000 : undefined;
          const timeout =
            opts.statementTimeout !== undefined
              ? parseDurationFlag('--statement-timeout', opts.statementTimeout)
              : undefined;
          const d = await ds.setDataset(id, {
            sql: opts.sql,
            keyColumns: parseKeyColumns(opts.key),
            format: checkFormat(opts.format),
            ...(opts.compression !== undefined ? { compression: checkCompression(opts.compression) } : {}),
            ...(opts.incremental !== undefined ? { incrementalColumn: opts.incremental } : {}),
            ...(lookbackSeconds !== undefined ? { lookbackSeconds } : {}),
            ...(opts.sameForEveryone ? { sameForEveryone: true } : {}),
            ...(timeout !== undefined ? { statementTimeoutMs: timeout } : {}),
          });
          if (opts.json) printJson(d);
          else {
            const inc = d.incrementalColumn
              ? `, incremental on ${d.incrementalColumn} (lookback ${d.lookbackSeconds}s)`
              : '';
            process.stdout.write(
              `dataset ${d.id}: ${d.format}, ${d.compression}, key ${d.keyColumns.join(',')}${inc}${guards(d)}\n`,
            );
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
        else
          process.stdout.write(
            `dataset ${d.id}\n  format ${d.format}, compression ${d.compression}, key ${d.keyColumns.join(',')}\n` +
              `  ${d.sameForEveryone ? 'same for everyone: every end user gets the same rows (declared)' : 'per end user: rows chosen by profile properties'}\n` +
              `  statement timeout ${formatDuration(statementTimeoutOf(d))}${d.statementTimeoutMs === null ? ' (default)' : ''}\n  sql ${d.sql}\n`,
          );
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
        else
          for (const d of all)
            process.stdout.write(`${d.id}  ${d.format}/${d.compression}  key ${d.keyColumns.join(',')}\n`);
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
}
