/**
 * Builds the configuration of a run: built-in defaults, then the YAML file, then command-line flags,
 * each layer validated with messages naming its origin (the file, or the flag). Relative paths are
 * resolved against the file that gave them (the file's directory; the cwd for flags and defaults).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { errors, RprError } from '../errors/index.js';
import { createPolicy, isPolicyName, POLICY_NAMES } from '../policy/index.js';
import { deepMerge, isPlainObject } from './deep-merge.js';
import { formatIssue } from './format-issue.js';
import { bundledModelPath } from '../util/package-root.js';
import { configSchema, PATH_KEYS, type RprConfig } from './schema.js';
import { assertNoSecrets, readSecrets, type Secrets } from './secrets.js';

/** Where the demo pool is written on first use, relative to the working directory. */
export const DEMO_POOL_DIR = '.rpr-select/demo-pool';

/** One command-line flag's value placed at a key path. */
export interface ConfigOverride {
  /** The flag as the user typed it, for messages (`--budget`). */
  readonly flag: string;
  readonly path: readonly string[];
  readonly value: unknown;
}

export interface LoadConfigOptions {
  /** YAML config file; null/absent = built-in defaults only. */
  readonly file?: string | null;
  readonly overrides?: readonly ConfigOverride[];
  /** @defaultValue process.cwd() */
  readonly cwd?: string;
  /** @defaultValue process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** A validated configuration with every path absolute and the model and pool defaults filled. */
export type ResolvedConfig = Omit<RprConfig, 'model' | 'pool'> & {
  readonly model: RprConfig['model'] & { readonly path: string };
  readonly pool: { readonly path: string; readonly demo: boolean };
};

export interface LoadedConfig {
  readonly config: ResolvedConfig;
  /** Absolute path of the file read, or null. */
  readonly file: string | null;
  readonly secrets: Secrets;
  /** sha256 of the resolved configuration (recorded with each round). */
  readonly digest: string;
  /**
   * Where each key the file or a flag set came from, by dotted key ('sink.name' → '--sink', or
   * 'config /a/rpr.yaml'); a key not in it holds its default.
   */
  readonly origins: ReadonlyMap<string, string>;
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const file = options.file ? resolve(cwd, options.file) : null;
  const fileLabel = file === null ? 'built-in defaults' : `config ${file}`;
  const fromFile = file === null ? {} : resolvePaths(await readConfigFile(file), dirname(file));
  validate(fromFile, fileLabel);

  let merged: unknown = fromFile;
  for (const override of options.overrides ?? []) {
    merged = deepMerge(merged, nest(override.path, resolveOverridePath(override, cwd)));
  }
  const labelOf = (path: readonly string[]): string => {
    const flag = options.overrides?.find((o) => o.path.every((part, i) => path[i] === part));
    return flag === undefined ? fileLabel : `${flag.flag} (${flag.path.join('.')})`;
  };
  const config = validate(merged, fileLabel, labelOf);
  checkConsistency(config, labelOf);

  const resolved: ResolvedConfig = {
    ...config,
    model: { ...config.model, path: config.model.path ?? bundledModelPath() },
    pool: { path: config.pool.path ?? resolve(cwd, DEMO_POOL_DIR), demo: config.pool.path === null },
    ...resolveDefaultPaths(config, cwd),
  };
  const origins = new Map(leafKeys(fromFile).map((key) => [key, fileLabel]));
  for (const override of options.overrides ?? []) {
    for (const key of leafKeys(nest(override.path, override.value))) origins.set(key, override.flag);
  }
  return {
    config: resolved,
    file,
    secrets: readSecrets(options.env ?? process.env),
    digest: createHash('sha256').update(JSON.stringify(resolved)).digest('hex'),
    origins,
  };
}

/** The dotted keys of a raw config object's leaves (values that are not mappings). */
function leafKeys(value: unknown, prefix = ''): string[] {
  if (!isPlainObject(value)) return prefix === '' ? [] : [prefix];
  return Object.entries(value).flatMap(([key, child]) => leafKeys(child, prefix === '' ? key : `${prefix}.${key}`));
}

/** Parses YAML text into a plain object; `label` names the source in messages. */
export function parseConfigText(text: string, label: string): unknown {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const line = error.linePos?.[0];
      const where = line ? ` line ${line.line} column ${line.col}` : '';
      throw errors.config(`${label}${where}: not valid YAML: ${error.message.split('\n')[0]}`);
    }
    throw error;
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) throw errors.config(`${label}: the top level must be a mapping of sections (model, pool, policy, …)`);
  assertNoSecrets(value, label);
  return value;
}

async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw errors.config(`config ${file}: cannot read (${reason}); check the --config path`, { file });
  }
  return parseConfigText(text, `config ${file}`);
}

function validate(input: unknown, label: string, labelOf: (path: readonly string[]) => string = () => label): RprConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const [first] = result.error.issues;
  if (first === undefined) throw errors.internal('config validation failed without an issue');
  const more = result.error.issues.length - 1;
  throw new RprError(
    'RPR_CONFIG',
    `${labelOf(first.path.map(String))}: ${formatIssue(first, input, configSchema)}${more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''})` : ''}`,
    { key: first.path.join('.') },
  );
}

/** Rules between keys that a per-key schema cannot state. */
function checkConsistency(config: RprConfig, labelOf: (path: readonly string[]) => string): void {
  const fail = (path: string[], message: string) => {
    throw new RprError('RPR_CONFIG', `${labelOf(path)}: ${message}`, { key: path.join('.') });
  };
  const { policy, scoring } = config;
  if (!isPolicyName(policy.name)) {
    throw new RprError(
      'RPR_UNKNOWN_NAME',
      `${labelOf(['policy', 'name'])}: unknown policy '${policy.name}'; valid names: ${POLICY_NAMES.join(', ')}`,
      { key: 'policy.name', name: policy.name },
    );
  }
  if (policy.k !== null && !scoring.ks.includes(policy.k)) {
    fail(['policy', 'k'], `policy.k ${policy.k} is not among scoring.ks [${scoring.ks.join(', ')}]; add it to scoring.ks (--k) or change policy.k (--policy-k)`);
  }
  if (scoring.center && scoring.referenceDir === null) {
    fail(['scoring', 'center'], 'centring subtracts the mean image of the reference set; set scoring.referenceDir (--reference DIR) or drop scoring.center (--no-center)');
  }
  if (scoring.mode === 'reference') {
    const needs = new Set<string>(createPolicy(policy.name).needs);
    if (policy.quotas.maxClassShare !== null) needs.add('predicted');
    for (const field of ['logits', 'predicted']) {
      if (needs.has(field)) {
        fail(['scoring', 'mode'], `policy '${policy.name}'${field === 'predicted' ? ' with class quotas' : ''} needs ${field}, but scoring.mode 'reference' makes no network pass; use scoring.mode per-sample`);
      }
    }
  }
}

function nest(path: readonly string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

function isPathKey(path: readonly string[]): boolean {
  return PATH_KEYS.some((p) => p.length === path.length && p.every((part, i) => part === path[i]));
}

function resolveOverridePath(override: ConfigOverride, cwd: string): unknown {
  return isPathKey(override.path) && typeof override.value === 'string' ? resolvePath(cwd, override.value) : override.value;
}

/**
 * A path made absolute; a spec that names its kind or scheme (`label-studio:12`, `manifest:list.txt`,
 * `https://…`) is left as written, since its prefix is not a directory name.
 */
function resolvePath(baseDir: string, value: string): string {
  return /^[a-z][a-z0-9+.-]+:/i.test(value) ? value : resolve(baseDir, value);
}

/** Resolves the relative paths a file gives against its directory (the raw object, before validation). */
function resolvePaths(raw: unknown, baseDir: string): unknown {
  let result = raw;
  for (const path of PATH_KEYS) {
    let node: unknown = raw;
    for (const part of path) node = isPlainObject(node) ? node[part] : undefined;
    if (typeof node === 'string' && node !== '') result = deepMerge(result, nest(path, resolvePath(baseDir, node)));
  }
  return result;
}

function resolveDefaultPaths(config: RprConfig, cwd: string) {
  const abs = (path: string) => (isAbsolute(path) ? path : resolve(cwd, path));
  return {
    scoring: { ...config.scoring, referenceDir: config.scoring.referenceDir === null ? null : abs(config.scoring.referenceDir) },
    cache: { path: abs(config.cache.path) },
    sink: { ...config.sink, jsonl: { path: abs(config.sink.jsonl.path) } },
    ledger: { ...config.ledger, path: abs(config.ledger.path) },
  };
}
