import { Command, CommanderError } from 'commander';
import { DatashareError, exitCodeFor } from '../common/errors';
import { addDatasetCommands } from './cli/dataset';
import { addDeliveryCommands } from './cli/delivery';
import { addDoctorCommand } from './cli/doctor';
import { EXIT_FAILED, EXIT_USAGE, ExitCode } from './cli/exit-codes';
import { addInstanceCommands } from './cli/instance';
import { addMigrateCommand } from './cli/migrate';
import { addProfileCommands } from './cli/profile';
import { addScheduleCommands } from './cli/schedule';
import { addWebhookCommands } from './cli/webhook';
import { addWorkerCommand } from './cli/worker';
import { useLocalStackIfUnconfigured } from './cli/local-stack';
import { loadConfig } from '../common/infra/config';
import { explainUnreachable } from '../common/infra/service-errors';

/** The `datashare` command: bin/datashare loads this file and calls main(). Each command group has its file in cli/. */
export function buildProgram(): Command {
  const program = new Command('datashare')
    .description(
      "Deliver datasets from Postgres into end users' own S3 buckets through cross-account IAM roles.\n" +
        'Configuration: DATABASE_URL, SOURCE_DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATASHARE_TASK_QUEUE,\n' +
        'and the AWS SDK variables (AWS_ACCESS_KEY_ID, AWS_REGION, AWS_ENDPOINT_URL, ...).\n' +
        "Inside a checkout with nothing of these set, the local stack's settings (.stack/env) are used, as stderr says.\n" +
        'DATASHARE_DEBUG=1 prints stack traces of unexpected errors.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // In this order in --help.
  addMigrateCommand(program);
  addProfileCommands(program);
  addDatasetCommands(program);
  addDeliveryCommands(program);
  addWorkerCommand(program);
  addScheduleCommands(program);
  addInstanceCommands(program);
  addWebhookCommands(program);
  addDoctorCommand(program);
  return program;
}

/** Postgres's undefined_table on one of our own tables: a database that was never migrated. */
function isMissingOurTable(e: unknown): boolean {
  const pg = e as { code?: unknown; message?: unknown };
  return (
    pg?.code === '42P01' &&
    typeof pg.message === 'string' &&
    /relation "(profiles|datasets|deliveries|instances|delivery_\w+|webhooks|webhook_attempts|schema_migrations)"/.test(
      pg.message,
    )
  );
}

/** The configuration for explaining an error; a broken Temporal profile must not hide the error itself. */
function configOrDefaults(): ReturnType<typeof loadConfig> {
  try {
    return loadConfig();
  } catch {
    return loadConfig({ ...process.env, TEMPORAL_CONFIG_FILE: '/dev/null', TEMPORAL_PROFILE: '' });
  }
}

export async function main(argv: string[]): Promise<number> {
  useLocalStackIfUnconfigured(process.env, (line) => process.stderr.write(`${line}\n`));
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
    const unreachable = explainUnreachable(e, configOrDefaults());
    if (unreachable) {
      process.stderr.write(`datashare: ${unreachable.message}\n`);
      if (process.env.DATASHARE_DEBUG === '1' && e instanceof Error) process.stderr.write(`${e.stack ?? ''}\n`);
      return exitCodeFor(unreachable.type);
    }
    if (isMissingOurTable(e)) {
      process.stderr.write('datashare: the datashare tables do not exist in DATABASE_URL yet: run datashare migrate\n');
      return EXIT_FAILED;
    }
    if (e instanceof DatashareError) {
      process.stderr.write(`datashare: ${e.type === 'ValidationError' ? 'invalid input' : e.type}: ${e.message}\n`);
      return exitCodeFor(e.type);
    }
    process.stderr.write(`datashare: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.DATASHARE_DEBUG === '1' && e instanceof Error) process.stderr.write(`${e.stack ?? ''}\n`);
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
