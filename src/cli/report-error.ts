import { exitCodeFor, RprError, type ExitCodeValue } from '../errors/index.js';
import type { Logger } from './logger.js';

/**
 * The one place a failure becomes what the user sees and the exit status scripts read: an RprError
 * is its one-line message (exit status by its code), anything else an internal error. A stack trace
 * only with RPR_DEBUG=1.
 */
export function reportError(error: unknown, logger: Logger, env: NodeJS.ProcessEnv): ExitCodeValue {
  const debug = env.RPR_DEBUG === '1' || env.RPR_DEBUG === 'true';
  if (error instanceof RprError) {
    logger.error(error.message, { code: error.code, ...error.context, ...(debug ? { stack: error.stack } : {}) });
  } else if (isAbort(error)) {
    logger.error('interrupted; an unfinished round resumes on the next run', { code: 'RPR_INTERRUPTED' });
  } else {
    const message = error instanceof Error ? error.message : String(error);
    logger.error(`internal error: ${message}${debug ? '' : ' (set RPR_DEBUG=1 for the stack trace)'}`, {
      code: 'RPR_INTERNAL',
      ...(debug && error instanceof Error ? { stack: error.stack } : {}),
    });
  }
  if (debug && error instanceof Error && logger.format === 'text') logger.debug(error.stack ?? '');
  return exitCodeFor(error);
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
