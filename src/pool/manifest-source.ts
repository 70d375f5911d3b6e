import { dirname, extname, resolve } from 'node:path';
import { RprError } from '../errors/index.js';
import { entryTarget } from './entry-target.js';
import { createHttpDispatcher, fetchBytes, type HttpFetchOptions } from './http-fetch.js';
import { manifestLines, type ManifestFormat, type ManifestLine } from './manifest-lines.js';
import { mapOrdered } from './map-ordered.js';
import { DEFAULT_MAX_FILE_BYTES, readImageFile } from './read-image-file.js';
import { statPoolPath } from './stat-pool-path.js';
import type { PoolEntry, PoolSource } from './types.js';

export interface ManifestSourceOptions {
  /**
   * Entries loaded at once (files read, URLs fetched); output keeps the manifest's order.
   * @defaultValue 8
   */
  readonly concurrency?: number;
  /**
   * Overrides the format the extension implies (.jsonl → jsonl, .csv → csv, anything else → txt).
   */
  readonly format?: ManifestFormat;
  /**
   * Local image files larger than this are skipped.
   * @defaultValue 64 MiB
   */
  readonly maxFileBytes?: number;
  /** Timeouts, retries and size limit for http(s) entries. */
  readonly http?: HttpFetchOptions;
}

const DEFAULT_CONCURRENCY = 8;

/** The format a manifest's extension implies. */
export function manifestFormatOf(path: string): ManifestFormat {
  const ext = extname(path).toLowerCase();
  return ext === '.jsonl' ? 'jsonl' : ext === '.csv' ? 'csv' : 'txt';
}

/**
 * A manifest file listing images, one per line: local paths (relative ones resolved against the
 * manifest's directory), file: URLs, or http(s) URLs. Entries load concurrently and come out in
 * manifest order; a bad line, a missing file or a failed download is a `skipped` entry naming it.
 */
export function createManifestSource(manifestPath: string, options: ManifestSourceOptions = {}): PoolSource {
  const path = resolve(manifestPath);
  const baseDir = dirname(path);
  const format = options.format ?? manifestFormatOf(path);
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  return {
    description: `manifest ${path}`,
    async *entries(signal?: AbortSignal): AsyncGenerator<PoolEntry, void, undefined> {
      await statPoolPath(manifestPath, 'file');
      const dispatcher = options.http?.dispatcher ?? createHttpDispatcher();
      const http: HttpFetchOptions = { ...options.http, dispatcher };
      const load = (line: ManifestLine): Promise<PoolEntry> =>
        loadLine(line, { manifest: path, baseDir, maxFileBytes, http }, signal);
      try {
        yield* mapOrdered(manifestLines(path, format), load, {
          concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
          ...(signal === undefined ? {} : { signal }),
        });
      } finally {
        // destroy, not close: a consumer that stops early must not wait for abandoned downloads.
        if (options.http?.dispatcher === undefined) await dispatcher.destroy();
      }
    },
  };
}

interface LoadContext {
  readonly manifest: string;
  readonly baseDir: string;
  readonly maxFileBytes: number;
  readonly http: HttpFetchOptions;
}

async function loadLine(line: ManifestLine, context: LoadContext, signal: AbortSignal | undefined): Promise<PoolEntry> {
  const where = `${context.manifest}:${line.line}`;
  if ('error' in line) return { kind: 'skipped', uri: where, reason: `line ${line.line}: ${line.error}` };
  const target = entryTarget(line.ref, context.baseDir);
  if (target.kind === 'bad') return { kind: 'skipped', uri: where, reason: `line ${line.line}: ${target.reason}` };
  if (target.kind === 'file') return readImageFile(target.path, context.maxFileBytes);
  try {
    return { kind: 'image', uri: target.url, bytes: await fetchBytes(target.url, context.http, signal) };
  } catch (error) {
    if (!(error instanceof RprError && error.code === 'RPR_FETCH')) throw error;
    return { kind: 'skipped', uri: target.url, reason: error.message };
  }
}

