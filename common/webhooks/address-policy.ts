/**
 * Which addresses a webhook may be sent to. A webhook URL is typed by whoever
 * runs `datashare webhook add`, and the worker then calls it from inside our
 * network: without these checks it could reach the cloud metadata service
 * (169.254.169.254) or an internal admin port (SSRF). Every address the name
 * resolves to is checked, and the request then connects to a checked address,
 * so a name that re-resolves elsewhere (DNS rebinding) gains nothing.
 */
import { BlockList, isIP } from 'node:net';
import { WebhookUrlRefusedError } from '../errors';

export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved';

function list(entries: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const b = new BlockList();
  for (const [net, prefix, type] of entries) b.addSubnet(net, prefix, type);
  return b;
}

const LOOPBACK = list([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);
// Link-local includes the metadata services (169.254.169.254, AWS's fd00:ec2::254 is in fc00::/7 below).
const LINK_LOCAL = list([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
]);
const PRIVATE = list([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
]);
const RESERVED = list([
  ['0.0.0.0', 8, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
]);

/** An IPv4 address written as IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it is. */
function normalize(ip: string): { ip: string; type: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return { ip: mapped[1], type: 'ipv4' };
  return { ip, type: isIP(ip) === 6 ? 'ipv6' : 'ipv4' };
}

export function addressKind(address: string): AddressKind {
  const { ip, type } = normalize(address);
  if (LOOPBACK.check(ip, type)) return 'loopback';
  if (LINK_LOCAL.check(ip, type)) return 'link-local';
  if (PRIVATE.check(ip, type)) return 'private';
  if (RESERVED.check(ip, type)) return 'reserved';
  return 'public';
}

export interface AddressPermissions {
  /** DATASHARE_WEBHOOK_ALLOW_LOOPBACK=1: loopback addresses, also over plain http (tests, local receivers). */
  loopback: boolean;
  /** DATASHARE_WEBHOOK_ALLOW_PRIVATE=1: RFC 1918, CGNAT and unique-local addresses (a receiver inside the VPC). */
  private: boolean;
}

export function addressPermissions(env: NodeJS.ProcessEnv = process.env): AddressPermissions {
  return {
    loopback: env.DATASHARE_WEBHOOK_ALLOW_LOOPBACK === '1',
    private: env.DATASHARE_WEBHOOK_ALLOW_PRIVATE === '1',
  };
}

/** The URL as datashare will call it, or a refusal that says why and what would allow it. */
export function checkWebhookUrl(raw: string, allow: AddressPermissions = addressPermissions()): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlRefusedError(
      `"${raw}" is not a URL; webhook URLs look like https://example.com/hooks/datashare`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new WebhookUrlRefusedError(`webhook URLs must be https, not ${url.protocol.replace(':', '')}`);
  if (url.username || url.password)
    throw new WebhookUrlRefusedError(
      'webhook URLs may not carry a user name or password: receivers check the signature instead',
    );
  if (url.protocol === 'http:' && !allow.loopback)
    throw new WebhookUrlRefusedError(
      'webhook URLs must be https; plain http is allowed only to a loopback address with DATASHARE_WEBHOOK_ALLOW_LOOPBACK=1',
    );
  return url;
}

/** Refuses any address the policy does not allow; `url` says which scheme the request uses. */
export function checkAddresses(
  url: URL,
  addresses: readonly string[],
  allow: AddressPermissions = addressPermissions(),
): void {
  if (addresses.length === 0) throw new WebhookUrlRefusedError(`${url.hostname} does not resolve to any address`);
  for (const a of addresses) {
    const kind = addressKind(a);
    const where = `${url.hostname} resolves to ${a}`;
    if (kind === 'link-local' || kind === 'reserved')
      throw new WebhookUrlRefusedError(`${where}, a ${kind} address (metadata services live there); never allowed`);
    if (kind === 'loopback' && !allow.loopback)
      throw new WebhookUrlRefusedError(
        `${where}, a loopback address; allowed only with DATASHARE_WEBHOOK_ALLOW_LOOPBACK=1`,
      );
    if (kind === 'private' && !allow.private)
      throw new WebhookUrlRefusedError(
        `${where}, a private address; allowed only with DATASHARE_WEBHOOK_ALLOW_PRIVATE=1`,
      );
    if (url.protocol === 'http:' && kind !== 'loopback')
      throw new WebhookUrlRefusedError(`${where}: plain http is allowed only to loopback addresses; use https`);
  }
}
