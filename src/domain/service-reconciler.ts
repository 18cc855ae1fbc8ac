/**
 * The REPLICA reconciler: from a service, its deployments, its tasks, `now` and a random source, the
 * Plan that moves it one step towards desiredCount healthy tasks of its PRIMARY deployment. Pure.
 * One call decides everything it safely can at once (Kubernetes' rolling.go takes one step per sync).
 *
 * Bounds at every step (D = desiredCount; deployment-math rounds):
 *   floor   = ceil(D x minimumHealthyPercent / 100)  available tasks the plan's stops never go below
 *   ceiling = floor(D x maximumPercent / 100)        tasks holding resources (starting, available,
 *                                                    unhealthy, stopping) the plan's starts never exceed
 * Worked example, D 4, 50% / 200% (floor 2, ceiling 8), 4 old tasks RUNNING:
 *   step 1: stop 2 old (4 available - floor 2), start 4 new (2 live + 2 stopping + 4 = 8)
 *   step 2: 4 new RUNNING -> 6 available, stop the last 2 old; then COMPLETED and steady.
 * With 100% / 100% nothing may stop or start: the plan holds and says so (seed 002's event).
 */
import { rebalancingExcluded, rebalancingStep, type RebalancingStep } from './az-rebalancing';
import { circuitBreakerStep } from './circuit-breaker';
import { distributeTasks } from './capacity-strategy';
import { pinnedDigests, resolutionStartLimit, settleImageResolutions } from './image-digests';
import { canDeploymentProceed, maximumTasks, minimumHealthyTasks } from './deployment-math';
import type { TaskRecord } from './records';
import { serviceGroup, type DeploymentRecord, type ServiceRecord } from './service';
import { FAILED_HEALTH_CHECKS_REASON, rolloutReasons, scalingActivityReason, serviceMessages } from './service-messages';
import { WAKE, type Plan, type ServiceChange, type StopRule, type TaskStart, type TaskStop } from './service-plan';
import { deploymentCounts, replacementOrder, scaleInOrder, serviceTasks, type ServiceTask } from './service-tasks';
import { isProtected } from './task-protection';
import { foldThrottle, isThrottled, throttleMessage, type ThrottleSettings } from './throttle';
import { surplusHealthy, unhealthyStops } from './unhealthy-replacement';

export interface ReconcileOptions {
  /** The throttle's curve (default 10 s doubling to 15 min; tests scale it). */
  readonly throttle?: ThrottleSettings;
  /** Zones where one more task of the service could be placed now (AZ rebalancing); absent: unknown. */
  readonly placeableZones?: readonly string[];
}

export function reconcile(
  service: ServiceRecord,
  deployments: readonly DeploymentRecord[],
  tasks: readonly TaskRecord[],
  now: number,
  random: () => number,
  options: ReconcileOptions = {},
): Plan {
  const plan: Plan & { start: TaskStart[]; events: string[]; holds: string[] } = {
    start: [], stop: [], deployments: [], events: [], holds: [], nextWakeSeconds: WAKE.progressing,
  };
  if (service.status === 'INACTIVE') return { ...plan, nextWakeSeconds: undefined };
  const name = service.serviceName;
  const breaker = service.deploymentConfiguration.deploymentCircuitBreaker;

  // 1. Circuit breaker: new task outcomes folded in; the primary trips at desiredCount's threshold.
  const breakerStep = circuitBreakerStep(service, deployments, tasks, service.desiredCount, now);
  if (!breakerStep) return { ...plan, holds: ['no PRIMARY deployment'], nextWakeSeconds: WAKE.steady };
  let deps = breakerStep.deployments;
  let serviceChange: ServiceChange | undefined = breakerStep.service;
  plan.events.push(...breakerStep.events);
  if (breakerStep.hold) plan.holds.push(breakerStep.hold);
  // 1b. Image digests (seed 002): the reports of resolving deployments; a resolution that gives up
  //     (after the breaker's own count, whose reason is the truer one when tasks failed to start).
  const images = settleImageResolutions(name, service.status === 'ACTIVE' ? breaker : { ...breaker, enable: false }, deps, tasks, now);
  deps = images.deployments;
  plan.events.push(...images.events);
  if (images.hold) plan.holds.push(images.hold);
  if (images.service) serviceChange = { ...serviceChange, ...images.service };
  const primary = deps.find((d) => d.status === 'PRIMARY')!;
  const draining = service.status === 'DRAINING';
  const stalled = primary.rolloutState === 'FAILED';

  // 2. Bounds and the tasks as the reconciler sees them.
  const { minimumHealthyPercent: minPct, maximumPercent: maxPct } = service.deploymentConfiguration;
  const D = draining ? 0 : service.desiredCount;
  const floor = minimumHealthyTasks(D, minPct);
  const ceiling = Math.max(D, maximumTasks(D, maxPct));
  const mine = serviceTasks(service, deps, tasks, now);
  const live = mine.filter((t) => t.condition !== 'gone' && t.condition !== 'stopping');
  const occupied = mine.filter((t) => t.condition !== 'gone').length;
  const isPrimary = (t: ServiceTask) => t.deployment.id === primary.id;
  let budget = live.filter((t) => t.condition === 'available').length - floor;
  const stopped = new Set<string>();
  // Berth's own mark on the PRIMARY: it has been replacing unhealthy tasks (seed 001's last sentence).
  const replacing = primary.replacingUnhealthy === true;
  let replacingNext = false;
  let rebalance: RebalancingStep = { kind: 'none' };
  const stop = (t: ServiceTask, rule: StopRule, why: string) => {
    if (t.condition === 'available') budget--;
    stopped.add(t.task.taskArn);
    const reason = rule === 'unhealthy' ? FAILED_HEALTH_CHECKS_REASON : scalingActivityReason(primary.id);
    if (rule === 'unhealthy') plan.events.push(serviceMessages.failedHealthChecks(name, t.task.taskArn));
    plan.stop.push({ taskArn: t.task.taskArn, deploymentId: t.deployment.id, stopCode: 'ServiceSchedulerInitiated', reason, rule, why });
  };

  // 3. Stops.
  if (draining) {
    for (const t of live) stop(t, 'draining', 'the service is being deleted (DRAINING)');
  } else {
    const rolling = primary.rolloutState === 'IN_PROGRESS';
    let shielded = 0;
    for (const t of replacementOrder(live.filter((t) => !isPrimary(t)))) {
      if (stalled) break; // a FAILED rollout without rollback keeps the old tasks serving
      if (t.condition === 'unhealthy') stop(t, 'unhealthy', 'an old task failed its health checks');
      else if (isProtected(t.task, now)) shielded++; // the rollout waits for its protection to end
      else if (t.condition !== 'available') stop(t, 'replace-old', 'an old task that serves nothing yet is replaced');
      else if (budget > 0) stop(t, 'replace-old', `rolling update: ${budget} available task(s) above the minimumHealthyPercent floor of ${floor}`);
      else { plan.holds.push(`old tasks kept: available tasks at the minimumHealthyPercent floor (${floor})`); break; }
    }
    const good = live.filter((t) => isPrimary(t) && t.condition !== 'unhealthy');
    const unhealthy = live.filter((t) => isPrimary(t) && t.condition === 'unhealthy');
    const excess = good.length - D;
    // AZ rebalancing (az-rebalancing.ts) owns the one extra task of its step: no scale-in takes it.
    rebalance = rebalancingStep({
      service, placeableZones: options.placeableZones, tasks: good, desiredCount: D, occupied, ceiling, now,
      steady: primary.rolloutState === 'COMPLETED' && !replacing && unhealthy.length === 0 && live.every(isPrimary),
      stopInFlight: mine.some((t) => t.condition === 'stopping'), inProgress: primary.rebalancingZones === true,
    });
    const rebalanceOwnsExcess = rebalance.kind === 'stop' || rebalance.kind === 'wait';
    // After unhealthy tasks were replaced, a surplus of healthy tasks stops at random (seed 001);
    // any other surplus is a scale-in, which keeps the zones balanced.
    const unprotected = good.filter((t) => !isProtected(t.task, now));
    const surplus = excess > 0 && unhealthy.length === 0 && !rebalanceOwnsExcess ? surplusHealthy(replacing, good, unprotected, D, random) : undefined;
    const scaleIn = rebalanceOwnsExcess ? [] : surplus ?? (excess > 0 ? scaleInOrder(unprotected, live, excess) : []);
    if (excess > scaleIn.length && !rebalanceOwnsExcess) shielded += good.length - unprotected.length;
    if (rebalance.kind === 'stop') stop(rebalance.task, 'az-rebalance', rebalance.why);
    if (shielded > 0) plan.holds.push(`${shielded} task(s) with scale-in protection kept until it expires`);
    for (const t of scaleIn) {
      if (t.condition === 'available' && budget <= 0) { plan.holds.push(`scale-in held at the floor (${floor})`); break; }
      stop(t, 'scale-in', surplus
        ? `unhealthy tasks replaced: ${good.length} healthy tasks for desiredCount ${D}, the surplus stops at random`
        : `${good.length} tasks of the primary deployment, desiredCount ${D}`);
    }
    const situation = {
      unhealthy, desiredCount: D, rolling, occupied, ceiling,
      healthy: good.filter((t) => t.condition === 'available' && !stopped.has(t.task.taskArn)).length,
      stopInFlight: mine.some((t) => t.condition === 'stopping'),
    };
    for (const { task, why } of unhealthyStops(situation, random)) stop(task, 'unhealthy', why);
    replacingNext = !rolling && (unhealthy.length > 0 || (replacing && excess > 0));
  }

  // 4. Starts: up to desiredCount healthy-or-coming primary tasks, never above the ceiling, and not
  //    before the throttle allows (seed 004: only the time between launches changes).
  const keeping = live.filter((t) => isPrimary(t) && t.condition !== 'unhealthy' && !stopped.has(t.task.taskArn));
  const need = D - keeping.length;
  const room = ceiling - occupied;
  const throttle = foldThrottle(service.throttle, primary.taskDefinition, mine.map((t) => t.task), now, options.throttle);
  const throttled = isThrottled(throttle.state, now);
  if (throttle.newFailures > 0 && throttled) plan.events.push(throttleMessage(name));
  let throttleWake: number | undefined;
  if (need > 0 && stalled) plan.holds.push(`deployment ${primary.id} FAILED: it launches no new tasks`);
  else if (need > 0 && throttled) {
    throttleWake = Math.max(1, Math.ceil((throttle.state.nextAttemptAt! - now) / 1000));
    plan.holds.push(`throttled after ${throttle.state.consecutiveStartFailures} task(s) in a row failed to start: next launch in ${throttleWake} s`);
  }
  else if (need > 0 && room <= 0) plan.holds.push(`at the maximumPercent ceiling (${ceiling} tasks)`);
  else if (need > 0 && resolutionStartLimit(primary.imageResolution, primary.id, tasks) === 0) {
    plan.holds.push(`waiting for the first task of ${primary.id} to establish the container image digests`);
  }
  else if (need > 0) plan.start.push(...startsFor(primary, service, keeping, Math.min(need, room, resolutionStartLimit(primary.imageResolution, primary.id, tasks))));
  const rebalanceStarts = rebalance.kind === 'start' && plan.start.length === 0 && plan.stop.length === 0 && !throttled &&
    resolutionStartLimit(primary.imageResolution, primary.id, tasks) > 0;
  if (rebalanceStarts && rebalance.kind === 'start') {
    const { zone, why, message } = rebalance;
    plan.start.push(...startsFor(primary, service, keeping, 1).map((s) => ({ ...s, availabilityZone: zone, why })));
    if (message) plan.events.push(message);
  }
  if (rebalance.kind === 'complete') plan.events.push(rebalance.message);
  else if ((rebalance.kind === 'wait' || rebalance.kind === 'hold' || rebalance.kind === 'none') && rebalance.why) plan.holds.push(rebalance.why);
  const rebalancingNext = rebalanceStarts || rebalance.kind === 'wait' || rebalance.kind === 'stop' || (rebalance.kind === 'hold' && primary.rebalancingZones === true);

  // 5. A rollout that can neither stop nor start a task says so and does not move (seed 002).
  const rolloutPending = live.some((t) => !isPrimary(t));
  if (rolloutPending && !stalled && plan.start.length === 0 && plan.stop.length === 0 &&
      !canDeploymentProceed(D, minPct, maxPct)) {
    plan.events.push(serviceMessages.cannotStopOrStart(name));
  }
  if (plan.stop.length > 0) plan.events.push(serviceMessages.stopped(name, plan.stop.map((s) => s.taskArn)));

  // 6. Deployments: counts, INACTIVE when empty, COMPLETED when steady; the service's own status.
  const settled = plan.start.length === 0 && plan.stop.length === 0 && occupied === keeping.length &&
    keeping.length === D && keeping.every((t) => t.condition === 'available');
  const held = mine.filter((t) => t.condition !== 'gone');
  const next = deps.map((d) => {
    const { empty, ...counts } = deploymentCounts(d, held, primary.id, D, stopped);
    let r: DeploymentRecord = { ...d, ...counts };
    if (d.id === primary.id) {
      const { replacingUnhealthy: _mark, rebalancingZones: _zones, ...unmarked } = r;
      r = { ...unmarked, ...(replacingNext ? { replacingUnhealthy: true } : {}), ...(rebalancingNext ? { rebalancingZones: true } : {}) };
    }
    if (d.id !== primary.id && d.status === 'ACTIVE' && empty) r = { ...r, status: 'INACTIVE' };
    if (d.id === primary.id && settled && d.rolloutState === 'IN_PROGRESS') {
      r = { ...r, rolloutState: 'COMPLETED', rolloutStateReason: rolloutReasons.completed(d.id), completedAt: now };
      plan.events.push(serviceMessages.deploymentCompleted(name, d.id));
    }
    if (draining && occupied === 0) r = { ...r, status: 'INACTIVE' };
    return r;
  });
  if (settled && !draining && primary.rolloutState !== 'FAILED') plan.events.push(serviceMessages.steadyState(name));
  const changed = next.filter((d, i) => JSON.stringify(d) !== JSON.stringify(deployments[i]));
  const deploymentsOut = changed.map((d) => ({ ...d, updatedAt: now }));
  if (draining && occupied === 0) {
    return { ...plan, deployments: deploymentsOut, service: { ...serviceChange, status: 'INACTIVE' }, nextWakeSeconds: undefined };
  }
  // Written once a service has ever failed to start a task (a service that never did carries none).
  const keepThrottle = service.throttle !== undefined || throttle.state.consecutiveStartFailures > 0;
  if (keepThrottle && JSON.stringify(throttle.state) !== JSON.stringify(service.throttle)) serviceChange = { ...serviceChange, throttle: throttle.state };
  const quiet = (settled || stalled) && plan.start.length === 0 && plan.stop.length === 0;
  let nextWakeSeconds: number = quiet ? WAKE.steady : WAKE.progressing;
  // A pass that completes the rollout saw no zones (they are read only for a steady service): the
  // next pass looks at AZ balance soon rather than at the hourly look.
  const completedNow = next.some((d, i) => d.rolloutState === 'COMPLETED' && deployments[i]?.rolloutState !== 'COMPLETED');
  if (completedNow && options.placeableZones === undefined && D >= 2 && !rebalancingExcluded(service)) {
    nextWakeSeconds = Math.min(nextWakeSeconds, WAKE.progressing);
  }
  // Throttled: look again when the next launch is allowed (sooner only if something else moves).
  if (throttleWake !== undefined) nextWakeSeconds = plan.start.length || plan.stop.length ? Math.min(nextWakeSeconds, throttleWake) : throttleWake;
  return { ...plan, deployments: deploymentsOut, service: serviceChange, nextWakeSeconds };
}

/** The starts for `count` new tasks of the deployment: one per capacity provider (base, then weight). */
function startsFor(d: DeploymentRecord, service: ServiceRecord, keeping: readonly ServiceTask[], count: number): TaskStart[] {
  const pinned = pinnedDigests(d.imageResolution);
  const common = {
    deploymentId: d.id, taskDefinition: d.taskDefinition, group: serviceGroup(service.serviceName), startedBy: d.id,
    ...(Object.keys(pinned).length ? { imageDigests: pinned } : {}),
  };
  const why = `${keeping.length} of ${service.desiredCount} tasks of deployment ${d.id}`;
  const strategy = d.capacityProviderStrategy ?? [];
  if (strategy.length === 0) return [{ ...common, launchType: d.launchType, count, why }];
  const existing: Record<string, number> = {};
  for (const t of keeping) {
    const cp = t.task.capacityProviderName;
    if (cp) existing[cp] = (existing[cp] ?? 0) + 1;
  }
  const perProvider = new Map<string, number>();
  for (const cp of distributeTasks(strategy, count, existing)) perProvider.set(cp, (perProvider.get(cp) ?? 0) + 1);
  return [...perProvider].map(([capacityProvider, n]) => ({ ...common, capacityProvider, count: n, why }));
}
