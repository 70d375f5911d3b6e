import { createLogger } from './logger.js';

function sink(isTTY = false) {
  const out: string[] = [];
  return { out, stream: { write: (text: string) => out.push(text), isTTY, columns: 80 } };
}

describe('createLogger', () => {
  it('writes text lines with a level prefix, and --quiet keeps only warnings and errors', () => {
    const { out, stream } = sink();
    const log = createLogger({ stream, quiet: true });
    log.info('hidden');
    log.warn('careful');
    log.error('broken', { code: 'RPR_X' });
    expect(out).toEqual(['rpr-select: warning: careful\n', 'rpr-select: error: broken\n']);
  });

  it('writes JSON lines with time, level, message and fields', () => {
    const { out, stream } = sink();
    const log = createLogger({ stream, format: 'json', now: () => new Date('2025-01-01T00:00:00Z') });
    log.info('round 1', { round: 1 });
    log.debug('not shown');
    expect(out.map((line) => JSON.parse(line) as unknown)).toEqual([{ time: '2025-01-01T00:00:00.000Z', level: 'info', msg: 'round 1', round: 1 }]);
  });
});
