/**
 * TEST ONLY. The whole CLI run in this process with its output captured, for tests of commands and flags
 * that need no child process (no build, a scorer test double possible). The end-to-end tests run the
 * built executable instead (test/helpers/cli-process.ts).
 */
import type { OpenScoring } from '../../rounds/index.js';
import type { CliContext } from '../cli-context.js';
import { runCli } from '../run-cli.js';

export interface InProcessRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface InProcessOptions {
  /**
   * The command's environment: nothing is inherited from the test's own.
   * @defaultValue {}
   */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * What the run says starts it ([node, script]), as crontab lines print it.
   * @defaultValue ['/usr/bin/node', 'main.js']
   */
  readonly entry?: readonly [string, string];
  /** Replaces the real scorer. @defaultValue the scorer built from the config */
  readonly openScoring?: OpenScoring;
  /** Called with everything on stderr so far after each write, to act while the command runs. */
  readonly onStderr?: (stderr: string) => void;
}

/** Runs `rpr-select <argv>` in `cwd` to its end; stderr is not a terminal. */
export async function runCliInProcess(cwd: string, argv: readonly string[], options: InProcessOptions = {}): Promise<InProcessRun> {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: {
      write: (text: string) => {
        stderr += text;
        options.onStderr?.(stderr);
      },
      isTTY: false,
    },
    env: options.env ?? {},
    cwd,
    signal: new AbortController().signal,
    entry: options.entry ?? ['/usr/bin/node', 'main.js'],
    ...(options.openScoring ? { openScoring: options.openScoring } : {}),
  };
  return { code: await runCli(argv, ctx), stdout, stderr };
}
