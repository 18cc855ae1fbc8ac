import { VersionConflictError } from '../domain/errors';

/**
 * Runs a read-modify-write until its conditional write wins. Each attempt re-reads, so a retry decides
 * on fresh state (and may end in a client error, e.g. the cluster got a task meanwhile).
 */
export async function withOptimisticRetry<T>(attempt: () => Promise<T>, attempts = 8): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof VersionConflictError) || tries >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * tries));
    }
  }
}
