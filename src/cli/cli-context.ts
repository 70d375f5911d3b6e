import type { OpenScoring } from '../rounds/index.js';
import type { Logger, LogFormat } from './logger.js';

/** What a command may touch, passed in so the whole CLI runs in-process under test. */
export interface CliContext {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** The command that runs this CLI, for crontab lines: [node, script]. */
  readonly entry: readonly [string, string];
  /** Replaces the real scorer (tests). @defaultValue the scorer built from the config */
  readonly openScoring?: OpenScoring;
}

/** The global flags every command accepts. */
export interface GlobalArgs {
  readonly config?: string;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly logFormat: LogFormat;
}

/** A command's handler sees the context and a logger made from the global flags. */
export interface CommandEnv {
  readonly ctx: CliContext;
  readonly log: Logger;
}
