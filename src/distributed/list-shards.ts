/**
 * Splits a pool into shards by listing it (names only: no image is read here), in the order the local
 * pool source reads it, so shard i always holds the same entries: a directory walked depth-first with
 * each directory's names sorted by code unit, or a manifest's lines in file order.
 */
import type { Dirent, Stats } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { RprError } from '../errors/index.js';
import { entryTarget, IMAGE_EXTENSIONS, manifestFormatOf } from '../pool/index.js';
import { errorCode, errorMessage } from '../pool/error-message.js';
import { manifestLines } from '../pool/manifest-lines.js';
import type { Shard, ShardEntry } from './shard-job.js';

/** Pool entries per shard unless told otherwise. */
export const DEFAULT_SHARD_SIZE = 1000;

/** The pool's shards in pool order; the last one may be shorter. */
export async function* listShards(poolSpec: string, shardSize: number, signal?: AbortSignal): AsyncGenerator<Shard, void, undefined> {
  if (!Number.isInteger(shardSize) || shardSize < 1) {
    throw new RprError('RPR_USAGE', `--shard-size must be a positive integer (got ${shardSize})`, { flag: 'shard-size' });
  }
  const { base, entries } = await poolListing(poolSpec, signal);
  let chunk: ShardEntry[] = [];
  let index = 0;
  for await (const entry of entries) {
    chunk.push(entry);
    if (chunk.length === shardSize) {
      yield { index: index++, base, entries: chunk };
      chunk = [];
    }
  }
  if (chunk.length > 0) yield { index, base, entries: chunk };
}

interface PoolListing {
  readonly base: string;
  readonly entries: AsyncIterable<ShardEntry>;
}

async function poolListing(spec: string, signal: AbortSignal | undefined): Promise<PoolListing> {
  const [, prefix, target] = /^([a-z][a-z0-9-]+):(.+)$/s.exec(spec) ?? [];
  const path = resolve(prefix === 'directory' || prefix === 'manifest' ? target! : spec);
  const stats = await stat(path).catch(() => null);
  if (stats?.isDirectory() && prefix !== 'manifest') return { base: path, entries: walk(path, path, new Set([inodeKey(stats)]), signal) };
  if (stats?.isFile() && prefix !== 'directory') return { base: resolve(path, '..'), entries: manifestEntries(path) };
  throw new RprError(
    'RPR_USAGE',
    `select --distributed shards a directory or a .jsonl/.csv/.txt manifest, and '${spec}' is neither; run this pool without --distributed`,
    { pool: spec },
  );
}

/** Image files under `dir` as paths relative to `root`; unreadable directories and link loops as unusable entries. */
async function* walk(root: string, dir: string, visited: Set<string>, signal: AbortSignal | undefined): AsyncGenerator<ShardEntry, void, undefined> {
  let children: Dirent[];
  try {
    children = await sortedChildren(dir);
  } catch (error) {
    yield { uri: dir, reason: `cannot read directory: ${describe(error)}` };
    return;
  }
  for (const child of children) {
    signal?.throwIfAborted();
    const path = join(dir, child.name);
    const linked = child.isSymbolicLink() ? await stat(path).catch(() => null) : null;
    if (child.isDirectory() || linked?.isDirectory()) {
      const stats = linked ?? (await stat(path).catch(() => null));
      const key = stats === null ? null : inodeKey(stats);
      if (key === null || visited.has(key)) {
        yield { uri: path, reason: key === null ? 'cannot read directory' : 'directory already visited (symbolic link loop or second link); not followed again' };
        continue;
      }
      visited.add(key);
      yield* walk(root, path, visited, signal);
    } else if ((child.isFile() || (child.isSymbolicLink() && (linked === null || linked.isFile()))) && IMAGE_EXTENSIONS.has(extname(child.name).toLowerCase())) {
      // A broken link is listed too: the worker that reads it reports why it cannot.
      yield relative(root, path);
    }
  }
}

/** A manifest's references in line order: paths and URLs as the worker will load them, bad lines as unusable entries. */
async function* manifestEntries(manifest: string): AsyncGenerator<ShardEntry, void, undefined> {
  const base = resolve(manifest, '..');
  for await (const line of manifestLines(manifest, manifestFormatOf(manifest))) {
    const where = `${manifest}:${line.line}`;
    if ('error' in line) {
      yield { uri: where, reason: `line ${line.line}: ${line.error}` };
      continue;
    }
    const target = entryTarget(line.ref, base);
    if (target.kind === 'bad') yield { uri: where, reason: `line ${line.line}: ${target.reason}` };
    else yield target.kind === 'url' ? target.url : relative(base, target.path) || target.path;
  }
}

async function sortedChildren(dir: string): Promise<Dirent[]> {
  const children: Dirent[] = [];
  for await (const child of await opendir(dir)) children.push(child);
  return children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function inodeKey(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

function describe(error: unknown): string {
  const code = errorCode(error);
  return code === null ? errorMessage(error) : code;
}
