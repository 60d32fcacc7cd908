/**
 * Inside a checkout whose local stack is running, `npx datashare …` should just
 * work in a new shell, as the demo's printed commands promise. So when nothing
 * configures datashare, the CLI reads the stack's settings (.stack/env, written by
 * scripts/stack/start.sh) and says so on stderr. Any explicit setting turns this
 * off, so it can never point a production shell at a local stack by surprise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Any of these set means "configured": the stack's settings are not used. */
const CONFIG_VARIABLES = [/^DATABASE_URL$/, /^SOURCE_DATABASE_URL$/, /^TEMPORAL_/, /^AWS_ENDPOINT_URL/];

function configuredBy(env: NodeJS.ProcessEnv): string | undefined {
  const name = Object.keys(env).find(
    (k) => env[k] !== undefined && env[k] !== '' && CONFIG_VARIABLES.some((re) => re.test(k)),
  );
  if (name) return name;
  // A temporal.toml profile configures Temporal the standard way (the SDK's envconfig default path).
  const toml = join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'temporalio', 'temporal.toml');
  return existsSync(toml) ? toml : undefined;
}

/** The checkout this CLI runs from: the folder above client/ (sources) or dist/client/ (built). */
function checkoutRoot(): string | undefined {
  for (let dir = __dirname, i = 0; i < 4; i++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts', 'stack', 'start.sh'))) return dir;
  }
  return undefined;
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2];
    if ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"'))) v = v.slice(1, -1);
    // start.sh writes values with bash's printf %q: a path with a space comes as `my\ clone`.
    else v = v.replace(/\\(.)/g, '$1');
    out[m[1]] = v;
  }
  return out;
}

/**
 * Applies the local stack's settings to `env` when nothing else configures
 * datashare and the stack has written them; returns the file used, if any.
 */
export function useLocalStackIfUnconfigured(env: NodeJS.ProcessEnv, say: (line: string) => void): string | undefined {
  if (env.DATASHARE_NO_LOCAL_STACK === '1' || configuredBy(env)) return undefined;
  const root = checkoutRoot();
  const file = env.DATASHARE_STACK_DIR ? join(env.DATASHARE_STACK_DIR, 'env') : root && join(root, '.stack', 'env');
  if (!file || !existsSync(file)) return undefined;
  const settings = parseEnvFile(readFileSync(file, 'utf8'));
  for (const [k, v] of Object.entries(settings)) if (!env[k]) env[k] = v;
  say(
    `datashare: using the local stack's settings from ${file} (set DATABASE_URL, TEMPORAL_ADDRESS or AWS_ENDPOINT_URL to use others)`,
  );
  return file;
}
