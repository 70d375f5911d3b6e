/**
 * An in-memory stand-in for the parts of Label Studio's REST API the sink uses, written from the
 * server's documented behaviour (and checked against a real 1.23 server by the integration tests): legacy
 * and PAT/JWT auth, projects, synchronous imports with return_task_ids, paged task lists with Data Manager
 * filters, annotations, users, Local Files storages and serving. It counts import requests it carried out,
 * so tests can tell "the import happened but the client never heard" from "it never happened".
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, dirname } from 'node:path';

export interface FakeTask {
  id: number;
  project: number;
  data: Record<string, unknown>;
  predictions: unknown[];
  annotations: FakeAnnotation[];
}

export interface FakeAnnotation {
  id: number;
  result: unknown[];
  was_cancelled: boolean;
  completed_by: number;
  created_at: string;
}

interface FakeProject {
  id: number;
  title: string;
  label_config: string;
}

interface Filter {
  filter: string;
  operator: string;
  value: unknown;
}

export const LEGACY_TOKEN = 'f'.repeat(40);

/** An unsigned JWT: the fake checks tokens by identity, clients only read the payload. */
export function fakeJwt(payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}.c2ln`;
}

export const PAT = fakeJwt({ token_type: 'refresh', exp: 9_999_999_999, jti: 'pat', user_id: '1' });

export class FakeLabelStudio {
  readonly projects = new Map<number, FakeProject>();
  readonly tasks: FakeTask[] = [];
  readonly storages: { id: number; project: number; path: string }[] = [];
  readonly users = new Map<number, string>([[1, 'owner@example.org']]);
  /** Import requests that created tasks. */
  importsDone = 0;
  refreshes = 0;
  /** Access tokens the server accepts; tests delete one to simulate expiry or revocation. */
  readonly validAccessTokens = new Set<string>();
  documentRoot = '/';
  #heldImports: { readonly gate: Promise<void>; readonly committed: () => void }[] = [];
  /** The next this many imports create their tasks but drop their predictions, as LS 1.23 does under concurrency. */
  dropPredictionsOfNextImports = 0;
  predictionsCreated = 0;
  #nextId = { project: 1, task: 1, annotation: 1, storage: 1, access: 1 };
  #server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => send(res, 500, { detail: String(error) }));
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  addProject(title: string, labelConfig: string): number {
    const id = this.#nextId.project++;
    this.projects.set(id, { id, title, label_config: labelConfig });
    return id;
  }

  /**
   * Makes the next import wait before it commits, as a slow server that outlives the client's timeout.
   * The returned function lets it commit and resolves once it has.
   */
  holdNextImport(): () => Promise<void> {
    let open!: () => void;
    let committed!: () => void;
    const done = new Promise<void>((resolve) => (committed = resolve));
    this.#heldImports.push({ gate: new Promise<void>((resolve) => (open = resolve)), committed });
    return async () => {
      open();
      await done;
    };
  }

  annotate(taskId: number, annotation: Omit<FakeAnnotation, 'id'>): void {
    const task = this.tasks.find((t) => t.id === taskId)!;
    task.annotations.push({ id: this.#nextId.annotation++, ...annotation });
  }

  tasksOf(projectId: number): FakeTask[] {
    return this.tasks.filter((task) => task.project === projectId);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    if (path === '/health') return send(res, 200, { status: 'UP' });
    if (method === 'POST' && path === '/api/token/refresh/') return this.#refresh(res, body);
    const user = this.#authenticate(req);
    if (user === null) return send(res, 401, { detail: 'Authentication credentials were not provided.' });

    let match: RegExpExecArray | null;
    if (path === '/data/local-files/') return this.#serveLocalFile(res, url.searchParams.get('d') ?? '');
    if (method === 'GET' && path === '/api/projects') return this.#listProjects(res, url);
    if (method === 'POST' && path === '/api/projects') {
      const { title, label_config } = body as { title: string; label_config: string };
      const id = this.addProject(title, label_config);
      return send(res, 201, this.projects.get(id));
    }
    if (method === 'GET' && (match = /^\/api\/projects\/(\d+)$/.exec(path))) {
      const project = this.projects.get(Number(match[1]));
      return project ? send(res, 200, project) : send(res, 404, { detail: 'No Project matches the given query.' });
    }
    if (method === 'POST' && (match = /^\/api\/projects\/(\d+)\/import$/.exec(path))) {
      return await this.#import(res, Number(match[1]), body as Record<string, unknown>[], url);
    }
    if (method === 'GET' && path === '/api/tasks') return this.#listTasks(res, url);
    if ((match = /^\/api\/tasks\/(\d+)\/$/.exec(path))) {
      const index = this.tasks.findIndex((t) => t.id === Number(match![1]));
      if (index < 0) return send(res, 404, { detail: 'Not found.' });
      if (method === 'DELETE') {
        this.tasks.splice(index, 1);
        return send(res, 204, null);
      }
      return send(res, 200, this.tasks[index]);
    }
    if (path === '/api/predictions/') return this.#predictionsRoute(res, method, url, body);
    if (method === 'GET' && (match = /^\/api\/users\/(\d+)$/.exec(path))) {
      const email = this.users.get(Number(match[1]));
      return email ? send(res, 200, { id: Number(match[1]), email }) : send(res, 404, { detail: 'Not found.' });
    }
    if (path === '/api/storages/localfiles') return this.#storagesRoute(res, method, url, body);
    return send(res, 404, { detail: `fake has no ${method} ${path}` });
  }

  #authenticate(req: IncomingMessage): number | null {
    const header = req.headers.authorization ?? '';
    if (header === `Token ${LEGACY_TOKEN}`) return 1;
    if (header.startsWith('Bearer ') && this.validAccessTokens.has(header.slice(7))) return 1;
    return null;
  }

  #refresh(res: ServerResponse, body: unknown): void {
    if ((body as { refresh?: unknown }).refresh !== PAT) {
      return send(res, 401, { detail: 'Token is invalid or expired', code: 'token_not_valid' });
    }
    this.refreshes++;
    const access = fakeJwt({ token_type: 'access', exp: Math.floor(Date.now() / 1000) + 300, jti: this.#nextId.access++ });
    this.validAccessTokens.add(access);
    send(res, 200, { access });
  }

  #listProjects(res: ServerResponse, url: URL): void {
    const title = (url.searchParams.get('title') ?? '').toLowerCase();
    const all = [...this.projects.values()].filter((p) => p.title.toLowerCase().includes(title));
    const page = Number(url.searchParams.get('page') ?? 1);
    const size = Number(url.searchParams.get('page_size') ?? 30);
    const results = all.slice((page - 1) * size, page * size);
    send(res, 200, { count: all.length, next: page * size < all.length ? 'more' : null, previous: null, results });
  }

  #predictionsRoute(res: ServerResponse, method: string, url: URL, body: unknown): void {
    if (method === 'GET') {
      const task = this.tasks.find((t) => t.id === Number(url.searchParams.get('task')));
      return send(res, 200, task?.predictions ?? []);
    }
    const { task: taskId, ...prediction } = body as { task: number } & Record<string, unknown>;
    const task = this.tasks.find((t) => t.id === taskId);
    if (!task) return send(res, 400, { detail: `task ${taskId} does not exist` });
    task.predictions.push(prediction);
    this.predictionsCreated++;
    send(res, 201, { id: this.predictionsCreated, task: taskId, ...prediction });
  }

  async #import(res: ServerResponse, projectId: number, body: Record<string, unknown>[], url: URL): Promise<void> {
    const project = this.projects.get(projectId);
    if (!project) return send(res, 404, { detail: 'No Project matches the given query.' });
    const variable = /<Image\b[^>]*value="\$(\w+)"/.exec(project.label_config)?.[1] ?? 'image';
    for (const entry of body) {
      const data = (entry['data'] ?? entry) as Record<string, unknown>;
      if (!(variable in data)) {
        return send(res, 400, { validation_errors: { non_field_errors: [`"${variable}" key is expected in task data`] } });
      }
    }
    const held = this.#heldImports.shift();
    if (held) await held.gate;
    const dropPredictions = this.dropPredictionsOfNextImports > 0;
    if (dropPredictions) this.dropPredictionsOfNextImports--;
    let predictionCount = 0;
    const ids = body.map((entry) => {
      const predictions = dropPredictions ? [] : ((entry['predictions'] as unknown[] | undefined) ?? []);
      predictionCount += predictions.length;
      const task: FakeTask = {
        id: this.#nextId.task++,
        project: projectId,
        data: (entry['data'] ?? entry) as Record<string, unknown>,
        predictions,
        annotations: [],
      };
      this.tasks.push(task);
      return task.id;
    });
    this.importsDone++;
    held?.committed();
    send(res, 201, {
      task_count: ids.length,
      prediction_count: predictionCount,
      ...(url.searchParams.get('return_task_ids') === 'true' ? { task_ids: ids } : {}),
    });
  }

  #listTasks(res: ServerResponse, url: URL): void {
    const projectId = Number(url.searchParams.get('project'));
    if (!this.projects.has(projectId)) return send(res, 404, { detail: 'No Project matches the given query.' });
    const query = JSON.parse(url.searchParams.get('query') ?? '{}') as {
      filters?: { conjunction: 'and' | 'or'; items: Filter[] };
    };
    const filters = query.filters ?? { conjunction: 'and', items: [] };
    const matches = (task: FakeTask) => {
      if (filters.items.length === 0) return true;
      const results = filters.items.map((item) => matchesFilter(task, item));
      return filters.conjunction === 'or' ? results.some(Boolean) : results.every(Boolean);
    };
    const all = this.tasksOf(projectId).filter(matches).sort((a, b) => a.id - b.id);
    const page = Number(url.searchParams.get('page') ?? 1);
    const size = Number(url.searchParams.get('page_size') ?? 100);
    if ((page - 1) * size >= all.length && page > 1) return send(res, 404, { detail: 'Invalid page.' });
    const full = url.searchParams.get('fields') === 'all';
    const tasks = all.slice((page - 1) * size, page * size).map((task) => ({
      id: task.id,
      data: task.data,
      total_annotations: task.annotations.filter((a) => !a.was_cancelled).length,
      cancelled_annotations: task.annotations.filter((a) => a.was_cancelled).length,
      ...(full ? { annotations: task.annotations, predictions: task.predictions } : {}),
    }));
    send(res, 200, { total: all.length, total_annotations: 0, total_predictions: 0, tasks });
  }

  #storagesRoute(res: ServerResponse, method: string, url: URL, body: unknown): void {
    if (method === 'GET') {
      const project = Number(url.searchParams.get('project'));
      return send(res, 200, this.storages.filter((s) => s.project === project));
    }
    const { project, path } = body as { project: number; path: string };
    if (normalize(path) === normalize(this.documentRoot)) return send(res, 400, { detail: 'path equals document root' });
    const storage = { id: this.#nextId.storage++, project, path: normalize(path) };
    this.storages.push(storage);
    send(res, 201, storage);
  }

  async #serveLocalFile(res: ServerResponse, relative: string): Promise<void> {
    const full = normalize(join(this.documentRoot, relative));
    const covered = this.storages.some((s) => dirname(full) === s.path || dirname(full).startsWith(`${s.path}/`));
    if (!covered) return send(res, 404, { detail: 'Not found' });
    try {
      const bytes = await readFile(full);
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': bytes.length });
      res.end(bytes);
    } catch {
      send(res, 404, { detail: 'Not found' });
    }
  }
}

function matchesFilter(task: FakeTask, item: Filter): boolean {
  const field = item.filter.replace(/^filter:tasks:/, '');
  const value = field.startsWith('data.')
    ? task.data[field.slice(5)]
    : field === 'total_annotations'
      ? task.annotations.filter((a) => !a.was_cancelled).length
      : field === 'cancelled_annotations'
        ? task.annotations.filter((a) => a.was_cancelled).length
        : undefined;
  switch (item.operator) {
    case 'equal':
      return value === item.value;
    case 'greater':
      return typeof value === 'number' && value > Number(item.value);
    default:
      throw new Error(`fake does not support operator ${item.operator}`);
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : (JSON.parse(text) as unknown);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === null) return void res.writeHead(status).end();
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
