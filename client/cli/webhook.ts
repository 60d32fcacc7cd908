import type { Command } from 'commander';
import { parseEvents } from '../library/webhooks';
import { EXIT_FAILED, ExitCode } from './exit-codes';
import { printJson } from './output';
import { withDatashare } from './with-datashare';

/** `datashare webhook …`: tell other systems when deliveries complete, fail or are cancelled. */
export function addWebhookCommands(program: Command): void {
  const webhook = program
    .command('webhook')
    .description(
      'tell other systems how deliveries end: a signed POST per event (README, Operations).\n' +
        'Needs DATASHARE_SECRET_KEY (32+ characters, the same for the CLI and every worker).',
    );
  webhook
    .command('add <url>')
    .description(
      'add a webhook and print its signing secret, once. URLs must be https to a public address\n' +
        '(http to loopback with DATASHARE_WEBHOOK_ALLOW_LOOPBACK=1; private addresses with DATASHARE_WEBHOOK_ALLOW_PRIVATE=1)',
    )
    .option(
      '--events <list>',
      'events to send, comma-separated: completed,failed,cancelled',
      'completed,failed,cancelled',
    )
    .option('--dataset <id>', "only this dataset's deliveries")
    .option('--profile <id>', "only this profile's deliveries")
    .option('--json', 'print {id, url, events, secret, …} as JSON')
    .action(
      withDatashare(
        async (ds, url: string, opts: { events: string; dataset?: string; profile?: string; json?: boolean }) => {
          const w = await ds.webhooks.add({
            url,
            events: parseEvents(opts.events),
            ...(opts.dataset ? { datasetId: opts.dataset } : {}),
            ...(opts.profile ? { profileId: opts.profile } : {}),
          });
          if (opts.json) return printJson(w);
          process.stdout.write(
            `webhook ${w.id} → ${w.url} (${w.events.join(', ')})\n` +
              `signing secret: ${w.secret}\n` +
              'This is the only time the secret is shown: give it to the receiver now.\n',
          );
        },
      ),
    );
  webhook
    .command('list')
    .description('list webhooks (never their secrets)')
    .option('--json', 'print JSON')
    .action(
      withDatashare(async (ds, opts: { json?: boolean }) => {
        const list = await ds.webhooks.list();
        if (opts.json) return printJson(list);
        if (list.length === 0) process.stdout.write('no webhooks; add one with: datashare webhook add <url>\n');
        for (const w of list) {
          const scope = [w.datasetId && `dataset ${w.datasetId}`, w.profileId && `profile ${w.profileId}`].filter(
            Boolean,
          );
          process.stdout.write(
            `${w.id}  ${w.url}  ${w.events.join(',')}${scope.length ? `  ${scope.join(', ')}` : ''}\n`,
          );
        }
      }),
    );
  webhook
    .command('delete <id>')
    .description('delete a webhook; its past attempts stay on the deliveries')
    .option('--json', 'print {id, deleted} as JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        await ds.webhooks.delete(id);
        if (opts.json) printJson({ id, deleted: true });
        else process.stdout.write(`webhook ${id} deleted\n`);
      }),
    );
  webhook
    .command('test <id>')
    .description('send a signed "test" event to the webhook now and show what the receiver answered')
    .option('--json', 'print {id, url, statusCode, ok} as JSON')
    .action(
      withDatashare(async (ds, id: string, opts: { json?: boolean }) => {
        const r = await ds.webhooks.test(id);
        if (opts.json) printJson(r);
        else
          process.stdout.write(
            `webhook ${id}: the receiver answered HTTP ${r.statusCode}${r.ok ? '' : ' (not 2xx)'}\n`,
          );
        if (!r.ok) throw new ExitCode(EXIT_FAILED);
      }),
    );
}
