/**
 * The arrows DESIGN.md §2 forbids, checked on the import statements of src/: the math sees only the
 * operator contract, the scoring stack never reaches rounds or sinks, policies and sinks stay apart,
 * pools never load models, and nothing in the library imports the CLI.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as library from '../src/index.js';

const SRC = resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The absolute path of each relative import of a file. */
function importedPaths(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(file), m[1]!));
}

/** Top-level folder under src/ of each relative import of a file. */
function importedParts(file: string): string[] {
  return importedPaths(file).map((path) => relative(SRC, path).split('/')[0]!);
}

const FORBIDDEN: readonly [string, string][] = [
  ['linalg', 'model'],
  ['model', 'rounds'],
  ['model', 'sinks'],
  ['linalg', 'rounds'],
  ['linalg', 'sinks'],
  ['metrics', 'rounds'],
  ['metrics', 'sinks'],
  ['policy', 'sinks'],
  ['sinks', 'policy'],
  ['pool', 'model'],
];

describe('architecture', () => {
  const files = sourceFiles(SRC);

  it.each(FORBIDDEN)('%s never imports %s', (from, to) => {
    const offenders = files
      .filter((f) => relative(SRC, f).split('/')[0] === from)
      .filter((f) => importedParts(f).includes(to))
      .map((f) => relative(SRC, f));
    expect(offenders).toEqual([]);
  });

  it('a model frontend never imports an executor (both read the IR and what src/model shares)', () => {
    const FRONTENDS = join(SRC, 'model', 'frontends');
    const EXECUTORS = join(SRC, 'model', 'executors');
    const offenders = sourceFiles(FRONTENDS).filter((f) => importedPaths(f).some((path) => path.startsWith(EXECUTORS)));
    expect(offenders.map((f) => relative(SRC, f))).toEqual([]);
  });

  it('nothing outside src/cli imports the CLI', () => {
    const offenders = files
      .filter((f) => !relative(SRC, f).startsWith('cli/'))
      .filter((f) => importedParts(f).includes('cli'))
      .map((f) => relative(SRC, f));
    expect(offenders).toEqual([]);
  });

  it('the library entry exposes what the CLI uses', () => {
    for (const name of ['createScorer', 'selectRound', 'syncFromConfig', 'runDiagnose', 'loadModel', 'createSink', 'createPolicy', 'loadConfig', 'exactSvd', 'RprError']) {
      expect(typeof (library as Record<string, unknown>)[name]).toBe('function');
    }
  });
});
