/** Reading and repairing append-only JSON-lines files. */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { RprError } from '../../errors/index.js';

export interface JsonLine {
  /** 1-based line number. */
  readonly line: number;
  readonly value: unknown;
}

/** Streams a file's non-blank lines as parsed JSON; a missing file has none. */
export async function* readJsonLines(path: string): AsyncGenerator<JsonLine, void, undefined> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = await new Promise<boolean>((resolve, reject) => {
    stream.once('open', () => resolve(true));
    stream.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? resolve(false) : reject(error)));
  });
  if (!opened) return;
  let line = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new RprError('RPR_SINK_REFUSED', `${path} line ${line} is not valid JSON; fix or remove that line`, { path, line });
    }
    yield { line, value };
  }
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Cuts a torn last line (one without its newline: a write interrupted by a crash) off the file, so
 * the next append starts on a line of its own. Returns the number of bytes removed.
 */
export async function truncateTornTail(path: string): Promise<number> {
  const handle = await open(path, 'r+').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (handle === null) return 0;
  try {
    const { size } = await handle.stat();
    let end = size;
    let keep = 0;
    while (end > 0) {
      const start = Math.max(0, end - CHUNK_BYTES);
      const buffer = Buffer.alloc(end - start);
      await handle.read(buffer, 0, buffer.length, start);
      const newline = buffer.lastIndexOf(0x0a);
      if (newline >= 0) {
        keep = start + newline + 1;
        break;
      }
      end = start;
    }
    if (keep === size) return 0;
    await handle.truncate(keep);
    await handle.sync();
    return size - keep;
  } finally {
    await handle.close();
  }
}
