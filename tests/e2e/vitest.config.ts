import { defineConfig } from 'vitest/config';

// The suites spawn real processes (the CLI, bash, bwrap) and serve real sockets: run files one
// after another so their timing-sensitive parts (kill points, stalls) do not starve each other
// on a small CI machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
