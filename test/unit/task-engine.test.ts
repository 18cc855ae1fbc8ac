/**
 * The control plane's half of the task lifecycle (src/domain/task-engine.ts): one row per
 * (lastStatus, desiredStatus, placed?, executionStoppedAt?) combination that changes the decision,
 * and a property that drives any task state with engine steps interleaved with the agent's moves.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { TaskRecord } from '../../src/domain/records';
import { decideEngineStep, visibleStatus, type EngineStep } from '../../src/domain/task-engine';
import {
  type DesiredStatus,
  type StopCode,
  type TaskStatus,
  STOP_CODES,
  TASK_STATUSES,
  isLegalTransition,
  requestStop,
  statusOrder,
} from '../../src/domain/task-lifecycle';

const NOW = 1_700_000_000_000;
const RETENTION = 60 * 60 * 1000;
const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/default';
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef';
const HOST_ARN = 'arn:aws:ecs:us-east-1:123456789012:container-instance/berth-fargate-pool/fedcba9876543210fedcba9876543210';
const RESERVATION = { containerInstanceArn: HOST_ARN, cpu: 256, memory: 512 };
const EARLIER = NOW - 30_000;

function baseTask(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    taskArn: TASK_ARN,
    clusterArn: CLUSTER_ARN,
    taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1',
    lastStatus: 'PROVISIONING',
    desiredStatus: 'RUNNING',
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    group: 'family:web',
    cpu: '256',
    memory: '512',
    containers: [
      {
        containerArn: `${CLUSTER_ARN.replace(':cluster/', ':container/')}/0123456789abcdef0123456789abcdef/c1`,
        taskArn: TASK_ARN,
        name: 'app',
        image: 'nginx',
        lastStatus: 'PENDING',
        networkInterfaces: [],
        cpu: '0',
      },
      {
        containerArn: `${CLUSTER_ARN.replace(':cluster/', ':container/')}/0123456789abcdef0123456789abcdef/c2`,
        taskArn: TASK_ARN,
        name: 'sidecar',
        image: 'busybox',
        lastStatus: 'RUNNING',
        networkInterfaces: [],
        cpu: '0',
      },
    ],
    overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [] },
    attachments: [{ id: 'eni-attachment', type: 'ElasticNetworkInterface', status: 'PRECREATED', details: [] }],
    enableExecuteCommand: false,
    healthStatus: 'UNKNOWN',
    tags: [],
    createdAt: NOW - 60_000,
    version: 7,
    ...overrides,
  };
}

const withAttachmentStatus = (task: TaskRecord, status: string) =>
  (task.attachments as Record<string, unknown>[]).map((a) => ({ ...a, status }));

/** The fields the final STOPPED step sets, given the task it starts from. */
function stoppedFields(from: TaskRecord): Partial<TaskRecord> {
  return {
    stoppedAt: NOW,
    executionStoppedAt: from.executionStoppedAt ?? NOW,
    stoppingAt: from.stoppingAt ?? NOW,
    stopCode: from.stopCode ?? 'TaskFailedToStart',
    stoppedReason: from.stoppedReason ?? 'Task stopped before it started.',
    containers: from.containers.map((c) => ({ ...c, lastStatus: 'STOPPED' })),
    connectivity: undefined,
    expiresAt: NOW + RETENTION,
    attachments: withAttachmentStatus(from, 'DELETED'),
  };
}

type Expected =
  | { kind: 'none' }
  | { kind: 'place' }
  | { kind: 'advance'; to: TaskStatus; releaseCapacity: boolean; sets: (from: TaskRecord) => Partial<TaskRecord>; placeAlong?: boolean };

interface Row {
  name: string;
  lastStatus: TaskStatus;
  desiredStatus: DesiredStatus;
  placed: boolean;
  executionStopped: boolean;
  extra?: Partial<TaskRecord>;
  expected: Expected;
}

const NONE: Expected = { kind: 'none' };
const toStopped = (releaseCapacity: boolean): Expected => ({ kind: 'advance', to: 'STOPPED', releaseCapacity, sets: stoppedFields });

const ROWS: Row[] = [
  // PROVISIONING
  {
    name: 'PROVISIONING, desired RUNNING, no host: network attachment ready -> PENDING, placed in the same write if there is room',
    lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', placed: false, executionStopped: false,
    expected: { kind: 'advance', to: 'PENDING', releaseCapacity: false, sets: (t) => ({ attachments: withAttachmentStatus(t, 'ATTACHED') }), placeAlong: true },
  },
  {
    name: 'PROVISIONING, desired RUNNING, placed at birth (EC2): network attachment ready -> PENDING, nothing to place',
    lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', placed: true, executionStopped: false,
    expected: { kind: 'advance', to: 'PENDING', releaseCapacity: false, sets: (t) => ({ attachments: withAttachmentStatus(t, 'ATTACHED') }) },
  },
  {
    name: 'PROVISIONING, desired STOPPED, never placed: straight to STOPPED, nothing to release',
    lastStatus: 'PROVISIONING', desiredStatus: 'STOPPED', placed: false, executionStopped: false,
    expected: toStopped(false),
  },
  {
    name: 'PROVISIONING, desired STOPPED, holding a reservation: STOPPED and the capacity goes back',
    lastStatus: 'PROVISIONING', desiredStatus: 'STOPPED', placed: true, executionStopped: false,
    expected: toStopped(true),
  },
  // PENDING
  {
    name: 'PENDING, desired RUNNING, no host: place',
    lastStatus: 'PENDING', desiredStatus: 'RUNNING', placed: false, executionStopped: false,
    expected: { kind: 'place' },
  },
  {
    name: 'PENDING, desired RUNNING, placed: the agent moves it next, nothing to do',
    lastStatus: 'PENDING', desiredStatus: 'RUNNING', placed: true, executionStopped: false,
    expected: NONE,
  },
  {
    name: 'PENDING, desired STOPPED, never placed: STOPPED with the default stop code',
    lastStatus: 'PENDING', desiredStatus: 'STOPPED', placed: false, executionStopped: false,
    expected: toStopped(false),
  },
  {
    name: 'PENDING, desired STOPPED, placed: STOPPED, capacity released',
    lastStatus: 'PENDING', desiredStatus: 'STOPPED', placed: true, executionStopped: false,
    expected: toStopped(true),
  },
  {
    name: 'PENDING, desired STOPPED, placed, agent reported the exit: executionStoppedAt kept',
    lastStatus: 'PENDING', desiredStatus: 'STOPPED', placed: true, executionStopped: true,
    extra: { stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: pull access denied' },
    expected: toStopped(true),
  },
  {
    name: 'PENDING, desired STOPPED by the user: stopCode and reason kept, not defaulted',
    lastStatus: 'PENDING', desiredStatus: 'STOPPED', placed: false, executionStopped: false,
    extra: { stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' },
    expected: toStopped(false),
  },
  // ACTIVATING / RUNNING
  {
    name: 'ACTIVATING, desired RUNNING: the agent finishes the start, nothing to do',
    lastStatus: 'ACTIVATING', desiredStatus: 'RUNNING', placed: true, executionStopped: false,
    expected: NONE,
  },
  {
    name: 'ACTIVATING, desired STOPPED: the full stop path starts (DEACTIVATING)',
    lastStatus: 'ACTIVATING', desiredStatus: 'STOPPED', placed: true, executionStopped: false,
    expected: { kind: 'advance', to: 'DEACTIVATING', releaseCapacity: false, sets: () => ({}) },
  },
  {
    name: 'RUNNING, desired RUNNING: steady, nothing to do',
    lastStatus: 'RUNNING', desiredStatus: 'RUNNING', placed: true, executionStopped: false,
    expected: NONE,
  },
  {
    name: 'RUNNING, desired RUNNING, exit already reported: still waits for desired STOPPED',
    lastStatus: 'RUNNING', desiredStatus: 'RUNNING', placed: true, executionStopped: true,
    expected: NONE,
  },
  {
    name: 'RUNNING, desired STOPPED: DEACTIVATING, nothing released yet',
    lastStatus: 'RUNNING', desiredStatus: 'STOPPED', placed: true, executionStopped: false,
    extra: { stopCode: 'UserInitiated', stoppedReason: 'bye' },
    expected: { kind: 'advance', to: 'DEACTIVATING', releaseCapacity: false, sets: () => ({}) },
  },
  {
    name: 'RUNNING, desired STOPPED, containers already exited: still DEACTIVATING first (no skips)',
    lastStatus: 'RUNNING', desiredStatus: 'STOPPED', placed: true, executionStopped: true,
    extra: { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' },
    expected: { kind: 'advance', to: 'DEACTIVATING', releaseCapacity: false, sets: () => ({}) },
  },
  // DEACTIVATING
  {
    name: 'DEACTIVATING: STOPPING, stoppingAt set now',
    lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', placed: true, executionStopped: false,
    expected: { kind: 'advance', to: 'STOPPING', releaseCapacity: false, sets: () => ({ stoppingAt: NOW }) },
  },
  {
    name: 'DEACTIVATING with stoppingAt already set: kept',
    lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', placed: true, executionStopped: false,
    extra: { stoppingAt: EARLIER },
    expected: { kind: 'advance', to: 'STOPPING', releaseCapacity: false, sets: () => ({ stoppingAt: EARLIER }) },
  },
  {
    name: 'DEACTIVATING, containers already exited: STOPPING (agent report does not skip it)',
    lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', placed: true, executionStopped: true,
    expected: { kind: 'advance', to: 'STOPPING', releaseCapacity: false, sets: () => ({ stoppingAt: NOW }) },
  },
  // STOPPING
  {
    name: 'STOPPING, agent has not reported the exit: wait',
    lastStatus: 'STOPPING', desiredStatus: 'STOPPED', placed: true, executionStopped: false,
    extra: { stoppingAt: EARLIER },
    expected: NONE,
  },
  {
    name: 'STOPPING, exit reported: DEPROVISIONING, network interface detached',
    lastStatus: 'STOPPING', desiredStatus: 'STOPPED', placed: true, executionStopped: true,
    extra: { stoppingAt: EARLIER },
    expected: { kind: 'advance', to: 'DEPROVISIONING', releaseCapacity: false, sets: (t) => ({ attachments: withAttachmentStatus(t, 'DELETED') }) },
  },
  {
    name: 'STOPPING without a host, exit reported: DEPROVISIONING all the same',
    lastStatus: 'STOPPING', desiredStatus: 'STOPPED', placed: false, executionStopped: true,
    expected: { kind: 'advance', to: 'DEPROVISIONING', releaseCapacity: false, sets: (t) => ({ attachments: withAttachmentStatus(t, 'DELETED') }) },
  },
  // DEPROVISIONING
  {
    name: 'DEPROVISIONING, placed: STOPPED, capacity released',
    lastStatus: 'DEPROVISIONING', desiredStatus: 'STOPPED', placed: true, executionStopped: true,
    extra: { stoppingAt: EARLIER, stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' },
    expected: toStopped(true),
  },
  {
    name: 'DEPROVISIONING, no host: STOPPED, nothing to release',
    lastStatus: 'DEPROVISIONING', desiredStatus: 'STOPPED', placed: false, executionStopped: true,
    extra: { stoppingAt: EARLIER, stopCode: 'UserInitiated', stoppedReason: 'bye' },
    expected: toStopped(false),
  },
  {
    name: 'DEPROVISIONING without a stop code: defaults to TaskFailedToStart',
    lastStatus: 'DEPROVISIONING', desiredStatus: 'STOPPED', placed: true, executionStopped: true,
    expected: toStopped(true),
  },
  // STOPPED / DELETED
  {
    name: 'STOPPED: final, nothing to do',
    lastStatus: 'STOPPED', desiredStatus: 'STOPPED', placed: false, executionStopped: true,
    extra: { stoppedAt: EARLIER, expiresAt: EARLIER + RETENTION },
    expected: NONE,
  },
  {
    name: 'STOPPED past its retention: DELETED is the caller\'s decision, not a step',
    lastStatus: 'STOPPED', desiredStatus: 'STOPPED', placed: false, executionStopped: true,
    extra: { stoppedAt: NOW - 2 * RETENTION, expiresAt: NOW - RETENTION },
    expected: NONE,
  },
  {
    name: 'DELETED: final',
    lastStatus: 'DELETED', desiredStatus: 'STOPPED', placed: false, executionStopped: true,
    expected: NONE,
  },
];

function rowTask(row: Row): TaskRecord {
  return baseTask({
    lastStatus: row.lastStatus,
    desiredStatus: row.desiredStatus,
    ...(row.placed ? { reservation: { ...RESERVATION } } : {}),
    ...(row.executionStopped ? { executionStoppedAt: EARLIER + 1_000 } : {}),
    ...row.extra,
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

describe('decideEngineStep', () => {
  it.each(ROWS)('$name', (row) => {
    const task = rowTask(row);
    const before = structuredClone(task);
    const step = decideEngineStep(deepFreeze(task), NOW, RETENTION);
    expect(task).toEqual(before);
    switch (row.expected.kind) {
      case 'none':
        expect(step).toBeUndefined();
        break;
      case 'place':
        expect(step).toEqual({ kind: 'place' });
        break;
      case 'advance': {
        expect(step?.kind).toBe('advance');
        const advanced = step as Extract<EngineStep, { kind: 'advance' }>;
        expect(isLegalTransition(task.lastStatus, row.expected.to)).toBe(true);
        expect(advanced.releaseCapacity).toBe(row.expected.releaseCapacity);
        expect(advanced.placeAlong ?? false).toBe(row.expected.placeAlong ?? false);
        // Exactly these fields change (and the write's time); everything else (reservation included:
        // changeFor drops it) is kept.
        expect(advanced.task).toEqual({
          ...before,
          ...row.expected.sets(before),
          lastStatus: row.expected.to,
          version: before.version + 1,
          updatedAt: NOW,
        });
        break;
      }
    }
  });

  it('covers every lastStatus with at least one row', () => {
    expect(new Set(ROWS.map((r) => r.lastStatus))).toEqual(new Set(TASK_STATUSES));
  });

  it.each([
    { name: 'engine stop of an unstarted task', from: baseTask({ lastStatus: 'PENDING', desiredStatus: 'STOPPED' }) },
    {
      name: 'engine stop after the full path',
      from: baseTask({ lastStatus: 'DEPROVISIONING', desiredStatus: 'STOPPED', stoppingAt: EARLIER, executionStoppedAt: EARLIER, stopCode: 'UserInitiated', stoppedReason: 'bye', connectivity: 'CONNECTED', connectivityAt: EARLIER }),
    },
  ])('STOPPED step ($name): timestamps, containers, connectivity and retention', ({ from }) => {
    const step = decideEngineStep(from, NOW, RETENTION) as Extract<EngineStep, { kind: 'advance' }>;
    const stopped = step.task;
    expect(stopped.lastStatus).toBe('STOPPED');
    expect(stopped.stoppedAt).toBe(NOW);
    expect(stopped.stoppingAt).toBeLessThanOrEqual(stopped.stoppedAt!);
    expect(stopped.executionStoppedAt).toBeLessThanOrEqual(stopped.stoppedAt!);
    expect(stopped.expiresAt).toBe(NOW + RETENTION);
    expect(stopped.containers.every((c) => c.lastStatus === 'STOPPED')).toBe(true);
    expect(stopped.connectivity).toBeUndefined();
    expect(STOP_CODES).toContain(stopped.stopCode);
    expect(stopped.stoppedReason).toBeTruthy();
    expect((stopped.attachments as { status: string }[]).every((a) => a.status === 'DELETED')).toBe(true);
    expect(visibleStatus(stopped, NOW)).toBe('STOPPED');
    expect(visibleStatus(stopped, NOW + RETENTION)).toBe('DELETED');
  });

  it('a task without attachments (bridge/host networking) steps the same way', () => {
    const step = decideEngineStep(baseTask({ attachments: [] }), NOW, RETENTION) as Extract<EngineStep, { kind: 'advance' }>;
    expect(step.task.lastStatus).toBe('PENDING');
    expect(step.task.attachments).toEqual([]);
  });

  it('is deterministic: same task and clock, same step', () => {
    for (const row of ROWS) {
      expect(decideEngineStep(rowTask(row), NOW, RETENTION)).toEqual(decideEngineStep(rowTask(row), NOW, RETENTION));
    }
  });
});

describe('visibleStatus', () => {
  it.each<{ name: string; lastStatus: TaskStatus; expiresAt?: number; now: number; expected: TaskStatus }>([
    { name: 'STOPPED without a retention end stays STOPPED', lastStatus: 'STOPPED', now: NOW, expected: 'STOPPED' },
    { name: 'STOPPED before the retention ends', lastStatus: 'STOPPED', expiresAt: NOW + 1, now: NOW, expected: 'STOPPED' },
    { name: 'STOPPED exactly when the retention ends: DELETED', lastStatus: 'STOPPED', expiresAt: NOW, now: NOW, expected: 'DELETED' },
    { name: 'STOPPED after the retention ends: DELETED', lastStatus: 'STOPPED', expiresAt: NOW - RETENTION, now: NOW, expected: 'DELETED' },
    { name: 'RUNNING ignores expiresAt', lastStatus: 'RUNNING', expiresAt: NOW - 1, now: NOW, expected: 'RUNNING' },
    { name: 'PENDING shown as is', lastStatus: 'PENDING', now: NOW, expected: 'PENDING' },
    { name: 'DEPROVISIONING shown as is', lastStatus: 'DEPROVISIONING', expiresAt: NOW - 1, now: NOW, expected: 'DEPROVISIONING' },
    { name: 'DELETED stays DELETED', lastStatus: 'DELETED', now: NOW, expected: 'DELETED' },
  ])('$name', ({ lastStatus, expiresAt, now, expected }) => {
    expect(visibleStatus({ lastStatus, expiresAt }, now)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: engine steps interleaved with the agent's moves and a stop request.
// ---------------------------------------------------------------------------------------------

type Actor = 'engine' | 'agent-activate' | 'agent-run' | 'agent-exit' | 'agent-crash' | 'stop';

interface World {
  task: TaskRecord;
  now: number;
  /** Whether placement would find a host right now. */
  capacity: boolean;
  reservations: number;
  releases: number;
  stopRequested: boolean;
}

/** The moves possible now; each one is a conditional write of the whole task (version + 1). */
function enabled(world: World, allowStop: boolean): Actor[] {
  const { task } = world;
  const moves: Actor[] = [];
  const step = decideEngineStep(task, world.now, RETENTION);
  if (step && (step.kind === 'advance' || world.capacity)) moves.push('engine');
  if (task.desiredStatus === 'RUNNING') {
    if (task.lastStatus === 'PENDING' && task.reservation) moves.push('agent-activate');
    if (task.lastStatus === 'ACTIVATING') moves.push('agent-run');
    if ((task.lastStatus === 'ACTIVATING' || task.lastStatus === 'RUNNING') && task.executionStoppedAt === undefined) moves.push('agent-crash');
    if (allowStop) moves.push('stop');
  }
  if (task.lastStatus === 'STOPPING' && task.executionStoppedAt === undefined) moves.push('agent-exit');
  return moves;
}

/** Applies one move as the app layer would write it; returns the new task. */
function apply(world: World, actor: Actor): TaskRecord {
  const { task, now } = world;
  const write = (changes: Partial<TaskRecord>): TaskRecord => ({ ...task, ...changes, version: task.version + 1 });
  switch (actor) {
    case 'engine': {
      const step = decideEngineStep(task, now, RETENTION)!;
      if (step.kind === 'place') {
        world.reservations++;
        return write({ reservation: { ...RESERVATION }, availabilityZone: 'us-east-1a' });
      }
      expect(step.task.version).toBe(task.version + 1);
      expect(step.releaseCapacity).toBe(step.task.lastStatus === 'STOPPED' && task.reservation !== undefined);
      if (step.releaseCapacity) {
        world.releases++;
        return { ...step.task, reservation: undefined };
      }
      return step.task;
    }
    case 'agent-activate':
      return write({ lastStatus: 'ACTIVATING', pullStartedAt: now });
    case 'agent-run':
      return write({ lastStatus: 'RUNNING', pullStoppedAt: now, startedAt: now, connectivity: 'CONNECTED', connectivityAt: now });
    case 'agent-exit':
      return write({ executionStoppedAt: now });
    case 'agent-crash': {
      const neverRan = task.lastStatus !== 'RUNNING';
      const stop = requestStop(task, neverRan ? 'TaskFailedToStart' : 'EssentialContainerExited', 'exited');
      return write({ executionStoppedAt: now, desiredStatus: stop.desiredStatus, stopCode: stop.stopCode, stoppedReason: stop.stoppedReason });
    }
    case 'stop': {
      world.stopRequested = true;
      const { changed: _changed, ...fields } = requestStop(task, 'UserInitiated', 'Task stopped by user');
      return write(fields);
    }
  }
}

const arbitraryTask = fc
  .record({
    lastStatus: fc.constantFrom<TaskStatus>(...TASK_STATUSES.filter((s) => s !== 'DELETED')),
    wantsRunning: fc.boolean(),
    placed: fc.boolean(),
    executionStopped: fc.boolean(),
    stoppingAt: fc.option(fc.integer({ min: NOW - 100_000, max: NOW - 10_000 }), { nil: undefined }),
    stopCode: fc.option(fc.constantFrom<StopCode>(...STOP_CODES), { nil: undefined }),
    version: fc.integer({ min: 1, max: 1_000_000 }),
    attachments: fc.boolean(),
  })
  .map(({ lastStatus, wantsRunning, placed, executionStopped, stoppingAt, stopCode, version, attachments }) => {
    // Past RUNNING a task only ever moves with desiredStatus STOPPED; a STOPPED task holds nothing.
    const desiredStatus: DesiredStatus = wantsRunning && statusOrder(lastStatus) <= statusOrder('RUNNING') ? 'RUNNING' : 'STOPPED';
    // A STOPPED task is what the engine's last step made of a DEPROVISIONING one.
    const stopped = lastStatus === 'STOPPED';
    const task = baseTask({
      lastStatus: stopped ? 'DEPROVISIONING' : lastStatus,
      desiredStatus,
      version,
      ...(placed && !stopped ? { reservation: { ...RESERVATION } } : {}),
      ...(executionStopped || stopped ? { executionStoppedAt: NOW - 5_000 } : {}),
      ...(statusOrder(lastStatus) > statusOrder('DEACTIVATING') && stoppingAt !== undefined ? { stoppingAt } : {}),
      ...(desiredStatus === 'STOPPED' && stopCode ? { stopCode, stoppedReason: `stopped: ${stopCode}` } : {}),
      ...(attachments ? {} : { attachments: [] }),
    });
    if (!stopped) return task;
    const step = decideEngineStep(task, NOW - 1_000, RETENTION) as Extract<EngineStep, { kind: 'advance' }>;
    return step.task;
  });

describe('engine + agent, property', () => {
  it('from any state, desired STOPPED always reaches STOPPED via legal, version+1 writes, releasing capacity exactly once', () => {
    fc.assert(
      fc.property(
        arbitraryTask,
        fc.array(fc.nat(), { minLength: 80, maxLength: 80 }),
        fc.nat(20),
        fc.nat(40),
        (initial, choices, capacityAfter, stopAfter) => {
          const world: World = {
            task: initial,
            now: NOW,
            capacity: false,
            reservations: initial.reservation ? 1 : 0,
            releases: 0,
            stopRequested: false,
          };
          const statuses: TaskStatus[] = [initial.lastStatus];
          let writes = 0;
          for (let i = 0; i < choices.length; i++) {
            world.now += 1_000;
            world.capacity = i >= capacityAfter;
            let moves = enabled(world, i >= stopAfter);
            // A task left alone with desired RUNNING and nothing to do gets stopped by its user.
            if (moves.length === 0 && world.task.desiredStatus === 'RUNNING' && world.task.lastStatus !== 'STOPPED') moves = ['stop'];
            if (moves.length === 0) break;
            const before = world.task;
            const after = apply(world, moves[choices[i] % moves.length]);
            writes++;
            expect(after.version).toBe(before.version + 1);
            if (after.lastStatus !== before.lastStatus) {
              expect(isLegalTransition(before.lastStatus, after.lastStatus), `${before.lastStatus} -> ${after.lastStatus}`).toBe(true);
              statuses.push(after.lastStatus);
            }
            // The first stop wins: once desired STOPPED, it never returns to RUNNING.
            if (before.desiredStatus === 'STOPPED') expect(after.desiredStatus).toBe('STOPPED');
            world.task = after;
          }
          const final = world.task;
          // Enough moves were offered for any path; a task whose desired status is STOPPED is STOPPED.
          expect(final.desiredStatus).toBe('STOPPED');
          expect(final.lastStatus, statuses.join(' -> ')).toBe('STOPPED');
          expect(decideEngineStep(final, world.now, RETENTION)).toBeUndefined();
          expect(final.reservation).toBeUndefined();
          expect(world.releases).toBe(world.reservations);
          expect(final.version).toBe(initial.version + writes);
          expect(final.stoppedAt).toBeDefined();
          expect(final.stoppingAt).toBeDefined();
          expect(final.executionStoppedAt).toBeDefined();
          expect(final.stoppingAt!).toBeLessThanOrEqual(final.stoppedAt!);
          expect(final.executionStoppedAt!).toBeLessThanOrEqual(final.stoppedAt!);
          expect(STOP_CODES).toContain(final.stopCode);
          expect(final.containers.every((c) => c.lastStatus === 'STOPPED')).toBe(true);
          expect(final.expiresAt).toBe(final.stoppedAt! + RETENTION);
          expect(visibleStatus(final, final.expiresAt!)).toBe('DELETED');
          // Statuses only move forward.
          for (let i = 1; i < statuses.length; i++) expect(statusOrder(statuses[i])).toBeGreaterThan(statusOrder(statuses[i - 1]));
          // A task that ran took the full stop path.
          if (statuses.includes('RUNNING') || statuses.includes('ACTIVATING')) {
            expect(statuses.slice(-4)).toEqual(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('without a stop, a new task with capacity reaches RUNNING and stays there', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 30, maxLength: 30 }), fc.nat(10), (choices, capacityAfter) => {
        const world: World = { task: baseTask(), now: NOW, capacity: false, reservations: 0, releases: 0, stopRequested: false };
        const path: TaskStatus[] = ['PROVISIONING'];
        for (let i = 0; i < choices.length; i++) {
          world.now += 1_000;
          world.capacity = i >= capacityAfter;
          const moves = enabled(world, false).filter((m) => m !== 'agent-crash');
          if (moves.length === 0) continue;
          const before = world.task;
          world.task = apply(world, moves[choices[i] % moves.length]);
          expect(world.task.version).toBe(before.version + 1);
          if (world.task.lastStatus !== before.lastStatus) path.push(world.task.lastStatus);
        }
        expect(path).toEqual(['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING']);
        expect(world.task.reservation).toEqual(RESERVATION);
        expect(world.task.version).toBe(7 + 4); // PENDING, placed, ACTIVATING, RUNNING: one write each
        expect(decideEngineStep(world.task, world.now, RETENTION)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it('never throws and only proposes legal next statuses, for every status x desired x placed x exited', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<TaskStatus>(...TASK_STATUSES),
        fc.constantFrom<DesiredStatus>('RUNNING', 'STOPPED'),
        fc.boolean(),
        fc.boolean(),
        (lastStatus, desiredStatus, placed, exited) => {
          const task = baseTask({
            lastStatus,
            desiredStatus,
            ...(placed ? { reservation: { ...RESERVATION } } : {}),
            ...(exited ? { executionStoppedAt: EARLIER } : {}),
          });
          const step = decideEngineStep(task, NOW, RETENTION);
          if (step?.kind === 'advance') {
            expect(isLegalTransition(lastStatus, step.task.lastStatus)).toBe(true);
            expect(step.task.version).toBe(task.version + 1);
            expect(step.releaseCapacity).toBe(step.task.lastStatus === 'STOPPED' && placed);
            // The engine never decides desiredStatus; requests do.
            expect(step.task.desiredStatus).toBe(desiredStatus);
          }
          if (step?.kind === 'place') expect([lastStatus, desiredStatus, placed]).toEqual(['PENDING', 'RUNNING', false]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
