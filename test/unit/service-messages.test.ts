/**
 * Service event messages in ECS's wording (compared with real DescribeServices output) and the event
 * log: newest first, at most 100, a repeat of the newest message left out for six hours.
 */
import { describe, expect, it } from 'vitest';
import {
  DUPLICATE_EVENT_WINDOW_MS, appendServiceEvents, rolloutReasons, scalingActivityReason, serviceMessages, type ServiceEvent,
} from '../../src/domain/service-messages';

const T1 = 'arn:aws:ecs:us-east-1:123456789012:task/default/585443aa6654', T2 = 'arn:aws:ecs:us-east-1:123456789012:task/default/4c6997da0db0';
const D = 'ecs-svc/1675294001379389663';

describe('ECS wording', () => {
  it.each([
    { name: 'started', text: serviceMessages.started('foo', [T1, T2]), expected: '(service foo) has started 2 tasks: (task 585443aa6654) (task 4c6997da0db0).' },
    { name: 'stopped', text: serviceMessages.stopped('foo', [T1]), expected: '(service foo) has stopped 1 running tasks: (task 585443aa6654).' },
    { name: 'steady state', text: serviceMessages.steadyState('foo'), expected: '(service foo) has reached a steady state.' },
    { name: 'deployment completed', text: serviceMessages.deploymentCompleted('foo', D), expected: `(service foo) (deployment ${D}) deployment completed.` },
    { name: 'deployment failed', text: serviceMessages.deploymentFailed('foo', D), expected: `(service foo) (deployment ${D}) deployment failed: tasks failed to start.` },
    { name: 'rolling back', text: serviceMessages.rollingBack('foo', D), expected: `(service foo) rolling back to deployment ${D}.` },
    { name: 'failed health checks', text: serviceMessages.failedHealthChecks('foo', T1), expected: '(service foo) (task 585443aa6654) failed container health checks.' },
    { name: 'rollout reason: completed', text: rolloutReasons.completed(D), expected: `ECS deployment ${D} completed.` },
    { name: 'rollout reason: circuit breaker', text: rolloutReasons.circuitBreakerFailed, expected: 'ECS deployment circuit breaker: tasks failed to start.' },
    { name: 'rollout reason: rolling back', text: rolloutReasons.rollingBack(D), expected: `ECS deployment circuit breaker: rolling back to deploymentId ${D}.` },
    { name: 'stoppedReason of a scheduler stop', text: scalingActivityReason(D), expected: `Scaling activity initiated by (deployment ${D})` },
  ])('$name', ({ text, expected }) => {
    expect(text).toBe(expected);
  });
});

describe('appendServiceEvents', () => {
  let n = 0;
  const ids = () => `id-${++n}`;

  it('puts the newest first and drops a repeat of the newest message', () => {
    const events = appendServiceEvents([], ['A', 'A', 'B', 'A'], 1000, ids);
    expect(events.map((e) => e.message)).toEqual(['A', 'B', 'A']);
    expect(events.every((e) => e.createdAt === 1000)).toBe(true);
  });

  it('says a repeated message again after six hours', () => {
    const before: ServiceEvent[] = [{ id: 'x', createdAt: 0, message: 'steady' }];
    expect(appendServiceEvents(before, ['steady'], DUPLICATE_EVENT_WINDOW_MS - 1, ids)).toHaveLength(1);
    expect(appendServiceEvents(before, ['steady'], DUPLICATE_EVENT_WINDOW_MS, ids)).toHaveLength(2);
  });

  it('keeps the 100 newest', () => {
    const events = appendServiceEvents([], Array.from({ length: 150 }, (_, i) => `m${i}`), 0, ids);
    expect(events).toHaveLength(100);
    expect(events[0]!.message).toBe('m149');
    expect(events[99]!.message).toBe('m50');
  });
});
