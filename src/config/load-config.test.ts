import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfigText } from './load-config.js';
import { packageRoot } from '../util/package-root.js';
import { configSchema, DEFAULT_CONFIG } from './schema.js';
import { rprRejection } from '../../test/helpers/rpr-rejection.js';

async function configFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rpr-config-'));
  const file = join(dir, 'rpr.yaml');
  await writeFile(file, text);
  return file;
}

describe('config/default.yaml', () => {
  it('spells out every built-in default, and nothing else', async () => {
    const text = await readFile(join(packageRoot(), 'config', 'default.yaml'), 'utf8');
    const raw = parseConfigText(text, 'config/default.yaml');
    expect(raw).toEqual(DEFAULT_CONFIG);
    expect(configSchema.parse(raw)).toEqual(DEFAULT_CONFIG);
  });

  it('documents each key with a comment', async () => {
    const text = await readFile(join(packageRoot(), 'config', 'default.yaml'), 'utf8');
    expect(text.split('\n').filter((line) => line.trim().startsWith('#')).length).toBeGreaterThan(40);
  });
});

describe('loadConfig', () => {
  it('without a file gives the built-in defaults, paths resolved against the cwd and package', async () => {
    const { config, file } = await loadConfig({ cwd: '/srv/work', env: {} });
    expect(file).toBeNull();
    expect(config.ledger.path).toBe('/srv/work/.rpr-select/ledger.sqlite');
    expect(config.cache.path).toBe('/srv/work/.rpr-select/cache.sqlite');
    expect(config.sink.jsonl.path).toBe('/srv/work/.rpr-select/queue.jsonl');
    expect(config.pool).toEqual({ path: '/srv/work/.rpr-select/demo-pool', demo: true });
    expect(config.model.path).toBe(join(packageRoot(), 'models', 'mnist-cnn'));
    expect(config.policy.name).toBe('lowest-rpr');
    expect(config.budget).toMatchObject({ total: 1000, perRound: 100, unit: 'samples' });
  });

  it('layers file over defaults and flags over the file, resolving each path against its origin', async () => {
    const file = await configFile('budget:\n  total: 500\n  perRound: 50\npool:\n  path: images\nledger:\n  path: /abs/l.sqlite\n');
    const { config } = await loadConfig({
      file,
      cwd: '/srv/work',
      env: {},
      overrides: [
        { flag: '--round-size', path: ['budget', 'perRound'], value: 20 },
        { flag: '--queue', path: ['sink', 'jsonl', 'path'], value: 'q.jsonl' },
      ],
    });
    expect(config.budget.total).toBe(500);
    expect(config.budget.perRound).toBe(20);
    expect(config.pool).toEqual({ path: join(file, '..', 'images'), demo: false });
    expect(config.ledger.path).toBe('/abs/l.sqlite');
    expect(config.sink.jsonl.path).toBe('/srv/work/q.jsonl');
  });

  it('says where each key that is not a default came from: the file or the flag', async () => {
    const file = await configFile('sink:\n  name: jsonl\n  labelStudio:\n    project: null\nbudget:\n  total: 500\n');
    const { origins } = await loadConfig({
      file,
      env: {},
      overrides: [
        { flag: '--ls-project', path: ['sink', 'labelStudio', 'project'], value: 12 },
        { flag: '--round-size', path: ['budget', 'perRound'], value: 20 },
      ],
    });
    expect(Object.fromEntries(origins)).toEqual({
      'sink.name': `config ${file}`,
      'sink.labelStudio.project': '--ls-project',
      'budget.total': `config ${file}`,
      'budget.perRound': '--round-size',
    });
    expect((await loadConfig({ env: {} })).origins.size).toBe(0);
  });

  it('names an unknown key, its file, and the valid keys beside it', async () => {
    const file = await configFile('budget:\n  totl: 5\n');
    const error = await rprRejection(loadConfig({ file, env: {} }));
    expect(error.code).toBe('RPR_CONFIG');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(file);
    expect(error.message).toContain("'budget.totl'");
    expect(error.message).toMatch(/valid keys in 'budget': total, perRound, unit, cost/);
  });

  it('names an unknown top-level section', async () => {
    const error = await rprRejection(loadConfig({ file: await configFile('polcy:\n  name: random\n'), env: {} }));
    expect(error.message).toMatch(/unknown key 'polcy'; valid keys at the top level: model, pool/);
  });

  it('names the key, the value and the expected type of a wrong type', async () => {
    const error = await rprRejection(loadConfig({ file: await configFile('budget:\n  total: lots\n'), env: {} }));
    expect(error.code).toBe('RPR_CONFIG');
    expect(error.message).toMatch(/key 'budget.total' is "lots" \(string\); expected a number/);
    const nested = await rprRejection(loadConfig({ file: await configFile('scoring:\n  ks: [1, two]\n'), env: {} }));
    expect(nested.message).toMatch(/key 'scoring.ks.1' is "two" \(string\); expected a number/);
  });

  it('names a value out of range or not among the choices', async () => {
    const enumError = await rprRejection(loadConfig({ file: await configFile('budget:\n  unit: hours\n'), env: {} }));
    expect(enumError.message).toMatch(/key 'budget.unit' is "hours" \(string\): .*"samples"\|"cost"/);
    const rangeError = await rprRejection(loadConfig({ file: await configFile('policy:\n  quotas:\n    maxClassShare: 1.5\n'), env: {} }));
    expect(rangeError.message).toContain("'policy.quotas.maxClassShare' is 1.5");
    const budgetError = await rprRejection(loadConfig({ file: await configFile('model:\n  batchMemoryMB: 0\n'), env: {} }));
    expect(budgetError.code).toBe('RPR_CONFIG');
    expect(budgetError.message).toContain("'model.batchMemoryMB' is 0");
  });

  it('names the flag when a command-line value is wrong', async () => {
    const error = await rprRejection(
      loadConfig({ env: {}, overrides: [{ flag: '--budget', path: ['budget', 'total'], value: -3 }] }),
    );
    expect(error.message).toMatch(/^--budget \(budget.total\): key 'budget.total' is -3/);
  });

  it('refuses a secret in the file without echoing it, and reads secrets from the environment', async () => {
    const file = await configFile('sink:\n  labelStudio:\n    apiKey: s3cr3t-value\n');
    const error = await rprRejection(loadConfig({ file, env: {} }));
    expect(error.code).toBe('RPR_CONFIG');
    expect(error.message).toContain("'sink.labelStudio.apiKey' looks like a secret");
    expect(error.message).toContain('LABEL_STUDIO_API_KEY');
    expect(error.message).not.toContain('s3cr3t-value');
    const withUrl = await rprRejection(
      loadConfig({ file: await configFile('sink:\n  labelStudio:\n    url: http://me:pw@ls.local:8080\n'), env: {} }),
    );
    expect(withUrl.message).toContain('URL with a password');
    const { secrets } = await loadConfig({ env: { LABEL_STUDIO_API_KEY: 'from-env' } });
    expect(secrets.labelStudioApiKey).toBe('from-env');
  });

  it('rejects rules between keys: unknown policy, k outside ks, logits in reference mode', async () => {
    const unknown = await rprRejection(loadConfig({ env: {}, overrides: [{ flag: '--policy', path: ['policy', 'name'], value: 'lowest' }] }));
    expect(unknown.code).toBe('RPR_UNKNOWN_NAME');
    expect(unknown.message).toMatch(/--policy .*unknown policy 'lowest'; valid names: lowest-rpr, highest-rpr, random/);
    const k = await rprRejection(loadConfig({ file: await configFile('policy:\n  k: 7\n'), env: {} }));
    expect(k.message).toContain('policy.k 7 is not among scoring.ks [1, 5, 10]');
    const reference = await rprRejection(
      loadConfig({ file: await configFile('scoring:\n  mode: reference\npolicy:\n  name: entropy\n'), env: {} }),
    );
    expect(reference.message).toMatch(/policy 'entropy' needs logits, but scoring.mode 'reference'/);
  });

  it('reports YAML syntax errors with the line, and a missing file with the path', async () => {
    const syntax = await rprRejection(loadConfig({ file: await configFile('budget:\n  total: [1,\n'), env: {} }));
    expect(syntax.message).toMatch(/line \d+ column \d+: not valid YAML/);
    const missing = await rprRejection(loadConfig({ file: '/nonexistent/rpr.yaml', env: {} }));
    expect(missing.message).toContain('/nonexistent/rpr.yaml');
    expect(missing.message).toContain('ENOENT');
  });

  it('treats an empty file as the defaults, and the digest follows the settings', async () => {
    const empty = await loadConfig({ file: await configFile(''), env: {}, cwd: '/w' });
    const plain = await loadConfig({ env: {}, cwd: '/w' });
    expect(empty.digest).toBe(plain.digest);
    const other = await loadConfig({ env: {}, cwd: '/w', overrides: [{ flag: '--seed', path: ['policy', 'seed'], value: 4 }] });
    expect(other.digest).not.toBe(plain.digest);
  });
});
