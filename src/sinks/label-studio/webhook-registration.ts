/**
 * Registering the listener (webhook-listener.ts) with a Label Studio project: one webhook per project and
 * URL, created or brought up to date (actions, secret header, active), and removed when the listener stops.
 */
import { RprError } from '../../errors/index.js';
import type { LabelStudioClient } from './client.js';
import { SYNC_ACTIONS, WEBHOOK_SECRET_HEADER } from './webhook-listener.js';

interface WebhookJson {
  readonly id: number;
  readonly project: number | null;
  readonly url: string;
}

export interface RegisteredWebhook {
  readonly id: number;
  readonly project: number;
  readonly url: string;
  /** Deletes the webhook from Label Studio. */
  remove(): Promise<void>;
}

export async function registerWebhook(
  client: LabelStudioClient,
  options: { readonly project: number; readonly url: string; readonly secret: string | null },
): Promise<RegisteredWebhook> {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new RprError('RPR_USAGE', `--register needs the URL Label Studio reaches this listener at, e.g. http://my-host:9091/ (got '${options.url}')`, {
      flag: 'register',
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RprError('RPR_USAGE', `--register needs an http(s) URL (got '${options.url}')`, { flag: 'register' });
  }
  const body = {
    url: options.url,
    project: options.project,
    send_payload: false,
    send_for_all_actions: false,
    is_active: true,
    actions: SYNC_ACTIONS,
    headers: options.secret === null ? {} : { [WEBHOOK_SECRET_HEADER]: options.secret },
  };
  const existing = (await client.json<WebhookJson[]>('GET', '/api/webhooks/', { query: { project: options.project } })).find(
    (hook) => hook.project === options.project && hook.url === options.url,
  );
  const hook = existing
    ? await client.json<WebhookJson>('PATCH', `/api/webhooks/${existing.id}/`, { json: body, retry: true })
    : await client.json<WebhookJson>('POST', '/api/webhooks/', { json: body });
  return {
    id: hook.id,
    project: options.project,
    url: options.url,
    remove: async () => {
      await client.json('DELETE', `/api/webhooks/${hook.id}/`, { retry: true });
    },
  };
}
