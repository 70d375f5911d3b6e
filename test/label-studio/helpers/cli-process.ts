/**
 * The built CLI (dist/src/cli/main.js) as a child process, for end-to-end tests that must kill it at a
 * chosen moment (SIGKILL, as a crash would) or keep it running as a server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const CLI_ENTRY = resolve('dist/src/cli/main.js');

export interface CliResult {
  /** Exit status, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly cwd: string;
  /** Added to (or, with undefined, removed from) the test's own environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export class CliProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<CliResult>;
  #stdout = '';
  #stderr = '';

  constructor(args: readonly string[], options: CliOptions) {
    if (!existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} is missing: run \`npm run build\` first`);
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...process.env, ...options.env })) if (value !== undefined) env[key] = value;
    this.child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.#stdout += chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolveExit, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => resolveExit({ code, signal, stdout: this.#stdout, stderr: this.#stderr }));
    });
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves when `ready()` holds; fails when the process exits first or `timeoutMs` passes. */
  async until(what: string, ready: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
    let ended = false;
    void this.exited.then(() => (ended = true));
    const deadline = Date.now() + timeoutMs;
    while (!(await ready())) {
      if (ended) throw new Error(`the CLI exited before ${what}:\n${this.#stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${this.#stderr}`);
      await sleep(50);
    }
  }

  /** SIGKILL, as a crash would, and waits for the process to be gone. */
  async crash(): Promise<CliResult> {
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return new CliProcess(args, options).exited;
}

/**
 * Starts `select` with RPR_TEST_PAUSE_AT=`point` and resolves once it has paused there. It goes on when
 * `resumeFile` comes to exist; without one it waits until killed.
 */
export async function pausedAt(point: string, args: readonly string[], options: CliOptions & { readonly resumeFile?: string }): Promise<CliProcess> {
  const run = new CliProcess(args, { ...options, env: { ...options.env, RPR_TEST_PAUSE_AT: point, RPR_TEST_RESUME_FILE: options.resumeFile } });
  await run.until(`RPR_TEST_PAUSED ${point}`, () => run.stderr.includes(`RPR_TEST_PAUSED ${point}`));
  return run;
}
