#!/usr/bin/env node
// The `rbee-worker` binary. Everything lives in run(); this file only wires it to the process.

declare const RBEE_CLI_VERSION: string;

const argv = process.argv.slice(2);
let code: number;
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // The one command scripts call in a loop: answer it without loading the command tree.
  process.stdout.write(`${RBEE_CLI_VERSION}\n`);
  code = 0;
} else {
  const { run } = await import('./run.js');
  code = await run(argv, { handleSignals: true });
}
// Writes to TTYs, files and pipes are synchronous on Linux; wait for them anyway before leaving,
// so nothing (keep-alive sockets, timers) can hold the process open after the command is done.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
