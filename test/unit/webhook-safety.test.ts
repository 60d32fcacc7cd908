import { describe, expect, it } from 'vitest';
import { openSecret, sealSecret, secretKey } from '../../common/infra/secret-box';
import { addressKind, checkAddresses, checkWebhookUrl } from '../../common/webhooks/address-policy';
import { signatureHeader, verifySignature } from '../../common/webhooks/signature';

const NONE = { loopback: false, private: false };
const ALL = { loopback: true, private: true };

describe('webhook address policy', () => {
  it('classifies addresses, IPv4-mapped IPv6 as the IPv4 address it is', () => {
    expect(addressKind('127.0.0.1')).toBe('loopback');
    expect(addressKind('::1')).toBe('loopback');
    expect(addressKind('169.254.169.254')).toBe('link-local');
    expect(addressKind('::ffff:169.254.169.254')).toBe('link-local');
    expect(addressKind('fe80::1')).toBe('link-local');
    expect(addressKind('10.0.0.8')).toBe('private');
    expect(addressKind('172.31.255.1')).toBe('private');
    expect(addressKind('192.168.1.1')).toBe('private');
    expect(addressKind('fd00:ec2::254')).toBe('private');
    expect(addressKind('0.0.0.0')).toBe('reserved');
    expect(addressKind('8.8.8.8')).toBe('public');
    expect(addressKind('2606:4700::1111')).toBe('public');
  });

  it('wants https, and plain http only to loopback when allowed', () => {
    expect(() => checkWebhookUrl('http://example.com/x', NONE)).toThrow(/must be https/);
    expect(() => checkWebhookUrl('ftp://example.com/x', ALL)).toThrow(/must be https/);
    expect(() => checkWebhookUrl('https://user:pw@example.com/x', ALL)).toThrow(/user name or password/);
    expect(checkWebhookUrl('https://example.com/x', NONE).host).toBe('example.com');
    const http = checkWebhookUrl('http://localhost:8080/x', { loopback: true, private: false });
    expect(() => checkAddresses(http, ['127.0.0.1'], { loopback: true, private: false })).not.toThrow();
    expect(() => checkAddresses(http, ['8.8.8.8'], ALL)).toThrow(/plain http is allowed only to loopback/);
  });

  it('checks every address a name resolves to; metadata and link-local never pass', () => {
    const url = new URL('https://hooks.example.com/x');
    expect(() => checkAddresses(url, ['8.8.8.8', '10.0.0.1'], NONE)).toThrow(/private address/);
    expect(() => checkAddresses(url, ['8.8.8.8', '10.0.0.1'], { loopback: false, private: true })).not.toThrow();
    expect(() => checkAddresses(url, ['8.8.8.8', '127.0.0.1'], NONE)).toThrow(/loopback/);
    expect(() => checkAddresses(url, ['169.254.169.254'], ALL)).toThrow(/link-local/);
    expect(() => checkAddresses(url, [], ALL)).toThrow(/does not resolve/);
  });
});

describe('webhook signatures', () => {
  it('sign <t>.<body> with HMAC-SHA256 and verify freshness', () => {
    const h = signatureHeader('whsec_x', '{"a":1}', 1_700_000_000);
    expect(h).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature('whsec_x', '{"a":1}', h, 1_700_000_100)).toBe(true);
    expect(verifySignature('whsec_x', '{"a":2}', h, 1_700_000_100)).toBe(false);
    expect(verifySignature('whsec_y', '{"a":1}', h, 1_700_000_100)).toBe(false);
    // Older than five minutes: a replayed request.
    expect(verifySignature('whsec_x', '{"a":1}', h, 1_700_000_301)).toBe(false);
  });
});

describe('secret box', () => {
  const env = { DATASHARE_SECRET_KEY: 'k'.repeat(32) };
  it('needs DATASHARE_SECRET_KEY of 32 characters or more', () => {
    expect(() => secretKey({})).toThrow(/DATASHARE_SECRET_KEY is not set/);
    expect(() => secretKey({ DATASHARE_SECRET_KEY: 'short' })).toThrow(/needs 32 or more/);
  });
  it('seals with AES-256-GCM bound to the record id', () => {
    const key = secretKey(env);
    const sealed = sealSecret('whsec_abc', 'wh_1', key);
    expect(sealed).not.toContain('whsec_abc');
    expect(openSecret(sealed, 'wh_1', key)).toBe('whsec_abc');
    expect(() => openSecret(sealed, 'wh_2', key)).toThrow(/does not open/);
    expect(() => openSecret(sealed, 'wh_1', secretKey({ DATASHARE_SECRET_KEY: 'j'.repeat(32) }))).toThrow(
      /does not open/,
    );
  });
});
