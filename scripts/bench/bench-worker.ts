import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../local/stack-env';

/** The bench's workers: `bin/datashare worker` as users run it, with the flags a case sets. */

/** The process's peak resident memory (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? '') : '';
}

export async function startWorker(env: NodeJS.ProcessEnv, args: string[]): Promise<ChildProcess> {
  const w = spawn(join(REPO_ROOT, 'bin', 'datashare'), ['worker', ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logFile = arg('worker-log');
  if (logFile) w.stderr.on('data', (d: Buffer) => appendFileSync(logFile, d));
  await new Promise<void>((resolve, reject) => {
    w.stderr.on('data', (d: Buffer) => {
      if (d.toString().includes('datashare worker:')) resolve();
    });
    w.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  return w;
}

export async function stopWorker(w: ChildProcess): Promise<void> {
  w.kill('SIGTERM');
  if (w.exitCode === null) await new Promise((r) => w.once('exit', r));
}
