/**
 * Reconcile time of the pure REPLICA reconciler for 500 and 5,000 tasks (ECS's maximum per service),
 * so the figures show how the cost grows (goal: 5,000 under 250 ms, the 5,000/500 ratio near 10).
 * Three shapes per size: steady (all RUNNING, COMPLETED), mid-rollout (half old, half new RUNNING, the
 * breaker watching), and scale-in to half (zone-balanced choice of what to stop).
 *
 * Measured and printed, never asserted. Run: `npx tsx bench/reconcile.bench.ts`.
 */
import { percentile } from './stats';
import type { TaskRecord } from '../src/domain/records';
import { INITIAL_CIRCUIT_BREAKER, type DeploymentRecord, type ServiceRecord } from '../src/domain/service';
import { reconcile } from '../src/domain/service-reconciler';

const NOW = 1_700_000_000_000;
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/default';
const OLD = 'ecs-svc/1000000000000000001';
const NEW = 'ecs-svc/2000000000000000002';
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

const service = (desiredCount: number): ServiceRecord => ({
  serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/default/web', serviceName: 'web', clusterArn: CLUSTER,
  status: 'ACTIVE', desiredCount, taskDefinition: 'td:2', launchType: 'FARGATE', schedulingStrategy: 'REPLICA',
  deploymentController: { type: 'ECS' }, healthCheckGracePeriodSeconds: 0, propagateTags: 'NONE',
  enableECSManagedTags: false, enableExecuteCommand: false, tags: [], createdAt: NOW, version: 1,
  deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } },
});

const deployment = (id: string, status: DeploymentRecord['status'], rolloutState: DeploymentRecord['rolloutState']): DeploymentRecord => ({
  id, status, rolloutState, taskDefinition: id === OLD ? 'td:1' : 'td:2', launchType: 'FARGATE', desiredCount: 0,
  pendingCount: 0, runningCount: 0, failedTasks: 0, rolloutStateReason: '', createdAt: id === OLD ? NOW - 9e6 : NOW - 6e4,
  updatedAt: NOW, hasHealthCheck: true, circuitBreaker: INITIAL_CIRCUIT_BREAKER, completedAt: NOW - 8e6,
});

const task = (i: number, startedBy: string): TaskRecord => ({
  taskArn: `arn:aws:ecs:us-east-1:123456789012:task/default/${i.toString(16).padStart(32, '0')}`, clusterArn: CLUSTER,
  taskDefinitionArn: 'td', lastStatus: 'RUNNING', desiredStatus: 'RUNNING', launchType: 'FARGATE', group: 'service:web',
  startedBy, containers: [], overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [] }, attachments: [],
  enableExecuteCommand: false, tags: [], createdAt: NOW - 1e6 + i, startedAt: NOW - 9e5 + i, healthStatus: 'HEALTHY',
  availabilityZone: ZONES[i % 3], containerInstanceArn: 'host', version: 3,
});

function shapes(n: number) {
  const all = (by: string) => Array.from({ length: n }, (_, i) => task(i, by));
  return {
    steady: { s: service(n), d: [deployment(NEW, 'PRIMARY', 'COMPLETED')], t: all(NEW) },
    'mid-rollout': {
      s: service(n),
      d: [deployment(OLD, 'ACTIVE', 'COMPLETED'), deployment(NEW, 'PRIMARY', 'IN_PROGRESS')],
      t: Array.from({ length: n }, (_, i) => task(i, i % 2 ? OLD : NEW)),
    },
    'scale-in to half': { s: service(n / 2), d: [deployment(NEW, 'PRIMARY', 'COMPLETED')], t: all(NEW) },
  };
}

const RUNS = 60;
const results: Record<string, Record<number, number>> = {};
for (const n of [500, 5000]) {
  for (const [name, { s, d, t }] of Object.entries(shapes(n))) {
    for (let i = 0; i < 5; i++) reconcile(s, d, t, NOW, () => 0.5); // warm up the JIT
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = process.hrtime.bigint();
      reconcile(s, d, t, NOW, () => 0.5);
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    samples.sort((a, b) => a - b);
    // The fastest run is the cost of the work itself; p50/p90 add whatever else the machine was doing.
    (results[name] ??= {})[n] = samples[0]!;
    console.log(`${name.padEnd(18)} ${String(n).padStart(5)} tasks  min ${samples[0]!.toFixed(2)} ms  p50 ${percentile(samples, 50).toFixed(2)} ms  p90 ${percentile(samples, 90).toFixed(2)} ms`);
  }
}
for (const [name, r] of Object.entries(results)) console.log(`${name.padEnd(18)} 5000/500 ratio (min) ${(r[5000]! / r[500]!).toFixed(1)}`);
