import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeDigitPng } from './demo-pool.js';
import { fetchBytes } from './http-fetch.js';
import { createManifestSource } from './manifest-source.js';
import { mnistPart } from './mnist-digits.js';
import type { PoolEntry } from './types.js';

const digits = mnistPart('pool').slice(0, 8);
const fastHttp = { timeoutMs: 400, retries: 3, retryBaseDelayMs: 5, retryMaxDelayMs: 20 };

async function collect(entries: AsyncIterable<PoolEntry>): Promise<PoolEntry[]> {
  const out: PoolEntry[] = [];
  for await (const entry of entries) out.push(entry);
  return out;
}

describe('createManifestSource with local paths', () => {
  let root: string;
  let png: Buffer[];
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rpr-manifest-'));
    png = await Promise.all(digits.map((d) => encodeDigitPng(d)));
    await mkdir(join(root, 'images', 'deep'), { recursive: true });
    for (let i = 0; i < 4; i++) await writeFile(join(root, 'images', `d${i}.png`), png[i] as Buffer);
    await writeFile(join(root, 'images', 'deep', 'with, comma.png'), png[4] as Buffer);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const image = (path: string, i: number) => ({ kind: 'image', uri: path, bytes: png[i] });
  const skipped = (uri: string, reason: string) => ({ kind: 'skipped', uri, reason: expect.stringContaining(reason) });

  it('reads JSONL: path/uri/url fields or bare strings, relative to the manifest; bad lines skipped with their number', async () => {
    const manifest = join(root, 'list.jsonl');
    await writeFile(
      manifest,
      [
        JSON.stringify({ path: 'images/d0.png', label: 3 }),
        JSON.stringify('images/d1.png'),
        '{not json',
        '',
        JSON.stringify({ uri: join(root, 'images', 'd2.png') }),
        JSON.stringify({ url: pathToFileURL(join(root, 'images', 'd3.png')).href }),
        JSON.stringify({ label: 'no path' }),
        JSON.stringify({ path: 'images/missing.png' }),
        JSON.stringify({ path: 'ftp://example.org/x.png' }),
      ].join('\n'),
    );
    const entries = await collect(createManifestSource(manifest).entries());
    expect(entries).toEqual([
      image(join(root, 'images', 'd0.png'), 0),
      image(join(root, 'images', 'd1.png'), 1),
      skipped(`${manifest}:3`, 'line 3: not valid JSON'),
      image(join(root, 'images', 'd2.png'), 2),
      image(join(root, 'images', 'd3.png'), 3),
      skipped(`${manifest}:7`, "line 7: expected a JSON string or an object with a string 'path'"),
      skipped(join(root, 'images', 'missing.png'), 'ENOENT'),
      skipped(`${manifest}:9`, "line 9: unsupported URL scheme 'ftp:'"),
    ]);
  });

  it('reads CSV by its path column (quoted fields, CRLF, BOM); a broken row is skipped with its line number', async () => {
    const manifest = join(root, 'list.csv');
    await writeFile(
      manifest,
      '\uFEFFlabel,Path,note\r\n7,images/d0.png,ok\r\n1,"images/deep/with, comma.png","has, commas"\r\n2,"images/d1.png\r\n3\r\n',
    );
    const entries = await collect(createManifestSource(manifest).entries());
    expect(entries).toEqual([
      image(join(root, 'images', 'd0.png'), 0),
      image(join(root, 'images', 'deep', 'with, comma.png'), 4),
      skipped(`${manifest}:4`, 'line 4: unterminated quoted CSV field'),
      skipped(`${manifest}:5`, 'line 5: has 1 CSV field(s)'),
    ]);
  });

  it('reads a CSV without header and a .txt file as one path per line', async () => {
    const lines = 'images/d2.png\n\n"images/deep/with, comma.png"\nimages/d3.png\n';
    for (const name of ['paths.csv', 'paths.txt']) {
      const manifest = join(root, name);
      await writeFile(manifest, lines);
      expect(await collect(createManifestSource(manifest).entries())).toEqual([
        image(join(root, 'images', 'd2.png'), 2),
        image(join(root, 'images', 'deep', 'with, comma.png'), 4),
        image(join(root, 'images', 'd3.png'), 3),
      ]);
    }
  });

  it('rejects a missing manifest with RPR_POOL_NOT_FOUND naming it', async () => {
    const missing = join(root, 'nope.jsonl');
    await expect(collect(createManifestSource(missing).entries())).rejects.toMatchObject({
      code: 'RPR_POOL_NOT_FOUND',
      message: expect.stringContaining(missing),
    });
  });
});

describe('createManifestSource with http(s) URLs', () => {
  let server: Server;
  let base: string;
  let png: Buffer[];
  const hits = new Map<string, number>();
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse, hit: number) => void>();

  beforeAll(async () => {
    png = await Promise.all(digits.map((d) => encodeDigitPng(d)));
    const sendPng = (res: ServerResponse, i: number) => res.writeHead(200, { 'content-type': 'image/png' }).end(png[i]);
    routes.set('/flaky.png', (_req, res, hit) => (hit <= 2 ? res.writeHead(500).end('try again') : sendPng(res, 0)));
    routes.set('/busy.png', (_req, res, hit) => (hit === 1 ? res.writeHead(429, { 'retry-after': '0' }).end() : sendPng(res, 1)));
    routes.set('/hang.png', () => undefined);
    routes.set('/missing.png', (_req, res) => res.writeHead(404).end('no'));
    routes.set('/always-500.png', (_req, res) => res.writeHead(503).end());
    routes.set('/moved.png', (_req, res) => res.writeHead(302, { location: '/img/2.png' }).end());
    routes.set('/big.png', (_req, res) => res.writeHead(200).end(Buffer.alloc(5000)));
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const hit = (hits.get(path) ?? 0) + 1;
      hits.set(path, hit);
      const route = routes.get(path);
      const numbered = /^\/img\/(\d+)\.png$/.exec(path);
      if (route !== undefined) route(req, res, hit);
      else if (numbered !== null) {
        // Later images answer sooner, so completion order is the reverse of manifest order.
        const i = Number(numbered[1]);
        setTimeout(() => sendPng(res, i), (digits.length - i) * 15);
      } else res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  async function manifestOf(urls: string[]): Promise<{ path: string; cleanup: () => Promise<void> }> {
    const dir = await mkdtemp(join(tmpdir(), 'rpr-manifest-http-'));
    const path = join(dir, 'urls.txt');
    await writeFile(path, urls.join('\n'));
    return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }

  it('retries 5xx and 429, times out a hanging server, skips a 404 without retrying, follows redirects', async () => {
    const urls = ['/flaky.png', '/hang.png', '/missing.png', '/busy.png', '/always-500.png', '/moved.png'].map((p) => base + p);
    const { path, cleanup } = await manifestOf(urls);
    try {
      const entries = await collect(createManifestSource(path, { http: fastHttp, concurrency: 3 }).entries());
      expect(entries).toEqual([
        { kind: 'image', uri: `${base}/flaky.png`, bytes: png[0] },
        { kind: 'skipped', uri: `${base}/hang.png`, reason: expect.stringContaining('no complete response within 400 ms') },
        { kind: 'skipped', uri: `${base}/missing.png`, reason: expect.stringContaining('HTTP 404 Not Found') },
        { kind: 'image', uri: `${base}/busy.png`, bytes: png[1] },
        {
          kind: 'skipped',
          uri: `${base}/always-500.png`,
          reason: expect.stringContaining('HTTP 503 Service Unavailable (after 4 attempts)'),
        },
        { kind: 'image', uri: `${base}/moved.png`, bytes: png[2] },
      ]);
      expect(hits.get('/flaky.png')).toBe(3);
      expect(hits.get('/busy.png')).toBe(2);
      expect(hits.get('/missing.png')).toBe(1);
      expect(hits.get('/hang.png')).toBe(1);
      expect(hits.get('/always-500.png')).toBe(4);
    } finally {
      await cleanup();
    }
  });

  it('keeps manifest order when downloads finish in the reverse order', async () => {
    const urls = digits.map((_, i) => `${base}/img/${i}.png`);
    const { path, cleanup } = await manifestOf(urls);
    try {
      const entries = await collect(createManifestSource(path, { http: fastHttp, concurrency: 4 }).entries());
      expect(entries).toEqual(urls.map((uri, i) => ({ kind: 'image', uri, bytes: png[i] })));
    } finally {
      await cleanup();
    }
  });

  it('refuses a body over maxBodyBytes, and retries refused connections before giving up', async () => {
    await expect(fetchBytes(`${base}/big.png`, { ...fastHttp, maxBodyBytes: 1000 })).rejects.toMatchObject({
      code: 'RPR_FETCH',
      message: expect.stringContaining('maxBodyBytes'),
      context: { url: `${base}/big.png` },
    });
    expect((await fetchBytes(`${base}/big.png`, { ...fastHttp, maxBodyBytes: 5000 })).length).toBe(5000);

    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    await expect(fetchBytes(`http://127.0.0.1:${port}/x.png`, { ...fastHttp, retries: 2 })).rejects.toMatchObject({
      code: 'RPR_FETCH',
      message: expect.stringMatching(/ECONNREFUSED.*after 3 attempts/),
    });
  });
});
