/**
 * Direct calls to a real Label Studio for the integration tests, written without the sink's client so
 * that what the server holds is checked independently of the code under test.
 */
import { request } from 'undici';

export interface RawTaskView {
  readonly id: number;
  readonly data: Record<string, unknown>;
  readonly annotations?: { readonly id: number; readonly was_cancelled: boolean }[];
  readonly predictions?: { readonly model_version: string; readonly score: number | null; readonly result: unknown[] }[];
}

export class RawApi {
  constructor(
    readonly url: string,
    readonly legacyKey: string,
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const response = await request(`${this.url}${path}`, {
      method,
      headers: { authorization: `Token ${this.legacyKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.body.text();
    return { status: response.statusCode, json: (text ? JSON.parse(text) : null) as T };
  }

  async ok<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const { status, json } = await this.call<T>(method, path, body);
    if (status >= 300) throw new Error(`${method} ${path} → ${status}: ${JSON.stringify(json)}`);
    return json;
  }

  /** Every task of the project, all pages. */
  async tasks(projectId: number, fields: 'task_only' | 'all' = 'task_only'): Promise<RawTaskView[]> {
    const all: RawTaskView[] = [];
    for (let page = 1; ; page++) {
      const answer = await this.ok<{ tasks: RawTaskView[]; total: number }>(
        'GET',
        `/api/tasks?project=${projectId}&page=${page}&page_size=50&fields=${fields}&resolve_uri=false`,
      );
      all.push(...answer.tasks);
      if (answer.tasks.length < 50 || all.length >= answer.total) return all;
    }
  }

  async projectIdByTitle(title: string): Promise<number> {
    const answer = await this.ok<{ results: { id: number; title: string }[] }>(
      'GET',
      `/api/projects?title=${encodeURIComponent(title)}&page_size=100`,
    );
    const project = answer.results.find((p) => p.title === title);
    if (!project) throw new Error(`no project titled ${title}`);
    return project.id;
  }

  async taskNumber(projectId: number): Promise<number> {
    return (await this.ok<{ task_number: number }>('GET', `/api/projects/${projectId}`)).task_number;
  }

  async bytes(path: string): Promise<{ status: number; bytes: Buffer }> {
    const response = await request(`${this.url}${path}`, { headers: { authorization: `Token ${this.legacyKey}` } });
    return { status: response.statusCode, bytes: Buffer.from(await response.body.arrayBuffer()) };
  }
}
