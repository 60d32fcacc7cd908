import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The checkout's root, found from here both in sources and in dist/. */
function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'tsconfig.build.json')) === false) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no datashare checkout above ${start}`);
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot(__dirname);
export const STACK_DIR = process.env.DATASHARE_STACK_DIR ?? join(REPO_ROOT, '.stack');
// Overridable so two suites (e.g. two checkouts) can share one local stack without colliding.
export const TEST_DATABASE = process.env.DATASHARE_TEST_DATABASE ?? 'datashare_test';

/** Reads the `export K=V` lines that scripts/stack/start.sh writes. */
export function readStackEnv(): Record<string, string> {
  const file = join(STACK_DIR, 'env');
  if (!existsSync(file)) throw new Error(`${file} is missing: start the local services with: npm run stack:start`);
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2];
    if ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"'))) v = v.slice(1, -1);
    env[m[1]] = v;
  }
  return env;
}

/** The stack's environment with DATABASE_URL pointing at the test database. */
export function testEnv(): Record<string, string> {
  const env = readStackEnv();
  const url = new URL(env.DATABASE_URL);
  url.pathname = `/${TEST_DATABASE}`;
  return {
    ...env,
    DATABASE_URL: url.toString(),
    DATASHARE_TASK_QUEUE: env.DATASHARE_TASK_QUEUE ?? 'datashare-test',
    // A stack started before start.sh wrote a key: the tests' own, never a real one.
    DATASHARE_SECRET_KEY: env.DATASHARE_SECRET_KEY ?? 'test-only-secret-key-of-the-local-stack',
  };
}

/** Applies testEnv() to this process, so the code under test configures itself as in production. */
export function useTestEnv(): Record<string, string> {
  const env = testEnv();
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  delete process.env.SOURCE_DATABASE_URL;
  return env;
}
