/**
 * Builders and a small simulated world for the DAEMON reconciler: container instances as placement
 * sees them (their remaining capacity and task groups derived from the world's tasks, as the caller
 * reads them), a daemon service, and a step that applies a Plan's placed starts.
 */
import type { PlacementCandidate } from '../../src/domain/placement';
import type { PlacementConstraint } from '../../src/domain/placement-constraints';
import { parsePlacementConstraint } from '../../src/domain/placement-constraints';
import type { KeyValuePair, TaskRecord } from '../../src/domain/records';
import type { DeploymentRecord, ServiceRecord } from '../../src/domain/service';
import type { Plan } from '../../src/domain/service-plan';
import { isActive } from '../../src/domain/task-lifecycle';
import { NOW, aService, aTask, type World } from './services';

export const instanceArn = (n: number) => `arn:aws:ecs:us-east-1:123456789012:container-instance/default/${n.toString(16).padStart(32, '0')}`;

export interface Host {
  readonly arn: string;
  status: string;
  agentConnected: boolean;
  attributes: KeyValuePair[];
  capacity: { cpu: number; memory: number };
}

export const aHost = (n: number, overrides: Partial<Host> = {}): Host => ({
  arn: instanceArn(n),
  status: 'ACTIVE',
  agentConnected: true,
  attributes: [{ name: 'ecs.availability-zone', value: 'us-east-1a' }],
  capacity: { cpu: 1024, memory: 2048 },
  ...overrides,
});

/** What one daemon task reserves in these tests. */
export const NEEDS = { cpu: 128, memory: 256 };

/** The hosts as the scheduler pass hands them to the reconciler: capacity left and groups from the tasks holding them. */
export function candidatesOf(hosts: readonly Host[], tasks: readonly TaskRecord[], needs = NEEDS): PlacementCandidate[] {
  return hosts.map((h) => {
    const on = tasks.filter((t) => t.containerInstanceArn === h.arn && isActive(t.lastStatus));
    const groups: Record<string, number> = {};
    for (const t of on) if (t.group) groups[t.group] = (groups[t.group] ?? 0) + 1;
    return {
      containerInstanceArn: h.arn,
      availabilityZone: h.attributes.find((a) => a.name === 'ecs.availability-zone')?.value ?? 'us-east-1a',
      status: h.status,
      remaining: { cpu: h.capacity.cpu - on.length * needs.cpu, memory: h.capacity.memory - on.length * needs.memory },
      serves: ['EC2'],
      agentConnected: h.agentConnected,
      attributes: h.attributes,
      taskGroups: groups,
    };
  });
}

export const constraints = (...expressions: string[]): PlacementConstraint[] =>
  expressions.map((e) => (e === 'distinctInstance' ? parsePlacementConstraint({ type: 'distinctInstance' }, 'service') : parsePlacementConstraint({ type: 'memberOf', expression: e }, 'service')));

export const aDaemonService = (overrides: Partial<ServiceRecord> = {}) =>
  aService({
    schedulingStrategy: 'DAEMON',
    launchType: 'EC2',
    desiredCount: 0,
    deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100, deploymentCircuitBreaker: { enable: false, rollback: false } },
    ...overrides,
  });

/** A RUNNING daemon task of a deployment on a host. */
export const daemonTask = (host: Host | string, overrides: Partial<TaskRecord> & { id?: string } = {}) =>
  aTask({ launchType: 'EC2', containerInstanceArn: typeof host === 'string' ? host : host.arn, createdAt: NOW - 200_000, ...overrides });

export interface DaemonWorld extends World {
  hosts: Host[];
}

/** Applies a plan's stops and placed starts (each a PENDING task on its instance), deployments and service change. */
export function applyDaemonPlan(world: DaemonWorld, plan: Plan): void {
  const stops = new Set(plan.stop.map((s) => s.taskArn));
  world.tasks = world.tasks.map((t) => (stops.has(t.taskArn) ? { ...t, desiredStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'x' } : t));
  for (const start of plan.start) {
    for (let i = 0; i < start.count; i++) {
      const n = world.next++;
      world.tasks.push(aTask({
        id: `d${n.toString(16).padStart(31, '0')}`, startedBy: start.startedBy, group: start.group, taskDefinitionArn: start.taskDefinition,
        launchType: 'EC2', lastStatus: 'PENDING', createdAt: world.now, startedAt: undefined, containerInstanceArn: start.containerInstanceArn,
      }));
    }
  }
  const byId = new Map(plan.deployments.map((d) => [d.id, d]));
  world.deployments = world.deployments.map((d): DeploymentRecord => byId.get(d.id) ?? d);
  if (plan.service) world.service = { ...world.service, ...plan.service };
  world.events.push(...plan.events);
}
