import type { DeliveryView } from '../../common/contracts/delivery';
import type { Datashare } from '../datashare';
import { EXIT_FAILED, ExitCode } from './exit-codes';
import { deliveryDetails, formatBytes, printJson } from './output';

function progressLine(v: DeliveryView, startedMs: number): string {
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  const files = v.fileCount ? `  files ${v.filesCompleted}/${v.fileCount}` : '';
  return `${v.id}  ${v.status}${files}  ${v.rows} rows (${Math.round(v.rows / secs)}/s)  ${formatBytes(v.bytes)} (${(v.bytes / 1e6 / secs).toFixed(1)} MB/s)`;
}

/** Prints a started delivery, or with --wait follows it to the end (exit 1 unless it completed). */
export async function followOrPrint(
  ds: Datashare,
  started: DeliveryView,
  opts: { wait?: boolean; json?: boolean },
): Promise<void> {
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
