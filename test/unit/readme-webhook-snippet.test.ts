import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { signatureHeader } from '../../common/webhooks/signature';

/** The receiver-side snippet in README (Operations → Webhooks), compiled and run as a receiver would. */
function readmeVerifier(): (secret: string, body: string, header: string) => boolean {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .find((b) => b.includes('verifyDatashare'));
  if (!block) throw new Error('README has no verifyDatashare snippet');
  const js = ts.transpileModule(`${block}\nmodule.exports = verifyDatashare;`, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const mod = { exports: {} as unknown };
  runInNewContext(js, { require: createRequire(__filename), module: mod, exports: mod.exports, Buffer, Date, Math });
  return mod.exports as (secret: string, body: string, header: string) => boolean;
}

describe("README's webhook verification snippet", () => {
  const verify = readmeVerifier();
  const now = Math.floor(Date.now() / 1000);
  const body = '{"event":"completed","delivery":{"id":"d1"}}';

  it('accepts what the worker signs', () => {
    expect(verify('whsec_s', body, signatureHeader('whsec_s', body, now))).toBe(true);
  });

  it('refuses another body, another secret, a stale or a malformed header', () => {
    expect(verify('whsec_s', `${body} `, signatureHeader('whsec_s', body, now))).toBe(false);
    expect(verify('whsec_other', body, signatureHeader('whsec_s', body, now))).toBe(false);
    expect(verify('whsec_s', body, signatureHeader('whsec_s', body, now - 600))).toBe(false);
    expect(verify('whsec_s', body, 'garbage')).toBe(false);
  });
});
