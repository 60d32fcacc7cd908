import { randomBytes } from 'node:crypto';
import { WEBHOOK_EVENTS, type WebhookEvent } from '../../common/contracts/webhooks';
import { DatashareError, NotFoundError, ValidationError, WebhookUrlRefusedError } from '../../common/errors';
import { openSecret, sealSecret, secretKey } from '../../common/infra/secret-box';
import { getDataset } from '../../common/store/datasets';
import { getProfile } from '../../common/store/profiles';
import * as store from '../../common/store/webhooks';
import { checkWebhookUrl } from '../../common/webhooks/address-policy';
import { checkedAddresses, postWebhook } from '../../common/webhooks/post';
import type { LibraryDeps } from './library-deps';

export interface WebhookAddInput {
  url: string;
  events?: WebhookEvent[];
  datasetId?: string;
  profileId?: string;
}

/** A new webhook, with its signing secret: the only time the secret is shown. */
export type NewWebhook = store.WebhookRow & { secret: string };

export interface WebhookTestResult {
  id: string;
  url: string;
  statusCode: number;
  ok: boolean;
}

export function parseEvents(list: string | undefined): WebhookEvent[] {
  if (list === undefined) return [...WEBHOOK_EVENTS];
  const events = list
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const bad = events.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (bad.length || events.length === 0)
    throw new ValidationError(`--events takes a list of ${WEBHOOK_EVENTS.join(', ')}; not "${list}"`);
  return [...new Set(events)] as WebhookEvent[];
}

/**
 * Webhooks: other systems learn that a delivery completed, failed or was
 * cancelled. Each has a signing secret, generated here, shown once and stored
 * encrypted (common/infra/secret-box.ts); every command needs DATASHARE_SECRET_KEY,
 * so a misconfigured CLI fails before it stores anything it could not sign with.
 */
export class Webhooks {
  constructor(private readonly deps: Pick<LibraryDeps, 'metaPool'>) {}

  async add(input: WebhookAddInput): Promise<NewWebhook> {
    const key = secretKey();
    const url = checkWebhookUrl(input.url);
    // Checked now, so a URL that can never be called is refused at once; checked again at every send.
    await checkedAddresses(url).catch((e: unknown) => {
      if (e instanceof DatashareError) throw e;
      throw new WebhookUrlRefusedError(`${e instanceof Error ? e.message : String(e)}: check the URL's host name`);
    });
    if (input.datasetId) await getDataset(this.deps.metaPool, input.datasetId);
    if (input.profileId) await getProfile(this.deps.metaPool, input.profileId);
    const id = `wh_${randomBytes(6).toString('hex')}`;
    const secret = `whsec_${randomBytes(24).toString('base64url')}`;
    const row = await store.insertWebhook(this.deps.metaPool, {
      id,
      url: url.toString(),
      events: input.events ?? [...WEBHOOK_EVENTS],
      datasetId: input.datasetId ?? null,
      profileId: input.profileId ?? null,
      secretEncrypted: sealSecret(secret, id, key),
    });
    return { ...row, secret };
  }

  list(): Promise<store.WebhookRow[]> {
    secretKey();
    return store.listWebhooks(this.deps.metaPool);
  }

  async delete(id: string): Promise<void> {
    secretKey();
    if (!(await store.deleteWebhook(this.deps.metaPool, id)))
      throw new NotFoundError(`no webhook "${id}"; list them with: datashare webhook list`);
  }

  /** Sends a signed `test` event now, from this process, and reports the receiver's answer. */
  async test(id: string): Promise<WebhookTestResult> {
    const key = secretKey();
    const hook = await store.findWebhook(this.deps.metaPool, id);
    if (!hook) throw new NotFoundError(`no webhook "${id}"; list them with: datashare webhook list`);
    const body = JSON.stringify({ event: 'test', webhookId: id, sentAt: new Date().toISOString() });
    const { status } = await postWebhook({
      url: hook.url,
      secret: openSecret(hook.secretEncrypted, id, key),
      event: 'test',
      deliveryId: 'test',
      body,
    });
    return { id, url: hook.url, statusCode: status, ok: status >= 200 && status < 300 };
  }
}
