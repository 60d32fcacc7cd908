import { describe, expect, it } from 'vitest';
import { explainTemporalConnectFailure } from '../../common/infra/temporal-connect-errors';
import { loadTemporalSettings } from '../../common/infra/temporal-settings';

const base = { TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml', TEMPORAL_ADDRESS: 'ns.example:7233' };
const mtls = loadTemporalSettings({
  ...base,
  TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem',
  TEMPORAL_TLS_CLIENT_KEY_PATH: '/c.key',
});
const tlsOnly = loadTemporalSettings({ ...base, TEMPORAL_TLS: 'true' });
const keyed = loadTemporalSettings({ ...base, TEMPORAL_API_KEY: 'secret-key' });

describe('explaining a refused Temporal connection', () => {
  it('names TEMPORAL_API_KEY for UNAUTHENTICATED, never the key', async () => {
    const e = Object.assign(new Error('Failed to connect to Temporal server'), {
      cause: new Error('16 UNAUTHENTICATED: invalid API key'),
    });
    const none = await explainTemporalConnectFailure(e, tlsOnly);
    expect(none?.message).toMatch(/requires credentials.*set TEMPORAL_API_KEY/);
    const wrong = await explainTemporalConnectFailure(e, keyed);
    expect(wrong?.type).toBe('TemporalConnectionRefused');
    expect(wrong?.message).toMatch(/refused the API key/);
    expect(wrong?.message).not.toContain('secret-key');
  });

  it("tells a refused client certificate from a missing one (the TLS terminator's HTTP 400)", async () => {
    const e = new Error('13 INTERNAL: Received HTTP status code 400');
    expect((await explainTemporalConnectFailure(e, mtls))?.message).toMatch(
      /refused the TLS client certificate.*TEMPORAL_TLS_CLIENT_CERT_PATH/,
    );
    expect((await explainTemporalConnectFailure(e, tlsOnly))?.message).toMatch(
      /without a client certificate.*TEMPORAL_TLS_CLIENT_CERT_PATH.*TEMPORAL_API_KEY/,
    );
  });

  it('names TEMPORAL_TLS_SERVER_CA_CERT_PATH for a server certificate it cannot trust', async () => {
    const e = new Error(
      'tonic::transport::Error(Transport, ConnectError(Custom { error: InvalidCertificate(UnknownIssuer) }))',
    );
    expect((await explainTemporalConnectFailure(e, mtls))?.message).toMatch(
      /TLS handshake failed.*TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
    );
  });

  it('leaves other failures to the usual handling', async () => {
    expect(await explainTemporalConnectFailure(new Error('namespace not found'), mtls)).toBeUndefined();
    // Nothing listens at ns.example:7233 from here: a deadline there is an unreachable server.
    const unreachable = loadTemporalSettings({ ...base, TEMPORAL_ADDRESS: '127.0.0.1:9', TEMPORAL_TLS: 'true' });
    expect(
      await explainTemporalConnectFailure(new Error('Failed to connect before the deadline'), unreachable),
    ).toBeUndefined();
  });
});
