import type { Command } from 'commander';
import { withDatashare } from './with-datashare';

/** `datashare migrate`. */
export function addMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('create or upgrade the datashare tables in DATABASE_URL')
    .action(
      withDatashare(async (ds) => {
        const applied = await ds.migrate();
        process.stdout.write(
          applied.length ? applied.map((m) => `applied ${m.name}\n`).join('') : 'schema is up to date\n',
        );
      }),
    );
}
