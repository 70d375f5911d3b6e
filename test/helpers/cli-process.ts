/**
 * The real `rpr-select` executable (dist/src/cli/main.js, built by `npm run build`) as a child process,
 * for the end-to-end and Label Studio tests: run to completion, or started and then watched, paused at a
 * round point, SIGKILLed as a crash would, or stopped as a server. Every wait is bounded and fails with a
 * message naming the command and what it printed, never hangs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';

export const CLI_MAIN = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

/** Longest any single wait in these tests may take before it fails the test. */
export const WAIT_MS = 90_000;

export interface CliResult {
  /** null when the process died of a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly cwd: string;
  /** Added to a clean environment (no RPR_* or LABEL_STUDIO_* variables inherited); an undefined value is left out. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface CliProcess {
  readonly pid: number;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once stderr contains `text`; rejects when the process exits first or after `timeoutMs`. */
  waitForStderr(text: string, timeoutMs?: number): Promise<void>;
  /**
   * Resolves once `check()` is true (polled; an asynchronous check is not started again before it has
   * answered); rejects when the process exits first or after `timeoutMs`.
   */
  waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** The process's end; SIGKILLs it and rejects after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<CliResult>;
  /** SIGKILL (kill -9), then its end. */
  kill(): Promise<CliResult>;
  /** SIGTERM (a server or worker shuts down), then its end. */
  stop(): Promise<CliResult>;
}

const running = new Set<ChildProcess>();

/** Fails with a clear message when the CLI was not built (npm test builds before jest runs). */
export function assertBuilt(): void {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`npm run build\` before the end-to-end tests`);
}

function cleanEnv(extra: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('RPR_') && !key.startsWith('LABEL_STUDIO_')) env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

export function startCli(args: readonly string[], options: CliOptions): CliProcess {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const name = `rpr-select ${args.join(' ')}`;
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((listener) => listener());
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    notify();
  });
  let ended = false;
  const end = new Promise<CliResult>((resolve, reject) => {
    child.once('error', (error) => {
      ended = true;
      reject(error);
      notify();
    });
    // 'close' comes after the streams end, so the result holds everything the process printed.
    child.once('close', (code, signal) => {
      ended = true;
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
      notify();
    });
  });
  const describe = () => `${name} (pid ${child.pid}) — stderr so far:\n${stderr}`;

  const waitFor = (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, pollMs: number | null) =>
    new Promise<void>((resolve, reject) => {
      let done = false;
      let checking = false;
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        listeners.delete(onChange);
        if (error) reject(error);
        else resolve();
      };
      const settle = (ready: boolean) => {
        if (ready) finish();
        else if (ended) finish(new Error(`${what}: the process ended first; ${describe()}`));
      };
      const onChange = () => {
        if (done || checking) return;
        const ready = check();
        if (typeof ready === 'boolean') return settle(ready);
        checking = true;
        ready.then(
          (answer) => {
            checking = false;
            settle(answer);
          },
          (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
        );
      };
      const timer = setTimeout(() => finish(new Error(`${what}: timed out after ${timeoutMs / 1000} s; ${describe()}`)), timeoutMs);
      const poll = pollMs === null ? null : setInterval(onChange, pollMs);
      listeners.add(onChange);
      onChange();
    });

  return {
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForStderr: (text, timeoutMs = WAIT_MS) => waitFor(`waiting for "${text}" on stderr`, () => stderr.includes(text), timeoutMs, null),
    waitUntil: (what, check, timeoutMs = WAIT_MS) => waitFor(`waiting until ${what}`, check, timeoutMs, 50),
    exited: async (timeoutMs = WAIT_MS) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${name} did not finish within ${timeoutMs / 1000} s; killed. ${describe()}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([end, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill: async () => {
      child.kill('SIGKILL');
      return end;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return end;
    },
  };
}

/** Runs the CLI to its end (bounded by `timeoutMs`). */
export function runCli(args: readonly string[], options: CliOptions & { readonly timeoutMs?: number }): Promise<CliResult> {
  return startCli(args, options).exited(options.timeoutMs);
}

/**
 * Starts the CLI with RPR_TEST_PAUSE_AT=`point` (src/cli/test-pause.ts) and resolves once it has paused
 * there. It goes on when `resumeFile` comes to exist; without one it waits until killed.
 */
export async function pausedAt(
  point: string,
  args: readonly string[],
  options: CliOptions & { readonly resumeFile?: string; readonly timeoutMs?: number },
): Promise<CliProcess> {
  const run = startCli(args, { ...options, env: { ...options.env, RPR_TEST_PAUSE_AT: point, RPR_TEST_RESUME_FILE: options.resumeFile } });
  await run.waitForStderr(`RPR_TEST_PAUSED ${point}`, options.timeoutMs);
  return run;
}

/** SIGKILLs every child still running (for afterAll/afterEach). */
export async function killAllCli(): Promise<void> {
  const ends = [...running].map(
    (child) =>
      new Promise<void>((resolve) => {
        child.once('close', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  await Promise.all(ends);
}

/** Whether process `pid` has `path` open (Linux /proc): a run that has opened the ledger. */
export function hasFileOpen(pid: number, path: string): boolean {
  const dir = `/proc/${pid}/fd`;
  try {
    return readdirSync(dir).some((fd) => {
      try {
        return readlinkSync(join(dir, fd)) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Lines of stderr that look like a stack trace. */
export function stackLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^\s+at /.test(line));
}

/** The last JSON object a `--json` run printed on stdout. */
export function jsonOut<T>(result: CliResult): T {
  const lines = result.stdout.trimEnd().split('\n');
  try {
    return JSON.parse(lines.at(-1) ?? '') as T;
  } catch {
    throw new Error(`expected one JSON object on stdout, got:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}
