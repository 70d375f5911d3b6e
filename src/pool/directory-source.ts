import type { Dirent, Stats } from 'node:fs';
import { opendir, readlink, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { hasImageExtension } from './image-extensions.js';
import { DEFAULT_MAX_FILE_BYTES, describeFsError, readImageFile } from './read-image-file.js';
import { statPoolPath } from './stat-pool-path.js';
import type { PoolEntry, PoolSource } from './types.js';

export interface DirectorySourceOptions {
  /**
   * Image files larger than this are skipped.
   * @defaultValue 64 MiB
   */
  readonly maxFileBytes?: number;
}

/**
 * A directory of images read recursively: .png/.jpg/.jpeg/.webp (any case), depth-first with each
 * directory's names sorted by code unit, so every run sees the same order. Symbolic links are followed,
 * but a directory is entered at most once (by device and inode), which also breaks link loops. Files
 * and directories that cannot be read are yielded as `skipped`.
 *
 * Memory: the sorted names of each directory on the current path, and one device:inode key per
 * directory visited, never the whole tree's listing.
 */
export function createDirectorySource(dir: string, options: DirectorySourceOptions = {}): PoolSource {
  const root = resolve(dir);
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  return {
    description: `directory ${root}`,
    async *entries(signal?: AbortSignal): AsyncGenerator<PoolEntry, void, undefined> {
      const rootStats = await statPoolPath(dir, 'directory');
      const visited = new Map<string, string>([[inodeKey(rootStats), root]]);
      yield* walk(root, visited, maxFileBytes, signal);
    },
  };
}

async function* walk(
  dir: string,
  visited: Map<string, string>,
  maxFileBytes: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<PoolEntry, void, undefined> {
  let children: Dirent[];
  try {
    children = await sortedChildren(dir);
  } catch (error) {
    yield { kind: 'skipped', uri: dir, reason: `cannot read directory: ${describeFsError(error)}` };
    return;
  }
  for (const child of children) {
    signal?.throwIfAborted();
    const path = join(dir, child.name);
    const kind = await childKind(child, path);
    if (kind.type === 'directory') {
      const key = inodeKey(kind.stats);
      const seenAt = visited.get(key);
      if (seenAt !== undefined) {
        const reason = `directory already visited as ${seenAt} (symbolic link loop or second link); not followed again`;
        yield { kind: 'skipped', uri: path, reason };
        continue;
      }
      visited.set(key, path);
      yield* walk(path, visited, maxFileBytes, signal);
    } else if (hasImageExtension(child.name)) {
      if (kind.type === 'file') yield readImageFile(path, maxFileBytes);
      else if (kind.type === 'broken') yield { kind: 'skipped', uri: path, reason: kind.reason };
    }
  }
}

type ChildKind =
  | { readonly type: 'directory'; readonly stats: Stats }
  | { readonly type: 'file' }
  | { readonly type: 'other' }
  | { readonly type: 'broken'; readonly reason: string };

/** Classifies an entry, following symbolic links; only directories need a stat (for their inode). */
async function childKind(child: Dirent, path: string): Promise<ChildKind> {
  if (child.isFile()) return { type: 'file' };
  if (child.isFIFO() || child.isSocket() || child.isBlockDevice() || child.isCharacterDevice()) {
    return { type: 'other' };
  }
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (error) {
    const target = await readlink(path).catch(() => null);
    const link = target === null ? 'link' : `link to ${target}`;
    return { type: 'broken', reason: `cannot follow ${link}: ${describeFsError(error)}` };
  }
  if (stats.isDirectory()) return { type: 'directory', stats };
  return stats.isFile() ? { type: 'file' } : { type: 'other' };
}

async function sortedChildren(dir: string): Promise<Dirent[]> {
  const children: Dirent[] = [];
  const handle = await opendir(dir);
  for await (const child of handle) children.push(child);
  return children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function inodeKey(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}
