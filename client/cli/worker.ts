import type { Command } from 'commander';
import { parsePositiveInt } from './arg-grammar';

/** `datashare worker`. The worker (and the Temporal worker runtime) is loaded only when this command runs, not by every command. */
export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker: executes delivery workflows and their activities until SIGINT/SIGTERM')
    .option(
      '--max-concurrent-files <n>',
      'files this worker exports at once; bounds its memory (about 175 MB idle plus about 31 MiB per file; README, Large shares)',
      '2',
    )
    .option(
      '--max-source-connections <n>',
      'connections to the source database this worker holds at most; deliveries beyond it wait their turn (default: files × connections per file + 2, or DATASHARE_MAX_SOURCE_CONNECTIONS)',
    )
    .option(
      '--instance <name>',
      "serve this instance (datashare instance list): poll its task queue, with its AWS credentials, refusing other instances' profiles (default DATASHARE_INSTANCE)",
    )
    .option(
      '--shutdown-grace <duration>',
      'on SIGTERM/SIGINT: stop polling, let files in flight finish or checkpoint their finished parts, and exit within this (default 30s, or DATASHARE_SHUTDOWN_GRACE); give the orchestrator a few seconds more',
    )
    .option(
      '--connections-per-file <n>',
      'source connections one file is read over at once, as slices of an integer key in one snapshot; the bytes are the same whatever the number (default: 2 for CSV and JSON Lines, 1 for Parquet, or DATASHARE_CONNECTIONS_PER_FILE for all; README, Large shares)',
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus /metrics, /healthz and /readyz on this port (default DATASHARE_METRICS_PORT; none when unset; README, Operations)',
    )
    .action(
      async (opts: {
        maxConcurrentFiles: string;
        maxSourceConnections?: string;
        connectionsPerFile?: string;
        instance?: string;
        shutdownGrace?: string;
        metricsPort?: string;
      }) => {
        const max = parsePositiveInt('--max-concurrent-files', opts.maxConcurrentFiles);
        const maxSource = parsePositiveInt('--max-source-connections', opts.maxSourceConnections, 10_000);
        const perFile = parsePositiveInt('--connections-per-file', opts.connectionsPerFile, 64);
        const metricsPort = parsePositiveInt('--metrics-port', opts.metricsPort, 65_535);
        const { runWorker } = await import('../../worker/main');
        await runWorker({
          ...(max ? { maxConcurrentFiles: max } : {}),
          ...(maxSource ? { maxSourceConnections: maxSource } : {}),
          ...(perFile ? { connectionsPerFile: perFile } : {}),
          ...(opts.instance ? { instance: opts.instance } : {}),
          ...(opts.shutdownGrace ? { shutdownGrace: opts.shutdownGrace } : {}),
          ...(metricsPort ? { metricsPort } : {}),
        });
      },
    );
}
