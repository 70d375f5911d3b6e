/** What every benchmark result records about the run that produced it, and how a bench script knows it was run directly. */
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceRevision } from '../src/util/source-revision.js';

export interface RunInfo {
  /** The commit, marked when src/, bench/*.ts or the models had uncommitted changes. */
  readonly commit: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly memoryGB: number; readonly node: string; readonly platform: string };
  readonly date: string;
  /** 1, 5 and 15-minute load averages when the run started: other work on a shared machine slows every case. */
  readonly loadAverageAtStart: readonly number[];
}

export function runInfo(): RunInfo {
  const list = cpus();
  return {
    commit: sourceRevision(),
    machine: {
      cpus: list.length,
      cpuModel: list[0]?.model.trim() ?? 'unknown',
      memoryGB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
    },
    date: new Date().toISOString(),
    loadAverageAtStart: loadavg(),
  };
}

/** One line for a Markdown header. */
export function describeRun(info: RunInfo): string {
  const m = info.machine;
  return `${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, Node ${m.node} ${m.platform}; commit ${info.commit}; ${info.date}; load average at start ${info.loadAverageAtStart.map((l) => l.toFixed(1)).join(' / ')}`;
}

/** Whether the module at `moduleUrl` is the script node was started with (not imported by another bench). */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && resolve(script) === fileURLToPath(moduleUrl);
}
