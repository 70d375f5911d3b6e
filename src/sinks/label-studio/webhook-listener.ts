/**
 * The endpoint Label Studio's webhooks call (`rpr-select webhook`). Webhooks are unsigned and sent once,
 * best-effort, so an event is only a hint to sync sooner: the listener answers at once and reports the
 * action; polling the project stays the source of truth. With a secret, a request must carry it in the
 * header Label Studio is told to send (see webhook-registration.ts), or it is refused with 401.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJsonBody, routeOf, sendJson, startJsonServer, type JsonServer } from './json-http.js';

/** The header that carries the listener's secret. */
export const WEBHOOK_SECRET_HEADER = 'X-Rpr-Webhook-Secret';

/** The actions after which a sync has something to read: annotations made, changed or removed, tasks removed. */
export const SYNC_ACTIONS = ['ANNOTATION_CREATED', 'ANNOTATIONS_CREATED', 'ANNOTATION_UPDATED', 'ANNOTATIONS_DELETED', 'TASKS_DELETED'] as const;

/** Webhook payloads can hold whole tasks; a hint needs only its action. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface WebhookListenerOptions {
  /** @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** @defaultValue 0 (any free port) */
  readonly port?: number;
  /** Requests must carry it in WEBHOOK_SECRET_HEADER; null accepts any. */
  readonly secret: string | null;
  /** Told each event whose action is one of SYNC_ACTIONS. */
  readonly onSyncAction: (action: string) => void;
  /** Told each refused or malformed request. */
  readonly onRejected?: (reason: string) => void;
}

export async function startWebhookListener(options: WebhookListenerOptions): Promise<JsonServer> {
  const secret = options.secret === null ? null : Buffer.from(options.secret);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = routeOf(req);
    if (route === 'GET /health') return sendJson(res, 200, { status: 'UP' });
    if (!route.startsWith('POST ')) throw new HttpError(405, `${route}: webhooks are POSTed`);
    if (secret !== null && !sameSecret(req.headers[WEBHOOK_SECRET_HEADER.toLowerCase()], secret)) {
      throw new HttpError(401, `missing or wrong ${WEBHOOK_SECRET_HEADER} header`);
    }
    const event = await readJsonBody<{ action?: unknown }>(req, MAX_BODY_BYTES);
    if (typeof event.action !== 'string') throw new HttpError(400, "webhook body has no 'action'");
    sendJson(res, 200, { status: 'ok' });
    if ((SYNC_ACTIONS as readonly string[]).includes(event.action)) options.onSyncAction(event.action);
  };
  return startJsonServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    handle,
    onError: (req, message) => options.onRejected?.(`${req.method} ${req.url}: ${message}`),
  });
}

function sameSecret(header: string | string[] | undefined, secret: Buffer): boolean {
  if (typeof header !== 'string') return false;
  const given = Buffer.from(header);
  return given.length === secret.length && timingSafeEqual(given, secret);
}
