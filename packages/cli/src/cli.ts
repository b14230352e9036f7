#!/usr/bin/env node
import { run } from './run.js';

// The `rbee-worker` binary. Everything lives in run(); this file only wires it to the process.
const code = await run(process.argv.slice(2), { handleSignals: true });
// Writes to TTYs, files and pipes are synchronous on Linux; wait for them anyway before leaving,
// so nothing (keep-alive sockets, timers) can hold the process open after the command is done.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
