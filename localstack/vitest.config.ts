// Runs only the LocalStack smoke test: `npm run test:localstack` (vitest run -c localstack/vitest.config.ts).
// The project's own config includes test/**/*.test.ts, so `npm test` never picks this up.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['localstack/**/*.test.ts'],
    globalSetup: ['localstack/require-localstack.ts'],
    // The first call cold-starts a Lambda container (and may pull the nodejs22.x image).
    testTimeout: 180_000,
    hookTimeout: 30_000,
  },
});
