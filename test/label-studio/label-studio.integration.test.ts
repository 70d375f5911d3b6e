/**
 * The Label Studio sink, pool source and ML backend against a real Label Studio server. Runs when
 * LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY (a legacy token) are set; skips without them, and fails under
 * CI (RPR_CI=1):
 *
 *   eval "$(scripts/label-studio.sh start)"   # also sets LABEL_STUDIO_PAT and LABEL_STUDIO_DOCUMENT_ROOT
 *
 * What the server holds is read back with plain HTTP calls (helpers/raw-api.ts), not with the sink.
 */
import { createHash } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { mnistPart } from '../../src/pool/mnist-digits.js';
import { writeDigitPngs } from '../../src/pool/demo-pool.js';
import type { PoolEntry } from '../../src/pool/types.js';
import {
  LabelStudioPoolSource,
  LabelStudioSink,
  startMlBackend,
  type LabelStudioSinkOptions,
  type MlBackend,
} from '../../src/sinks/label-studio/index.js';
import type { LabelRecord, SinkItem } from '../../src/sinks/sink.js';
import { closedPort } from '../helpers/closed-port.js';
import { describeWithService, itWithService } from '../helpers/require-service.js';
import { rprRejection } from '../helpers/rpr-rejection.js';
import { expectRefusedTokenRenewed, FaultProxy } from './helpers/fault-proxy.js';
import { CLASS_NAMES, expectOneTaskPerItem, itemsFor } from './helpers/items.js';
import { RawApi } from './helpers/raw-api.js';
import { DOCUMENT_ROOT, ENABLED, KEY, NO_PAT, PAT, REASON, URL } from './helpers/server-env.js';

const suite = describeWithService('a real Label Studio', ENABLED ? null : REASON);
const IMPORT = /^\/api\/projects\/\d+\/import/;

suite(`Label Studio integration (${ENABLED ? URL : REASON})`, () => {
  const raw = new RawApi(URL, KEY);
  const digits = mnistPart('pool').slice(0, 100);
  let dir: string;
  let items: SinkItem[];
  let pngs: Buffer[];
  let titles = 0;
  const sinks: LabelStudioSink[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(DOCUMENT_ROOT === '/' ? tmpdir() : DOCUMENT_ROOT, 'rpr-ls-it-'));
    const paths = await writeDigitPngs(dir, digits);
    pngs = await Promise.all(paths.map((path) => readFile(path)));
    items = itemsFor(paths, pngs);
  });

  afterAll(async () => {
    await Promise.all(sinks.map((sink) => sink.close()));
    await rm(dir, { recursive: true, force: true });
  });

  function title(): string {
    return `rpr-it-${process.pid}-${Date.now()}-${titles++}`;
  }

  function sink(options: Partial<LabelStudioSinkOptions> & { project: number | string }): LabelStudioSink {
    const created = new LabelStudioSink({
      url: URL,
      apiKey: KEY,
      classNames: CLASS_NAMES,
      modelVersion: 'sha256:integration',
      documentRoot: DOCUMENT_ROOT,
      batchSize: 25,
      minDelayMs: 50,
      maxDelayMs: 200,
      ...options,
    });
    sinks.push(created);
    return created;
  }

  it('pushes 100 MNIST PNGs as 100 tasks, and again without a duplicate; the server serves the images', async () => {
    const name = title();
    const first = await sink({ project: name }).push(items);
    const projectId = await raw.projectIdByTitle(name);
    expectOneTaskPerItem(await raw.tasks(projectId), items, first);
    expect(await raw.taskNumber(projectId)).toBe(100);

    const second = await sink({ project: name }).push(items);
    expect(second).toEqual(first);
    expect(await raw.taskNumber(projectId)).toBe(100);

    // One prediction per task, though batches were pushed two at a time.
    const predictions = await raw.ok<{ task: number }[]>('GET', `/api/predictions/?project=${projectId}`);
    expect(predictions.map((p) => p.task).sort((a, b) => a - b)).toEqual([...first.values()].map(Number).sort((a, b) => a - b));

    const tasks = await raw.tasks(projectId, 'all');
    const task = tasks.find((t) => t.data['rpr_sample_id'] === items[17]!.id)!;
    const served = await raw.bytes(String(task.data['image']));
    expect(served.status).toBe(200);
    expect(served.bytes.equals(pngs[17]!)).toBe(true);
    expect(task.predictions).toEqual([
      expect.objectContaining({
        model_version: 'sha256:integration',
        score: items[17]!.score,
        result: [expect.objectContaining({ type: 'choices', value: { choices: ['7'] } })],
      }),
    ]);
  });

  it('through a fault-injecting proxy (drops, 500, 429 + Retry-After, slow answers) still one task per item, each with one prediction', async () => {
    const proxy = await new FaultProxy(URL).start();
    try {
      proxy.add(
        { method: 'POST', path: IMPORT, fault: { kind: 'drop-after' } },
        { method: 'POST', path: IMPORT, fault: { kind: 'drop-before' } },
        { method: 'POST', path: IMPORT, fault: { kind: 'status', status: 500, forward: true } },
        { method: 'POST', path: IMPORT, fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' }, forward: false } },
        { method: 'POST', path: IMPORT, fault: { kind: 'delay', ms: 3000 } },
        { method: 'GET', path: /^\/api\/tasks\?/, fault: { kind: 'status', status: 503, forward: false }, times: 2 },
      );
      const name = title();
      const subset = items.slice(0, 60);
      const taskIds = await sink({ url: proxy.url, project: name, batchSize: 10, reconcileFirst: false, timeoutMs: 1500 }).push(subset);
      expect(proxy.pendingRules()).toEqual([]);
      const projectId = await raw.projectIdByTitle(name);
      const tasks = await raw.tasks(projectId, 'all');
      expectOneTaskPerItem(tasks, subset, taskIds);
      expect(await raw.taskNumber(projectId)).toBe(60);
      const scoreOf = new Map(subset.map((item) => [item.id, item.score]));
      for (const task of tasks) {
        expect(task.predictions).toEqual([expect.objectContaining({ model_version: 'sha256:integration', score: scoreOf.get(String(task.data['rpr_sample_id'])) })]);
      }

      // The batch answered 429 was next heard of (its lookup before the retry) no sooner than Retry-After said,
      // where the backoff alone would have waited 50–200 ms; 10 ms allow for timer granularity.
      const limited = proxy.log.find((entry) => entry.status === 429)!;
      const firstSample = String((JSON.parse(limited.body) as { data: { rpr_sample_id: string } }[])[0]!.data.rpr_sample_id);
      const next = proxy.log.find((entry) => entry.at > limited.at && (entry.body.includes(firstSample) || decodeURIComponent(entry.path).includes(firstSample)));
      expect(next).toBeDefined();
      expect(next!.at - limited.at).toBeGreaterThanOrEqual(990);
    } finally {
      await proxy.stop();
    }
  });

  it('fetchLabels yields exactly the annotated and skipped tasks', async () => {
    const name = title();
    const s = sink({ project: name });
    const subset = items.slice(0, 30);
    const taskIds = await s.push(subset);
    const me = await raw.ok<{ email: string }>('GET', '/api/current-user/whoami');
    const labeled = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29];
    const skipped = [0, 1];
    for (const i of labeled) {
      await raw.ok('POST', `/api/tasks/${taskIds.get(subset[i]!.id)}/annotations/`, {
        result: [{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [String(digits[i]!.label)] } }],
      });
    }
    for (const i of skipped) {
      await raw.ok('POST', `/api/tasks/${taskIds.get(subset[i]!.id)}/annotations/`, { result: [], was_cancelled: true });
    }
    const records: LabelRecord[] = [];
    for await (const record of s.fetchLabels()) records.push(record);
    const byId = new Map(records.map((r) => [r.id, r]));
    expect(records).toHaveLength(labeled.length + skipped.length);
    for (const i of labeled) {
      expect(byId.get(subset[i]!.id)).toMatchObject({
        taskId: taskIds.get(subset[i]!.id),
        uri: subset[i]!.uri,
        status: 'labeled',
        label: String(digits[i]!.label),
        annotator: me.email,
      });
      expect(Number.isNaN(Date.parse(byId.get(subset[i]!.id)!.time!))).toBe(false);
    }
    for (const i of skipped) expect(byId.get(subset[i]!.id)).toMatchObject({ status: 'skipped', label: null });

    const source = new LabelStudioPoolSource({ url: URL, apiKey: KEY, project: name, pageSize: 7 });
    const entries: PoolEntry[] = [];
    for await (const entry of source.entries()) entries.push(entry);
    const done = new Set([...labeled, ...skipped]);
    const expected = subset.filter((_, i) => !done.has(i));
    expect(entries.map((e) => e.kind)).toEqual(expected.map(() => 'image'));
    // Batches import concurrently, so task order need not follow item order: compare by content hash.
    const hashes = entries.map((e) => (e.kind === 'image' ? createHash('sha256').update(e.bytes).digest('hex') : ''));
    expect(hashes.sort()).toEqual(expected.map((item) => item.id).sort());
  });

  it('a wrong token is RPR_SINK_AUTH, an unknown project id RPR_SINK_NOT_FOUND, a closed port RPR_SINK_UNREACHABLE', async () => {
    const auth = await rprRejection(sink({ project: title(), apiKey: '0'.repeat(40) }).push(items.slice(0, 1)));
    expect(auth.code).toBe('RPR_SINK_AUTH');
    expect(auth.message).toContain(URL);
    expect(auth.message).toContain('LABEL_STUDIO_API_KEY');

    const missing = await rprRejection(sink({ project: 987654321 }).push(items.slice(0, 1)));
    expect(missing.code).toBe('RPR_SINK_NOT_FOUND');
    expect(missing.message).toContain('987654321');

    const port = await closedPort();
    const down = await rprRejection(sink({ url: `http://127.0.0.1:${port}`, project: 1, retries: 1 }).push(items.slice(0, 1)));
    expect(down.code).toBe('RPR_SINK_UNREACHABLE');
  });

  itWithService('a Label Studio personal access token', NO_PAT)('with a personal access token, an access token the server refuses (401) is refreshed and the request sent again', async () => {
    const proxy = await new FaultProxy(URL).start();
    try {
      const name = title();
      const s = sink({ url: proxy.url, apiKey: PAT, project: name });
      const subset = items.slice(0, 40);
      await s.push(subset.slice(0, 20));
      expect(proxy.log[0]).toMatchObject({ path: expect.stringMatching(/^\/api\/token\/refresh/), status: 200 });
      // The next import reaches the server with a forged access token; the server answers 401.
      proxy.add({ method: 'POST', path: IMPORT, fault: { kind: 'corrupt-auth' } });
      const taskIds = await s.push(subset);
      expect(proxy.pendingRules()).toEqual([]);
      expectRefusedTokenRenewed(proxy.log, 'corrupt-auth');
      const projectId = await raw.projectIdByTitle(name);
      expectOneTaskPerItem(await raw.tasks(projectId), subset, taskIds);
    } finally {
      await proxy.stop();
    }
  });

  it('the ML backend, connected through /api/ml, writes predictions whose scores read back', async () => {
    const grayOf = async (png: Buffer) => sharp(png).greyscale().raw().toBuffer();
    // Independent of the PNG round trip: the expected values come from the MNIST pixels themselves.
    const expectedScore = (i: number) => digits[i]!.pixels.reduce((sum, p) => sum + Math.round(255 * p), 0) / (784 * 255);
    const expectedClass = (i: number) => digits[i]!.pixels.reduce((sum, p) => sum + Math.round(255 * p), 0) % 10;
    let backend: MlBackend | null = null;
    try {
      backend = await startMlBackend({
        modelVersion: 'sha256:ml-backend',
        labelStudio: { url: URL, apiKey: KEY },
        score: async (images) =>
          Promise.all(
            images.map(async ({ bytes }) => {
              const gray = await grayOf(bytes);
              const sum = gray.reduce((total, v) => total + v, 0);
              return { score: sum / (gray.length * 255), predicted: sum % 10 };
            }),
          ),
      });
      const name = title();
      const subset = items.slice(0, 8).map((item) => ({ ...item, score: null, predicted: null }));
      const taskIds = await sink({ project: name }).push(subset);
      const projectId = await raw.projectIdByTitle(name);
      const ml = await raw.ok<{ id: number; state: string }>('POST', '/api/ml', {
        url: backend.url,
        project: projectId,
        title: 'rpr-select',
        is_interactive: false,
      });
      expect(ml.state).toBe('CO');
      await raw.ok('POST', `/api/dm/actions?id=retrieve_tasks_predictions&project=${projectId}`, {
        selectedItems: { all: false, included: [...taskIds.values()].map(Number) },
      });
      const tasks = await raw.tasks(projectId, 'all');
      for (const [i, item] of subset.entries()) {
        const task = tasks.find((t) => t.data['rpr_sample_id'] === item.id)!;
        const prediction = task.predictions?.find((p) => p.model_version === 'sha256:ml-backend');
        expect(prediction).toBeDefined();
        expect(prediction!.score).toBeCloseTo(expectedScore(i), 10);
        expect(prediction!.result).toEqual([
          expect.objectContaining({ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [String(expectedClass(i))] } }),
        ]);
      }
    } finally {
      await backend?.close();
    }
  });
});
