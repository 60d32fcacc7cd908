/**
 * Webhook signatures, the way Stripe does them: HMAC-SHA256 over
 * `<unix seconds>.<body>` with the webhook's secret, sent as
 * `X-Datashare-Signature: t=<unix seconds>,v1=<hex>`, so a receiver checks both
 * who sent it and how fresh it is.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Datashare-Signature';
export const EVENT_HEADER = 'X-Datashare-Event';
export const DELIVERY_ID_HEADER = 'X-Datashare-Delivery-Id';

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** What a receiver does (README, Operations): true when the header signs this body and is at most `toleranceS` old. */
export function verifySignature(
  secret: string,
  body: string,
  header: string,
  nowS = Math.floor(Date.now() / 1000),
  toleranceS = 300,
): boolean {
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS || !parts.v1) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  const given = Buffer.from(parts.v1);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
