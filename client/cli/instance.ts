import type { Command } from 'commander';
import type { InstanceRow } from '../../common/store/instances';
import { printJson } from './output';
import { withDatashare } from './with-datashare';

function instanceLine(i: InstanceRow): string {
  return `${i.name}  ${i.partition}  ${i.region}  ${i.principalArn}  task queue ${i.taskQueue}`;
}

/** `datashare instance …`: the sharer deployments (one principal, region and task queue each). */
export function addInstanceCommands(program: Command): void {
  const instance = program
    .command('instance')
    .description(
      'manage instances: sharer deployments side by side, each with its partition, region, the principal end users trust,\n' +
        'and the task queue its workers poll (datashare worker --instance <name>). A profile belongs to the instance its\n' +
        "s3_instance names, or to the only instance serving its role's partition. With no instance, DATASHARE_TASK_QUEUE\n" +
        'and DATASHARE_SHARER_PRINCIPAL_ARN apply as before.',
    );
  instance
    .command('set <name>')
    .description('create or replace an instance; its profiles go to the new task queue from their next delivery on')
    .requiredOption('--partition <p>', 'aws, aws-us-gov or aws-cn')
    .requiredOption('--region <r>', 'the region its workers run in, e.g. eu-central-1 or us-gov-west-1')
    .requiredOption('--principal <arn>', "the principal end users' roles trust, e.g. arn:aws:iam::251497699814:root")
    .requiredOption('--task-queue <q>', 'the Temporal task queue its workers poll, e.g. datashare-eu')
    .option('--json', 'print the instance as JSON')
    .action(
      withDatashare(
        async (
          ds,
          name: string,
          opts: { partition: string; region: string; principal: string; taskQueue: string; json?: boolean },
        ) => {
          const i = await ds.instances.set({
            name,
            partition: opts.partition as InstanceRow['partition'],
            region: opts.region,
            principalArn: opts.principal,
            taskQueue: opts.taskQueue,
          });
          if (opts.json) printJson(i);
          else process.stdout.write(`${instanceLine(i)}\n`);
        },
      ),
    );
  instance
    .command('list')
    .description('list instances')
    .option('--json', 'print a JSON array')
    .action(
      withDatashare(async (ds, opts: { json?: boolean }) => {
        const all = await ds.instances.list();
        if (opts.json) printJson(all);
        else if (all.length === 0)
          process.stdout.write('no instances: every delivery runs on DATASHARE_TASK_QUEUE as one deployment\n');
        else for (const i of all) process.stdout.write(`${instanceLine(i)}\n`);
      }),
    );
  instance
    .command('show <name>')
    .description('show one instance')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async (ds, name: string, opts: { json?: boolean }) => {
        const i = await ds.instances.get(name);
        if (opts.json) printJson(i);
        else process.stdout.write(`${instanceLine(i)}\n`);
      }),
    );
  instance
    .command('delete <name>')
    .description('delete an instance; refused while a profile names it in s3_instance')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async (ds, name: string, opts: { json?: boolean }) => {
        await ds.instances.delete(name);
        if (opts.json) printJson({ name, deleted: true });
        else process.stdout.write(`deleted instance ${name}\n`);
      }),
    );
}
