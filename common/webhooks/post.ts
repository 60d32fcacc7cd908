/**
 * One signed POST of a webhook body: resolves the host, checks every address
 * (address-policy.ts), connects to a checked one, never follows a redirect.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressPermissions, checkAddresses, checkWebhookUrl, type AddressPermissions } from './address-policy';
import { DELIVERY_ID_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature';

const TIMEOUT_MS = 10_000;

export interface WebhookPost {
  url: string;
  secret: string;
  event: string;
  deliveryId: string;
  body: string;
  signal?: AbortSignal;
}

/** Resolves and checks the URL's host; the addresses returned are the only ones the request may use. */
export async function checkedAddresses(
  url: URL,
  allow: AddressPermissions = addressPermissions(),
): Promise<{ address: string; family: number }[]> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const found = isIP(host)
    ? [{ address: host, family: isIP(host) }]
    : await dnsLookup(host, { all: true }).catch((e: unknown) => {
        const code = (e as { code?: unknown }).code;
        throw new Error(`cannot resolve ${host} (${typeof code === 'string' ? code : String(e)})`);
      });
  checkAddresses(
    url,
    found.map((a) => a.address),
    allow,
  );
  return found;
}

/** Sends the POST; resolves with the HTTP status (the caller decides what it means), rejects on network failure. */
export async function postWebhook(p: WebhookPost): Promise<{ status: number }> {
  const url = checkWebhookUrl(p.url);
  const addresses = await checkedAddresses(url);
  // Connect to what was checked, whatever the name resolves to a moment later.
  const pinned: LookupFunction = (_host, options, cb) => {
    if (options.all) cb(null, addresses);
    else cb(null, addresses[0].address, addresses[0].family);
  };
  const headers = {
    'Content-Type': 'application/json',
    'User-Agent': 'datashare-webhook/1',
    [SIGNATURE_HEADER]: signatureHeader(p.secret, p.body, Math.floor(Date.now() / 1000)),
    [EVENT_HEADER]: p.event,
    [DELIVERY_ID_HEADER]: p.deliveryId,
    'Content-Length': String(Buffer.byteLength(p.body)),
  };
  const options: RequestOptions = {
    method: 'POST',
    headers,
    lookup: pinned,
    timeout: TIMEOUT_MS,
    ...(p.signal ? { signal: p.signal } : {}),
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, options, (res) => {
      // The body does not matter; drain it so the socket is freed.
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', (e) => reject(new Error(`could not reach ${url.host}: ${e.message}`)));
    req.end(p.body);
  });
}
