import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type ThrottleState,
  THROTTLE_MAX_DELAY_SECONDS,
  initialThrottleState,
  isThrottled,
  recordTaskOutcome,
  resetForTaskDefinition,
  throttleDelaySeconds,
  throttleMessage,
} from '../../src/domain/throttle';

const TD1 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1';
const TD2 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:2';
const NOW = 1_700_000_000_000;
const failed = { reachedRunning: false, taskDefinitionArn: TD1 };
const started = { reachedRunning: true, taskDefinitionArn: TD1 };

describe('throttleDelaySeconds', () => {
  it.each([
    { name: 'no failures -> no delay', k: 0, seconds: 0 },
    { name: 'first failure -> 10 s', k: 1, seconds: 10 },
    { name: '2 failures -> 20 s', k: 2, seconds: 20 },
    { name: '3 failures -> 40 s', k: 3, seconds: 40 },
    { name: '4 failures -> 80 s', k: 4, seconds: 80 },
    { name: '5 failures -> 160 s', k: 5, seconds: 160 },
    { name: '6 failures -> 320 s', k: 6, seconds: 320 },
    { name: '7 failures -> 640 s', k: 7, seconds: 640 },
    { name: '8 failures -> capped at 900 s (15 min)', k: 8, seconds: 900 },
    { name: '1000 failures -> still 900 s', k: 1000, seconds: 900 },
  ])('$name', ({ k, seconds }) => {
    expect(throttleDelaySeconds(k)).toBe(seconds);
  });

  it('never decreases and never exceeds 900 s', () => {
    fc.assert(
      fc.property(fc.nat(100_000), (k) => {
        expect(throttleDelaySeconds(k + 1)).toBeGreaterThanOrEqual(throttleDelaySeconds(k));
        expect(throttleDelaySeconds(k)).toBeLessThanOrEqual(THROTTLE_MAX_DELAY_SECONDS);
      }),
    );
  });

  it('grows while below the cap (step by step, not all at once)', () => {
    fc.assert(
      fc.property(fc.nat(100), (k) => {
        const [a, b] = [throttleDelaySeconds(k), throttleDelaySeconds(k + 1)];
        if (a < THROTTLE_MAX_DELAY_SECONDS) expect(b).toBeGreaterThan(a);
        else expect(b).toBe(THROTTLE_MAX_DELAY_SECONDS);
      }),
    );
  });
});

describe('recordTaskOutcome', () => {
  it.each<{ name: string; state: ThrottleState; outcome: typeof failed; expected: ThrottleState }>([
    {
      name: 'first failure to start -> 1 failure, wait 10 s',
      state: initialThrottleState(TD1),
      outcome: failed,
      expected: { consecutiveStartFailures: 1, taskDefinitionArn: TD1, nextAttemptAt: NOW + 10_000 },
    },
    {
      name: 'third failure in a row -> wait 40 s',
      state: { consecutiveStartFailures: 2, taskDefinitionArn: TD1, nextAttemptAt: NOW - 1 },
      outcome: failed,
      expected: { consecutiveStartFailures: 3, taskDefinitionArn: TD1, nextAttemptAt: NOW + 40_000 },
    },
    {
      name: 'a task that reached RUNNING resets the counter',
      state: { consecutiveStartFailures: 5, taskDefinitionArn: TD1, nextAttemptAt: NOW + 160_000 },
      outcome: started,
      expected: { consecutiveStartFailures: 0, taskDefinitionArn: TD1 },
    },
    {
      name: 'a task that reached RUNNING never increments',
      state: initialThrottleState(TD1),
      outcome: started,
      expected: { consecutiveStartFailures: 0, taskDefinitionArn: TD1 },
    },
    {
      name: 'a late failure of the previous task definition is ignored',
      state: initialThrottleState(TD2),
      outcome: failed,
      expected: { consecutiveStartFailures: 0, taskDefinitionArn: TD2 },
    },
  ])('$name', ({ state, outcome, expected }) => {
    expect(recordTaskOutcome(state, outcome, NOW)).toEqual(expected);
  });

  it('throttles after a failure until the delay has passed', () => {
    const state = recordTaskOutcome(initialThrottleState(TD1), failed, NOW);
    expect(isThrottled(state, NOW)).toBe(true);
    expect(isThrottled(state, NOW + 9_999)).toBe(true);
    expect(isThrottled(state, NOW + 10_000)).toBe(false);
  });

  it('the wait after any run of failures is capped at 15 minutes', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 50 }), (outcomes) => {
        let state = initialThrottleState(TD1);
        let t = NOW;
        for (const reachedRunning of outcomes) {
          state = recordTaskOutcome(state, { reachedRunning, taskDefinitionArn: TD1 }, t);
          expect((state.nextAttemptAt ?? t) - t).toBeLessThanOrEqual(900_000);
          t = state.nextAttemptAt ?? t + 1;
        }
        const trailingFailures = outcomes.length - 1 - outcomes.lastIndexOf(true);
        expect(state.consecutiveStartFailures).toBe(trailingFailures);
      }),
    );
  });
});

describe('resetForTaskDefinition', () => {
  const throttled: ThrottleState = { consecutiveStartFailures: 9, taskDefinitionArn: TD1, nextAttemptAt: NOW + 900_000 };

  it.each([
    { name: 'a new task definition returns the service to normal at once', arn: TD2, expected: initialThrottleState(TD2) },
    { name: 'the same task definition keeps the throttle', arn: TD1, expected: throttled },
  ])('$name', ({ arn, expected }) => {
    const state = resetForTaskDefinition(throttled, arn);
    expect(state).toEqual(expected);
    expect(isThrottled(state, NOW)).toBe(arn === TD1);
  });
});

describe('isThrottled', () => {
  it.each([
    { name: 'fresh state', state: initialThrottleState(TD1), now: NOW, expected: false },
    { name: 'before nextAttemptAt', state: { ...initialThrottleState(TD1), nextAttemptAt: NOW + 1 }, now: NOW, expected: true },
    { name: 'at nextAttemptAt', state: { ...initialThrottleState(TD1), nextAttemptAt: NOW }, now: NOW, expected: false },
  ])('$name -> $expected', ({ state, now, expected }) => {
    expect(isThrottled(state, now)).toBe(expected);
  });
});

describe('throttleMessage', () => {
  it('is the exact ECS service event text', () => {
    expect(throttleMessage('web')).toBe('(service web) is unable to consistently start tasks successfully.');
  });
});
