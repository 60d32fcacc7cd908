import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/local/stack-env';

export const CLI = join(REPO_ROOT, 'bin', 'datashare');

export interface CliResult {
  code: number | null;
  /** The signal that ended the process, if one did (then `code` is null). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `datashare` command as a separate process, as an operator would. */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 120_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Decoded as a stream, so a character split across two chunks stays one character.
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`datashare ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
