/**
 * `rpr-select rounds list | show N | export N`: what the ledger remembers. Read-only: it takes no
 * lease, so it works while a round runs.
 */
import { writeFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { errors } from '../../errors/index.js';
import { Ledger, type RoundRecord, type SelectionRecord } from '../../rounds/index.js';
import { formatCsv } from '../../sinks/index.js';
import type { CliContext, GlobalArgs } from '../cli-context.js';
import { loadCliConfig, withConfigFlags, type ConfigFlag } from '../config-flags.js';

const FLAGS: readonly ConfigFlag[] = ['ledger'];

interface RoundsArgs extends GlobalArgs {
  readonly round?: string;
  readonly format?: 'jsonl' | 'csv';
  readonly out?: string;
  readonly [flag: string]: unknown;
}

export function roundsCommand(ctx: CliContext): CommandModule<GlobalArgs, RoundsArgs> {
  const withLedger = async <T>(args: RoundsArgs, fn: (ledger: Ledger) => T | Promise<T>): Promise<T> => {
    const { config } = await loadCliConfig(ctx, args, FLAGS);
    return Ledger.read(config.ledger.path, fn);
  };
  const write = (text: string) => ctx.stdout.write(text);

  const list: CommandModule<GlobalArgs, RoundsArgs> = {
    command: 'list',
    describe: 'List every round: status, policy, images, budget spent, times',
    builder: (y) => withConfigFlags(y, FLAGS) as Argv<RoundsArgs>,
    handler: (args) =>
      withLedger(args, (ledger) => {
        const rounds = ledger.rounds();
        if (args.json) write(`${JSON.stringify(rounds)}\n`);
        else write(rounds.length === 0 ? 'no rounds yet\n' : table(ROUND_COLUMNS, rounds));
      }),
  };

  const show: CommandModule<GlobalArgs, RoundsArgs> = {
    command: 'show <round>',
    describe: "Show one round and its selections with each image's state",
    builder: (y) => withConfigFlags(y, FLAGS).positional('round', { type: 'string', describe: 'Round number' }) as Argv<RoundsArgs>,
    handler: (args) =>
      withLedger(args, (ledger) => {
        const round = findRound(ledger, args.round);
        const selections = ledger.selections(round.id);
        if (args.json) {
          write(`${JSON.stringify({ round, selections })}\n`);
          return;
        }
        write(
          `round ${round.id}: ${round.status}, policy ${round.policy}, sink ${round.sink}, ${round.selected} images, ${round.spent} ${round.budgetUnit} spent\n` +
            `  created ${round.createdAt}${round.queuedAt ? `, queued ${round.queuedAt}` : ''}${round.closedAt ? `, closed ${round.closedAt}` : ''}\n` +
            `  model ${round.modelDigest.slice(0, 12)}, config ${round.configDigest.slice(0, 12)}\n`,
        );
        if (selections.length > 0) write(table(SELECTION_COLUMNS, selections));
      }),
  };

  const exportRound: CommandModule<GlobalArgs, RoundsArgs> = {
    command: 'export <round>',
    describe: "Export one round's selections as JSON lines (default) or CSV",
    builder: (y) =>
      withConfigFlags(y, FLAGS)
        .positional('round', { type: 'string', describe: 'Round number' })
        .option('format', { choices: ['jsonl', 'csv'] as const, default: 'jsonl' as const, describe: 'Output format' })
        .option('out', { type: 'string', describe: 'Write to this file instead of stdout' }) as Argv<RoundsArgs>,
    handler: (args) =>
      withLedger(args, async (ledger) => {
        const round = findRound(ledger, args.round);
        const rows = ledger.selections(round.id);
        const text =
          args.format === 'csv'
            ? formatCsv(rows, ['cost', 'state', 'taskId'])
            : rows.map((row) => `${JSON.stringify(row)}\n`).join('');
        if (args.out) await writeFile(args.out, text);
        else write(text);
      }),
  };

  return {
    command: 'rounds',
    describe: 'Inspect the rounds the ledger remembers: list, show N, export N',
    builder: (y) =>
      y
        .command(list)
        .command(show)
        .command(exportRound)
        .demandCommand(1, 'name a rounds command: list, show N or export N') as Argv<RoundsArgs>,
    handler: () => undefined,
  };
}

function findRound(ledger: Ledger, text: string | undefined): RoundRecord {
  const id = Number(text);
  if (!Number.isInteger(id) || id < 1) throw errors.usage(`round must be a round number such as 1 (got '${text}')`);
  const round = ledger.round(id);
  if (round === null) {
    const all = ledger.rounds();
    const known = all.length === 0 ? 'there are no rounds yet' : `rounds are 1 to ${all.at(-1)!.id}`;
    throw errors.usage(`no round ${id} in ledger ${ledger.path}; ${known}`, { round: id });
  }
  return round;
}

type Column<T> = readonly [header: string, cell: (row: T) => string | number | null];

const ROUND_COLUMNS: readonly Column<RoundRecord>[] = [
  ['round', (r) => r.id],
  ['status', (r) => r.status],
  ['policy', (r) => r.policy],
  ['sink', (r) => r.sink],
  ['images', (r) => r.selected],
  ['spent', (r) => `${r.spent} ${r.budgetUnit}`],
  ['created', (r) => r.createdAt],
  ['queued', (r) => r.queuedAt],
  ['closed', (r) => r.closedAt],
];

const SELECTION_COLUMNS: readonly Column<SelectionRecord>[] = [
  ['rank', (s) => s.rank],
  ['state', (s) => s.state],
  ['score', (s) => (s.score === null ? null : s.score.toFixed(4))],
  ['class', (s) => s.predicted],
  ['task', (s) => s.taskId],
  ['uri', (s) => s.uri],
];

/** A plain aligned table, one row per record. */
function table<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, cell]) => String(cell(row) ?? '-')))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}
