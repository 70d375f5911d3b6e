import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RprError } from '../errors/index.js';
import { errorCode } from './error-message.js';
import { describeFsError } from './read-image-file.js';

const WANTED = {
  directory: { what: 'pool directory', fix: 'check the path' },
  file: { what: 'manifest', fix: 'pass a .jsonl, .csv or .txt manifest file' },
} as const;

/**
 * Stats a pool directory or manifest (symbolic links followed), so that a missing or wrong path is one
 * RPR_POOL_NOT_FOUND error naming it rather than a failure deep inside a run.
 */
export async function statPoolPath(given: string, want: keyof typeof WANTED): Promise<Stats> {
  const path = resolve(given);
  const { what, fix } = WANTED[want];
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (error) {
    const why = errorCode(error) === 'ENOENT' ? 'does not exist' : `cannot be opened: ${describeFsError(error)}`;
    throw new RprError('RPR_POOL_NOT_FOUND', `${what} '${given}' ${why}; ${fix}`, { path }, { cause: error });
  }
  if (want === 'directory' ? !stats.isDirectory() : !stats.isFile()) {
    throw new RprError('RPR_POOL_NOT_FOUND', `${what} '${given}' is not a ${want}; ${fix}`, { path });
  }
  return stats;
}
