/**
 * `rpr-select score … | head -1`: the real executable writing its lines into a shell pipe whose reader
 * leaves after the first line. It must exit quietly with status 0, not die of EPIPE with a stack trace.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDigitPngs, mnistPart } from '../../src/pool/index.js';
import { assertBuilt, CLI_MAIN } from '../helpers/cli-process.js';

let root: string;
beforeAll(async () => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'rpr-e2e-pipe-'));
  // More lines than one batch (64 images), so lines are still being written after `head` has left.
  await writeDigitPngs(join(root, 'pool'), mnistPart('pool').slice(0, 200));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('score | head -1 prints one line and exits 0, with nothing on stderr', () => {
  const script = `"${process.execPath}" "${CLI_MAIN}" score --pool pool --no-cache --workers 1 2>stderr.txt | head -1; echo "\${PIPESTATUS[0]}" > status.txt`;
  const stdout = execFileSync('bash', ['-c', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(stdout.trimEnd().split('\n')).toHaveLength(1);
  expect(JSON.parse(stdout)).toHaveProperty('rpr');
  expect(readFileSync(join(root, 'stderr.txt'), 'utf8')).toBe('');
  expect(readFileSync(join(root, 'status.txt'), 'utf8').trim()).toBe('0');
});
