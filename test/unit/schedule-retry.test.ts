import { describe, expect, it } from 'vitest';
import { nextRetry, retryBounds, retryDelayMs, SCHEDULED_RUN_FUNCTION_RETRY, SCHEDULER_DEFAULT_RETRY } from '../../src/domain/schedule-retry';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const target = (RetryPolicy?: object) => ({ Arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/c', RoleArn: 'arn:aws:iam::123456789012:role/r', RetryPolicy });

describe('retryBounds', () => {
  it.each([
    ['no RetryPolicy: Scheduler\'s defaults', target(), false, SCHEDULER_DEFAULT_RETRY],
    ['a RetryPolicy', target({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 }), false, { maxRetries: 3, maxEventAgeMs: 600_000 }],
    ['zero retries', target({ MaximumRetryAttempts: 0 }), false, { maxRetries: 0, maxEventAgeMs: 86_400_000 }],
    ['the scheduled-run function: Lambda\'s async retries, whatever the schedule says', target({ MaximumRetryAttempts: 100 }), true, SCHEDULED_RUN_FUNCTION_RETRY],
  ])('%s', (_name, t, fn, expected) => {
    expect(retryBounds(t, fn)).toEqual(expected);
  });
});

describe('retryDelayMs', () => {
  it.each([
    [1, 1 * MINUTE],
    [2, 2 * MINUTE],
    [3, 4 * MINUTE],
    [6, 32 * MINUTE],
    [7, 60 * MINUTE],
    [185, 60 * MINUTE],
  ])('retry %d waits %d ms', (retry, delay) => {
    expect(retryDelayMs(retry)).toBe(delay);
  });
});

describe('nextRetry', () => {
  it.each([
    ['the first failure, retries allowed', { maxRetries: 2, maxEventAgeMs: 3_600_000 }, 1, T0, { retryAt: T0 + MINUTE }],
    ['the second failure', { maxRetries: 2, maxEventAgeMs: 3_600_000 }, 2, T0 + MINUTE, { retryAt: T0 + 3 * MINUTE }],
    ['the last allowed retry failed', { maxRetries: 2, maxEventAgeMs: 3_600_000 }, 3, T0 + 3 * MINUTE, { exhausted: 'MaximumRetryAttempts' }],
    ['no retries at all', { maxRetries: 0, maxEventAgeMs: 3_600_000 }, 1, T0, { exhausted: 'MaximumRetryAttempts' }],
    ['the retry would start past the event age', { maxRetries: 185, maxEventAgeMs: 90_000 }, 2, T0 + MINUTE, { exhausted: 'MaximumEventAgeInSeconds' }],
    ['a retry exactly at the event age still runs', { maxRetries: 185, maxEventAgeMs: 2 * MINUTE }, 2, T0, { retryAt: T0 + 2 * MINUTE }],
  ] as const)('%s', (_name, bounds, attempt, now, expected) => {
    expect(nextRetry(bounds, attempt, T0, now)).toEqual(expected);
  });
});
