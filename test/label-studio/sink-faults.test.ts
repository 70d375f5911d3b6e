/**
 * The Label Studio sink against an in-memory Label Studio behind a fault-injecting proxy: whatever breaks
 * (server errors, rate limits, dropped connections before or after the server acted, answers slower than
 * the timeout, revoked access tokens), every item ends with exactly one task.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabelStudioSink, type LabelStudioSinkOptions } from '../../src/sinks/label-studio/index.js';
import type { LabelRecord, SinkItem } from '../../src/sinks/sink.js';
import { FaultProxy } from './helpers/fault-proxy.js';
import { FakeLabelStudio, LEGACY_TOKEN, PAT } from './helpers/fake-label-studio.js';
import { CLASS_NAMES, distinctBytes, expectOneTaskPerItem, itemsFor } from './helpers/items.js';
import { rprRejection } from '../helpers/rpr-rejection.js';

const IMPORT = /^\/api\/projects\/\d+\/import/;

let fake: FakeLabelStudio;
let proxy: FaultProxy;
let waits: number[];
let duringWait: ((ms: number) => Promise<void>) | null;
const sinks: LabelStudioSink[] = [];

beforeEach(async () => {
  fake = await new FakeLabelStudio().start();
  proxy = await new FaultProxy(fake.url).start();
  waits = [];
  duringWait = null;
});

afterEach(async () => {
  await Promise.all(sinks.splice(0).map((sink) => sink.close()));
  await proxy.stop();
  await fake.stop();
});

function sink(overrides: Partial<LabelStudioSinkOptions> = {}): LabelStudioSink {
  const created = new LabelStudioSink({
    url: proxy.url,
    apiKey: LEGACY_TOKEN,
    project: 'digits',
    classNames: CLASS_NAMES,
    modelVersion: 'sha256:model',
    batchSize: 10,
    concurrency: 2,
    minDelayMs: 1,
    maxDelayMs: 4,
    maxRetryAfterMs: 5000,
    timeoutMs: 2000,
    // Records every wait instead of sleeping; a test may act during a wait.
    sleep: async (ms) => {
      waits.push(ms);
      await duringWait?.(ms);
    },
    ...overrides,
  });
  sinks.push(created);
  return created;
}

function remoteItems(n: number, round = 1): SinkItem[] {
  const uris = Array.from({ length: n }, (_, i) => `https://images.example.org/r${round}/${i}.png`);
  return itemsFor(uris, distinctBytes(n, `r${round}`), round);
}

function projectTasks() {
  const [project] = [...fake.projects.values()];
  return project ? fake.tasksOf(project.id) : [];
}

describe('LabelStudioSink.push without faults', () => {
  it('creates the project from the class names and one task per item with its data and prediction', async () => {
    const items = remoteItems(25);
    const taskIds = await sink().push(items);
    const tasks = projectTasks();
    expectOneTaskPerItem(tasks, items, taskIds);
    expect(fake.importsDone).toBe(3);

    const [project] = [...fake.projects.values()];
    expect(project!.title).toBe('digits');
    expect(project!.label_config).toContain('<Choice value="9"/>');

    const item = items[7]!;
    const task = tasks.find((t) => t.data['rpr_sample_id'] === item.id)!;
    expect(task.data).toEqual({
      image: item.uri,
      rpr_sample_id: item.id,
      uri: item.uri,
      round: 1,
      rank: 8,
      score: item.score,
    });
    expect(task.predictions).toEqual([
      {
        model_version: 'sha256:model',
        score: item.score,
        result: [{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: ['7'] } }],
      },
    ]);
  });

  it('concurrency is how many batches look up what the project holds at once; their imports still go one at a time', async () => {
    const lookupsBeforeFirstImport = new Map<number, number>();
    for (const concurrency of [1, 3]) {
      const from = proxy.log.length;
      await sink({ project: `digits-${concurrency}`, concurrency }).push(remoteItems(30, concurrency));
      const calls = proxy.log.slice(from).filter((entry) => entry.path.startsWith('/api/tasks') || IMPORT.test(entry.path));
      lookupsBeforeFirstImport.set(concurrency, calls.findIndex((entry) => IMPORT.test(entry.path)));
      const imports = calls.filter((entry) => IMPORT.test(entry.path));
      expect(imports).toHaveLength(3);
      imports.slice(1).forEach((entry, i) => expect(entry.at).toBeGreaterThan(imports[i]!.answeredAt!));
    }
    // One batch at a time: its two lookups (tasks showing its images, tasks holding its samples), then its import.
    expect(lookupsBeforeFirstImport.get(1)).toBe(2);
    // Three at a time: the three batches' first lookups go out before any import.
    expect(lookupsBeforeFirstImport.get(3)).toBeGreaterThanOrEqual(3);
  });

  it('pushing the same items again imports nothing and returns the same task ids', async () => {
    const items = remoteItems(25);
    const first = await sink().push(items);
    const second = await sink().push([...items].reverse());
    expect(second).toEqual(first);
    expect(fake.importsDone).toBe(3);
    expectOneTaskPerItem(projectTasks(), items, second);
  });

  it('pushes only the missing items of a partly pushed round', async () => {
    const items = remoteItems(25);
    await sink().push(items.slice(0, 12));
    const taskIds = await sink().push(items);
    expectOneTaskPerItem(projectTasks(), items, taskIds);
  });

  it('sends a prediction without a result when the class is unknown, and none without score and class', async () => {
    const [a, b] = remoteItems(2);
    await sink().push([
      { ...a!, predicted: null },
      { ...b!, predicted: null, score: null },
    ]);
    const tasks = projectTasks();
    expect(tasks.find((t) => t.data['rpr_sample_id'] === a!.id)!.predictions).toEqual([
      { model_version: 'sha256:model', score: a!.score, result: [] },
    ]);
    expect(tasks.find((t) => t.data['rpr_sample_id'] === b!.id)!.predictions).toEqual([]);
  });
});

describe('LabelStudioSink.push under faults: exactly one task per item', () => {
  const cases: [string, Parameters<FaultProxy['add']>[0][]][] = [
    ['500 before the server acted', [{ method: 'POST', path: IMPORT, fault: { kind: 'status', status: 500, forward: false }, times: 2 }]],
    ['502 after the server imported', [{ method: 'POST', path: IMPORT, fault: { kind: 'status', status: 502, forward: true }, times: 2 }]],
    ['connection dropped after the request body, before forwarding', [{ method: 'POST', path: IMPORT, fault: { kind: 'drop-before' }, times: 2 }]],
    ['connection dropped after the server imported', [{ method: 'POST', path: IMPORT, fault: { kind: 'drop-after' }, times: 2 }]],
    ['answer slower than the timeout', [{ method: 'POST', path: IMPORT, fault: { kind: 'delay', ms: 1500 }, times: 2 }]],
    [
      'failures on the reconciling lookups too',
      [
        { method: 'POST', path: IMPORT, fault: { kind: 'drop-after' }, times: 1 },
        { method: 'GET', path: /^\/api\/tasks\?/, fault: { kind: 'status', status: 503, forward: false }, times: 3 },
      ],
    ],
  ];

  it.each(cases)('%s', async (_, rules) => {
    proxy.add(...rules);
    const items = remoteItems(30);
    const taskIds = await sink({ timeoutMs: 300, reconcileFirst: false }).push(items);
    expect(proxy.pendingRules()).toEqual([]);
    expectOneTaskPerItem(projectTasks(), items, taskIds);
  });

  it('an import that happened but whose answer was lost is not sent again', async () => {
    proxy.add({ method: 'POST', path: IMPORT, fault: { kind: 'drop-after' }, times: 1 });
    const items = remoteItems(10);
    const taskIds = await sink({ reconcileFirst: false }).push(items);
    expect(fake.importsDone).toBe(1);
    expect(proxy.log.filter((entry) => entry.method === 'POST' && IMPORT.test(entry.path))).toHaveLength(1);
    expectOneTaskPerItem(projectTasks(), items, taskIds);
  });

  it('honours Retry-After on 429, capped at maxRetryAfterMs', async () => {
    proxy.add(
      { method: 'POST', path: IMPORT, fault: { kind: 'status', status: 429, headers: { 'retry-after': '2' }, forward: false } },
      { method: 'POST', path: IMPORT, fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' }, forward: false } },
    );
    const items = remoteItems(5);
    const taskIds = await sink({ reconcileFirst: false }).push(items);
    expect(waits).toEqual([2000, 5000]);
    expectOneTaskPerItem(projectTasks(), items, taskIds);
  });

  it('gives up after the retries with RPR_SINK_UNREACHABLE, and a later push completes without duplicates', async () => {
    proxy.add({ method: 'POST', path: IMPORT, fault: { kind: 'drop-before' }, times: 3 });
    const items = remoteItems(10);
    const error = await rprRejection(sink({ retries: 2, reconcileFirst: false }).push(items));
    expect(error.code).toBe('RPR_SINK_UNREACHABLE');
    expect(error.message).toContain(proxy.url);
    expect(fake.importsDone).toBe(0);
    const taskIds = await sink().push(items);
    expect(fake.importsDone).toBe(1);
    expectOneTaskPerItem(projectTasks(), items, taskIds);
  });

  it('backs off exponentially between transient failures', async () => {
    proxy.add({ method: 'POST', path: IMPORT, fault: { kind: 'status', status: 503, forward: false }, times: 4 });
    await sink({ minDelayMs: 100, maxDelayMs: 10_000, random: () => 0, reconcileFirst: false }).push(remoteItems(3));
    expect(waits).toEqual([50, 100, 200, 400]);
  });
});

describe('LabelStudioSink when the server acts after the client gave up', () => {
  it('waits as long again for a timed-out import before looking, and does not send it again', async () => {
    const commit = fake.holdNextImport();
    // The server commits while the sink waits out the settling time (the client's timeout).
    duringWait = async (ms) => {
      if (ms === 300) await commit();
    };
    const items = remoteItems(8);
    const taskIds = await sink({ timeoutMs: 300, reconcileFirst: false }).push(items);
    expect(waits).toContain(300);
    expect(fake.importsDone).toBe(1);
    expect(proxy.log.filter((entry) => entry.method === 'POST' && IMPORT.test(entry.path))).toHaveLength(1);
    expectOneTaskPerItem(projectTasks(), items, taskIds);
  });

  it('removes the copies an import leaves when it commits long after it was sent again', async () => {
    const commit = fake.holdNextImport();
    const items = remoteItems(8);
    const first = await sink({ timeoutMs: 300, reconcileFirst: false }).push(items);
    expect(fake.importsDone).toBe(1);
    await commit();
    expect(projectTasks()).toHaveLength(16);
    const second = await sink().push(items);
    expect(second).toEqual(first);
    expectOneTaskPerItem(projectTasks(), items, second);
  });

  it('adds the predictions an import reports it dropped, once each, even when that write is lost', async () => {
    fake.dropPredictionsOfNextImports = 1;
    proxy.add({ method: 'POST', path: /^\/api\/predictions\/$/, fault: { kind: 'drop-after' } });
    const items = remoteItems(6);
    const taskIds = await sink({ timeoutMs: 300 }).push(items);
    expectOneTaskPerItem(projectTasks(), items, taskIds);
    for (const task of projectTasks()) {
      const item = items.find((i) => i.id === task.data['rpr_sample_id'])!;
      expect(task.predictions).toEqual([
        {
          model_version: 'sha256:model',
          score: item.score,
          result: [{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [String(item.predicted)] } }],
        },
      ]);
    }
  });
});

describe('LabelStudioSink with a personal access token', () => {
  it('exchanges the PAT, and refreshes transparently when the access token is revoked', async () => {
    const patSink = sink({ apiKey: PAT });
    const items = remoteItems(20);
    await patSink.push(items.slice(0, 10));
    expect(fake.refreshes).toBe(1);
    fake.validAccessTokens.clear();
    const taskIds = await patSink.push(items);
    expect(fake.refreshes).toBe(2);
    expect(proxy.log.some((entry) => entry.path.startsWith('/api/token/refresh/'))).toBe(true);
    expectOneTaskPerItem(projectTasks(), items, taskIds);
  });

  it('a refused PAT is RPR_SINK_AUTH naming the key variable', async () => {
    const bogus = PAT.replace(/\.[^.]+$/, '.b3RoZXI');
    const error = await rprRejection(sink({ apiKey: bogus }).push(remoteItems(1)));
    expect(error.code).toBe('RPR_SINK_AUTH');
    expect(error.message).toContain('LABEL_STUDIO_API_KEY');
  });
});

describe('LabelStudioSink errors', () => {
  it('a wrong legacy token is RPR_SINK_AUTH naming the URL and LABEL_STUDIO_API_KEY, and nothing is imported', async () => {
    const error = await rprRejection(sink({ apiKey: 'a'.repeat(40) }).push(remoteItems(3)));
    expect(error.code).toBe('RPR_SINK_AUTH');
    expect(error.message).toContain(proxy.url);
    expect(error.message).toContain('LABEL_STUDIO_API_KEY');
    expect(error.message).not.toContain('\n');
    expect(fake.tasks).toHaveLength(0);
  });

  it('an unknown project id is RPR_SINK_NOT_FOUND', async () => {
    const error = await rprRejection(sink({ project: 999 }).push(remoteItems(1)));
    expect(error.code).toBe('RPR_SINK_NOT_FOUND');
    expect(error.message).toContain('999');
  });

  it('a closed port is RPR_SINK_UNREACHABLE', async () => {
    const url = proxy.url;
    await proxy.stop();
    const error = await rprRejection(sink({ url, retries: 1 }).push(remoteItems(1)));
    expect(error.code).toBe('RPR_SINK_UNREACHABLE');
    expect(error.message).toContain(url);
    expect(error.message).toContain('scripts/label-studio.sh start');
  });

  it('another 4xx is RPR_SINK_REFUSED with the server detail, and is not retried', async () => {
    proxy.add({ method: 'POST', path: IMPORT, fault: { kind: 'status', status: 413, forward: false } });
    const error = await rprRejection(sink().push(remoteItems(3)));
    expect(error.code).toBe('RPR_SINK_REFUSED');
    expect(error.message).toContain('413');
    expect(proxy.log.filter((entry) => entry.method === 'POST' && IMPORT.test(entry.path))).toHaveLength(1);
  });

  it('an out-of-range predicted class is refused before anything is imported', async () => {
    const [item] = remoteItems(1);
    const error = await rprRejection(sink().push([{ ...item!, predicted: 10 }]));
    expect(error.code).toBe('RPR_CONFIG');
    expect(fake.tasks).toHaveLength(0);
  });

  it('a project whose config has no Image/Choices pair is refused', async () => {
    const id = fake.addProject('text', '<View><Text name="t" value="$text"/></View>');
    const error = await rprRejection(sink({ project: id }).push(remoteItems(1)));
    expect(error.code).toBe('RPR_SINK_REFUSED');
  });
});

describe('LabelStudioSink.list and fetchLabels', () => {
  it('lists every task carrying a sample id, across pages, with its round', async () => {
    const items = [...remoteItems(7, 1), ...remoteItems(6, 2)];
    const s = sink({ pageSize: 4 });
    const taskIds = await s.push(items);
    const held = [];
    for await (const task of s.list()) held.push(task);
    expect(held.map((h) => [h.id, h.taskId, h.round]).sort()).toEqual(
      items.map((item) => [item.id, taskIds.get(item.id), item.round]).sort(),
    );
  });

  it('yields exactly the finished tasks: labeled from the first submitted annotation, or skipped', async () => {
    fake.users.set(2, 'ann@example.org');
    const items = remoteItems(12);
    const s = sink({ pageSize: 5 });
    const taskIds = await s.push(items);
    const taskOf = (i: number) => Number(taskIds.get(items[i]!.id));
    const choice = (c: string) => [{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [c] } }];
    fake.annotate(taskOf(0), { result: choice('3'), was_cancelled: false, completed_by: 2, created_at: '2026-01-01T00:00:00Z' });
    fake.annotate(taskOf(0), { result: choice('5'), was_cancelled: false, completed_by: 1, created_at: '2026-01-02T00:00:00Z' });
    fake.annotate(taskOf(4), { result: [], was_cancelled: true, completed_by: 1, created_at: '2026-01-03T00:00:00Z' });
    fake.annotate(taskOf(4), { result: choice('1'), was_cancelled: false, completed_by: 2, created_at: '2026-01-04T00:00:00Z' });
    fake.annotate(taskOf(11), { result: [], was_cancelled: true, completed_by: 2, created_at: '2026-01-05T00:00:00Z' });
    const records: LabelRecord[] = [];
    for await (const record of s.fetchLabels()) records.push(record);
    expect(records.sort((a, b) => Number(a.taskId) - Number(b.taskId))).toEqual([
      { id: items[0]!.id, taskId: String(taskOf(0)), uri: items[0]!.uri, status: 'labeled', label: '3', annotator: 'ann@example.org', time: '2026-01-01T00:00:00Z' },
      { id: items[4]!.id, taskId: String(taskOf(4)), uri: items[4]!.uri, status: 'labeled', label: '1', annotator: 'ann@example.org', time: '2026-01-04T00:00:00Z' },
      { id: items[11]!.id, taskId: String(taskOf(11)), uri: items[11]!.uri, status: 'skipped', label: null, annotator: 'ann@example.org', time: '2026-01-05T00:00:00Z' },
    ]);
  });
});

describe('LabelStudioSink with local files', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'rpr-ls-root-'));
    fake.documentRoot = root;
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('sends local paths as local-files URLs relative to the document root, adding one storage per directory', async () => {
    const bytes = distinctBytes(6, 'local');
    const uris: string[] = [];
    for (const [i, content] of bytes.entries()) {
      const dir = join(root, i < 3 ? 'a' : 'b');
      await mkdir(dir, { recursive: true });
      uris.push(join(dir, `${i}.png`));
      await writeFile(uris[i]!, content);
    }
    const items = itemsFor(uris, bytes);
    const s = sink({ documentRoot: root });
    const taskIds = await s.push(items);
    await s.push(items);
    expectOneTaskPerItem(projectTasks(), items, taskIds);
    expect(fake.storages.map((storage) => storage.path).sort()).toEqual([join(root, 'a'), join(root, 'b')]);
    const task = projectTasks().find((t) => t.data['rpr_sample_id'] === items[4]!.id)!;
    expect(task.data['image']).toBe('/data/local-files/?d=b/4.png');
    expect(task.data['uri']).toBe(uris[4]);
  });
});
