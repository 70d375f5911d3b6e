/**
 * Issue 5's acceptance at the command line: the built CLI (`npm run build` first) against a real Label
 * Studio. Runs when LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY (a legacy token) are set; skips without them,
 * and fails under CI (RPR_CI=1). The test of real token expiry needs short-lived access tokens:
 *
 *   eval "$(LS_ACCESS_TOKEN_LIFETIME_S=30 scripts/label-studio.sh start)"   # also sets LABEL_STUDIO_PAT
 *
 * Every run is a child process (`node dist/src/cli/main.js`, one scoring worker), killed with SIGKILL where
 * a crash is the point. What the server holds is read back with plain HTTP (helpers/raw-api.ts), what the
 * ledger holds with `rounds show --json`, and RPR values are compared with what `rpr-select score` computes
 * on the same files.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { stringify } from 'yaml';
import { mnistPart } from '../../src/pool/mnist-digits.js';
import { Ledger } from '../../src/rounds/ledger.js';
import type { RoundRecord, SelectionRecord } from '../../src/rounds/ledger-types.js';
import { writeDigitPngs } from '../../src/pool/demo-pool.js';
import { buildChoicesConfig } from '../../src/sinks/label-studio/labeling-config.js';
import { assertBuilt, killAllCli, pausedAt, runCli, startCli, type CliProcess, type CliResult } from '../helpers/cli-process.js';
import { closedPort } from '../helpers/closed-port.js';
import { describeWithService, itWithService } from '../helpers/require-service.js';
import { expectRefusedTokenRenewed, FaultProxy } from './helpers/fault-proxy.js';
import { CLASS_NAMES } from './helpers/items.js';
import { RawApi, type RawTaskView } from './helpers/raw-api.js';
import { DOCUMENT_ROOT, ENABLED, KEY, NO_PAT, PAT, REASON, URL } from './helpers/server-env.js';

/** How long an access token the PAT is exchanged for lives on this server, in seconds (null: not known). */
async function accessTokenLifetimeS(): Promise<number | null> {
  const response = await request(`${URL}/api/token/refresh/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh: PAT }),
  });
  const { access } = (await response.body.json()) as { access?: string };
  if (typeof access !== 'string') return null;
  const { exp, iat } = JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number; iat: number };
  return exp - iat;
}

const ACCESS_LIFETIME_S = ENABLED && PAT !== '' ? await accessTokenLifetimeS().catch(() => null) : null;
/** Label Studio's default is 300 s; waiting that out in a test is too long. (Without a server, the suite says so.) */
const LONG_LIFETIME =
  !ENABLED || (ACCESS_LIFETIME_S !== null && ACCESS_LIFETIME_S <= 120)
    ? null
    : `${NO_PAT ?? (ACCESS_LIFETIME_S === null ? 'the access-token lifetime is unknown' : `access tokens live ${ACCESS_LIFETIME_S} s here`)}; start Label Studio with LS_ACCESS_TOKEN_LIFETIME_S=30 (120 or less) to run it`;

const suite = describeWithService('a real Label Studio', ENABLED ? null : REASON);
const IMPORT = /^\/api\/projects\/\d+\/import/;
/** Each test runs several CLIs against a server that annotates about 4 tasks a second on this machine. */
const SLOW_TEST_MS = 300_000;
/** Longest wait for a running CLI to reach a point (a pause, an import, its first line). */
const PROGRESS_MS = 120_000;
/** The server reaches the CLIs through their environment, which otherwise holds no LABEL_STUDIO_* variable. */
const SERVER_ENV = { LABEL_STUDIO_URL: URL, LABEL_STUDIO_API_KEY: KEY };
const POOL_SIZE = 500;
const ROUND_SIZE = 100;

interface RoundView {
  readonly round: RoundRecord;
  readonly selections: readonly SelectionRecord[];
}

interface ScoreLine {
  readonly id: string;
  readonly uri: string;
  readonly rpr: Readonly<Record<string, number>>;
  readonly predicted: number;
}

/** A working directory with its own ledger and config, pushing to one Label Studio project. */
interface Workspace {
  readonly dir: string;
  readonly config: string;
  readonly title: string;
  cli(args: readonly string[], env?: Readonly<Record<string, string | undefined>>): Promise<CliResult>;
  start(args: readonly string[], env?: Readonly<Record<string, string | undefined>>): CliProcess;
  paused(
    point: string,
    args: readonly string[],
    env?: Readonly<Record<string, string | undefined>>,
    resumeFile?: string,
  ): Promise<CliProcess>;
  /** What the ledger holds of round `id` (read in this process, between runs). */
  round(id: number): RoundView | null;
}

suite(`rpr-select CLI against Label Studio (${ENABLED ? URL : REASON})`, () => {
  const raw = new RawApi(URL, KEY);
  let root: string;
  let pool: string;
  let cachePath: string;
  let workspaces = 0;
  let whoami: string;

  beforeAll(async () => {
    assertBuilt();
    // The pool must lie under the server's document root for Label Studio to serve it.
    root = await mkdtemp(join(DOCUMENT_ROOT === '/' ? tmpdir() : DOCUMENT_ROOT, 'rpr-ls-cli-'));
    pool = join(root, 'pool');
    await writeDigitPngs(pool, mnistPart('pool').slice(0, POOL_SIZE));
    // One score cache for every run here: only the first round scores the pool.
    cachePath = join(root, 'cache.sqlite');
    whoami = (await raw.ok<{ email: string }>('GET', '/api/current-user/whoami')).email;
  });

  afterAll(async () => {
    await killAllCli();
    await rm(root, { recursive: true, force: true });
  });

  /**
   * Round 1 of `select --sink label-studio --ls-project TITLE`, set by flags only, in its own directory
   * under `name`; a config file (which leaves the sink unset) only where the server's document root is not /.
   */
  async function flagsOnlyRound(name: string, roundSize: number) {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const config = DOCUMENT_ROOT === '/' ? [] : ['--config', join(dir, 'rpr.yaml')];
    if (config.length > 0) await writeFile(config[1]!, stringify({ sink: { labelStudio: { documentRoot: DOCUMENT_ROOT } } }));
    const title = `rpr-cli-${name}-${process.pid}-${Date.now()}`;
    const run = await runCli(
      ['select', '--json', ...config, '--pool', pool, '--cache', cachePath, '--workers', '1', '--round-size', String(roundSize), '--sink', 'label-studio', '--ls-project', title],
      { cwd: dir, env: SERVER_ENV, timeoutMs: SLOW_TEST_MS },
    );
    const selected = JSON.parse(ok(run).stdout) as { round: number; selected: { id: string; uri: string; taskId: string }[] };
    return { dir, config, title, selected };
  }

  async function workspace(labelStudio: Record<string, unknown> = {}, poolPath: string = pool): Promise<Workspace> {
    const n = workspaces++;
    const dir = join(root, `ws-${n}`);
    await mkdir(dir, { recursive: true });
    const title = `rpr-cli-${process.pid}-${Date.now()}-${n}`;
    const config = join(dir, 'rpr.yaml');
    await writeFile(
      config,
      stringify({
        model: { workers: 1 },
        pool: { path: poolPath },
        cache: { path: cachePath },
        budget: { total: 1000, perRound: ROUND_SIZE },
        ledger: { path: join(dir, 'ledger.sqlite') },
        sink: { name: 'label-studio', labelStudio: { project: title, documentRoot: DOCUMENT_ROOT, ...labelStudio } },
      }),
    );
    const withConfig = (args: readonly string[]) => ['--config', config, ...args];
    const cli = (args: readonly string[], env = {}) => runCli(withConfig(args), { cwd: dir, env: { ...SERVER_ENV, ...env }, timeoutMs: SLOW_TEST_MS });
    return {
      dir,
      config,
      title,
      cli,
      start: (args, env = {}) => startCli(withConfig(args), { cwd: dir, env: { ...SERVER_ENV, ...env } }),
      paused: (point, args, env = {}, resumeFile) =>
        pausedAt(point, withConfig(args), { cwd: dir, env: { ...SERVER_ENV, ...env }, resumeFile, timeoutMs: PROGRESS_MS }),
      round: (id) =>
        readLedger(dir, (ledger) => {
          const record = ledger.round(id);
          return record === null ? null : { round: record, selections: ledger.selections(id) };
        }),
    };
  }

  /** `rpr-select rounds list --json`. */
  async function roundsOf(ws: Workspace): Promise<{ id: number; status: string }[]> {
    const listed = ok(await ws.cli(['rounds', 'list', '--json']));
    return JSON.parse(listed.stdout) as { id: number; status: string }[];
  }

  /** `rpr-select score` on `poolPath`, without a cache: RPR computed afresh. */
  async function scoreFiles(poolPath: string): Promise<ScoreLine[]> {
    const run = await runCli(['score', '--pool', poolPath, '--k', '10', '--no-cache', '--workers', '1'], { cwd: root, timeoutMs: SLOW_TEST_MS });
    expect(run.code).toBe(0);
    return run.stdout.trim().split('\n').map((line) => JSON.parse(line) as ScoreLine);
  }

  const ok = (run: CliResult): CliResult => {
    if (run.code !== 0) throw new Error(`CLI exited ${run.code ?? run.signal}:\n${run.stderr}`);
    return run;
  };

  /** The tasks of a project that carry a sample id, by it; fails on a sample with two tasks. */
  function bySample(tasks: readonly RawTaskView[]): Map<string, RawTaskView> {
    const map = new Map<string, RawTaskView>();
    for (const task of tasks) {
      const id = task.data['rpr_sample_id'];
      if (typeof id !== 'string') continue;
      if (map.has(id)) throw new Error(`sample ${id} has two tasks: ${map.get(id)!.id} and ${task.id}`);
      map.set(id, task);
    }
    return map;
  }

  /** Round 1 of `ws` is queued, the project holds exactly one task per selection, and the ledger knows each task's id. */
  async function expectRoundQueuedOnce(ws: Workspace, projectId: number): Promise<void> {
    const round = ws.round(1)!;
    expect(round.round.status).toBe('queued');
    const held = bySample(await raw.tasks(projectId));
    expect(held.size).toBe(ROUND_SIZE);
    expect(await raw.taskNumber(projectId)).toBe(ROUND_SIZE);
    for (const s of round.selections) expect(s.taskId).toBe(String(held.get(s.id)!.id));
  }

  const choice = (label: string) => ({ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [label] } });
  const trueLabel = (uri: string) => /label-(\d)\.png$/.exec(uri)![1]!;

  describe('a round of 100 from a 500-image pool', () => {
    let ws: Workspace;
    let projectId: number;
    let round: RoundView;

    it('killed after the ledger write, after the push, then re-run: exactly 100 tasks, each with its RPR prediction', async () => {
      ws = await workspace({ batchSize: 20 });
      const first = await ws.paused('after-ledger-write', ['select', '--json']);
      await first.kill();
      const open = ws.round(1)!;
      expect(open.round.status).toBe('open');
      expect(open.selections).toHaveLength(ROUND_SIZE);
      expect(open.selections.every((s) => s.taskId === null && s.state === 'selected')).toBe(true);
      projectId = await raw.projectIdByTitle(ws.title);
      expect(await raw.taskNumber(projectId)).toBe(0);

      // Resumed: pushed, then killed before the ledger learnt the task ids.
      const second = await ws.paused('after-push', ['select', '--json']);
      await second.kill();
      expect(await raw.taskNumber(projectId)).toBe(ROUND_SIZE);
      expect(ws.round(1)!.round.status).toBe('open');

      // Running select again for the same round finishes it and adds nothing.
      const third = ok(await ws.cli(['select', '--json']));
      const report = JSON.parse(third.stdout) as { round: number; resumed: boolean; selected: { id: string; score: number; taskId: string }[] };
      expect(report).toMatchObject({ round: 1, resumed: true });
      expect(await raw.taskNumber(projectId)).toBe(ROUND_SIZE);

      round = ws.round(1)!;
      expect(round.round.status).toBe('queued');
      const tasks = await raw.tasks(projectId, 'all');
      expect(tasks).toHaveLength(ROUND_SIZE);
      const held = bySample(tasks);
      expect(new Set(held.keys())).toEqual(new Set(round.selections.map((s) => s.id)));
      const reported = new Map(report.selected.map((s) => [s.id, s]));
      for (const selection of round.selections) {
        const task = held.get(selection.id)!;
        expect(selection.state).toBe('queued');
        expect(selection.taskId).toBe(String(task.id));
        expect(reported.get(selection.id)).toMatchObject({ score: selection.score, taskId: selection.taskId });
        expect(task.predictions).toEqual([
          expect.objectContaining({
            model_version: round.round.modelDigest,
            score: selection.score,
            result: [expect.objectContaining(choice(CLASS_NAMES[selection.predicted!]!))],
          }),
        ]);
      }
    }, SLOW_TEST_MS);

    it('the scores are the RPR_10 `rpr-select score` computes on the same files', async () => {
      const scored = new Map((await scoreFiles(pool)).map((line) => [line.id, line]));
      expect(scored.size).toBe(POOL_SIZE);
      for (const selection of round.selections) {
        expect(selection.score).toBe(scored.get(selection.id)!.rpr['10']!);
        expect(selection.predicted).toBe(scored.get(selection.id)!.predicted);
      }
      // The lowest RPR_10 of the pool, as the default policy says.
      const lowest = [...scored.values()].sort((a, b) => a.rpr['10']! - b.rpr['10']!).slice(0, ROUND_SIZE);
      expect(new Set(round.selections.map((s) => s.id))).toEqual(new Set(lowest.map((line) => line.id)));
    }, SLOW_TEST_MS);

    it('sync marks exactly the 10 annotated tasks labeled and appends them to the labels file; the round closes when all are done', async () => {
      const annotated = round.selections.slice(0, 10);
      for (const s of annotated) {
        await raw.ok('POST', `/api/tasks/${s.taskId}/annotations/`, { result: [choice(trueLabel(s.uri))] });
      }
      const first = ok(await ws.cli(['sync', '--json']));
      const labelsPath = join(ws.dir, 'labels.jsonl');
      expect(JSON.parse(first.stdout)).toEqual({
        labeled: 10,
        skipped: 0,
        unchanged: 0,
        unknown: [],
        closedRounds: [],
        labelsPath,
        exported: 10,
      });
      const after = ws.round(1)!;
      const labeledIds = new Set(annotated.map((s) => s.id));
      for (const s of after.selections) expect(s.state).toBe(labeledIds.has(s.id) ? 'labeled' : 'queued');
      expect(after.round.status).toBe('queued');

      const lines = (await readFile(labelsPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(10);
      for (const line of lines) {
        const s = annotated.find((a) => a.id === line['id'])!;
        expect(line).toMatchObject({ uri: s.uri, label: trueLabel(s.uri), annotator: whoami, round: 1, taskId: s.taskId });
        expect(Number.isNaN(Date.parse(String(line['time'])))).toBe(false);
      }

      // The other 90: 80 labeled, 10 skipped; then the round is done.
      const rest = round.selections.slice(10);
      for (const [i, s] of rest.entries()) {
        const body = i < 80 ? { result: [choice(trueLabel(s.uri))] } : { result: [], was_cancelled: true };
        await raw.ok('POST', `/api/tasks/${s.taskId}/annotations/`, body);
      }
      const second = ok(await ws.cli(['sync', '--json']));
      expect(JSON.parse(second.stdout)).toMatchObject({ labeled: 80, skipped: 10, unchanged: 10, closedRounds: [1], exported: 80 });
      expect(await roundsOf(ws)).toEqual([expect.objectContaining({ id: 1, status: 'closed' })]);
      const closed = ws.round(1)!;
      expect(closed.selections.filter((s) => s.state === 'labeled')).toHaveLength(90);
      expect(closed.selections.filter((s) => s.state === 'failed')).toHaveLength(10);

      // Nothing new: nothing appended; the file holds each labeled image once.
      const third = ok(await ws.cli(['sync', '--json']));
      expect(JSON.parse(third.stdout)).toMatchObject({ labeled: 0, skipped: 0, unchanged: 100, exported: 0 });
      const all = (await readFile(labelsPath, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
      expect(all).toHaveLength(90);
      expect(new Set(all)).toEqual(new Set(closed.selections.filter((s) => s.state === 'labeled').map((s) => s.id)));
    }, SLOW_TEST_MS);
  });

  it('a bare `sync` after `select --sink label-studio --ls-project TITLE` (flags only) reads that project; a sink or project that contradicts the round is refused with exit 2', async () => {
    const { dir, config, title, selected } = await flagsOnlyRound('flags-only', 10);
    expect(selected.round).toBe(1);
    const projectId = await raw.projectIdByTitle(title);
    expect(await raw.taskNumber(projectId)).toBe(10);
    const annotated = selected.selected.slice(0, 3);
    for (const s of annotated) await raw.ok('POST', `/api/tasks/${s.taskId}/annotations/`, { result: [choice(trueLabel(s.uri))] });

    const ledgerPath = join(dir, '.rpr-select', 'ledger.sqlite');
    const states = () => readLedgerAt(ledgerPath, (ledger) => ledger.selections(1).map((s) => [s.id, s.state]));
    const sync = (args: readonly string[]) => runCli(['sync', ...config, ...args], { cwd: dir, env: SERVER_ENV, timeoutMs: SLOW_TEST_MS });
    expect(JSON.parse(ok(await sync(['--json'])).stdout)).toEqual({
      labeled: 3,
      skipped: 0,
      unchanged: 0,
      unknown: [],
      closedRounds: [],
      labelsPath: join(dir, '.rpr-select', 'labels.jsonl'),
      exported: 3,
    });
    const labeledIds = new Set(annotated.map((s) => s.id));
    const after = states();
    expect(after).toEqual(selected.selected.map((s) => [s.id, labeledIds.has(s.id) ? 'labeled' : 'queued']));

    // Another sink, or another project: one line, exit 2, nothing read or written.
    const other = await raw.ok<{ id: number }>('POST', '/api/projects', { title: `${title}-other`, label_config: buildChoicesConfig(CLASS_NAMES) });
    await raw.ok('POST', `/api/tasks/${selected.selected[5]!.taskId}/annotations/`, { result: [choice(trueLabel(selected.selected[5]!.uri))] });
    const refusals = [
      { args: ['--sink', 'jsonl'], line: new RegExp(`^rpr-select: error: --sink sets the sink to jsonl, but round 1 was pushed to the label-studio sink at sink\\.labelStudio\\.project ${projectId} and is not finished`) },
      {
        args: ['--ls-project', String(other.id)],
        line: new RegExp(`^rpr-select: error: --ls-project \\(sink\\.labelStudio\\.project\\) reaches the label-studio sink at sink\\.labelStudio\\.project ${other.id}, but round 1 was pushed to the label-studio sink at sink\\.labelStudio\\.project ${projectId}`),
      },
    ];
    for (const refusal of refusals) {
      const run = await sync(['--quiet', ...refusal.args]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(refusal.line)]);
      expect(states()).toEqual(after);
    }
    expect(existsSync(join(dir, '.rpr-select', 'queue.jsonl'))).toBe(false);

    // A title no project has: sync reads, it never creates a project (exit 5, the server left as it was).
    const unknownTitle = `${title}-typo`;
    const typo = await sync(['--quiet', '--ls-project', unknownTitle]);
    expect(typo.code).toBe(5);
    expect(typo.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^rpr-select: error: .*no project titled '${unknownTitle}'`))]);
    await expect(raw.projectIdByTitle(unknownTitle)).rejects.toThrow(/no project titled/);
    expect(states()).toEqual(after);

    // The round's own project, by title: the sixth annotation comes in.
    expect(JSON.parse(ok(await sync(['--json', '--ls-project', title])).stdout)).toMatchObject({ labeled: 1, unchanged: 3, exported: 1 });
  }, SLOW_TEST_MS);

  it('webhook --register: the listener syncs the annotations Label Studio tells it about (no `sync` run), and removes its webhook when stopped', async () => {
    const { dir, config, title, selected } = await flagsOnlyRound('webhook', 5);
    const projectId = await raw.projectIdByTitle(title);
    const port = await closedPort();
    const hookUrl = `http://127.0.0.1:${port}/`;
    const hooks = async () => (await raw.ok<{ url: string }[]>('GET', `/api/webhooks/?project=${projectId}`)).filter((hook) => hook.url === hookUrl);
    const ledgerPath = join(dir, '.rpr-select', 'ledger.sqlite');
    const labeled = () => readLedgerAt(ledgerPath, (ledger) => ledger.selections(1).filter((s) => s.state === 'labeled').map((s) => s.id));

    // No polling: only the webhook can bring the annotations in.
    const listener = startCli(['webhook', '--json', ...config, '--port', String(port), '--register', hookUrl, '--poll-interval', '0'], { cwd: dir, env: SERVER_ENV });
    await listener.waitForStderr('listening for Label Studio webhooks', PROGRESS_MS);
    expect(await hooks()).toHaveLength(1);
    const annotated = selected.selected.slice(0, 2);
    for (const s of annotated) await raw.ok('POST', `/api/tasks/${s.taskId}/annotations/`, { result: [choice(trueLabel(s.uri))] });
    await listener.waitUntil('both annotations are in the ledger', () => labeled().length === 2, PROGRESS_MS);
    expect(new Set(labeled())).toEqual(new Set(annotated.map((s) => s.id)));

    const stopped = await listener.stop();
    expect(stopped.code).toBe(0);
    const lines = stopped.stdout.trim().split('\n').map((line) => JSON.parse(line) as { triggers: string[]; labeled: number });
    expect(lines[0]).toMatchObject({ triggers: ['start'], labeled: 0 });
    expect(lines.slice(1).every((line) => line.triggers.every((t) => t.startsWith('ANNOTATION')))).toBe(true);
    expect(lines.reduce((sum, line) => sum + line.labeled, 0)).toBe(2);
    expect(await hooks()).toHaveLength(0);
    expect((await readFile(join(dir, '.rpr-select', 'labels.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(2);
  }, SLOW_TEST_MS);

  it('SIGKILL in the middle of the import (the answer to the fifth of 20 batches held back), then a re-run: exactly 100 tasks', async () => {
    const proxy = await new FaultProxy(URL).start();
    try {
      const ws = await workspace({ batchSize: 5, concurrency: 1 });
      // Four imports pass; the fifth reaches the server, but its answer is held until the run is killed.
      proxy.add(
        { method: 'POST', path: IMPORT, fault: { kind: 'delay', ms: 0 }, times: 4 },
        { method: 'POST', path: IMPORT, fault: { kind: 'delay', ms: 600_000 } },
      );
      const run = ws.start(['select', '--json'], { LABEL_STUDIO_URL: proxy.url });
      await run.waitUntil('the fifth import', () => proxy.log.filter((e) => IMPORT.test(e.path)).length === 5, PROGRESS_MS);
      const projectId = await raw.projectIdByTitle(ws.title);
      await run.waitUntil('the fifth batch in the project', async () => (await raw.taskNumber(projectId)) === 25, PROGRESS_MS);
      await run.kill();
      expect(await raw.taskNumber(projectId)).toBe(25);
      expect(ws.round(1)!.round.status).toBe('open');

      const rerun = JSON.parse(ok(await ws.cli(['select', '--json'])).stdout) as { resumed: boolean };
      expect(rerun.resumed).toBe(true);
      await expectRoundQueuedOnce(ws, projectId);
    } finally {
      await proxy.stop();
    }
  }, SLOW_TEST_MS);

  describe('a wrong token, a wrong project id, an unreachable server', () => {
    /**
     * Exit 5 and exactly one line on stderr (with --quiet), which names the problem; a run after a crash
     * may also say that it took the ledger over from the dead one.
     */
    function expectOneLineError(run: CliResult, pattern: RegExp): void {
      expect(run.code).toBe(5);
      const lines = run.stderr.trim().split('\n').filter((line) => !/^rpr-select: warning: took over the ledger from pid \d+/.test(line));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^rpr-select: error: /);
      expect(lines[0]).toMatch(pattern);
    }

    it('each fails with one clear line and exit 5, and records no round', async () => {
      const wrongToken = await workspace();
      expectOneLineError(
        await wrongToken.cli(['select', '--quiet'], { LABEL_STUDIO_API_KEY: '0'.repeat(40) }),
        /refused the API key .*LABEL_STUDIO_API_KEY/,
      );
      expect(readLedger(wrongToken.dir, (l) => l.rounds())).toEqual([]);

      const wrongProject = await workspace();
      expectOneLineError(await wrongProject.cli(['select', '--quiet', '--ls-project', '987654321']), /has no project 987654321/);
      expect(readLedger(wrongProject.dir, (l) => l.rounds())).toEqual([]);

      const unreachable = await workspace();
      const port = await closedPort();
      expectOneLineError(
        await unreachable.cli(['select', '--quiet'], { LABEL_STUDIO_URL: `http://127.0.0.1:${port}` }),
        new RegExp(`cannot reach Label Studio at http://127\\.0\\.0\\.1:${port} .*ECONNREFUSED`),
      );
      expect(readLedger(unreachable.dir, (l) => l.rounds())).toEqual([]);
    }, SLOW_TEST_MS);

    it('an open round resumed with a wrong token stays open: nothing is marked queued', async () => {
      const ws = await workspace();
      await (await ws.paused('after-ledger-write', ['select'])).kill();
      expectOneLineError(await ws.cli(['select', '--quiet'], { LABEL_STUDIO_API_KEY: 'f'.repeat(40) }), /refused the API key/);
      const round = ws.round(1)!;
      expect(round.round.status).toBe('open');
      expect(round.selections.every((s) => s.state === 'selected' && s.taskId === null)).toBe(true);
      expect(await raw.taskNumber(await raw.projectIdByTitle(ws.title))).toBe(0);
    }, SLOW_TEST_MS);
  });

  itWithService('a Label Studio personal access token', NO_PAT)('with a personal access token, an access token the server refuses (401) mid-round is refreshed, the import sent again, and the round completes', async () => {
    const proxy = await new FaultProxy(URL).start();
    try {
      const ws = await workspace({ batchSize: 10, concurrency: 1 });
      // The third import reaches the server with a forged access token, which the server refuses (401).
      proxy.add(
        { method: 'POST', path: IMPORT, fault: { kind: 'delay', ms: 0 }, times: 2 },
        { method: 'POST', path: IMPORT, fault: { kind: 'corrupt-auth' } },
      );
      const run = ok(await ws.cli(['select', '--json'], { LABEL_STUDIO_URL: proxy.url, LABEL_STUDIO_API_KEY: PAT }));
      expect(proxy.pendingRules()).toEqual([]);
      expectRefusedTokenRenewed(proxy.log, 'corrupt-auth');
      expect(JSON.parse(run.stdout)).toMatchObject({ round: 1, resumed: false });
      await expectRoundQueuedOnce(ws, await raw.projectIdByTitle(ws.title));
    } finally {
      await proxy.stop();
    }
  }, SLOW_TEST_MS);

  itWithService('Label Studio with short-lived access tokens', LONG_LIFETIME)(`with a personal access token, a round paused past its access token's lifetime gets a new one, and a request sent with the expired one is refused (401), refreshed and sent again (access tokens live ${ACCESS_LIFETIME_S ?? '?'} s)`, async () => {
    const proxy = await new FaultProxy(URL).start();
    try {
      const ws = await workspace();
      const resumeFile = join(ws.dir, 'resume');
      const run = await ws.paused('after-ledger-write', ['select', '--json'], { LABEL_STUDIO_URL: proxy.url, LABEL_STUDIO_API_KEY: PAT }, resumeFile);
      expect(proxy.log.some((e) => e.path.startsWith('/api/token/refresh') && e.status === 200)).toBe(true);
      // Every access token the run holds has expired on the server by the time it goes on.
      await sleep((ACCESS_LIFETIME_S! + 2) * 1000);
      // The import goes out with the run's first access token, as from a client whose clock runs behind:
      // a token the server itself issued, now expired.
      proxy.add({ method: 'POST', path: IMPORT, fault: { kind: 'first-auth' } });
      const resumedAt = proxy.log.length;
      await writeFile(resumeFile, '');
      const result = ok(await run.exited(SLOW_TEST_MS));
      // The run sees its token's exp has passed and gets a new one before its first request.
      expect(proxy.log[resumedAt]).toMatchObject({ method: 'POST', path: expect.stringMatching(/^\/api\/token\/refresh/), status: 200 });
      expect(proxy.pendingRules()).toEqual([]);
      expectRefusedTokenRenewed(proxy.log, 'first-auth');
      expect(JSON.parse(result.stdout)).toMatchObject({ round: 1, resumed: false });
      await expectRoundQueuedOnce(ws, await raw.projectIdByTitle(ws.title));
    } finally {
      await proxy.stop();
    }
  }, SLOW_TEST_MS);

  /** A project made by hand (not by rpr-select) whose tasks show `files` through Local Files serving. */
  async function handMadeProject(files: readonly string[]): Promise<{ id: number; tasks: RawTaskView[] }> {
    const project = await raw.ok<{ id: number }>('POST', '/api/projects', {
      title: `rpr-cli-hand-${process.pid}-${Date.now()}`,
      label_config: buildChoicesConfig(CLASS_NAMES),
    });
    await raw.ok('POST', '/api/storages/localfiles', {
      project: project.id,
      path: join(files[0]!, '..'),
      regex_filter: '^$',
      use_blob_urls: true,
    });
    await raw.ok(
      'POST',
      `/api/projects/${project.id}/import`,
      files.map((file) => ({ image: `/data/local-files/?d=${relative(DOCUMENT_ROOT, file).split('/').map(encodeURIComponent).join('/')}` })),
    );
    const tasks = await raw.tasks(project.id, 'all');
    expect(tasks).toHaveLength(files.length);
    return { id: project.id, tasks };
  }

  /** `count` MNIST digits from position `from` of the pool split, as PNG files under `root/name`. */
  function digitFiles(name: string, from: number, count: number): Promise<string[]> {
    return writeDigitPngs(join(root, name), mnistPart('pool').slice(from, from + count));
  }

  /** Runs `rpr-select serve` (environment `env` on top of the test's) for the length of `use`. */
  async function withServe(env: Readonly<Record<string, string>>, use: (backend: { url: string; modelVersion: string; k: number }) => Promise<void>): Promise<void> {
    const serveDir = await mkdtemp(join(root, 'serve-'));
    const serve = startCli(['serve', '--port', '0', '--json', '--no-cache'], { cwd: serveDir, env: { ...SERVER_ENV, ...env } });
    try {
      await serve.waitUntil('the backend URL', () => serve.stdout().includes('\n'), PROGRESS_MS);
      await use(JSON.parse(serve.stdout().split('\n')[0]!) as { url: string; modelVersion: string; k: number });
    } finally {
      await serve.stop();
    }
  }

  /** Connects the ML backend at `url` to the project through /api/ml and has Label Studio ask it for every task's prediction. */
  async function askForPredictions(project: { id: number; tasks: readonly RawTaskView[] }, url: string): Promise<void> {
    const ml = await raw.ok<{ state: string }>('POST', '/api/ml', { url, project: project.id, title: 'rpr-select', is_interactive: false });
    expect(ml.state).toBe('CO');
    await raw.ok('POST', `/api/dm/actions?id=retrieve_tasks_predictions&project=${project.id}`, {
      selectedItems: { all: false, included: project.tasks.map((t) => t.id) },
    });
  }

  /** Every task of the project holds one prediction of `modelVersion`: the RPR_10 and class `rpr-select score` computes for its file. */
  async function expectRprPredictions(projectId: number, files: readonly string[], modelVersion: string): Promise<void> {
    const scored = new Map((await scoreFiles(join(files[0]!, '..'))).map((line) => [line.id, line]));
    const tasks = await raw.tasks(projectId, 'all');
    expect(tasks).toHaveLength(files.length);
    for (const task of tasks) {
      const file = files.find((f) => String(task.data['image']).endsWith(encodeURIComponent(basename(f))))!;
      const expected = scored.get(createHash('sha256').update(await readFile(file)).digest('hex'))!;
      const predictions = (task.predictions ?? []).filter((p) => p.model_version === modelVersion);
      expect(predictions).toHaveLength(1);
      expect(predictions[0]!.score).toBe(expected.rpr['10']!);
      expect(predictions[0]!.result).toEqual([expect.objectContaining(choice(CLASS_NAMES[expected.predicted]!))]);
    }
  }

  it('serve: Label Studio, connected through /api/ml, stores predictions whose scores are the RPR `rpr-select score` computes', async () => {
    const files = await digitFiles('ml-pool', 600, 8);
    const project = await handMadeProject(files);
    await withServe({}, async (backend) => {
      expect(backend.k).toBe(10);
      await askForPredictions(project, backend.url);
      await expectRprPredictions(project.id, files, backend.modelVersion);
    });
  }, SLOW_TEST_MS);

  itWithService('a Label Studio personal access token', NO_PAT)('serve: when the token Label Studio sends to /setup is refused, the images come from LABEL_STUDIO_URL with a personal access token', async () => {
    const files = await digitFiles('ml-fallback-pool', 620, 6);
    const project = await handMadeProject(files);
    const toLabelStudio = await new FaultProxy(URL).start();
    try {
      await withServe({ LABEL_STUDIO_URL: toLabelStudio.url, LABEL_STUDIO_API_KEY: PAT }, async (backend) => {
        // Label Studio reaches the backend through a proxy that puts a token the server refuses in every /setup.
        const toBackend = await new FaultProxy(backend.url).start();
        try {
          toBackend.add({ method: 'POST', path: /^\/setup/, fault: { kind: 'rewrite-json', rewrite: (body) => ({ ...body, access_token: '0'.repeat(40) }) }, times: Infinity });
          await askForPredictions(project, toBackend.url);
          expect(toBackend.log.some((entry) => entry.fault === 'rewrite-json' && entry.status === 200)).toBe(true);
        } finally {
          await toBackend.stop();
        }
        await expectRprPredictions(project.id, files, backend.modelVersion);
      });
      // The images came through LABEL_STUDIO_URL, with an access token the PAT was exchanged for.
      expect(toLabelStudio.log.some((entry) => entry.path.startsWith('/api/token/refresh') && entry.status === 200)).toBe(true);
      const images = toLabelStudio.log.filter((entry) => entry.path.startsWith('/data/local-files/'));
      expect(images.map((entry) => entry.status)).toEqual(files.map(() => 200));
    } finally {
      await toLabelStudio.stop();
    }
  }, SLOW_TEST_MS);

  it('a Label Studio project as the pool: its unfinished tasks are scored, the lowest RPR selected, and their own tasks get the predictions', async () => {
    const files = await digitFiles('ls-pool', 700, 30);
    const project = await handMadeProject(files);
    // Five tasks are finished already: not part of the pool.
    const finished = project.tasks.slice(0, 5);
    for (const task of finished) await raw.ok('POST', `/api/tasks/${task.id}/annotations/`, { result: [choice('1')] });

    const ws = await workspace({ project: project.id }, `label-studio:${project.id}`);
    const run = ok(await ws.cli(['select', '--json', '--round-size', '10']));
    const report = JSON.parse(run.stdout) as { selected: { id: string; score: number; taskId: string }[]; counts: { seen: number } };
    expect(report.counts.seen).toBe(25);

    const hashes = new Map(await Promise.all(files.map(async (f) => [f, createHash('sha256').update(await readFile(f)).digest('hex')] as const)));
    const fileOfTask = (task: RawTaskView) => files.find((f) => String(task.data['image']).endsWith(encodeURIComponent(basename(f))))!;
    const finishedIds = new Set(finished.map((t) => hashes.get(fileOfTask(t))!));
    const scored = (await scoreFiles(join(root, 'ls-pool'))).filter((line) => !finishedIds.has(line.id));
    expect(scored).toHaveLength(25);
    const lowest = scored.sort((a, b) => a.rpr['10']! - b.rpr['10']!).slice(0, 10);
    expect(new Set(report.selected.map((s) => s.id))).toEqual(new Set(lowest.map((l) => l.id)));
    const rprOf = new Map(lowest.map((l) => [l.id, l.rpr['10']!]));
    for (const s of report.selected) expect(s.score).toBe(rprOf.get(s.id)!);

    // Pushed back into the same project: no second task, the predictions land on the existing tasks.
    const round = ws.round(1)!;
    expect(round.round.status).toBe('queued');
    const tasks = await raw.tasks(project.id, 'all');
    expect(tasks).toHaveLength(30);
    const taskById = new Map(tasks.map((t) => [String(t.id), t]));
    for (const s of round.selections) {
      const task = taskById.get(s.taskId!)!;
      expect(hashes.get(fileOfTask(task))).toBe(s.id);
      expect(task.data['rpr_sample_id']).toBe(s.id);
      expect(task.predictions).toEqual([expect.objectContaining({ model_version: round.round.modelDigest, score: s.score })]);
    }
    expect(tasks.filter((t) => t.data['rpr_sample_id'] !== undefined)).toHaveLength(10);

    // The next round, killed after its push and run again: its ten tasks are attached once, nothing is added.
    await (await ws.paused('after-push', ['select', '--round-size', '10'])).kill();
    const again = JSON.parse(ok(await ws.cli(['select', '--json', '--round-size', '10'])).stdout) as { round: number; resumed: boolean };
    expect(again).toMatchObject({ round: 2, resumed: true });
    expect(await raw.taskNumber(project.id)).toBe(30);
    const claimed = (await raw.tasks(project.id, 'all')).filter((t) => t.data['rpr_sample_id'] !== undefined);
    expect(claimed).toHaveLength(20);
    expect(claimed.every((t) => t.predictions?.length === 1)).toBe(true);

    // Labels come back through sync like those of pushed tasks.
    const labeled = round.selections[0]!;
    await raw.ok('POST', `/api/tasks/${labeled.taskId}/annotations/`, { result: [choice('3')] });
    expect(JSON.parse(ok(await ws.cli(['sync', '--json'])).stdout)).toMatchObject({ labeled: 1, unknown: [] });
    expect(ws.round(1)!.selections.find((s) => s.id === labeled.id)!.state).toBe('labeled');
  }, SLOW_TEST_MS);
});

/** Opens the workspace's ledger read-only for `read` (no lease: as `rounds show` does). */
function readLedger<T>(dir: string, read: (ledger: Ledger) => T): T {
  return readLedgerAt(join(dir, 'ledger.sqlite'), read);
}

function readLedgerAt<T>(path: string, read: (ledger: Ledger) => T): T {
  const ledger = Ledger.open(path, { mustExist: true });
  try {
    return read(ledger);
  } finally {
    ledger.close();
  }
}
