/**
 * Invariants of the DAEMON reconciler over generated clusters (instances of every status, with and
 * without the attribute the constraint asks for, agents connected or not, room or not) and task
 * histories. Eligibility is recomputed here from the hosts, not taken from the reconciler.
 *
 * SAFETY   every plan, from any state: no start on an instance that holds a task of the service or
 *          gets another start; every start on an ACTIVE, connected instance that meets the
 *          constraints and has the room; stops are live tasks of the service, never take available
 *          tasks below the floor for a rolling update; same inputs, same plan; inputs untouched.
 * LIVENESS with enough capacity and tasks that succeed, repeated passes converge to exactly one
 *          RUNNING task of the PRIMARY deployment per eligible instance and none elsewhere, COMPLETED,
 *          and again after instances join, drain and lose the attribute.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { reconcileDaemon } from '../../src/domain/daemon-reconciler';
import { canDeploymentProceed, minimumHealthyTasks } from '../../src/domain/deployment-math';
import type { TaskRecord } from '../../src/domain/records';
import { serviceGroup } from '../../src/domain/service';
import { serviceMessages } from '../../src/domain/service-messages';
import { isActive } from '../../src/domain/task-lifecycle';
import {
  NEEDS, aDaemonService, aHost, applyDaemonPlan, candidatesOf, constraints, daemonTask, instanceArn, type DaemonWorld, type Host,
} from '../support/daemons';
import { NEW, NOW, OLD, aDeployment, advance, deepFreeze, rollout } from '../support/services';

const ROLE = 'attribute:role == edge';
const hostArb = fc.record({
  status: fc.oneof({ weight: 4, arbitrary: fc.constant('ACTIVE') }, { weight: 1, arbitrary: fc.constantFrom('DRAINING', 'INACTIVE') }),
  agentConnected: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  edge: fc.boolean(),
  roomy: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});
const taskArb = fc.record({
  host: fc.integer({ min: 0, max: 9 }), // beyond the hosts generated: an instance gone from the cluster
  old: fc.boolean(),
  lastStatus: fc.oneof({ weight: 4, arbitrary: fc.constant('RUNNING' as const) }, { weight: 2, arbitrary: fc.constantFrom('PENDING' as const, 'STOPPING' as const, 'STOPPED' as const) }),
  stopRequested: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  otherGroup: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  unhealthy: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});
const cfgArb = fc.record({
  hosts: fc.array(hostArb, { maxLength: 8 }),
  tasks: fc.array(taskArb, { maxLength: 14 }),
  constrained: fc.boolean(),
  minimumHealthyPercent: fc.constantFrom(0, 0, 50, 100),
  rolling: fc.boolean(),
  hasHealthCheck: fc.boolean(),
});
type Cfg = typeof cfgArb extends fc.Arbitrary<infer T> ? T : never;

const toHost = (h: Cfg['hosts'][number], i: number): Host =>
  aHost(i, {
    status: h.status,
    agentConnected: h.agentConnected,
    attributes: [{ name: 'ecs.availability-zone', value: 'us-east-1a' }, ...(h.edge ? [{ name: 'role', value: 'edge' }] : [])],
    capacity: h.roomy ? { cpu: 1024, memory: 2048 } : { cpu: 64, memory: 64 },
  });

function build(cfg: Cfg) {
  const hosts = cfg.hosts.map(toHost);
  const deployments = cfg.rolling
    ? rollout({ launchType: 'EC2', hasHealthCheck: cfg.hasHealthCheck }, { launchType: 'EC2', hasHealthCheck: cfg.hasHealthCheck })
    : [aDeployment({ launchType: 'EC2', hasHealthCheck: cfg.hasHealthCheck })];
  const tasks = cfg.tasks.map((t, i): TaskRecord => {
    const stopped = t.lastStatus === 'STOPPED';
    return daemonTask(instanceArn(t.host), {
      id: (i + 1).toString(16).padStart(32, 'a'),
      startedBy: t.old && cfg.rolling ? OLD : NEW,
      group: t.otherGroup ? serviceGroup('api') : serviceGroup('web'),
      lastStatus: t.lastStatus,
      desiredStatus: stopped || t.stopRequested ? 'STOPPED' : 'RUNNING',
      healthStatus: t.lastStatus === 'RUNNING' && cfg.hasHealthCheck ? (t.unhealthy ? 'UNHEALTHY' : 'HEALTHY') : undefined,
      startedAt: t.lastStatus === 'PENDING' ? undefined : NOW - 100_000,
    });
  });
  const service = aDaemonService({
    deploymentConfiguration: { minimumHealthyPercent: cfg.minimumHealthyPercent, maximumPercent: 100, deploymentCircuitBreaker: { enable: false, rollback: false } },
  });
  return { hosts, deployments, tasks, service, constraints: cfg.constrained ? constraints(ROLE) : [] };
}

const eligibleOf = (hosts: readonly Host[], constrained: boolean) =>
  new Set(hosts.filter((h) => h.status === 'ACTIVE' && (!constrained || h.attributes.some((a) => a.name === 'role' && a.value === 'edge'))).map((h) => h.arn));

describe('SAFETY', () => {
  it('no second task on an instance, no task on an instance failing the constraints, stops within the floor', () => {
    fc.assert(
      fc.property(cfgArb, (cfg) => {
        const { hosts, deployments, tasks, service, constraints: cs } = build(cfg);
        const context = deepFreeze({ instances: candidatesOf(hosts, tasks), constraints: cs, needs: NEEDS });
        const plan = reconcileDaemon(deepFreeze(service), deepFreeze(deployments), deepFreeze(tasks), context, NOW);
        expect(reconcileDaemon(service, deployments, tasks, context, NOW)).toEqual(plan);

        const mine = tasks.filter((t) => t.group === 'service:web');
        const holding = mine.filter((t) => isActive(t.lastStatus));
        const live = holding.filter((t) => t.desiredStatus === 'RUNNING');
        const eligible = eligibleOf(hosts, cfg.constrained);
        const byArn = new Map(hosts.map((h) => [h.arn, h]));
        const startedOn = new Set<string>();
        for (const s of plan.start) {
          const arn = s.containerInstanceArn!;
          expect(s.count).toBe(1);
          expect(startedOn.has(arn), 'two starts on one instance').toBe(false);
          startedOn.add(arn);
          expect(holding.some((t) => t.containerInstanceArn === arn), 'a start beside a task of the service').toBe(false);
          expect(eligible.has(arn), 'a start on an instance failing the constraints or not ACTIVE').toBe(true);
          expect(byArn.get(arn)!.agentConnected).toBe(true);
          expect(byArn.get(arn)!.capacity.cpu).toBeGreaterThanOrEqual(NEEDS.cpu);
          expect(s.startedBy).toBe(NEW);
        }
        const liveArns = new Set(live.map((t) => t.taskArn));
        for (const s of plan.stop) expect(liveArns.has(s.taskArn)).toBe(true);
        expect(new Set(plan.stop.map((s) => s.taskArn)).size).toBe(plan.stop.length);
        // Replacing old tasks never takes the available tasks on eligible instances below the floor.
        const available = live.filter((t) => t.lastStatus === 'RUNNING' && (!cfg.hasHealthCheck || t.healthStatus === 'HEALTHY'));
        const floor = minimumHealthyTasks(eligible.size, cfg.minimumHealthyPercent);
        const rollingStops = plan.stop.filter((s) => s.rule === 'replace-old' && available.some((t) => t.taskArn === s.taskArn)).length;
        if (rollingStops > 0) {
          const otherStops = plan.stop.filter((s) => s.rule !== 'replace-old' && available.some((t) => t.taskArn === s.taskArn)).length;
          expect(available.length - otherStops - rollingStops).toBeGreaterThanOrEqual(floor);
        }
        expect(plan.service?.desiredCount ?? service.desiredCount).toBe(eligible.size);
      }),
      { numRuns: 500 },
    );
  });
});

/** Passes against the simulated world until steady (or the bound): the steps it took, or undefined. */
function converge(w: DaemonWorld, cs: ReturnType<typeof constraints>, bound: number): number | undefined {
  for (let i = 0; i < bound; i++) {
    const plan = reconcileDaemon(w.service, w.deployments, w.tasks, { instances: candidatesOf(w.hosts, w.tasks), constraints: cs, needs: NEEDS }, w.now);
    applyDaemonPlan(w, plan);
    const primary = w.deployments.find((d) => d.status === 'PRIMARY')!;
    const steady = plan.events.includes(serviceMessages.steadyState('web'));
    if (plan.start.length === 0 && plan.stop.length === 0 && steady && primary.rolloutState === 'COMPLETED') return i + 1;
    advance(w, () => 'succeeds');
  }
  return undefined;
}

function expectOnePerEligible(w: DaemonWorld, constrained: boolean) {
  const eligible = eligibleOf(w.hosts, constrained);
  const holding = w.tasks.filter((t) => t.group === 'service:web' && isActive(t.lastStatus));
  expect(holding.every((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING' && t.startedBy === NEW)).toBe(true);
  expect(holding.map((t) => t.containerInstanceArn).sort()).toEqual([...eligible].sort());
  expect(w.service.desiredCount).toBe(eligible.size);
}

describe('LIVENESS', () => {
  it('with room everywhere and tasks that succeed, passes converge to one task per eligible instance, and again after the cluster changes', () => {
    fc.assert(
      fc.property(cfgArb, fc.array(hostArb, { maxLength: 3 }), fc.integer({ min: 0, max: 7 }), (cfg, joining, changed) => {
        // Enough capacity and connected agents (the property's premise); unhealthy tasks get healthy.
        const roomy = { ...cfg, hosts: cfg.hosts.map((h) => ({ ...h, roomy: true, agentConnected: true })), tasks: cfg.tasks.map((t) => ({ ...t, unhealthy: false })) };
        const state = build(roomy);
        // A rollout whose bounds allow no stop holds by design (the scenario tests show its event).
        const D = eligibleOf(state.hosts, roomy.constrained).size;
        fc.pre(!roomy.rolling || canDeploymentProceed(D, roomy.minimumHealthyPercent, 100));
        const w: DaemonWorld = { ...state, now: NOW, events: [], next: 0 };
        const bound = 8 + 4 * (state.hosts.length + state.tasks.length);
        expect(converge(w, state.constraints, bound), 'not steady').toBeDefined();
        expectOnePerEligible(w, roomy.constrained);

        // Instances join, one drains, one loses the attribute the constraint asks for: steady again.
        w.hosts = [...w.hosts, ...joining.map((h, i) => toHost({ ...h, roomy: true, agentConnected: true }, 20 + i))];
        const target = w.hosts[changed % Math.max(1, w.hosts.length)];
        if (target) {
          if (changed % 2 === 0) target.status = 'DRAINING';
          else target.attributes = target.attributes.filter((a) => a.name !== 'role');
        }
        expect(converge(w, state.constraints, bound + 20), 'not steady after the cluster changed').toBeDefined();
        expectOnePerEligible(w, roomy.constrained);
      }),
      { numRuns: 200 },
    );
  });
});
