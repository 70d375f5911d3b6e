import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { RprError, errors } from '../errors/index.js';
import { createDirectorySource, type DirectorySourceOptions } from './directory-source.js';
import { createManifestSource, type ManifestSourceOptions } from './manifest-source.js';
import { statPoolPath } from './stat-pool-path.js';
import type { PoolSource } from './types.js';

/** Options for the built-in kinds; a registered kind may read the fields it shares with them. */
export interface PoolSourceOptions extends DirectorySourceOptions, ManifestSourceOptions {}

/** A kind of pool source (directory, manifest, a Label Studio project…), chosen by a spec string. */
export interface PoolSourceKind {
  /** Its name, usable as a spec prefix (`manifest:list.txt`) and listed in errors. */
  readonly name: string;
  /** What a spec of this kind looks like, for the error that lists the kinds. */
  readonly usage: string;
  /** Whether a spec without a prefix is of this kind (it may look at the file system). */
  detect(spec: string): Promise<boolean>;
  /** Opens the source; throws an RprError (RPR_POOL_NOT_FOUND, …) when the target is unusable. */
  create(target: string, options: PoolSourceOptions): Promise<PoolSource>;
}

const MANIFEST_EXTENSIONS: ReadonlySet<string> = new Set(['.jsonl', '.csv', '.txt']);
const URL_LIKE = /^[a-z][a-z0-9+.-]+:\/\//i;

const directoryKind: PoolSourceKind = {
  name: 'directory',
  usage: 'a directory of .png/.jpg/.jpeg/.webp images, read recursively',
  detect: async (spec) => (await stat(spec).catch(() => null))?.isDirectory() ?? false,
  async create(target, options) {
    await statPoolPath(target, 'directory');
    return createDirectorySource(target, options);
  },
};

const manifestKind: PoolSourceKind = {
  name: 'manifest',
  usage: 'a .jsonl, .csv or .txt file listing image paths or http(s) URLs',
  // A URL is never a local manifest, whatever it ends with: it is left to the kinds that fetch.
  detect: async (spec) => !URL_LIKE.test(spec) && MANIFEST_EXTENSIONS.has(extname(spec).toLowerCase()),
  async create(target, options) {
    await statPoolPath(target, 'file');
    return createManifestSource(target, options);
  },
};

/** Kinds in detection order; `registerPoolSourceKind` appends. */
const kinds = new Map<string, PoolSourceKind>([
  [directoryKind.name, directoryKind],
  [manifestKind.name, manifestKind],
]);

/**
 * Adds a kind of pool source (the hook for sources written elsewhere, such as a Label Studio
 * project). Its name becomes a valid spec prefix, and its `detect` is tried after the built-in ones.
 */
export function registerPoolSourceKind(kind: PoolSourceKind): void {
  if (!/^[a-z][a-z0-9-]+$/.test(kind.name)) {
    throw errors.usage(`pool source kind name '${kind.name}' must be lower-case letters, digits and dashes`, {
      name: kind.name,
    });
  }
  if (kinds.has(kind.name)) {
    throw errors.usage(`pool source kind '${kind.name}' is already registered`, { name: kind.name });
  }
  kinds.set(kind.name, kind);
}

/** The names of the kinds `createPoolSource` knows, in detection order. */
export function poolSourceKindNames(): string[] {
  return [...kinds.keys()];
}

/**
 * A pool spec made absolute against `baseDir` when it is a path; a spec that names its kind or scheme
 * (`label-studio:12`, `manifest:list.txt`, `https://…`) is left as written.
 */
export function resolvePoolSpec(baseDir: string, spec: string): string {
  return /^[a-z][a-z0-9+.-]+:/i.test(spec) ? spec : resolve(baseDir, spec);
}

/**
 * Opens the pool a spec names: `<kind>:<target>` picks a kind by name; a bare spec is a directory, a
 * .jsonl/.csv/.txt manifest, or whatever a registered kind recognizes. Errors list the valid kinds.
 */
export async function createPoolSource(spec: string, options: PoolSourceOptions = {}): Promise<PoolSource> {
  const [, prefix, target] = /^([a-z][a-z0-9-]+):(.+)$/s.exec(spec) ?? [];
  const named = prefix === undefined ? undefined : kinds.get(prefix);
  if (named !== undefined && target !== undefined) return named.create(target, options);
  for (const kind of kinds.values()) {
    if (await kind.detect(spec)) return kind.create(spec, options);
  }
  const exists = (await stat(spec).catch(() => null)) !== null;
  if (prefix !== undefined && !exists) throw errors.unknownName('pool source kind', prefix, poolSourceKindNames());
  const listing = [...kinds.values()].map((kind) => `${kind.name} (${kind.usage})`).join('; ');
  if (!exists) {
    throw new RprError('RPR_POOL_NOT_FOUND', `pool '${spec}' does not exist; pass one of: ${listing}`, { path: spec });
  }
  throw new RprError(
    'RPR_USAGE',
    `cannot tell what kind of pool '${spec}' is; pass one of: ${listing}, or prefix the spec with '<kind>:'`,
    { path: spec },
  );
}
