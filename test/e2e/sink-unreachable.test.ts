/**
 * Acceptance (issue 4, DESIGN.md §6): `select --sink label-studio` against an annotation server that is
 * unreachable, or that refuses the API key, exits 5 with one line naming the server and what to do, and
 * records nothing: no round, no selection, nothing queued. The real CLI and scorer.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBuilt, killAllCli, runCli, stackLines, type CliResult } from '../helpers/cli-process.js';
import { expectNoRound } from './helpers/round-state.js';
import { writeTestPool, type TestPool } from './helpers/test-pool.js';

let root: string;
let pool: TestPool;
let refusing: Server;
let refusingUrl: string;

beforeAll(async () => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'rpr-e2e-sink-'));
  pool = await writeTestPool(join(root, 'pool'), { digits: 20, bad: false });
  // Any HTTP server that answers 401 to every request stands for a server with another token.
  refusing = createServer((_request, response) => {
    response.writeHead(401, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ detail: 'Invalid token.' }));
  });
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
  refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await killAllCli();
  await new Promise<void>((resolve) => refusing.close(() => resolve()));
  rmSync(root, { recursive: true, force: true });
});

async function selectInto(url: string): Promise<{ run: CliResult; cwd: string }> {
  const cwd = join(root, `work-${url.replace(/\W+/g, '-')}`);
  mkdirSync(cwd);
  const run = await runCli(['select', '--pool', pool.dir, '--workers', '1', '--quiet', '--sink', 'label-studio', '--ls-project', 'rpr-e2e'], {
    cwd,
    env: { LABEL_STUDIO_URL: url, LABEL_STUDIO_API_KEY: 'e2e-token' },
  });
  return { run, cwd };
}

function expectOneLine(run: CliResult, message: RegExp): void {
  expect(stackLines(run.stderr)).toEqual([]);
  expect({ code: run.code, stdout: run.stdout, lines: run.stderr.trimEnd().split('\n').length }).toEqual({ code: 5, stdout: '', lines: 1 });
  expect(run.stderr.trimEnd()).toMatch(message);
}

it.concurrent('an unreachable server (LABEL_STUDIO_URL=http://127.0.0.1:9): exit 5, one line, nothing recorded as queued', async () => {
  const { run, cwd } = await selectInto('http://127.0.0.1:9');
  expectOneLine(run, /^rpr-select: error: cannot reach Label Studio at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED .*\): start it .* or fix LABEL_STUDIO_URL$/);
  expectNoRound(cwd);
}, 90_000);

it.concurrent('a server that refuses the API key: exit 5, one line naming the key to set, nothing recorded', async () => {
  const { run, cwd } = await selectInto(refusingUrl);
  expectOneLine(run, /^rpr-select: error: Label Studio at http:\/\/127\.0\.0\.1:\d+ refused the API key \(401 .*\): set LABEL_STUDIO_API_KEY/);
  expectNoRound(cwd);
}, 90_000);
