import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Most files wait on processes (runtimes, agents, JVMs) more than they compute: three workers on
    // two cores finished the suite in 562 s where two took 706 s (2026-11-27, 110 files).
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    globalSetup: ['test/support/dynamodb-global-setup.ts'],
    // The AWS SDK's nine-line Node.js 20 notice, once per worker and child process, buries real output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
