/**
 * What happens after a scheduled invocation fails, as in AWS:
 *  - an ECS cluster target: Scheduler's RetryPolicy (MaximumRetryAttempts, default 185;
 *    MaximumEventAgeInSeconds, default 86400) with exponential backoff, then the DeadLetterConfig queue;
 *  - Berth's scheduled-run function: Scheduler invokes Lambda asynchronously, so a run that fails
 *    inside the function is Lambda's to retry: the stack's asynchronous-invoke settings (2 retries
 *    within an hour), then the function's on-failure destination, the same queue BerthScheduledTask
 *    gives the schedule as its DeadLetterConfig.
 * A ValidationException (the input itself is wrong) cannot succeed later: it is not retried.
 */
import type { ScheduleTarget } from './schedule';

export interface RetryBounds {
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  /** How long after the first attempt a retry may still start. */
  readonly maxEventAgeMs: number;
}

export const SCHEDULER_DEFAULT_RETRY: RetryBounds = { maxRetries: 185, maxEventAgeMs: 86_400_000 };
/** The scheduled-run function's asynchronous retries (lib/constructs/scheduled-runs.ts defaults). */
export const SCHEDULED_RUN_FUNCTION_RETRY: RetryBounds = { maxRetries: 2, maxEventAgeMs: 3_600_000 };

const MINUTE_MS = 60_000;

export function retryBounds(target: ScheduleTarget, scheduledRunFunction: boolean): RetryBounds {
  if (scheduledRunFunction) return SCHEDULED_RUN_FUNCTION_RETRY;
  const policy = target.RetryPolicy as { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number } | undefined;
  return {
    maxRetries: policy?.MaximumRetryAttempts ?? SCHEDULER_DEFAULT_RETRY.maxRetries,
    maxEventAgeMs: policy?.MaximumEventAgeInSeconds !== undefined ? policy.MaximumEventAgeInSeconds * 1000 : SCHEDULER_DEFAULT_RETRY.maxEventAgeMs,
  };
}

/** Exponential backoff: the n-th retry waits 2^(n-1) minutes after the failure before it (1, 2, 4 ...), at most an hour. */
export const retryDelayMs = (retry: number) => Math.min(MINUTE_MS * 2 ** Math.min(retry - 1, 6), 60 * MINUTE_MS);

export type RetryDecision =
  | { readonly retryAt: number }
  | { readonly exhausted: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' };

/**
 * After attempt `attempt` (1: the first invocation) failed at `nowMs`: when the next attempt runs, or
 * which bound ends the retries.
 */
export function nextRetry(bounds: RetryBounds, attempt: number, firstAttemptAt: number, nowMs: number): RetryDecision {
  if (attempt > bounds.maxRetries) return { exhausted: 'MaximumRetryAttempts' };
  const retryAt = nowMs + retryDelayMs(attempt);
  if (retryAt - firstAttemptAt > bounds.maxEventAgeMs) return { exhausted: 'MaximumEventAgeInSeconds' };
  return { retryAt };
}
