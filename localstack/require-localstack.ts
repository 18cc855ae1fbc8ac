// globalSetup of `npm run test:localstack`: without a reachable LocalStack there is nothing to test,
// so say so at once (and fail: a skipped smoke test would read as a pass) instead of timing out.
export default async function requireLocalStack(): Promise<void> {
  const endpoint = (process.env.LOCALSTACK_ENDPOINT ?? 'http://localhost.localstack.cloud:4566').replace(/\/+$/, '');
  try {
    const response = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(3_000) });
    if (response.ok) return;
    throw new Error(`health check answered HTTP ${response.status}`);
  } catch (error) {
    // One clear message and exit 1; a thrown error would bury it under vitest's stack trace.
    console.error(
      `\nLocalStack is not reachable at ${endpoint} (${(error as Error).message}).\n` +
        '  Start it:  docker compose -f localstack/docker-compose.yml up -d --wait\n' +
        '  Deploy:    npm run localstack:deploy\n' +
        '  (Set LOCALSTACK_ENDPOINT to use another address.)\n',
    );
    process.exit(1);
  }
}
