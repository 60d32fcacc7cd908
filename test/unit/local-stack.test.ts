import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnvFile, useLocalStackIfUnconfigured } from '../../client/cli/local-stack';

const stack = mkdtempSync(join(tmpdir(), 'local-stack-'));
const noToml = mkdtempSync(join(tmpdir(), 'xdg-'));
writeFileSync(
  join(stack, 'env'),
  'export DATABASE_URL=postgres://postgres@127.0.0.1:5999/datashare\nexport TEMPORAL_ADDRESS=127.0.0.1:7999\nexport PG_DATA=/tmp/my\\ clone/.stack/pg\n',
);
afterAll(() => {
  rmSync(stack, { recursive: true, force: true });
  rmSync(noToml, { recursive: true, force: true });
});

function run(extra: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; said: string[]; used: string | undefined } {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/bin', DATASHARE_STACK_DIR: stack, XDG_CONFIG_HOME: noToml, ...extra };
  const said: string[] = [];
  const used = useLocalStackIfUnconfigured(env, (l) => said.push(l));
  return { env, said, used };
}

describe("the CLI's use of the local stack's settings", () => {
  it('applies them when nothing configures datashare, and says so', () => {
    const r = run({});
    expect(r.used).toBe(join(stack, 'env'));
    expect(r.env.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5999/datashare');
    expect(r.env.TEMPORAL_ADDRESS).toBe('127.0.0.1:7999');
    expect(r.said).toEqual([expect.stringContaining(`using the local stack's settings from ${join(stack, 'env')}`)]);
  });

  it('treats an empty variable as unset, and fills it', () => {
    expect(run({ DATABASE_URL: '' }).env.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5999/datashare');
  });

  for (const [name, value] of [
    ['DATABASE_URL', 'postgres://prod/db'],
    ['SOURCE_DATABASE_URL', 'postgres://replica/db'],
    ['TEMPORAL_ADDRESS', 'temporal.prod:7233'],
    ['TEMPORAL_NAMESPACE', 'prod'],
    ['TEMPORAL_API_KEY', 'k'],
    ['AWS_ENDPOINT_URL', 'http://minio:9000'],
    ['AWS_ENDPOINT_URL_S3', 'http://minio:9000'],
    ['DATASHARE_NO_LOCAL_STACK', '1'],
  ] as const) {
    it(`is turned off by ${name}`, () => {
      const r = run({ [name]: value });
      expect(r.used).toBeUndefined();
      expect(r.said).toEqual([]);
      if (name !== 'DATABASE_URL') expect(r.env.DATABASE_URL).toBeUndefined();
    });
  }

  it('is turned off by a temporal.toml profile', () => {
    const xdg = mkdtempSync(join(tmpdir(), 'xdg-toml-'));
    try {
      const dir = join(xdg, 'temporalio');
      mkdirSync(dir);
      writeFileSync(join(dir, 'temporal.toml'), '[profile.default]\naddress = "x:7233"\n');
      expect(run({ XDG_CONFIG_HOME: xdg }).used).toBeUndefined();
    } finally {
      rmSync(xdg, { recursive: true, force: true });
    }
  });

  it("reads values as start.sh writes them (bash's printf %q)", () => {
    expect(parseEnvFile("export A=/tmp/my\\ clone\nexport B='quoted value'\nC=plain\n")).toEqual({
      A: '/tmp/my clone',
      B: 'quoted value',
      C: 'plain',
    });
  });
});
