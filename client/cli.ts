import { Command, CommanderError } from 'commander';
import { DatashareError, exitCodeFor } from '../common/errors';
import { addDatasetCommands } from './cli/dataset';
import { addDeliveryCommands } from './cli/delivery';
import { EXIT_FAILED, EXIT_USAGE, ExitCode } from './cli/exit-codes';
import { addMigrateCommand } from './cli/migrate';
import { addProfileCommands } from './cli/profile';
import { addScheduleCommands } from './cli/schedule';
import { addWorkerCommand } from './cli/worker';

/** The `datashare` command: bin/datashare loads this file and calls main(). Each command group has its file in cli/. */
export function buildProgram(): Command {
  const program = new Command('datashare')
    .description(
      "Deliver datasets from Postgres into end users' own S3 buckets through cross-account IAM roles.\n" +
        'Configuration: DATABASE_URL, SOURCE_DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATASHARE_TASK_QUEUE,\n' +
        'and the AWS SDK variables (AWS_ACCESS_KEY_ID, AWS_REGION, AWS_ENDPOINT_URL, ...).',
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
