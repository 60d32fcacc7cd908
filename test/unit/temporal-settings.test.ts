import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeTemporalSecurity,
  loadTemporalSettings,
  temporalConnectOptions,
  temporalSecurity,
} from '../../common/infra/temporal-settings';

const dir = mkdtempSync(join(tmpdir(), 'temporal-settings-'));
const toml = join(dir, 'temporal.toml');
writeFileSync(
  toml,
  '[profile.default]\naddress = "default.example:7233"\n\n[profile.prod]\naddress = "ns.acct.tmprl.cloud:7233"\nnamespace = "ns.acct"\napi_key = "k-from-file"\n',
);
const noFile = { TEMPORAL_CONFIG_FILE: join(dir, 'absent.toml') };

describe('Temporal settings through @temporalio/envconfig', () => {
  it('with nothing set, is the local default without TLS, as before', () => {
    const s = loadTemporalSettings(noFile);
    expect(s).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default' });
    expect(s.configFile).toBeUndefined();
    expect(temporalConnectOptions(s)).toEqual({ address: '127.0.0.1:7233' });
    expect(describeTemporalSecurity(temporalSecurity(s))).toBe('no TLS, no API key');
  });

  it('keeps TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, and treats empty as unset', () => {
    const s = loadTemporalSettings({
      ...noFile,
      TEMPORAL_ADDRESS: 'h:1',
      TEMPORAL_NAMESPACE: '',
      TEMPORAL_API_KEY: '',
    });
    expect(s).toMatchObject({ address: 'h:1', namespace: 'default' });
    expect(temporalSecurity(s).apiKey).toBe(false);
  });

  it('reads a temporal.toml profile picked by TEMPORAL_PROFILE; an API key turns TLS on', () => {
    const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
    expect(s).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', profileName: 'prod' });
    expect(temporalConnectOptions(s)).toEqual({
      address: 'ns.acct.tmprl.cloud:7233',
      apiKey: 'k-from-file',
      tls: true,
    });
    expect(describeTemporalSecurity(temporalSecurity(s))).toBe(
      'TLS (no client certificate, server checked against system roots), API key set',
    );
  });

  it('lets variables win over the profile', () => {
    const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_ADDRESS: 'over:1' });
    expect(s.address).toBe('over:1');
    expect(s.profileName).toBe('default');
  });

  it('names the profile and the variables when the profile does not exist', () => {
    expect(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'nope' })).toThrow(
      /TEMPORAL_PROFILE/,
    );
  });

  it('names the variable of a certificate file that cannot be read', () => {
    const s = loadTemporalSettings({
      ...noFile,
      TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'missing.crt'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'missing.key'),
    });
    expect(temporalSecurity(s)).toMatchObject({ tls: true, clientCertificate: true });
    expect(() => temporalConnectOptions(s)).toThrow(/TEMPORAL_TLS_CLIENT_CERT_PATH/);
  });
});
