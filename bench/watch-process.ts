/**
 * Runs a command in a child process and watches its memory from /proc/<pid>/status (Linux): VmHWM, the
 * kernel's own peak RSS, and VmRSS over time, so growth during a run shows as a rising sequence.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const POLL_MS = 100;
/** Lines of stderr kept for the error message of a failed run. */
const STDERR_TAIL = 20;

export interface WatchedRun {
  readonly stdout: string;
  readonly seconds: number;
  /** VmHWM of the process: its peak resident set. */
  readonly peakRssMB: number;
  /** Largest VmRSS in each quarter of the run's duration. */
  readonly rssByQuarterMB: readonly number[];
}

export interface WatchOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long. @defaultValue no limit */
  readonly timeoutMs?: number;
  /** Copy the child's stderr to ours as it comes (progress lines). @defaultValue true */
  readonly echoStderr?: boolean;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** VmHWM of a running process in MB, or null once it is gone. */
export function peakRssMBOf(pid: number): number | null {
  const kb = statusKb(pid, 'VmHWM');
  return kb === null ? null : kb / 1024;
}

/** Runs `command args` to its end; a non-zero exit rejects with the end of its stderr. */
export async function runWatched(command: string, args: readonly string[], options: WatchOptions = {}): Promise<WatchedRun> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const stderr: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (options.echoStderr ?? true) process.stderr.write(chunk);
    stderr.push(...chunk.split('\n').filter((line) => line.trim() !== ''));
    stderr.splice(0, Math.max(0, stderr.length - STDERR_TAIL));
  });
  const pid = child.pid;
  const started = performance.now();
  let peakKb = 0;
  const timeline: { at: number; kb: number }[] = [];
  const sample = () => {
    if (pid === undefined) return;
    peakKb = Math.max(peakKb, statusKb(pid, 'VmHWM') ?? 0);
    const rss = statusKb(pid, 'VmRSS');
    if (rss !== null) timeline.push({ at: performance.now() - started, kb: rss });
  };
  const timer = setInterval(sample, POLL_MS);
  const killer = options.timeoutMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  }).finally(() => {
    clearInterval(timer);
    if (killer) clearTimeout(killer);
  });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) {
    const how = signal === null ? `exited with ${code}` : `was killed by ${signal}${options.timeoutMs === undefined ? '' : ` (limit ${options.timeoutMs / 1000} s)`}`;
    throw new Error(`${[command, ...args].join(' ')} ${how}: ${stderr.slice(-3).join(' | ')}`);
  }
  const end = timeline.at(-1)?.at ?? 0;
  const quarterMaxMB = (quarter: number) =>
    Math.max(0, ...timeline.filter((s) => s.at > ((quarter - 1) * end) / 4 && s.at <= (quarter * end) / 4).map((s) => s.kb)) / 1024;
  return { stdout, seconds, peakRssMB: peakKb / 1024, rssByQuarterMB: [1, 2, 3, 4].map(quarterMaxMB) };
}
