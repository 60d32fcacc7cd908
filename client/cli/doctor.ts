import type { Command } from 'commander';
import { doctorLines, runDoctor } from '../library/doctor';
import { EXIT_FAILED, ExitCode } from './exit-codes';
import { printJson } from './output';

/** `datashare doctor`: exit 0 only when a delivery could run now. */
export function addDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check that a delivery could run now: the configuration, the metadata database and its migrations, the source\n' +
        'database, Temporal and its namespace, a worker polling the task queue, the sharer identity (STS GetCallerIdentity)\n' +
        'and the S3/STS endpoints; one line each, exit 1 if any fails',
    )
    .option('--json', 'print the checks as JSON')
    .action(async (opts: { json?: boolean }) => {
      const report = await runDoctor();
      if (opts.json) printJson(report);
      else process.stdout.write(`${doctorLines(report)}\n`);
      if (!report.ok) throw new ExitCode(EXIT_FAILED);
    });
}
