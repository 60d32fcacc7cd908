import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './cli';

/** A real `datashare worker` process started and stopped by a test, with everything it writes kept for assertions. */
export class LoggedWorker {
  private child: ChildProcess | undefined;
  stderr = '';
  stdout = '';

  start(args: string[], env: NodeJS.ProcessEnv): void {
    const child = spawn(CLI, ['worker', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.child = child;
  }

  get exited(): boolean {
    return this.child?.exitCode !== null && this.child?.exitCode !== undefined;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}
