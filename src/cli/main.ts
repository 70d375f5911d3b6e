#!/usr/bin/env node
/** The `rpr-select` executable: wires the process (streams, signals, exit status) to runCli. */
import { realpathSync } from 'node:fs';
import { exitQuietlyOnBrokenPipe } from './broken-pipe.js';
import { runCli } from './run-cli.js';

exitQuietlyOnBrokenPipe(process.stdout, (status) => process.exit(status));

const controller = new AbortController();
let signals = 0;
const interrupt = () => {
  // The first signal stops the run cleanly (the lease is released, an open round resumes next
  // time); a second one exits at once.
  if (++signals > 1) process.exit(130);
  controller.abort();
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
  entry: [process.execPath, realpathSync(process.argv[1]!)],
});
