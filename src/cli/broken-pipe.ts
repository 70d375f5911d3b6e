/**
 * `rpr-select score … | head -1`: once the reader of stdout is gone, every write fails with EPIPE, and
 * the stream's 'error' event, unhandled, would end the process with a stack trace. Results nobody
 * reads are not worth computing: the process exits at once, quietly, with status 0. What a run
 * keeps (cache, ledger) is written in transactions, so stopping between two writes loses nothing.
 */
import type { EventEmitter } from 'node:events';

export function exitQuietlyOnBrokenPipe(stdout: EventEmitter, exit: (status: number) => void): void {
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    exit(0);
  });
}
