/**
 * Event times (src/domain/update-time.ts, src/domain/task-events.ts): every write stamps the task's
 * `updatedAt` with the writer's clock, strictly after the version it replaces and never before a time
 * the record states; events carry it as `time` and `detail.updatedAt`, to the millisecond.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { newTask } from '../../src/domain/new-task';
import type { TaskDefinitionRecord, TaskRecord } from '../../src/domain/records';
import { decideEngineStep, type EngineStep } from '../../src/domain/task-engine';
import { DEFAULT_EVENT_SOURCE, taskStateChangeEvent, taskStatusChanged, type EcsEvent } from '../../src/domain/task-events';
import { requestStop } from '../../src/domain/task-lifecycle';
import { stampTask, updateTime, type StampedTask } from '../../src/domain/update-time';

const SCOPE = { account: '111122223333', region: 'us-east-1', partition: 'aws' };
const CONTEXT = { source: DEFAULT_EVENT_SOURCE, account: SCOPE.account, region: SCOPE.region };
const CLUSTER_ARN = `arn:aws:ecs:us-east-1:${SCOPE.account}:cluster/times`;
const HOST_ARN = `arn:aws:ecs:us-east-1:${SCOPE.account}:container-instance/berth-fargate-pool/fedcba9876543210fedcba9876543210`;
const T0 = Date.parse('2026-11-27T14:00:00.000Z');
const RETENTION = 3_600_000;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const LIFECYCLE_TIMES = ['createdAt', 'connectivityAt', 'pullStartedAt', 'pullStoppedAt', 'startedAt', 'stoppingAt', 'executionStoppedAt', 'stoppedAt'] as const;

const TASK_DEFINITION: TaskDefinitionRecord = {
  taskDefinitionArn: `arn:aws:ecs:us-east-1:${SCOPE.account}:task-definition/web:1`,
  family: 'web',
  revision: 1,
  status: 'ACTIVE',
  containerDefinitions: [{ name: 'app', image: 'busybox', essential: true }],
  compatibilities: ['EC2', 'FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  registeredAt: T0 - 60_000,
  registeredBy: `arn:aws:iam::${SCOPE.account}:root`,
};

function createdTask(now: number): StampedTask {
  return newTask({
    scope: SCOPE,
    clusterName: 'times',
    clusterArn: CLUSTER_ARN,
    taskId: '0123456789abcdef0123456789abcdef',
    containerIds: ['5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d'],
    attachmentId: 'a1b2c3d4-0000-4000-8000-000000000001',
    now,
    taskDefinition: TASK_DEFINITION,
    target: { launchType: 'FARGATE' },
    group: 'family:web',
    tags: [],
  });
}

describe('updateTime', () => {
  const task = (changes: Partial<TaskRecord> = {}): TaskRecord => ({ ...createdTask(T0), ...changes });
  it.each([
    { name: 'a new task: the writer\'s now', previous: undefined, next: task(), now: T0, expected: T0 },
    { name: 'the clock moved on: now', previous: { updatedAt: T0 }, next: task(), now: T0 + 250, expected: T0 + 250 },
    { name: 'the same millisecond as the previous write: one after it', previous: { updatedAt: T0 + 5 }, next: task(), now: T0 + 5, expected: T0 + 6 },
    { name: 'a writer whose clock is behind: one after the previous write', previous: { updatedAt: T0 + 900 }, next: task(), now: T0 + 100, expected: T0 + 901 },
    { name: 'a previous record without updatedAt: now', previous: {}, next: task(), now: T0 + 1, expected: T0 + 1 },
    { name: 'an agent\'s time ahead of the control plane: that time', previous: { updatedAt: T0 }, next: task({ pullStartedAt: T0 + 700 }), now: T0 + 10, expected: T0 + 700 },
    { name: 'stoppedAt set with the same now: equal to it', previous: { updatedAt: T0 }, next: task({ stoppedAt: T0 + 40 }), now: T0 + 40, expected: T0 + 40 },
  ])('$name', ({ previous, next, now, expected }) => {
    expect(updateTime(previous, next, now)).toBe(expected);
  });

  it('stampTask changes nothing but updatedAt', () => {
    const before = createdTask(T0);
    const next = { ...before, lastStatus: 'PENDING' as const, version: 2 };
    expect(stampTask(before, next, T0 + 3)).toEqual({ ...next, updatedAt: T0 + 3 });
  });
});

describe('taskStateChangeEvent: times from the record', () => {
  it('two steps of one task 1 ms apart: different, ordered time and updatedAt, at millisecond precision', () => {
    const created = createdTask(T0 + 12);
    const step = decideEngineStep(created, T0 + 13, RETENTION) as Extract<EngineStep, { kind: 'advance' }>;
    const first = taskStateChangeEvent(created, CONTEXT, T0);
    const second = taskStateChangeEvent(step.task, CONTEXT, T0);
    expect([first.time, second.time]).toEqual(['2026-11-27T14:00:00.012Z', '2026-11-27T14:00:00.013Z']);
    expect([first.detail.updatedAt, second.detail.updatedAt]).toEqual([first.time, second.time]);
    expect(first.id).not.toBe(second.id);
  });

  it('a STOPPED event\'s updatedAt is not earlier than its stoppedAt (one now per write)', () => {
    const stopping = { ...createdTask(T0), lastStatus: 'DEPROVISIONING' as const, desiredStatus: 'STOPPED' as const, updatedAt: T0 + 100 };
    const step = decideEngineStep(stopping, T0 + 101, RETENTION) as Extract<EngineStep, { kind: 'advance' }>;
    const { detail } = taskStateChangeEvent(step.task, CONTEXT, T0);
    expect(detail.lastStatus).toBe('STOPPED');
    expect(detail.stoppedAt).toBe('2026-11-27T14:00:00.101Z');
    expect(detail.updatedAt).toBe(detail.stoppedAt);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: a task's whole life as the app layer writes it (RunTask, the engine, the agent,
// StopTask, tagging), each write by a writer whose clock may be ahead of or behind the others',
// every write stamped; ordered by version, updatedAt strictly increases and no event states a time
// later than its own updatedAt.
// ---------------------------------------------------------------------------------------------

type Writer = 'api' | 'engine' | 'agent';

const arbitraryClocks = fc.record({
  skew: fc.record({
    api: fc.integer({ min: -2_000, max: 2_000 }),
    engine: fc.integer({ min: -2_000, max: 2_000 }),
    agent: fc.integer({ min: -2_000, max: 2_000 }),
  }),
  /** Real time between consecutive writes: often under a millisecond, never above a second. */
  gaps: fc.array(fc.integer({ min: 0, max: 900 }), { minLength: 40, maxLength: 40 }),
  /** Tag writes (no event) slipped in after these steps. */
  tagAfter: fc.array(fc.nat(12), { maxLength: 4 }),
  stopBeforeRunning: fc.boolean(),
});

describe('property: one task\'s chain of versions', () => {
  it('updatedAt strictly increases with the version; time = updatedAt, ms precision; never before the event\'s own times', () => {
    fc.assert(
      fc.property(arbitraryClocks, ({ skew, gaps, tagAfter, stopBeforeRunning }) => {
        let real = T0;
        let gap = 0;
        const clock = (writer: Writer) => {
          real += gaps[gap++ % gaps.length];
          return real + skew[writer];
        };
        const chain: StampedTask[] = [createdTask(clock('api'))];
        const last = () => chain[chain.length - 1];
        const write = (writer: Writer, changes: Partial<TaskRecord>) => {
          const previous = last();
          chain.push(stampTask(previous, { ...previous, ...changes, version: previous.version + 1 }, clock(writer)));
        };
        const engine = () => {
          const step = decideEngineStep(last(), clock('engine'), RETENTION);
          if (!step) return false;
          if (step.kind === 'place') write('engine', { reservation: { containerInstanceArn: HOST_ARN, cpu: 256, memory: 512 } });
          else chain.push(step.releaseCapacity ? { ...step.task, reservation: undefined } : step.task);
          return true;
        };
        const agent = (status: 'ACTIVATING' | 'RUNNING' | 'STOPPED') => {
          // The agent reports its own times; the control plane's now stamps the rest.
          const agentNow = real + skew.agent;
          if (status === 'ACTIVATING') write('agent', { lastStatus: 'ACTIVATING', pullStartedAt: agentNow });
          if (status === 'RUNNING') {
            const now = clock('api');
            write('api', { lastStatus: 'RUNNING', pullStoppedAt: agentNow, startedAt: now, connectivity: 'CONNECTED', connectivityAt: now });
          }
          if (status === 'STOPPED') write('api', { executionStoppedAt: agentNow });
        };
        const stop = () => {
          const { changed: _changed, ...fields } = requestStop(last(), 'UserInitiated', 'Task stopped by user');
          write('api', fields);
        };
        const steps: (() => unknown)[] = [
          engine, // PROVISIONING -> PENDING
          engine, // placed
          ...(stopBeforeRunning
            ? [stop, engine]
            : [() => agent('ACTIVATING'), () => agent('RUNNING'), stop, engine, engine, () => agent('STOPPED'), engine, engine]),
        ];
        steps.forEach((step, index) => {
          step();
          for (const after of tagAfter) if (after === index) write('api', { tags: [...last().tags, { key: `k${index}`, value: 'v' }] });
        });
        expect(last().lastStatus).toBe('STOPPED');

        const events: EcsEvent[] = chain.map((task) => taskStateChangeEvent(task, CONTEXT, 0));
        for (let i = 1; i < chain.length; i++) {
          expect(chain[i].version).toBe(chain[i - 1].version + 1);
          expect(chain[i].updatedAt).toBeGreaterThan(chain[i - 1].updatedAt);
          expect(Date.parse(events[i].time)).toBeGreaterThan(Date.parse(events[i - 1].time));
        }
        for (const [i, event] of events.entries()) {
          expect(event.time).toMatch(ISO_MS);
          expect(event.detail.updatedAt).toBe(event.time);
          expect(Date.parse(event.time)).toBe(chain[i].updatedAt);
          for (const member of LIFECYCLE_TIMES) {
            const value = event.detail[member] as string | undefined;
            if (value !== undefined) expect(Date.parse(value), member).toBeLessThanOrEqual(chain[i].updatedAt);
          }
        }
        // What consumers receive: only status changes are events, and they stay ordered too.
        const published = chain.filter((task, i) => i === 0 || taskStatusChanged(chain[i - 1], task));
        const times = published.map((task) => task.updatedAt);
        expect([...times].sort((a, b) => a - b)).toEqual(times);
        expect(new Set(times).size).toBe(times.length);
      }),
      { numRuns: 300 },
    );
  });
});
