import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mnistPart, writeDigitPngs } from '../pool/index.js';
import { Ledger, type OpenScoring } from '../rounds/index.js';
import { pixelTestScorer } from '../rounds/testing/pixel-test-scorer.js';
import { runCliInProcess, type InProcessRun } from './testing/in-process-cli.js';

/** The pixel test double in place of the CNN scorer (the CLI is what is under test here). */
const testSession = (warnings: readonly string[] = []) => ({
  scorer: pixelTestScorer(),
  modelDigest: 'pixel-test',
  backend: 'test-double',
  warnings,
  close: async () => undefined,
});
const openScoring: OpenScoring = async () => testSession();

let poolDir: string;
beforeAll(async () => {
  poolDir = mkdtempSync(join(tmpdir(), 'rpr-cli-pool-'));
  await writeDigitPngs(poolDir, mnistPart('pool').slice(0, 40));
});

function workdir(): string {
  return mkdtempSync(join(tmpdir(), 'rpr-cli-'));
}

function cli(cwd: string, argv: string[], env: NodeJS.ProcessEnv = {}, onStderr?: (text: string) => void): Promise<InProcessRun> {
  return runCliInProcess(cwd, argv, { env, entry: ['/usr/bin/node', '/opt/rpr-select/dist/src/cli/main.js'], openScoring, onStderr });
}

const select = (cwd: string, ...extra: string[]) => cli(cwd, ['select', '--pool', poolDir, '--round-size', '10', ...extra]);

describe('rpr-select select', () => {
  it('--json prints one object with round, selected, skipped and budget', async () => {
    const cwd = workdir();
    const run = await select(cwd, '--json');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!) as Record<string, unknown> & { selected: Record<string, unknown>[]; budget: Record<string, unknown> };
    expect(out.round).toBe(1);
    expect(out.selected).toHaveLength(10);
    expect(out.selected[0]).toMatchObject({ rank: 1, id: expect.stringMatching(/^[0-9a-f]{64}$/), uri: expect.stringContaining(poolDir) });
    expect(typeof out.selected[0]!.score).toBe('number');
    expect(out.skipped).toEqual([]);
    expect(out.budget).toMatchObject({ total: 1000, spent: 10, left: 990 });
    expect(out).toMatchObject({ policy: 'lowest-rpr', backend: 'test-double', resumed: false, dryRun: false });
    // The defaults put the ledger and the queue under the working directory.
    expect(existsSync(join(cwd, '.rpr-select', 'ledger.sqlite'))).toBe(true);
    expect(readFileSync(join(cwd, '.rpr-select', 'queue.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(10);
  });

  it('without --json summarizes what was selected and why: policy, k, counts, budget', async () => {
    const run = await select(workdir());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^round 1: selected 10 images by lowest-rpr: lowest RPR_10 first/);
    expect(run.stdout).toContain('40 images seen, 40 ranked');
    expect(run.stdout).toContain('budget: 10 samples this round; 10 of 1000 used, 990 left');
    expect(run.stdout).toMatch(/first: #1 .*\(rpr@10 \d\.\d{4}\)/);
    // An uncertainty policy shows its own score beside the RPR.
    const margin = await select(workdir(), '--policy', 'margin');
    expect(margin.stdout).toMatch(/first: #1 .*\(margin \d\.\d{4}, rpr@10 \d\.\d{4}\)/);
  });

  it('exits 3 once the budget is spent, with one line and no stack', async () => {
    const cwd = workdir();
    expect((await select(cwd, '--budget', '15')).code).toBe(0);
    expect((await select(cwd, '--budget', '15', '--json')).code).toBe(0);
    const spent = await select(cwd, '--budget', '15');
    expect(spent.code).toBe(3);
    expect(spent.stdout).toBe('');
    expect(spent.stderr).toBe('rpr-select: error: labeling budget spent: 15 of 15 samples used; raise budget.total (--budget) to select more\n');
  });

  it('exits 4 while another run holds the ledger', async () => {
    const cwd = workdir();
    const ledgerPath = join(cwd, 'l.sqlite');
    const other = Ledger.open(ledgerPath);
    await other.acquireLease();
    const busy = await select(cwd, '--ledger', ledgerPath);
    other.close();
    expect(busy.code).toBe(4);
    expect(busy.stderr).toMatch(/^rpr-select: error: ledger .* is in use by another run \(pid \d+ on .*\); wait for it to finish or pass --wait SECONDS\n$/);
    expect((await select(cwd, '--ledger', ledgerPath)).code).toBe(0);
  });

  it('exits 5 when the queue cannot be opened, having recorded nothing', async () => {
    const cwd = workdir();
    const queue = join(cwd, 'queue.jsonl');
    mkdirSync(queue);
    const refused = await select(cwd, '--queue', queue, '--quiet');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^rpr-select: error: cannot open the queue .*queue\.jsonl: EISDIR; check sink.jsonl.path \(--queue\)\n$/);
    const next = await select(cwd, '--queue', join(cwd, 'queue2.jsonl'), '--json');
    expect(next.code).toBe(0);
    expect(JSON.parse(next.stdout)).toMatchObject({ round: 1, resumed: false });
  });

  it.each([
    [['select', '--bogus'], /Unknown argument: bogus; see rpr-select --help/],
    [['select', '--budget', 'lots'], /--budget must be a number \(got 'lots'\)/],
    [['select', '--policy', 'lowest'], /--policy \(policy.name\): unknown policy 'lowest'; valid names: lowest-rpr, highest-rpr/],
    [['select', '--k', '1,x'], /--k must be a comma-separated list of numbers/],
    [['selct'], /Unknown argument: selct|Did you mean select/],
    [[], /name a command/],
  ])('exits 2 on bad usage %j, with one line on stderr', async (argv, message) => {
    const run = await cli(workdir(), argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the key of a bad config file and exits 2; JSON logs give a JSON line', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'rpr.yaml'), 'budget:\n  perround: 5\n');
    const run = await cli(cwd, ['select', '--config', 'rpr.yaml', '--log-format', 'json']);
    expect(run.code).toBe(2);
    const line = JSON.parse(run.stderr) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'error', code: 'RPR_CONFIG', key: 'budget' });
    expect(line.msg).toContain("unknown key 'budget.perround'");
  });

  it('--dry-run selects without writing anything', async () => {
    const cwd = workdir();
    const run = await select(cwd, '--dry-run', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ round: 1, dryRun: true });
    expect(existsSync(join(cwd, '.rpr-select'))).toBe(false);
    const text = await select(cwd, '--dry-run');
    expect(text.stdout).toContain('budget: 10 samples this round; 10 of 1000 would be used, 990 left');
    expect(existsSync(join(cwd, '.rpr-select'))).toBe(false);
  });

  it('RPR_TEST_PAUSE_AT stops the run at a step until the resume file appears (test-only hook)', async () => {
    const cwd = workdir();
    const resume = join(cwd, 'resume');
    let whilePaused: { openRoundSize: number | undefined; queueExists: boolean } | null = null;
    const run = await cli(cwd, ['select', '--pool', poolDir, '--round-size', '5'], { RPR_TEST_PAUSE_AT: 'after-ledger-write', RPR_TEST_RESUME_FILE: resume }, (err) => {
      if (whilePaused === null && err.includes('RPR_TEST_PAUSED after-ledger-write\n')) {
        const ledger = Ledger.open(join(cwd, '.rpr-select', 'ledger.sqlite'));
        whilePaused = { openRoundSize: ledger.openRound()?.selected, queueExists: existsSync(join(cwd, '.rpr-select', 'queue.jsonl')) };
        ledger.close();
        writeFileSync(resume, '');
      }
    });
    expect(whilePaused).toEqual({ openRoundSize: 5, queueExists: false });
    expect(run.code).toBe(0);
    const bad = await cli(cwd, ['select'], { RPR_TEST_PAUSE_AT: 'halfway' });
    expect(bad.code).toBe(2);
  });

  it('--help documents every flag', async () => {
    const run = await cli(workdir(), ['select', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--config', '--json', '--quiet', '--log-format', '--dry-run', '--budget', '--round-size', '--policy', '--pool', '--model', '--sink', '--ledger', '--queue', '--seed', '--k', '--wait']) {
      expect(run.stdout).toContain(flag);
    }
    expect(run.stdout.replace(/\s+/g, ' ')).toContain(
      'Exit status: 0 done, 2 bad usage or config, 3 budget spent, 4 ledger held by another run, 5 sink unreachable or refused, 1 other failures.',
    );
  });
});

describe('rpr-select rounds, sync, schedule', () => {
  it('lists, shows and exports rounds (JSONL and CSV) and syncs labels back', async () => {
    const cwd = workdir();
    await select(cwd);
    await select(cwd);
    const list = await cli(cwd, ['rounds', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^round\s+status\s+policy\s+sink\s+images\s+spent/);
    expect(list.stdout).toMatch(/\n1\s+queued\s+lowest-rpr\s+jsonl\s+10\s+10 samples/);
    const listed = JSON.parse((await cli(cwd, ['rounds', 'list', '--json'])).stdout) as { id: number }[];
    expect(listed.map((r) => r.id)).toEqual([1, 2]);

    const show = await cli(cwd, ['rounds', 'show', '2', '--json']);
    const shown = JSON.parse(show.stdout) as { round: { id: number }; selections: { id: string; state: string; taskId: string }[] };
    expect(shown.round.id).toBe(2);
    expect(shown.selections.map((s) => s.taskId)).toEqual(Array.from({ length: 10 }, (_, i) => String(11 + i)));

    const jsonl = (await cli(cwd, ['rounds', 'export', '1'])).stdout.trimEnd().split('\n');
    expect(jsonl).toHaveLength(10);
    expect(JSON.parse(jsonl[0]!)).toMatchObject({ round: 1, rank: 1, state: 'queued', taskId: '1' });
    const csv = (await cli(cwd, ['rounds', 'export', '1', '--format', 'csv'])).stdout.split('\n');
    expect(csv[0]).toBe('id,uri,round,rank,score,predicted,cost,state,taskId,entropy,least-confidence,margin,rpr@1,rpr@10,rpr@5');
    expect(csv).toHaveLength(12);
    const missing = await cli(cwd, ['rounds', 'show', '9']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no round 9 in ledger');

    const labels = join(cwd, '.rpr-select', 'queue.labels.jsonl');
    writeFileSync(labels, shown.selections.map((s) => JSON.stringify({ id: s.id, label: 3 })).join('\n') + '\n');
    const sync = await cli(cwd, ['sync', '--json']);
    expect(sync.code).toBe(0);
    expect(JSON.parse(sync.stdout)).toEqual({ labeled: 10, skipped: 0, unchanged: 0, unknown: [], closedRounds: [2], labelsPath: join(cwd, '.rpr-select', 'labels.jsonl'), exported: 10 });
    expect((await cli(cwd, ['sync'])).stdout).toBe('synced: 0 newly labeled, 0 skipped by annotators, 10 already recorded\n');
  });

  it('rounds on a directory without a ledger says so and exits 2', async () => {
    const run = await cli(workdir(), ['rounds', 'list']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no ledger at .*ledger\.sqlite yet; run `rpr-select select` first/);
  });

  it('schedule --print-crontab prints a crontab line running select with the same flags', async () => {
    const cwd = workdir();
    const run = await cli(cwd, ['--config', 'rpr.yaml', 'schedule', '--cron', '0 2 * * *', '--print-crontab', '--budget', '500', '--diversity']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `0 2 * * * cd ${cwd} && /usr/bin/node /opt/rpr-select/dist/src/cli/main.js select --config ${join(cwd, 'rpr.yaml')} --diversity --budget 500 --json --log-format json >> ${join(cwd, '.rpr-select', 'cron.log')} 2>&1\n`,
    );
    const bad = await cli(cwd, ['schedule', '--cron', '0 25 * * *', '--print-crontab']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('hour field "25" has 25, outside 0-23');
  });

  it('webhook refuses bad flags, and --register for rounds that went to the jsonl sink, with exit 2 once it has synced', async () => {
    const cwd = workdir();
    await select(cwd);
    const badPort = await cli(cwd, ['webhook', '--port', '70000']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port must be an integer from 0 to 65535 (got 70000)');
    const run = await cli(cwd, ['webhook', '--json', '--port', '0', '--register', 'http://127.0.0.1:9/']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ triggers: ['start'], labeled: 0, unchanged: 0 });
    expect(run.stderr).toMatch(/--register needs the label-studio sink; the rounds use the jsonl sink/);
  });

  it("schedule runs select at the next minute and passes the scorer's warnings on to stderr", async () => {
    const cwd = workdir();
    const warning = 'the reference set was cut to its first 3 images';
    const run = await runCliInProcess(cwd, ['schedule', '--cron', '* * * * *', '--max-runs', '1', '--json', '--pool', poolDir, '--round-size', '10'], {
      env: {},
      entry: ['/usr/bin/node', '/opt/rpr-select/dist/src/cli/main.js'],
      openScoring: async () => testSession([warning]),
    });
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ round: 1, selected: expect.any(Array) });
    expect(run.stderr).toContain(warning);
  }, 75_000);
});
