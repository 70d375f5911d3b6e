import { open } from 'node:fs/promises';
import { errorCode, errorMessage } from './error-message.js';
import type { PoolEntry } from './types.js';

/** Files larger than this are skipped rather than read, so one stray huge file cannot exhaust memory. */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Reads one local image file into a pool entry; a file that cannot be read becomes a `skipped` entry
 * with the reason, never an exception, so one bad file does not stop a pool.
 */
export async function readImageFile(path: string, maxBytes: number = DEFAULT_MAX_FILE_BYTES): Promise<PoolEntry> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > maxBytes) {
        const reason = `file is ${size} bytes, over the ${maxBytes}-byte limit (maxFileBytes)`;
        return { kind: 'skipped', uri: path, reason };
      }
      return { kind: 'image', uri: path, bytes: await handle.readFile() };
    } finally {
      await handle.close();
    }
  } catch (error) {
    return { kind: 'skipped', uri: path, reason: `cannot read file: ${describeFsError(error)}` };
  }
}

const FS_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/** One short line for a file-system error: a readable reason and the errno code. */
export function describeFsError(error: unknown): string {
  const code = errorCode(error);
  if (code !== null && FS_REASONS[code] !== undefined) return `${FS_REASONS[code]} (${code})`;
  const message = errorMessage(error);
  return message.split('\n')[0] ?? message;
}
