import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { errorCode, errorMessage } from './error-message.js';
import type { PoolEntry } from './types.js';

/** Files larger than this are skipped rather than read, so one stray huge file cannot exhaust memory. */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Reads one local image file into a pool entry; a file that cannot be read becomes a `skipped` entry
 * with the reason, never an exception, so one bad file does not stop a pool.
 *
 * Synchronous on purpose: a pool image is a few kilobytes in the page cache, and the four system calls
 * cost ~7 µs of CPU here against ~55 µs through fs/promises (four thread-pool round trips, a FileHandle
 * and their promises) — the largest per-image cost of reference-mode scoring. The callers read one file
 * at a time anyway; what blocks meanwhile is only the decoding of the images already read.
 */
export function readImageFile(path: string, maxBytes: number = DEFAULT_MAX_FILE_BYTES): PoolEntry {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return unreadable(path, error);
  }
  try {
    const { size } = fstatSync(fd);
    if (size > maxBytes) {
      const reason = `file is ${size} bytes, over the ${maxBytes}-byte limit (maxFileBytes)`;
      return { kind: 'skipped', uri: path, reason };
    }
    return { kind: 'image', uri: path, bytes: readAll(fd, size) };
  } catch (error) {
    return unreadable(path, error);
  } finally {
    closeSync(fd);
  }
}

/** The file's `size` bytes (from fstat); fewer if it shrank meanwhile, which decoding then reports. */
function readAll(fd: number, size: number): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const got = readSync(fd, buffer, filled, size - filled, filled);
    if (got === 0) break;
    filled += got;
  }
  return filled === size ? buffer : buffer.subarray(0, filled);
}

function unreadable(path: string, error: unknown): PoolEntry {
  return { kind: 'skipped', uri: path, reason: `cannot read file: ${describeFsError(error)}` };
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
