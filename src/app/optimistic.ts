import { ThrottlingException, VersionConflictError } from '../domain/errors';

/**
 * Runs a read-modify-write until its conditional write wins. Each attempt re-reads, so a retry decides
 * on fresh state (and may end in a client error, e.g. the cluster got a task meanwhile). Backoff is
 * exponential with full jitter; an item still contended after all attempts answers ThrottlingException,
 * which SDKs retry on their own.
 */
export async function withOptimisticRetry<T>(attempt: () => Promise<T>, attempts = 10): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      if (tries >= attempts) {
        throw new ThrottlingException('Rate exceeded: the resource is being changed concurrently. Retry the request.', {
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 10 * 2 ** tries)));
    }
  }
}
