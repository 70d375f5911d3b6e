/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week) as Vixie cron reads them,
 * and the next time one fires. Supports `*`, lists, ranges, steps (`*\/15`, `1-30/5`, `5/10`), month
 * and weekday names, 7 = Sunday, and @yearly/@annually/@monthly/@weekly/@daily/@midnight/@hourly.
 * Day fields follow Vixie cron exactly: when both are restricted a day matches either; when one
 * starts with `*` (even `*\/2`) a day must match both. Times are local unless `utc` is set, like cron.
 */
import { errors } from '../errors/index.js';

export interface CronSchedule {
  readonly expression: string;
  readonly utc: boolean;
  /** The first time strictly after `after` (to the minute) that the expression matches. */
  next(after: Date): Date;
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** How far ahead `next` looks before deciding an expression never fires (30 February…). */
const SEARCH_YEARS = 8;

export function parseCron(expression: string, options: { readonly utc?: boolean } = {}): CronSchedule {
  const text = expression.trim();
  const expanded = MACROS[text.toLowerCase()] ?? text;
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) {
    throw errors.usage(
      `cron expression "${expression}" has ${parts.length} field${parts.length === 1 ? '' : 's'}; use 5 (minute hour day-of-month month day-of-week), e.g. "0 2 * * *", or a macro (${Object.keys(MACROS).join(', ')})`,
      { cron: expression },
    );
  }
  const sets = parts.map((part, i) => parseField(part, FIELDS[i]!, expression));
  const [minutes, hours, monthDays, months, weekDays] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (weekDays.delete(7)) weekDays.add(0);
  const domStar = parts[2]!.startsWith('*');
  const dowStar = parts[4]!.startsWith('*');
  const utc = options.utc ?? false;
  const clock = utc ? utcClock : localClock;

  const dayMatches = (t: Date): boolean => {
    const dom = monthDays.has(clock.date(t));
    const dow = weekDays.has(clock.day(t));
    return domStar || dowStar ? dom && dow : dom || dow;
  };

  return {
    expression,
    utc,
    next(after: Date): Date {
      const t = new Date(Math.floor(after.getTime() / 60_000) * 60_000 + 60_000);
      const limit = after.getTime() + SEARCH_YEARS * 366 * 86_400_000;
      while (t.getTime() <= limit) {
        if (!months.has(clock.month(t) + 1)) clock.startOfNextMonth(t);
        else if (!dayMatches(t)) clock.startOfNextDay(t);
        else if (!hours.has(clock.hours(t))) clock.startOfNextHour(t);
        else if (!minutes.has(clock.minutes(t))) t.setTime(t.getTime() + 60_000);
        else return t;
      }
      throw errors.usage(`cron expression "${expression}" never fires (checked ${SEARCH_YEARS} years ahead); check its day and month`, { cron: expression });
    },
  };
}

function parseField(text: string, spec: FieldSpec, expression: string): Set<number> {
  const fail = (why: string): never => {
    throw errors.usage(`cron expression "${expression}": ${spec.name} field "${text}" ${why}`, { cron: expression, field: spec.name });
  };
  const value = (token: string): number => {
    const named = spec.names?.indexOf(token.toLowerCase()) ?? -1;
    if (named >= 0) return named + (spec.name === 'month' ? 1 : 0);
    if (!/^\d+$/.test(token)) return fail(`has "${token}", not a number${spec.names ? ` or a name (${spec.names.join(', ')})` : ''}`);
    const n = Number(token);
    if (n < spec.min || n > spec.max) return fail(`has ${n}, outside ${spec.min}-${spec.max}`);
    return n;
  };
  const set = new Set<number>();
  for (const item of text.split(',')) {
    const match = /^([^/]+)(?:\/(\d+))?$/.exec(item);
    if (match === null) return fail('is not a value, range or step');
    const [, range = '', stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) return fail('has a step of 0');
    let from: number;
    let to: number;
    if (range === '*') {
      [from, to] = [spec.min, spec.name === 'day of week' ? 6 : spec.max];
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      [from, to] = [value(a), value(b)];
      if (from > to) return fail(`has the range ${range}, which runs backwards`);
    } else {
      from = value(range);
      to = stepText === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += step) set.add(v);
  }
  return set;
}

interface Clock {
  month(t: Date): number;
  date(t: Date): number;
  day(t: Date): number;
  hours(t: Date): number;
  minutes(t: Date): number;
  startOfNextMonth(t: Date): void;
  startOfNextDay(t: Date): void;
  startOfNextHour(t: Date): void;
}

const localClock: Clock = {
  month: (t) => t.getMonth(),
  date: (t) => t.getDate(),
  day: (t) => t.getDay(),
  hours: (t) => t.getHours(),
  minutes: (t) => t.getMinutes(),
  startOfNextMonth: (t) => void t.setTime(new Date(t.getFullYear(), t.getMonth() + 1, 1).getTime()),
  startOfNextDay: (t) => void t.setTime(new Date(t.getFullYear(), t.getMonth(), t.getDate() + 1).getTime()),
  startOfNextHour: (t) => void t.setTime(new Date(t.getFullYear(), t.getMonth(), t.getDate(), t.getHours() + 1).getTime()),
};

const utcClock: Clock = {
  month: (t) => t.getUTCMonth(),
  date: (t) => t.getUTCDate(),
  day: (t) => t.getUTCDay(),
  hours: (t) => t.getUTCHours(),
  minutes: (t) => t.getUTCMinutes(),
  startOfNextMonth: (t) => void t.setTime(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 1)),
  startOfNextDay: (t) => void t.setTime(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate() + 1)),
  startOfNextHour: (t) => void t.setTime(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours() + 1)),
};
