import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import ecsModel from '../../src/api/model/ecs-model.json';
import {
  type DesiredStatus,
  type TaskStatus,
  STOP_CODES,
  TASK_STATUSES,
  isActive,
  isLegalTransition,
  nextStatus,
  requestStop,
  statusOrder,
  taskCountBucket,
} from '../../src/domain/task-lifecycle';

// Rows: from; columns: to. X = legal, . = illegal (backwards, self, or a skip ECS does not make).
const EXPECTED_MATRIX = `
                 PROV  PEND  ACTI  RUNN  DEAC  STNG  DEPR  STPD  DELE
  PROVISIONING    .     X     .     .     .     .     .     X     .
  PENDING         .     .     X     .     .     .     .     X     .
  ACTIVATING      .     .     .     X     X     .     .     .     .
  RUNNING         .     .     .     .     X     .     .     .     .
  DEACTIVATING    .     .     .     .     .     X     .     .     .
  STOPPING        .     .     .     .     .     .     X     .     .
  DEPROVISIONING  .     .     .     .     .     .     .     X     .
  STOPPED         .     .     .     .     .     .     .     .     X
  DELETED         .     .     .     .     .     .     .     .     .
`;

const rows = EXPECTED_MATRIX.trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/));
const pairs = rows.flatMap(([from, ...marks]) =>
  marks.map((mark, i) => ({ from: from as TaskStatus, to: TASK_STATUSES[i], legal: mark === 'X' })),
);

/** Follows nextStatus until it returns undefined; the path includes the start. */
function walk(start: TaskStatus, desired: DesiredStatus): TaskStatus[] {
  const path = [start];
  for (let next = nextStatus(start, desired); next !== undefined; next = nextStatus(next, desired)) {
    path.push(next);
    if (path.length > TASK_STATUSES.length) throw new Error(`no termination: ${path.join(' -> ')}`);
  }
  return path;
}

describe('isLegalTransition', () => {
  it('has a full 9x9 expected matrix, rows in lifecycle order', () => {
    expect(rows.map(([from]) => from)).toEqual([...TASK_STATUSES]);
    for (const row of rows) expect(row).toHaveLength(10);
  });

  it.each(pairs)('$from -> $to is legal: $legal', ({ from, to, legal }) => {
    expect(isLegalTransition(from, to)).toBe(legal);
  });

  it('never goes backwards or stays put', () => {
    for (const { from, to, legal } of pairs) if (legal) expect(statusOrder(to)).toBeGreaterThan(statusOrder(from));
  });
});

describe('nextStatus', () => {
  it.each<{ name: string; start: TaskStatus; desired: DesiredStatus; path: TaskStatus[] }>([
    {
      name: 'batch task: PENDING -> RUNNING, every step walked',
      start: 'PENDING',
      desired: 'RUNNING',
      path: ['PENDING', 'ACTIVATING', 'RUNNING'],
    },
    {
      name: 'batch task: RUNNING -> STOPPED after its essential container exits',
      start: 'RUNNING',
      desired: 'STOPPED',
      path: ['RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'],
    },
    {
      name: 'awsvpc task starting from PROVISIONING',
      start: 'PROVISIONING',
      desired: 'RUNNING',
      path: ['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING'],
    },
    { name: 'stop during PROVISIONING: straight to STOPPED', start: 'PROVISIONING', desired: 'STOPPED', path: ['PROVISIONING', 'STOPPED'] },
    { name: 'stop during PENDING (failed to start): straight to STOPPED', start: 'PENDING', desired: 'STOPPED', path: ['PENDING', 'STOPPED'] },
    {
      name: 'stop during ACTIVATING: full stop path',
      start: 'ACTIVATING',
      desired: 'STOPPED',
      path: ['ACTIVATING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'],
    },
    { name: 'stop during DEACTIVATING continues', start: 'DEACTIVATING', desired: 'STOPPED', path: ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'] },
    { name: 'stop during STOPPING continues', start: 'STOPPING', desired: 'STOPPED', path: ['STOPPING', 'DEPROVISIONING', 'STOPPED'] },
    { name: 'stop during DEPROVISIONING continues', start: 'DEPROVISIONING', desired: 'STOPPED', path: ['DEPROVISIONING', 'STOPPED'] },
    { name: 'a stop in progress finishes even if desired says RUNNING', start: 'STOPPING', desired: 'RUNNING', path: ['STOPPING', 'DEPROVISIONING', 'STOPPED'] },
    { name: 'RUNNING with desired RUNNING stays', start: 'RUNNING', desired: 'RUNNING', path: ['RUNNING'] },
    { name: 'STOPPED stays STOPPED (DELETED is a retention decision)', start: 'STOPPED', desired: 'STOPPED', path: ['STOPPED'] },
    { name: 'STOPPED never restarts', start: 'STOPPED', desired: 'RUNNING', path: ['STOPPED'] },
    { name: 'DELETED is final', start: 'DELETED', desired: 'STOPPED', path: ['DELETED'] },
  ])('$name', ({ start, desired, path }) => {
    expect(walk(start, desired)).toEqual(path);
  });

  it('terminates in RUNNING or STOPPED via legal transitions only, from any status', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TASK_STATUSES),
        fc.constantFrom<DesiredStatus>('RUNNING', 'STOPPED'),
        (start, desired) => {
          const path = walk(start, desired);
          for (let i = 1; i < path.length; i++) expect(isLegalTransition(path[i - 1], path[i])).toBe(true);
          const expectedEnd =
            start === 'DELETED'
              ? 'DELETED'
              : desired === 'RUNNING' && statusOrder(start) <= statusOrder('RUNNING')
                ? 'RUNNING'
                : 'STOPPED';
          expect(path.at(-1)).toBe(expectedEnd);
        },
      ),
    );
  });

  it('a stop can interrupt a start at any point and still ends STOPPED legally', () => {
    fc.assert(
      fc.property(fc.nat(3), (startSteps) => {
        const started = walk('PROVISIONING', 'RUNNING').slice(0, startSteps + 1);
        const stopped = walk(started.at(-1)!, 'STOPPED');
        const path = [...started, ...stopped.slice(1)];
        for (let i = 1; i < path.length; i++) expect(isLegalTransition(path[i - 1], path[i])).toBe(true);
        expect(path.at(-1)).toBe('STOPPED');
      }),
    );
  });
});

describe('statusOrder, isActive, taskCountBucket', () => {
  it('orders statuses as listed', () => {
    expect(TASK_STATUSES.map(statusOrder)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it.each<{ status: TaskStatus; active: boolean; bucket: 'pending' | 'running' | undefined }>([
    { status: 'PROVISIONING', active: true, bucket: 'pending' },
    { status: 'PENDING', active: true, bucket: 'pending' },
    { status: 'ACTIVATING', active: true, bucket: 'pending' },
    { status: 'RUNNING', active: true, bucket: 'running' },
    { status: 'DEACTIVATING', active: true, bucket: 'running' },
    { status: 'STOPPING', active: true, bucket: 'running' },
    { status: 'DEPROVISIONING', active: true, bucket: 'running' },
    { status: 'STOPPED', active: false, bucket: undefined },
    { status: 'DELETED', active: false, bucket: undefined },
  ])('$status: active $active, counts as $bucket', ({ status, active, bucket }) => {
    expect(isActive(status)).toBe(active);
    expect(taskCountBucket(status)).toBe(bucket);
  });
});

describe('STOP_CODES', () => {
  it('matches the TaskStopCode enum of the ECS model', () => {
    const shapes = (ecsModel as { shapes: Record<string, { enum?: string[] }> }).shapes;
    expect([...STOP_CODES]).toEqual(shapes.TaskStopCode.enum);
  });
});

describe('requestStop', () => {
  it.each([
    {
      name: 'first stop of a running task sets everything',
      task: { lastStatus: 'RUNNING' as const, desiredStatus: 'RUNNING' as const },
      expected: { desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'by user', changed: true },
    },
    {
      name: 'stop of a pending task',
      task: { lastStatus: 'PENDING' as const, desiredStatus: 'RUNNING' as const },
      expected: { desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'by user', changed: true },
    },
    {
      name: 'already stopping: the first stopCode and reason win',
      task: {
        lastStatus: 'RUNNING' as const,
        desiredStatus: 'STOPPED' as const,
        stopCode: 'SpotInterruption' as const,
        stoppedReason: 'Your Spot Task was interrupted.',
      },
      expected: {
        desiredStatus: 'STOPPED',
        stopCode: 'SpotInterruption',
        stoppedReason: 'Your Spot Task was interrupted.',
        changed: false,
      },
    },
    {
      name: 'already STOPPED: nothing changes',
      task: {
        lastStatus: 'STOPPED' as const,
        desiredStatus: 'STOPPED' as const,
        stopCode: 'EssentialContainerExited' as const,
        stoppedReason: 'Essential container in task exited',
      },
      expected: {
        desiredStatus: 'STOPPED',
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        changed: false,
      },
    },
    {
      name: 'already stopping without a stopCode: only the missing field is filled',
      task: { lastStatus: 'STOPPING' as const, desiredStatus: 'STOPPED' as const, stoppedReason: 'scaled in' },
      expected: { desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'scaled in', changed: true },
    },
  ])('$name', ({ task, expected }) => {
    expect(requestStop(task, 'UserInitiated', 'by user')).toEqual(expected);
  });

  it('is idempotent: applying the result again changes nothing', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TASK_STATUSES),
        fc.constantFrom<DesiredStatus>('RUNNING', 'STOPPED'),
        fc.constantFrom(...STOP_CODES),
        fc.string(),
        (lastStatus, desiredStatus, code, reason) => {
          const once = requestStop({ lastStatus, desiredStatus }, code, reason);
          const twice = requestStop({ lastStatus, ...once }, 'UserInitiated', 'again');
          expect(twice).toEqual({ ...once, changed: false });
        },
      ),
    );
  });
});
