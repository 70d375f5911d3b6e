import { createRequire } from 'node:module';
import { createRng } from '../util/rng.js';
import { parseCron } from './cron-expression.js';
import { runSchedule } from './schedule.js';
import { rprThrown } from '../../test/helpers/rpr-rejection.js';

/** cron-parser (a dependency of bullmq): an independent implementation to compare against. */
interface CronParser {
  CronExpressionParser: { parse(expr: string, options: { currentDate: Date; tz: string }): { next(): { toDate(): Date } } };
}
const reference = createRequire(import.meta.url)('cron-parser') as CronParser;

function referenceNext(expr: string, after: Date): Date {
  return reference.CronExpressionParser.parse(expr, { currentDate: after, tz: 'UTC' }).next().toDate();
}

describe('parseCron', () => {
  const expressions = [
    '0 2 * * *',
    '*/15 * * * *',
    '5 4 * * sun',
    '0 0 1 * *',
    '30 6 * * 1-5',
    '0 9-17/2 * * mon-fri',
    '0 0 13 * 5',
    '15 3 29 2 *',
    '0 12 1,15 jan,jul *',
    '45 23 31 * *',
    '0 0 * * 7',
    '7/20 1/5 * * *',
    '0 0 28-31 * *',
    '@hourly',
    '@weekly',
    '@yearly',
  ];

  it.each(expressions)('"%s" fires when cron-parser says, from many starting times', (expr) => {
    const rng = createRng(expr.length);
    const schedule = parseCron(expr, { utc: true });
    for (let i = 0; i < 40; i++) {
      const after = new Date(Date.UTC(2024, 0, 1) + Math.floor(rng.next() * 3 * 365 * 86_400_000));
      expect(schedule.next(after).toISOString()).toBe(referenceNext(expr, after).toISOString());
    }
  });

  it('is strictly after the given time, to the minute', () => {
    const daily = parseCron('0 2 * * *', { utc: true });
    expect(daily.next(new Date('2025-03-01T02:00:00Z')).toISOString()).toBe('2025-03-02T02:00:00.000Z');
    expect(daily.next(new Date('2025-03-01T01:59:59.999Z')).toISOString()).toBe('2025-03-01T02:00:00.000Z');
  });

  it('joins a day field starting with * to the other with AND, as Vixie cron does', () => {
    // Vixie sets DOM_STAR for "*/2", so the day must be odd AND a Monday: in June 2025 the Mondays
    // are 2, 9, 16, 23, 30, of which 9 and 23 are odd. (cron-parser would fire on every odd day or Monday.)
    const schedule = parseCron('0 0 */2 * 1', { utc: true });
    const next = schedule.next(new Date('2025-06-01T00:00:00Z'));
    expect(next.toISOString()).toBe('2025-06-09T00:00:00.000Z');
    expect(schedule.next(next).toISOString()).toBe('2025-06-23T00:00:00.000Z');
  });

  it.each([
    ['0 2 * *', /has 4 fields/],
    ['61 * * * *', /minute field "61" has 61, outside 0-59/],
    ['0 0 * * funday', /day of week field "funday" has "funday", not a number or a name/],
    ['0 5-1 * * *', /runs backwards/],
    ['*/0 * * * *', /step of 0/],
    ['0 0 30 2 *', /never fires/],
  ])('rejects "%s" with a message naming the problem', (expr, message) => {
    const error = rprThrown(() => parseCron(expr, { utc: true }).next(new Date('2025-01-01T00:00:00Z')));
    expect(error.code).toBe('RPR_USAGE');
    expect(error.message).toMatch(message);
  });
});

describe('runSchedule', () => {
  it('waits for each firing time and runs the tick at it', async () => {
    let clock = Date.parse('2025-01-01T23:58:30Z');
    const ticks: string[] = [];
    const made = await runSchedule({
      schedule: parseCron('0 0,12 * * *', { utc: true }),
      now: () => new Date(clock),
      sleep: async (ms) => {
        clock += ms;
      },
      tick: async (at) => {
        ticks.push(`${at.toISOString()}@${new Date(clock).toISOString()}`);
      },
      maxTicks: 3,
    });
    expect(made).toBe(3);
    expect(ticks).toEqual([
      '2025-01-02T00:00:00.000Z@2025-01-02T00:00:00.000Z',
      '2025-01-02T12:00:00.000Z@2025-01-02T12:00:00.000Z',
      '2025-01-03T00:00:00.000Z@2025-01-03T00:00:00.000Z',
    ]);
  });

  it('stops between runs when aborted', async () => {
    const controller = new AbortController();
    let clock = 0;
    const made = await runSchedule({
      schedule: parseCron('* * * * *', { utc: true }),
      now: () => new Date(clock),
      sleep: async (ms) => {
        clock += ms;
      },
      tick: async () => {
        if (clock >= 120_000) controller.abort();
      },
      signal: controller.signal,
    });
    expect(made).toBe(2);
  });
});
