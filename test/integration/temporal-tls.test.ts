import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../common/infra/config';
import { connectTemporal } from '../../client/library/temporal-connection';
import { connectWorkerToTemporal } from '../../worker/temporal-connect';
import { logLines, startHarness, type Harness } from '../support/harness';
import { startTlsProxy, type TlsProxy } from '../support/tls-proxy';
import { runCli } from '../support/cli';
import { createBucket, createEndUserRole, endUserProfile, uniqueName } from '../../scripts/local/end-user-account';
import { testEnv } from '../../scripts/local/stack-env';

/**
 * Temporal behind a real TLS terminator (Debian's nginx, grpc_pass to the dev
 * server), as Temporal Cloud or a company's TLS cluster looks to datashare: one
 * listener requires a client certificate from a test CA, the other an API key.
 */
describe('Temporal over TLS: mTLS and API keys through nginx, the standard TEMPORAL_* settings', () => {
  let proxy: TlsProxy;
  const stack = testEnv();

  beforeAll(async () => {
    proxy = await startTlsProxy(stack.TEMPORAL_ADDRESS);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  /** The test environment pointed at a listener, with nothing of the stack's plain address left. */
  function tlsEnv(extra: Record<string, string>): Record<string, string> {
    return { ...stack, TEMPORAL_TLS_SERVER_CA_CERT_PATH: proxy.pki.caCert, ...extra };
  }

  async function deliverOnce(env: Record<string, string>, name: string): Promise<void> {
    const started = Date.now();
    let h: Harness | undefined;
    try {
      h = await startHarness({ taskQueue: uniqueName(name), env });
      const bucket = uniqueName(`${name}-bucket`);
      await createBucket('other', bucket);
      const profile = uniqueName(`${name}-profile`);
      const role = await createEndUserRole({ account: 'other', bucket, allowPrefix: 'in/' });
      await h.ds.setProfile(profile, endUserProfile(role, bucket, 'in/'));
      const dataset = uniqueName(`${name}-ds`);
      await h.ds.setDataset(dataset, {
        sql: 'SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 500) g',
        keyColumns: ['id'],
        compression: 'none',
        sameForEveryone: true,
      });
      const d = await h.ds.share(profile, dataset);
      const done = await h.ds.waitForDelivery(d.id, undefined, 200);
      expect(done.error).toBeUndefined();
      expect(done.status).toBe('completed');
      expect(done.rows).toBe(500);
      console.log(`${name}: delivery over ${env.TEMPORAL_ADDRESS} completed in ${Date.now() - started} ms`);
    } finally {
      await h?.stop();
    }
  }

  it('runs a delivery end to end over mTLS (client and worker both through the TLS terminator)', async () => {
    await deliverOnce(
      tlsEnv({
        TEMPORAL_ADDRESS: proxy.mtlsAddress,
        TEMPORAL_TLS_CLIENT_CERT_PATH: proxy.pki.clientCert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: proxy.pki.clientKey,
      }),
      'mtls',
    );
  });

  it('runs a delivery with TEMPORAL_API_KEY through the listener that requires a bearer key', async () => {
    await deliverOnce(tlsEnv({ TEMPORAL_ADDRESS: proxy.apiKeyAddress, TEMPORAL_API_KEY: proxy.apiKey }), 'apikey');
    // The key is a secret: the worker's logs never carry it.
    expect(logLines.join('\n')).not.toContain(proxy.apiKey);
  });

  it('datashare worker without its client certificate exits 1 with one line naming TLS and the variables', async () => {
    const env = { ...process.env, ...tlsEnv({ TEMPORAL_ADDRESS: proxy.mtlsAddress }) };
    const r = await runCli(['worker'], env, 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^datashare: TemporalConnectionRefused: Temporal at localhost:\d+ \(TLS \(no client certificate.*refused the TLS connection without a client certificate.*set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/m,
    );
    expect(r.stderr).not.toMatch(/Failed to connect before the deadline/);
  });

  /** Both the client's and the worker's connect must fail with the same clear message. */
  async function refusal(env: Record<string, string>): Promise<string[]> {
    const settings = loadConfig(env).temporal;
    const out: string[] = [];
    for (const open of [() => connectTemporal(settings, 3000), () => connectWorkerToTemporal(settings)] as const) {
      const e: unknown = await open().then(
        async (c) => {
          await c.close();
          return undefined;
        },
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(Error);
      expect((e as { type?: string }).type, String(e)).toBe('TemporalConnectionRefused');
      const message = (e as Error).message;
      expect(message).not.toMatch(/^Failed to connect before the deadline$/);
      out.push(message);
    }
    return out;
  }

  it('a missing client certificate names TLS and the variables to set', async () => {
    for (const m of await refusal(tlsEnv({ TEMPORAL_ADDRESS: proxy.mtlsAddress }))) {
      expect(m).toMatch(/TLS/);
      expect(m).toMatch(/without a client certificate/);
      expect(m).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH/);
    }
  });

  it('a client certificate from another CA is named as refused, with the variables to set', async () => {
    const env = tlsEnv({
      TEMPORAL_ADDRESS: proxy.mtlsAddress,
      TEMPORAL_TLS_CLIENT_CERT_PATH: proxy.pki.rogueClientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: proxy.pki.rogueClientKey,
    });
    for (const m of await refusal(env)) {
      expect(m).toMatch(/refused the TLS client certificate/);
      expect(m).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH/);
    }
  });

  it('a server certificate the client cannot trust names TEMPORAL_TLS_SERVER_CA_CERT_PATH, not a deadline', async () => {
    const env = {
      ...stack,
      TEMPORAL_ADDRESS: proxy.mtlsAddress,
      TEMPORAL_TLS_CLIENT_CERT_PATH: proxy.pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: proxy.pki.clientKey,
    };
    for (const m of await refusal(env)) {
      expect(m).toMatch(/TLS handshake failed/);
      expect(m).toMatch(/TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
    }
  });

  it('plain gRPC against a TLS listener says to set TEMPORAL_TLS', async () => {
    for (const m of await refusal({ ...stack, TEMPORAL_ADDRESS: proxy.mtlsAddress })) {
      expect(m).toMatch(/requires TLS; set TEMPORAL_TLS=true/);
    }
  });

  it('no API key, or a wrong one, names TEMPORAL_API_KEY', async () => {
    for (const m of await refusal(tlsEnv({ TEMPORAL_ADDRESS: proxy.apiKeyAddress }))) {
      expect(m).toMatch(/requires credentials/);
      expect(m).toMatch(/TEMPORAL_API_KEY/);
    }
    for (const m of await refusal(tlsEnv({ TEMPORAL_ADDRESS: proxy.apiKeyAddress, TEMPORAL_API_KEY: 'wrong' }))) {
      expect(m).toMatch(/refused the API key/);
      expect(m).not.toContain(proxy.apiKey);
    }
  });

  it('datashare doctor, configured by a temporal.toml profile, reports the TLS and API-key state it connected with', async () => {
    const toml = join(proxy.pki.dir, 'temporal.toml');
    writeFileSync(
      toml,
      `[profile.default]\naddress = "127.0.0.1:1"\n\n[profile.cloud]\naddress = "${proxy.mtlsAddress}"\nnamespace = "default"\n\n` +
        `[profile.cloud.tls]\nclient_cert_path = "${proxy.pki.clientCert}"\nclient_key_path = "${proxy.pki.clientKey}"\nserver_ca_cert_path = "${proxy.pki.caCert}"\n\n` +
        `[profile.keyed]\naddress = "${proxy.apiKeyAddress}"\napi_key = "${proxy.apiKey}"\n\n[profile.keyed.tls]\nserver_ca_cert_path = "${proxy.pki.caCert}"\n`,
    );
    const base: NodeJS.ProcessEnv = { ...process.env, ...stack, TEMPORAL_CONFIG_FILE: toml };
    for (const k of Object.keys(base)) if (k.startsWith('TEMPORAL_') && k !== 'TEMPORAL_CONFIG_FILE') delete base[k];
    const mtls = await runCli(['doctor', '--json'], { ...base, TEMPORAL_PROFILE: 'cloud' });
    const m = JSON.parse(mtls.stdout) as { checks: { name: string; ok: boolean; detail: string }[]; temporal: unknown };
    expect(m.checks.find((c) => c.name === 'Temporal')).toMatchObject({ ok: true });
    expect(m.checks.find((c) => c.name === 'Temporal')?.detail).toMatch(
      /mTLS \(client certificate, server checked against custom CA\), no API key \(profile "cloud"/,
    );
    expect(m.temporal).toMatchObject({
      address: proxy.mtlsAddress,
      connected: true,
      tls: true,
      clientCertificate: true,
      apiKey: false,
    });

    const keyed = await runCli(['doctor', '--json'], { ...base, TEMPORAL_PROFILE: 'keyed' });
    const k = JSON.parse(keyed.stdout) as { temporal: unknown; checks: { name: string; detail: string }[] };
    expect(k.temporal).toMatchObject({
      address: proxy.apiKeyAddress,
      connected: true,
      tls: true,
      clientCertificate: false,
      apiKey: true,
    });
    expect(keyed.stdout).not.toContain(proxy.apiKey);

    // A variable wins over the profile, as the SDK's loader lays them: without the key the refusal is named.
    const refused = await runCli(['doctor'], { ...base, TEMPORAL_PROFILE: 'keyed', TEMPORAL_API_KEY: 'wrong' });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /FAIL\s+Temporal\s+Temporal at .* \(TLS \(no client certificate.*API key set\) refused the API key/,
    );
  });
});
