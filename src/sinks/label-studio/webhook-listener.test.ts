import { request } from 'undici';
import { startWebhookListener, WEBHOOK_SECRET_HEADER } from './webhook-listener.js';

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  await response.body.dump();
  return response.statusCode;
}

describe('startWebhookListener', () => {
  it('reports the annotation actions, answers other actions without reporting them, and refuses what is not a webhook', async () => {
    const actions: string[] = [];
    const rejected: string[] = [];
    const listener = await startWebhookListener({ secret: null, onSyncAction: (a) => actions.push(a), onRejected: (r) => rejected.push(r) });
    try {
      expect(await post(`${listener.url}/`, JSON.stringify({ action: 'ANNOTATION_CREATED', annotation: { id: 1 } }))).toBe(200);
      expect(await post(`${listener.url}/any/path`, JSON.stringify({ action: 'TASKS_DELETED' }))).toBe(200);
      expect(await post(`${listener.url}/`, JSON.stringify({ action: 'PROJECT_UPDATED' }))).toBe(200);
      expect(actions).toEqual(['ANNOTATION_CREATED', 'TASKS_DELETED']);

      expect(await post(`${listener.url}/`, '{not json')).toBe(400);
      expect(await post(`${listener.url}/`, JSON.stringify({ project: 3 }))).toBe(400);
      const get = await request(`${listener.url}/`);
      await get.body.dump();
      expect(get.statusCode).toBe(405);
      const health = await request(`${listener.url}/health`);
      expect(await health.body.json()).toEqual({ status: 'UP' });
      expect(actions).toHaveLength(2);
      expect(rejected).toHaveLength(3);
      expect(rejected[0]).toMatch(/not JSON/);
    } finally {
      await listener.close();
    }
  });

  it(`with a secret, takes only requests that carry it in ${WEBHOOK_SECRET_HEADER}`, async () => {
    const actions: string[] = [];
    const listener = await startWebhookListener({ secret: 's3cret', onSyncAction: (a) => actions.push(a) });
    try {
      const event = JSON.stringify({ action: 'ANNOTATION_UPDATED' });
      expect(await post(listener.url, event)).toBe(401);
      expect(await post(listener.url, event, { [WEBHOOK_SECRET_HEADER]: 's3cres' })).toBe(401);
      expect(await post(listener.url, event, { [WEBHOOK_SECRET_HEADER]: 's3cret-longer' })).toBe(401);
      expect(actions).toEqual([]);
      expect(await post(listener.url, event, { [WEBHOOK_SECRET_HEADER.toLowerCase()]: 's3cret' })).toBe(200);
      expect(actions).toEqual(['ANNOTATION_UPDATED']);
    } finally {
      await listener.close();
    }
  });
});
