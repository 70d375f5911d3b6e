import { loadConfig, type ConfigOverride, type LoadedConfig } from '../config/index.js';
import { RprError } from '../errors/index.js';
import type { Sink, SinkTarget } from '../sinks/index.js';
import type { RoundRecord, RoundStatus } from './ledger-types.js';
import { sinkForRounds } from './rounds-sink.js';
import { rprRejection, rprThrown } from '../../test/helpers/rpr-rejection.js';

const LS_PROJECT = ['sink', 'labelStudio', 'project'];

function loaded(overrides: ConfigOverride[] = []): Promise<LoadedConfig> {
  return loadConfig({ cwd: '/srv/work', env: {}, overrides });
}

const sinkFlag = (name: string): ConfigOverride => ({ flag: '--sink', path: ['sink', 'name'], value: name });
const projectFlag = (project: number | string): ConfigOverride => ({ flag: '--ls-project', path: LS_PROJECT, value: project });

function round(id: number, sink: string, target: SinkTarget | null, status: RoundStatus = 'queued'): RoundRecord {
  return {
    id,
    status,
    policy: 'lowest-rpr',
    sink,
    configDigest: 'c',
    modelDigest: 'm',
    budgetUnit: 'samples',
    spent: 10,
    selected: 10,
    details: target === null ? { counts: {} } : { counts: {}, sinkTarget: target },
    createdAt: '2026-01-01T00:00:00.000Z',
    queuedAt: null,
    closedAt: null,
  };
}

const project = (id: number): SinkTarget => ({ labelStudio: { project: id } });

/** A sink that reaches `target` and must not be used for anything else. */
function reaching(target: SinkTarget | null, name = 'label-studio'): Sink {
  const unused = (): never => {
    throw new Error('not used here');
  };
  return { name, push: unused, list: unused, fetchLabels: unused, close: async () => undefined, ...(target ? { target: async () => target } : {}) };
}

function usageError(run: () => unknown): RprError {
  const error = rprThrown(run);
  expect(error.code).toBe('RPR_USAGE');
  expect(error.exitCode).toBe(2);
  return error;
}

async function rejection(promise: Promise<unknown>): Promise<RprError> {
  const error = await rprRejection(promise);
  expect(error.code).toBe('RPR_USAGE');
  return error;
}

describe('sinkForRounds', () => {
  it('with nothing set, takes the sink and its project from the unfinished rounds', async () => {
    const config = await loaded();
    const chosen = sinkForRounds(config, [round(1, 'label-studio', project(12), 'closed'), round(2, 'label-studio', project(12)), round(3, 'label-studio', project(12), 'open')], 'sync');
    expect(chosen.config.name).toBe('label-studio');
    expect(chosen.config.labelStudio).toEqual({ ...config.config.sink.labelStudio, project: 12 });
    await chosen.verify(reaching(project(12)));
  });

  it('keeps the configured sink when every round is closed, or there is none', async () => {
    const config = await loaded();
    for (const rounds of [[], [round(1, 'label-studio', project(12), 'closed')]]) {
      const chosen = sinkForRounds(config, rounds, 'sync');
      expect(chosen.config).toEqual(config.config.sink);
      await chosen.verify(reaching(project(99)));
    }
  });

  it('refuses a sink name that no unfinished round was pushed to, naming the flag and the rounds', async () => {
    const config = await loaded([sinkFlag('jsonl')]);
    const error = usageError(() => sinkForRounds(config, [round(2, 'label-studio', project(12))], 'sync'));
    expect(error.message).toMatch(/^--sink sets the sink to jsonl, but round 2 was pushed to the label-studio sink at sink\.labelStudio\.project 12 and is not finished; run sync without setting the sink .* or set it to label-studio$/);
  });

  it('accepts a project given by title when the sink it opens reaches the rounds\' project, and refuses another', async () => {
    const chosen = sinkForRounds(await loaded([projectFlag('digits')]), [round(1, 'label-studio', project(12))], 'sync');
    expect(chosen.config).toMatchObject({ name: 'label-studio', labelStudio: { project: 'digits' } });
    await chosen.verify(reaching(project(12)));
    const error = await rejection(chosen.verify(reaching(project(13))));
    expect(error.message).toMatch(
      /^--ls-project \(sink\.labelStudio\.project\) reaches the label-studio sink at sink\.labelStudio\.project 13, but round 1 was pushed to the label-studio sink at sink\.labelStudio\.project 12 and is not finished; run sync without it/,
    );
  });

  it('asks which project when unfinished rounds went to two, and syncs the one named', async () => {
    const rounds = [round(1, 'label-studio', project(12)), round(2, 'label-studio', project(13))];
    const bare = await loaded();
    const error = usageError(() => sinkForRounds(bare, rounds, 'sync'));
    expect(error.message).toMatch(/round 1 was pushed to .*project 12 and round 2 was pushed to .*project 13 .*set sink\.labelStudio\.project/);
    const chosen = sinkForRounds(await loaded([projectFlag(13)]), rounds, 'sync');
    expect(chosen.config.labelStudio.project).toBe(13);
    await chosen.verify(reaching(project(13)));
  });

  it('asks which sink when unfinished rounds went to two, and syncs the one named', async () => {
    const rounds = [round(1, 'jsonl', null), round(2, 'label-studio', project(12))];
    const bare = await loaded();
    expect(usageError(() => sinkForRounds(bare, rounds, 'sync')).message).toMatch(/run sync once per sink/);
    const chosen = sinkForRounds(await loaded([sinkFlag('jsonl')]), rounds, 'sync');
    expect(chosen.config.name).toBe('jsonl');
    await chosen.verify(reaching(null, 'jsonl'));
  });

  it('takes the sink name from a round that recorded no target, and leaves its project as configured', async () => {
    const chosen = sinkForRounds(await loaded(), [round(1, 'label-studio', null)], 'sync');
    expect(chosen.config).toMatchObject({ name: 'label-studio', labelStudio: { project: null } });
    await chosen.verify(reaching(project(77)));
  });
});
