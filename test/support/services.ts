/**
 * Builders for the service domain (aService, aDeployment, aTask), one shared plan assertion
 * (expectPlan), deepFreeze, and a small simulated world that applies a Plan and moves tasks along the
 * way the engine and agents would, for scenario and property tests of the reconciler.
 */
import { expect } from 'vitest';
import type { TaskRecord } from '../../src/domain/records';
import {
  INITIAL_CIRCUIT_BREAKER,
  serviceGroup,
  type DeploymentCircuitBreaker,
  type DeploymentRecord,
  type ServiceRecord,
} from '../../src/domain/service';
import type { Plan, StopRule } from '../../src/domain/service-plan';

export const NOW = 1_700_000_000_000;
export const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/default';
export const TD1 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1';
export const TD2 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:2';
export const OLD = 'ecs-svc/1000000000000000001';
export const NEW = 'ecs-svc/2000000000000000002';
export const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'] as const;

export function aService(overrides: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/default/web',
    serviceName: 'web',
    clusterArn: CLUSTER_ARN,
    status: 'ACTIVE',
    desiredCount: 4,
    taskDefinition: TD2,
    launchType: 'FARGATE',
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: 'ECS' },
    deploymentConfiguration: {
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      deploymentCircuitBreaker: { enable: false, rollback: false },
    },
    healthCheckGracePeriodSeconds: 0,
    propagateTags: 'NONE',
    enableECSManagedTags: false,
    enableExecuteCommand: false,
    tags: [],
    createdAt: NOW - 3_600_000,
    version: 1,
    ...overrides,
  };
}

/** With rolling bounds and breaker in one go: aService(rolling(50, 200)). */
export const rolling = (minimumHealthyPercent: number, maximumPercent: number, desiredCount = 4, breaker: DeploymentCircuitBreaker = { enable: false, rollback: false }) =>
  ({ desiredCount, deploymentConfiguration: { minimumHealthyPercent, maximumPercent, deploymentCircuitBreaker: breaker } });

export function aDeployment(overrides: Partial<DeploymentRecord> = {}): DeploymentRecord {
  const id = overrides.id ?? NEW;
  return {
    id,
    status: 'PRIMARY',
    taskDefinition: id === OLD ? TD1 : TD2,
    launchType: 'FARGATE',
    desiredCount: 4,
    pendingCount: 0,
    runningCount: 0,
    failedTasks: 0,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: `ECS deployment ${id} in progress.`,
    createdAt: id === OLD ? NOW - 3_000_000 : NOW - 60_000,
    updatedAt: NOW - 60_000,
    hasHealthCheck: false,
    circuitBreaker: INITIAL_CIRCUIT_BREAKER,
    ...overrides,
  };
}

/** The usual pair for a rolling update: OLD (ACTIVE, COMPLETED before) and NEW (PRIMARY, IN_PROGRESS). */
export const rollout = (old: Partial<DeploymentRecord> = {}, fresh: Partial<DeploymentRecord> = {}) => [
  aDeployment({ id: OLD, status: 'ACTIVE', rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${OLD} completed.`, completedAt: NOW - 2_000_000, ...old }),
  aDeployment({ id: NEW, ...fresh }),
];

let serial = 0;
export function aTask(overrides: Partial<TaskRecord> & { id?: string } = {}): TaskRecord {
  const { id, ...rest } = overrides;
  const taskId = id ?? (++serial).toString(16).padStart(32, '0');
  const startedBy = rest.startedBy ?? NEW;
  const running = (rest.lastStatus ?? 'RUNNING') === 'RUNNING';
  return {
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/default/${taskId}`,
    clusterArn: CLUSTER_ARN,
    taskDefinitionArn: startedBy === OLD ? TD1 : TD2,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    launchType: 'FARGATE',
    group: serviceGroup('web'),
    startedBy,
    containers: [],
    overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [] },
    attachments: [],
    enableExecuteCommand: false,
    tags: [],
    createdAt: NOW - 120_000,
    ...(running ? { startedAt: NOW - 100_000, containerInstanceArn: 'arn:host' } : {}),
    availabilityZone: ZONES[0],
    version: 1,
    ...rest,
  };
}

/** n tasks of a deployment, spread over the zones round-robin. */
export const tasksOf = (n: number, overrides: Partial<TaskRecord> = {}) =>
  Array.from({ length: n }, (_, i) => aTask({ availabilityZone: ZONES[i % ZONES.length], createdAt: NOW - 200_000 + i, ...overrides }));

export interface ExpectedPlan {
  start?: { deploymentId: string; count: number; capacityProvider?: string }[];
  stop?: { taskArn?: string; deploymentId?: string; rule: StopRule }[] | number;
  events?: string[];
  eventsContaining?: string[];
  /** Each listed deployment (by id) is among the records written, with these members. */
  deployments?: (Partial<DeploymentRecord> & { id: string })[];
  holdsMatching?: RegExp[];
  nextWakeSeconds?: number | undefined;
}

/** One assertion for every scenario: only the parts given are checked; every stop is checked for its code and reasons. */
export function expectPlan(plan: Plan, expected: ExpectedPlan): void {
  if (expected.start) {
    expect(plan.start.map(({ deploymentId, count, capacityProvider }) => ({ deploymentId, count, ...(capacityProvider ? { capacityProvider } : {}) }))).toEqual(expected.start);
  }
  if (typeof expected.stop === 'number') expect(plan.stop).toHaveLength(expected.stop);
  else if (expected.stop) expect(plan.stop).toEqual(expected.stop.map((s) => expect.objectContaining(s)));
  for (const s of plan.stop) {
    expect(s.stopCode).toBe('ServiceSchedulerInitiated');
    expect(s.reason.length).toBeGreaterThan(0);
    expect(s.why.length).toBeGreaterThan(0);
  }
  if (expected.events) expect(plan.events).toEqual(expected.events);
  for (const fragment of expected.eventsContaining ?? []) expect(plan.events.join('\n')).toContain(fragment);
  for (const d of expected.deployments ?? []) {
    expect(plan.deployments.find((x) => x.id === d.id), `deployment ${d.id} written`).toEqual(expect.objectContaining(d));
  }
  for (const re of expected.holdsMatching ?? []) expect(plan.holds.some((h) => re.test(h))).toBe(true);
  if ('nextWakeSeconds' in expected) expect(plan.nextWakeSeconds).toBe(expected.nextWakeSeconds);
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/** What happens to a started task in the simulated world. */
export type Behaviour = 'succeeds' | 'fails-to-start' | 'fails-health-checks';

export interface World {
  service: ServiceRecord;
  deployments: DeploymentRecord[];
  tasks: TaskRecord[];
  now: number;
  events: string[];
  next: number;
}

/** Applies a plan the way the scheduler's use case would: stops requested, tasks created, records written. */
export function applyPlan(world: World, plan: Plan): void {
  const stops = new Map(plan.stop.map((s) => [s.taskArn, s]));
  world.tasks = world.tasks.map((t) => {
    const s = stops.get(t.taskArn);
    return s ? { ...t, desiredStatus: 'STOPPED', stopCode: s.stopCode, stoppedReason: s.reason } : t;
  });
  for (const start of plan.start) {
    for (let i = 0; i < start.count; i++) {
      const n = world.next++;
      world.tasks.push(aTask({
        id: `f${n.toString(16).padStart(31, '0')}`, startedBy: start.startedBy, group: start.group, taskDefinitionArn: start.taskDefinition,
        lastStatus: 'PENDING', createdAt: world.now, availabilityZone: start.availabilityZone ?? ZONES[n % ZONES.length],
        ...(start.capacityProvider ? { capacityProviderName: start.capacityProvider } : {}),
      }));
    }
  }
  const byId = new Map(plan.deployments.map((d) => [d.id, d]));
  world.deployments = world.deployments.map((d) => byId.get(d.id) ?? d);
  if (plan.service) world.service = { ...world.service, ...plan.service };
  world.events.push(...plan.events);
}

/** One tick of the rest of the system: every task moves one step (a stop takes two: STOPPING, STOPPED). */
export function advance(world: World, behaviour: (t: TaskRecord) => Behaviour, seconds = 10): void {
  world.now += seconds * 1000;
  const now = world.now;
  const hc = (t: TaskRecord) => world.deployments.find((d) => d.id === t.startedBy)?.hasHealthCheck ?? false;
  world.tasks = world.tasks.map((t): TaskRecord => {
    if (t.lastStatus === 'STOPPED' || t.lastStatus === 'DELETED') return t;
    if (t.desiredStatus === 'STOPPED') {
      return t.lastStatus === 'STOPPING' || t.startedAt === undefined
        ? { ...t, lastStatus: 'STOPPED', stoppedAt: now }
        : { ...t, lastStatus: 'STOPPING' };
    }
    // A health check that has not answered yet answers now (HEALTHY unless the task is meant to fail it).
    if (t.lastStatus === 'RUNNING' && hc(t) && (t.healthStatus === undefined || t.healthStatus === 'UNKNOWN')) {
      return { ...t, healthStatus: behaviour(t) === 'fails-health-checks' ? 'UNHEALTHY' : 'HEALTHY' };
    }
    if (t.lastStatus === 'RUNNING') return t;
    switch (behaviour(t)) {
      case 'succeeds':
        return { ...t, lastStatus: 'RUNNING', startedAt: now, ...(hc(t) ? { healthStatus: 'HEALTHY' } : {}) };
      case 'fails-health-checks':
        return { ...t, lastStatus: 'RUNNING', startedAt: now, healthStatus: 'UNHEALTHY' };
      case 'fails-to-start':
        return { ...t, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stoppedAt: now, stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError' };
    }
  });
}
