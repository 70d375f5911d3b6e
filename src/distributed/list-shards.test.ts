/**
 * Shards must hold exactly the pool a local round reads, in the same order: the reference is the local
 * pool source itself (directory and manifest), read entry by entry, against the shards' entries read
 * back on the worker's side.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createPoolSource, encodeDigitPng, mnistPart, type PoolEntry, type PoolSource } from '../pool/index.js';
import { listShards } from './list-shards.js';
import type { Shard } from './shard-job.js';
import { shardSource } from './shard-source.js';

async function entriesOf(source: PoolSource): Promise<PoolEntry[]> {
  const entries: PoolEntry[] = [];
  for await (const entry of source.entries()) entries.push(entry);
  return entries;
}

async function shardsOf(spec: string, size: number): Promise<Shard[]> {
  const shards: Shard[] = [];
  for await (const shard of listShards(spec, size)) shards.push(shard);
  return shards;
}

/** What a worker reads from each shard, concatenated in shard order. */
async function shardedEntries(spec: string, size: number): Promise<PoolEntry[]> {
  const entries: PoolEntry[] = [];
  for (const shard of await shardsOf(spec, size)) entries.push(...(await entriesOf(shardSource(shard))));
  return entries;
}

const images = (entries: readonly PoolEntry[]) => entries.filter((e) => e.kind === 'image').map((e) => [e.uri, e.kind === 'image' ? e.bytes.length : 0]);
const skips = (entries: readonly PoolEntry[]) => entries.filter((e) => e.kind === 'skipped').map((e) => e.uri);

let root: string;
let png: Buffer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rpr-list-'));
  png = await encodeDigitPng(mnistPart('pool')[0]!);
  const pool = join(root, 'pool');
  // Names whose code-unit order differs from a case-insensitive or numeric sort.
  for (const dir of ['b', 'a/Z', 'a/y', 'a/y/10', 'a/y/9']) await mkdir(join(pool, dir), { recursive: true });
  const files = ['b/2.png', 'b/10.PNG', 'a/Z/x.jpg', 'a/y/1.webp', 'a/y/10/q.png', 'a/y/9/p.jpeg', 'top.png', 'B.png', 'a/notes.txt'];
  for (const [i, file] of files.entries()) await writeFile(join(pool, file), Buffer.concat([png, Buffer.alloc(i)]));
  // A link back up the tree (a loop) and a link to an image.
  await symlink(join(pool, 'a'), join(pool, 'a/y/loop'));
  await symlink(join(pool, 'top.png'), join(pool, 'b/link.png'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('listShards', () => {
  it.each([1, 3, 100])('a directory, in shards of %i, lists what the directory source reads, in its order', async (size) => {
    const spec = join(root, 'pool');
    const local = await entriesOf(await createPoolSource(spec));
    const sharded = await shardedEntries(spec, size);
    expect(images(local)).toHaveLength(9);
    expect(images(sharded)).toEqual(images(local));
    expect(skips(sharded)).toEqual(skips(local));
    const shards = await shardsOf(spec, size);
    expect(shards.map((s) => s.index)).toEqual(shards.map((_, i) => i));
    expect(shards.slice(0, -1).every((s) => s.entries.length === size)).toBe(true);
  });

  it('a manifest: relative and absolute paths, file: URLs, bad lines and schemes, in line order', async () => {
    const dir = join(root, 'manifest');
    await mkdir(join(dir, 'imgs'), { recursive: true });
    await writeFile(join(dir, 'imgs', 'one.png'), png);
    const manifest = join(dir, 'list.jsonl');
    const lines = [
      JSON.stringify('imgs/one.png'),
      JSON.stringify({ path: join(root, 'pool', 'top.png') }),
      '{not json',
      JSON.stringify(pathToFileURL(join(root, 'pool', 'B.png')).href),
      JSON.stringify('ftp://example.com/x.png'),
      JSON.stringify('imgs/missing.png'),
      JSON.stringify('../pool/b/2.png'),
    ];
    await writeFile(manifest, `${lines.join('\n')}\n`);
    const local = await entriesOf(await createPoolSource(manifest));
    const sharded = await shardedEntries(manifest, 2);
    expect(images(sharded)).toEqual(images(local));
    expect(images(local)).toHaveLength(4);
    expect(sharded.map((e) => (e.kind === 'skipped' ? [e.uri, e.reason] : e.uri))).toEqual(
      local.map((e) => (e.kind === 'skipped' ? [e.uri, e.reason] : e.uri)),
    );
  });

  it('refuses a pool that is neither a directory nor a manifest file, and a bad shard size', async () => {
    await expect(shardsOf(join(root, 'nothing-here'), 10)).rejects.toMatchObject({ code: 'RPR_USAGE' });
    await expect(shardsOf(join(root, 'pool'), 0)).rejects.toMatchObject({ code: 'RPR_USAGE', message: expect.stringContaining('--shard-size') });
  });
});
