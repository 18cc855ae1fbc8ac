/**
 * Placements per second of the pure placement function over 5,000 container instances (and 500, to
 * show how the cost grows): the default zone spread, binpack memory, spread instanceId + random, and
 * two memberOf constraints (an attribute list and task:group anti-affinity) with distinctInstance.
 * Each run places one task (what the engine does per waiting task); then a group of 100 placed in one
 * round (a scheduler pass's starts, RunTask's count: each placement sees the ones before it).
 *
 * Then DAEMON reconcile over 5,000 instances, against the REPLICA reconciler over 5,000 tasks
 * measured in the same run.
 *
 * Measured and printed, never asserted. Run: `npx tsx bench/placement.bench.ts`.
 */
import { percentile } from './stats';
import { placeTasks, type PlacementCandidate, type PlacementOptions } from '../src/domain/placement';
import { parsePlacementConstraints } from '../src/domain/placement-constraints';
import { parsePlacementStrategies } from '../src/domain/placement-strategies';
import { reconcileDaemon } from '../src/domain/daemon-reconciler';
import { reconcile } from '../src/domain/service-reconciler';
import { INITIAL_CIRCUIT_BREAKER, type DeploymentRecord, type ServiceRecord } from '../src/domain/service';
import type { TaskRecord } from '../src/domain/records';

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const TYPES = ['t2.small', 'm5.large', 'c5.xlarge'];

function hosts(n: number): PlacementCandidate[] {
  return Array.from({ length: n }, (_, i) => ({
    containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/bench/${i.toString(16).padStart(32, '0')}`,
    availabilityZone: ZONES[i % 3],
    status: 'ACTIVE',
    remaining: { cpu: 1024 + ((i * 37) % 3072), memory: 2048 + ((i * 53) % 6144) },
    serves: ['EC2'],
    attributes: [
      { name: 'ecs.availability-zone', value: ZONES[i % 3] },
      { name: 'ecs.instance-type', value: TYPES[i % 3] },
      { name: 'stack', value: i % 5 === 0 ? 'blue' : 'green' },
    ],
    runningTasksCount: i % 4,
    taskGroups: { 'service:web': i % 2, ...(i % 7 === 0 ? { 'service:db': 1 } : {}) },
  }));
}

let seed = 1;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

const cases: Record<string, PlacementOptions> = {
  'default (zone spread)': { group: 'service:web' },
  'binpack memory': { group: 'service:web', strategies: parsePlacementStrategies([{ type: 'binpack', field: 'memory' }]) },
  'spread instanceId, random': {
    group: 'service:web',
    strategies: parsePlacementStrategies([{ type: 'spread', field: 'instanceId' }, { type: 'random' }]),
    random,
  },
  'constraints (memberOf x2, distinctInstance)': {
    group: 'service:web',
    strategies: parsePlacementStrategies([{ type: 'spread', field: 'attribute:ecs.availability-zone' }]),
    constraints: parsePlacementConstraints([
      { type: 'memberOf', expression: 'attribute:ecs.instance-type in [t2.small, m5.large] and attribute:stack =~ gr.*' },
      { type: 'memberOf', expression: 'not(task:group == service:db)' },
      { type: 'distinctInstance' },
    ]),
  },
};

const RUNS = 40;
for (const n of [500, 5000]) {
  const candidates = hosts(n);
  for (const [name, options] of Object.entries(cases)) {
    const request = [{ needs: { cpu: 256, memory: 512 }, kind: 'EC2' }];
    for (let i = 0; i < 5; i++) placeTasks(request, candidates, {}, options); // warm up the JIT
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = process.hrtime.bigint();
      placeTasks(request, candidates, {}, options);
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    samples.sort((a, b) => a - b);
    console.log(
      `${name.padEnd(44)} ${String(n).padStart(5)} instances  min ${samples[0]!.toFixed(2)} ms  p50 ${percentile(samples, 50).toFixed(2)} ms  ` +
        `placements/s (p50) ${(1000 / percentile(samples, 50)).toFixed(0)}`,
    );
  }
}

// A scheduler pass's group: 100 starts placed in one round (src/app/group-placement.ts), each seeing
// the ones before it; per placement, against one placement per call above.
{
  const candidates = hosts(5000);
  const group = Array.from({ length: 100 }, () => ({ needs: { cpu: 256, memory: 512 }, kind: 'EC2' }));
  const spread = { group: 'service:web', strategies: parsePlacementStrategies([{ type: 'spread', field: 'attribute:ecs.availability-zone' }, { type: 'spread', field: 'instanceId' }]) };
  for (let i = 0; i < 2; i++) placeTasks(group, candidates, {}, spread);
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    const start = process.hrtime.bigint();
    placeTasks(group, candidates, {}, spread);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const p50 = percentile(samples, 50);
  console.log(
    `${'group of 100 in one round (spread zone, instanceId)'.padEnd(44)}  5000 instances  p50 ${p50.toFixed(2)} ms per group  ` +
      `placements/s (p50) ${((100 * 1000) / p50).toFixed(0)}`,
  );
}

// DAEMON reconcile over 5,000 instances (src/domain/daemon-reconciler.ts): one pass's whole decision,
// in four shapes, against a baseline measured in this same run: the REPLICA reconciler's pass over a
// steady service of 5,000 tasks (the same number of tasks to look at, none of the instance work).
const DAEMON_RUNS = 30;
const NEW_DEPLOYMENT = 'ecs-svc/2000000000000000002';
const OLD_DEPLOYMENT = 'ecs-svc/1000000000000000001';
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/bench';
const baseService: ServiceRecord = {
  serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/bench/agent', serviceName: 'agent', clusterArn: CLUSTER, status: 'ACTIVE',
  desiredCount: 5000, taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/agent:2', launchType: 'EC2',
  schedulingStrategy: 'DAEMON', deploymentController: { type: 'ECS' },
  deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100, deploymentCircuitBreaker: { enable: false, rollback: false } },
  healthCheckGracePeriodSeconds: 0, propagateTags: 'NONE', enableECSManagedTags: false, enableExecuteCommand: false, tags: [], createdAt: 0, version: 1,
};
const deployment = (id: string, status: 'PRIMARY' | 'ACTIVE'): DeploymentRecord => ({
  id, status, taskDefinition: baseService.taskDefinition, launchType: 'EC2', desiredCount: 5000, pendingCount: 0, runningCount: 5000,
  failedTasks: 0, rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${id} completed.`, createdAt: 0, updatedAt: 0,
  hasHealthCheck: false, circuitBreaker: INITIAL_CIRCUIT_BREAKER,
});
const daemonTasks = (instances: PlacementCandidate[], startedBy: string): TaskRecord[] =>
  instances.map((h, i) => ({
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/bench/${(i + 1).toString(16).padStart(32, '0')}`,
    clusterArn: CLUSTER, taskDefinitionArn: baseService.taskDefinition, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', launchType: 'EC2',
    group: 'service:agent', startedBy, containers: [], overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [] }, attachments: [],
    enableExecuteCommand: false, tags: [], createdAt: 0, startedAt: 1, containerInstanceArn: h.containerInstanceArn, availabilityZone: h.availabilityZone, version: 1,
  }) as TaskRecord);

function timeIt(run: () => unknown) {
  for (let i = 0; i < 3; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < DAEMON_RUNS; i++) {
    const start = process.hrtime.bigint();
    run();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

{
  const instances = hosts(5000).map((h) => ({ ...h, taskGroups: {} }));
  const primary = [deployment(NEW_DEPLOYMENT, 'PRIMARY')];
  const rolling = [deployment(OLD_DEPLOYMENT, 'ACTIVE'), { ...deployment(NEW_DEPLOYMENT, 'PRIMARY'), rolloutState: 'IN_PROGRESS' as const }];
  const running = daemonTasks(instances, NEW_DEPLOYMENT);
  const withDaemon = instances.map((h) => ({ ...h, taskGroups: { 'service:agent': 1 } }));
  const needs = { cpu: 128, memory: 256 };
  const memberOf = parsePlacementConstraints([{ type: 'memberOf', expression: 'attribute:ecs.instance-type in [t2.small, m5.large] and attribute:stack =~ gr.*' }]);

  const replicaService = { ...baseService, schedulingStrategy: 'REPLICA' as const, deploymentConfiguration: { ...baseService.deploymentConfiguration, minimumHealthyPercent: 100, maximumPercent: 200 } };
  const baseline = timeIt(() => reconcile(replicaService, primary, running, 10, () => 0.5));
  const p50 = (s: number[]) => percentile(s, 50);
  console.log(`\nbaseline: REPLICA reconcile, steady, 5,000 tasks        min ${baseline[0]!.toFixed(2)} ms  p50 ${p50(baseline).toFixed(2)} ms`);
  const shapes: Record<string, () => unknown> = {
    'DAEMON, fresh: 5,000 starts': () => reconcileDaemon(baseService, primary, [], { instances, constraints: [], needs }, 10),
    'DAEMON, steady: 5,000 running': () => reconcileDaemon(baseService, primary, running, { instances: withDaemon, constraints: [], needs }, 10),
    'DAEMON, rolling 0%: 5,000 old tasks stop': () =>
      reconcileDaemon(baseService, rolling, daemonTasks(instances, OLD_DEPLOYMENT), { instances: withDaemon, constraints: [], needs }, 10),
    'DAEMON, memberOf (2/5 eligible): 3,000 stop': () =>
      reconcileDaemon(baseService, primary, running, { instances: withDaemon, constraints: memberOf, needs }, 10),
  };
  for (const [name, run] of Object.entries(shapes)) {
    const samples = timeIt(run);
    console.log(
      `${name.padEnd(52)} min ${samples[0]!.toFixed(2)} ms  p50 ${p50(samples).toFixed(2)} ms  ` +
        `x${(p50(samples) / p50(baseline)).toFixed(1)} the baseline (p50)`,
    );
  }
}
