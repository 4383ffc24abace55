import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fails a file that leaves a server, socket, child process or timer behind.
    setupFiles: ['test/helpers/leakCheck.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests bind real ports and spawn daemons; keep files in parallel but bounded.
    maxWorkers: 2,
  },
});
