/**
 * The commit the running code came from, for results that must say what produced them (the evaluation,
 * the benchmarks). A tree with uncommitted changes is marked as such: its numbers cannot be reproduced
 * from the commit alone.
 */
import { execFileSync } from 'node:child_process';
import { packageRoot } from './package-root.js';

export function sourceRevision(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: packageRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    // Only what produces numbers: a results file being rewritten does not make the code dirty.
    const code = git('status', '--porcelain', '--untracked-files=no', '--', 'src', 'scripts', 'bench/*.ts', 'models', 'package.json', 'package-lock.json');
    return code === '' ? commit : `${commit} with uncommitted changes`;
  } catch {
    return 'unknown (not run from a git checkout)';
  }
}
