/**
 * The Label Studio pool source and ML backend against the in-memory Label Studio: images are read back
 * through the API byte for byte, and /predict answers one prediction per task, in order, from the
 * injected scorer.
 */
import { mkdir, mkdtemp, rm, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import {
  buildChoicesConfig,
  LabelStudioPoolSource,
  LabelStudioSink,
  startMlBackend,
  type MlBackend,
  type TaskImageBytes,
} from '../../src/sinks/label-studio/index.js';
import type { PoolEntry } from '../../src/pool/types.js';
import { closedPort } from '../helpers/closed-port.js';
import { FakeLabelStudio, LEGACY_TOKEN, PAT } from './helpers/fake-label-studio.js';
import { FaultProxy } from './helpers/fault-proxy.js';
import { CLASS_NAMES, distinctBytes, itemsFor } from './helpers/items.js';

let fake: FakeLabelStudio;
let root: string;
let uris: string[];
let bytes: Buffer[];
let taskIds: Map<string, string>;

beforeEach(async () => {
  fake = await new FakeLabelStudio().start();
  root = await mkdtemp(join(tmpdir(), 'rpr-ls-pool-'));
  fake.documentRoot = root;
  await mkdir(join(root, 'pool'));
  bytes = distinctBytes(7, 'pool-image').map((b, i) => Buffer.concat([b, Buffer.alloc(i * 3, i)]));
  uris = bytes.map((_, i) => join(root, 'pool', `${i}.png`));
  await Promise.all(uris.map((uri, i) => writeFile(uri, bytes[i]!)));
  const sink = new LabelStudioSink({
    url: fake.url,
    apiKey: LEGACY_TOKEN,
    project: 'pool',
    classNames: CLASS_NAMES,
    modelVersion: 'm',
    documentRoot: root,
  });
  taskIds = await sink.push(itemsFor(uris, bytes));
  await sink.close();
});

afterEach(async () => {
  await fake.stop();
  await rm(root, { recursive: true, force: true });
});

describe('LabelStudioPoolSource', () => {
  it('yields the unfinished tasks’ images byte for byte, skips unreadable ones, and leaves out finished tasks', async () => {
    const ids = [...taskIds.values()].map(Number);
    fake.annotate(ids[1]!, { result: [], was_cancelled: true, completed_by: 1, created_at: 't' });
    fake.annotate(ids[2]!, { result: [], was_cancelled: false, completed_by: 1, created_at: 't' });
    await unlink(uris[5]!);

    const source = new LabelStudioPoolSource({ url: fake.url, apiKey: PAT, project: 'pool', pageSize: 2 });
    const entries: PoolEntry[] = [];
    for await (const entry of source.entries()) entries.push(entry);

    const images = entries.filter((e) => e.kind === 'image');
    expect(images.map((e) => e.uri)).toEqual(
      [0, 3, 4, 6].map((i) => `${fake.url}/data/local-files/?d=pool/${i}.png`),
    );
    expect(images.map((e) => (e.kind === 'image' ? e.bytes : null))).toEqual([0, 3, 4, 6].map((i) => bytes[i]));
    const skipped = entries.filter((e) => e.kind === 'skipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.uri).toBe(`${fake.url}/data/local-files/?d=pool/5.png`);
  });

  it('stops with RPR_SINK_AUTH on a refused key', async () => {
    const source = new LabelStudioPoolSource({ url: fake.url, apiKey: 'b'.repeat(40), project: 'pool' });
    await expect(async () => {
      for await (const entry of source.entries()) void entry;
    }).rejects.toMatchObject({ code: 'RPR_SINK_AUTH' });
  });
});

describe('ML backend server', () => {
  let backend: MlBackend | null = null;
  const seen: TaskImageBytes[][] = [];
  // Independent of the code under test: score and class follow from the image's length.
  const scoreOf = (b: Buffer) => b.length / 1000;
  const classOf = (b: Buffer) => b.length % 10;

  afterEach(async () => {
    await backend?.close();
    backend = null;
    seen.length = 0;
  });

  async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await request(`${backend!.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
  }

  const tasksFor = (indices: number[]) =>
    indices.map((i) => ({ id: 100 + i, data: { image: `/data/local-files/?d=pool/${i}.png` } }));

  async function start(labelStudio?: { readonly url: string; readonly apiKey: string }): Promise<void> {
    backend = await startMlBackend({
      modelVersion: 'sha256:abc',
      score: async (images) => {
        seen.push([...images]);
        return images.map((image) => ({
          score: scoreOf(image.bytes),
          predicted: classOf(image.bytes),
        }));
      },
      ...(labelStudio ? { labelStudio } : {}),
    });
  }

  it('answers health and setup with the model version', async () => {
    await start({ url: fake.url, apiKey: LEGACY_TOKEN });
    const health = await request(`${backend!.url}/health`);
    expect(await health.body.json()).toMatchObject({ status: 'UP', model_version: 'sha256:abc' });
    expect((await post('/setup', { project: '1.1', schema: '' })).json).toEqual({ model_version: 'sha256:abc' });
    expect((await post('/webhook', { action: 'ANNOTATION_CREATED' })).status).toBe(200);
  });

  it('predicts one result per task in order, with the class as a choice and null for unreadable images', async () => {
    await start({ url: fake.url, apiKey: LEGACY_TOKEN });
    await unlink(uris[2]!);
    const answer = await post('/predict', {
      tasks: tasksFor([4, 2, 0]),
      project: '1.1',
      label_config: buildChoicesConfig(CLASS_NAMES),
    });
    expect(answer.status).toBe(200);
    expect(answer.json['results']).toEqual([
      {
        result: [{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [String(classOf(bytes[4]!))] } }],
        score: scoreOf(bytes[4]!),
        model_version: 'sha256:abc',
      },
      { result: [], score: null, model_version: 'sha256:abc' },
      {
        result: [{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [String(classOf(bytes[0]!))] } }],
        score: scoreOf(bytes[0]!),
        model_version: 'sha256:abc',
      },
    ]);
    expect(seen).toEqual([[{ taskId: 104, bytes: bytes[4] }, { taskId: 100, bytes: bytes[0] }]]);
  });

  it('without a configured client, fetches images with the hostname and token from /setup', async () => {
    await start();
    const unset = await post('/predict', { tasks: tasksFor([1]), project: '7.1', label_config: buildChoicesConfig(CLASS_NAMES) });
    expect(unset.status).toBe(400);
    await post('/setup', { project: '7.1', schema: buildChoicesConfig(CLASS_NAMES), hostname: fake.url, access_token: LEGACY_TOKEN });
    const answer = await post('/predict', { tasks: tasksFor([1]), project: '7.1' });
    expect(answer.json['results']).toEqual([
      {
        result: [{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [String(classOf(bytes[1]!))] } }],
        score: scoreOf(bytes[1]!),
        model_version: 'sha256:abc',
      },
    ]);
  });

  const predicted = (indices: number[]) =>
    indices.map((i) => ({
      result: [{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [String(classOf(bytes[i]!))] } }],
      score: scoreOf(bytes[i]!),
      model_version: 'sha256:abc',
    }));

  it('falls back to the configured server and its PAT when the token /setup sent is refused, and does not offer that token again', async () => {
    const proxy = await new FaultProxy(fake.url).start();
    try {
      await start({ url: fake.url, apiKey: PAT });
      await post('/setup', { project: '8.1', schema: buildChoicesConfig(CLASS_NAMES), hostname: proxy.url, access_token: 'b'.repeat(40) });
      expect((await post('/predict', { tasks: tasksFor([1, 3]), project: '8.1' })).json['results']).toEqual(predicted([1, 3]));
      // Only the refused attempts went to /setup's hostname; the images came from the configured server.
      expect(proxy.log.length).toBeGreaterThan(0);
      expect(proxy.log.map((entry) => entry.status)).toEqual(proxy.log.map(() => 401));
      const attempts = proxy.log.length;
      expect((await post('/predict', { tasks: tasksFor([4]), project: '8.1' })).json['results']).toEqual(predicted([4]));
      expect(proxy.log).toHaveLength(attempts);
    } finally {
      await proxy.stop();
    }
  });

  it('falls back to the configured server when /setup sent no token, or a hostname that does not answer', async () => {
    await start({ url: fake.url, apiKey: LEGACY_TOKEN });
    await post('/setup', { project: '9.1', schema: buildChoicesConfig(CLASS_NAMES), hostname: fake.url });
    expect((await post('/predict', { tasks: tasksFor([0]), project: '9.1' })).json['results']).toEqual(predicted([0]));
    await post('/setup', { project: '9.2', schema: buildChoicesConfig(CLASS_NAMES), hostname: `http://127.0.0.1:${await closedPort()}`, access_token: LEGACY_TOKEN });
    expect((await post('/predict', { tasks: tasksFor([6]), project: '9.2' })).json['results']).toEqual(predicted([6]));
  });

  it('refuses a malformed fallback URL when it starts', async () => {
    await expect(startMlBackend({ modelVersion: 'm', score: async () => [], labelStudio: { url: 'not a url', apiKey: PAT } })).rejects.toMatchObject({
      code: 'RPR_CONFIG',
    });
  });

  it('answers 404 for unknown routes and 400 for a body that is not JSON', async () => {
    await start({ url: fake.url, apiKey: LEGACY_TOKEN });
    expect((await request(`${backend!.url}/nope`)).statusCode).toBe(404);
    const bad = await request(`${backend!.url}/predict`, { method: 'POST', body: '{not json' });
    expect(bad.statusCode).toBe(400);
    await bad.body.dump();
  });
});
