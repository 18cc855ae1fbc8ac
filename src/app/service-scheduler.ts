/**
 * One scheduler pass for one service: load -> claim -> reconcile -> apply -> store -> next wake.
 *
 *   1. read the service item (record, deployments, events);
 *   2. claim it: move its version on, so a concurrent pass (or an UpdateService) that read the older
 *      version can no longer write, and ours stops at its next write if someone moves it again;
 *   3. read the service's tasks (consistent; STOPPED ones included, the circuit breaker counts them);
 *   4. `reconcile` (pure) decides the Plan;
 *   5. stops: desiredStatus STOPPED with stopCode ServiceSchedulerInitiated and the plan's reason, each
 *      a conditional task write plus a ConditionCheck on the claimed version (what StopTask writes);
 *      starts: new tasks (group service:<name>, startedBy the deployment id) in RunTask's transaction
 *      (cluster counters + task Puts) plus the same ConditionCheck; the stream-driven engine places
 *      and starts them exactly as it does RunTask's;
 *   6. the service item: deployments, service status (DRAINING -> INACTIVE), events, at the claimed
 *      version;
 *   7. when to look again (plan.nextWakeSeconds), absent once INACTIVE.
 *
 * Retried as a whole on any lost race: every attempt reads afresh, so a retry (or a crash and a later
 * pass) repeats nothing that was committed — committed tasks and stops are in the next reads.
 */
import { parseArn, type Scope } from '../domain/arns';
import { capacityProviderKind } from '../domain/capacity-strategy';
import { AVAILABILITY_ZONE_ATTRIBUTE } from '../domain/container-instance';
import { withPinnedDigests } from '../domain/image-digests';
import { uuidFrom, type LaunchTarget } from '../domain/new-task';
import type { Tag } from '../domain/records';
import { serviceGroup, type DeploymentRecord, type LaunchConfiguration, type ServiceRecord } from '../domain/service';
import { changesHistory, progressServiceDeployment } from '../domain/service-deployment';
import { appendServiceEvents, serviceMessages } from '../domain/service-messages';
import type { Plan, TaskStart } from '../domain/service-plan';
import { reconcile } from '../domain/service-reconciler';
import { reconcileTaskSets } from '../domain/task-set-reconciler';
import { reconcileDaemon } from '../domain/daemon-reconciler';
import { placementFailureMessage } from '../domain/placement-failure-messages';
import { placeTasks, taskRequirements, type PlacementCandidate } from '../domain/placement';
import { parsePlacementConstraint } from '../domain/placement-constraints';
import { VersionConflictError } from '../domain/errors';
import { requestStop } from '../domain/task-lifecycle';
import { stampTask } from '../domain/update-time';
import type { ServiceGuard, StoredService } from '../adapters/dynamodb/service-repository';
import type { InstanceChange, StoredTask } from '../adapters/dynamodb/task-repository';
import type { StampedTask } from '../domain/update-time';
import type { BerthContext, RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { rebalancingZones } from './rebalancing-zones';
import { mergeDeployments, randomUnit } from './services';
import { findTaskDefinition } from './task-definitions';
import { buildTasks, countDeltasOf, placementOf, reserveAtOnce } from './tasks';
import { placementCandidate, requirementsOf } from './task-engine';
import { placeGroup, reservationsOf } from './group-placement';

export interface PassResult {
  /** 'gone': no such service, or INACTIVE: its loop ends. */
  readonly outcome: 'reconciled' | 'gone';
  /** Epoch ms of the next look when nothing wakes the loop earlier; absent: never. */
  readonly nextWakeAt?: number;
  readonly plan?: Plan;
  /** ARNs of the tasks this pass started. */
  readonly started?: string[];
}

/** Tasks created per transaction (DynamoDB allows 100 items; the counters and the guard take two). */
const CREATE_BATCH = 50;
/** Placed tasks (DAEMON) per transaction: each adds its assignment and its host's reservation. */
const PLACED_CREATE_BATCH = 30;
/** INACTIVE deployments kept (newest first) besides the live ones: the rollback targets. */
const KEPT_INACTIVE_DEPLOYMENTS = 3;

export interface ServiceAddress {
  readonly scope: Scope;
  readonly clusterArn: string;
  readonly serviceName: string;
}

/** The cluster and name of a long-format service ARN (service/<cluster>/<name>). */
export function serviceAddress(serviceArn: string): ServiceAddress {
  const parsed = parseArn(serviceArn);
  if (!parsed || parsed.resourceType !== 'service' || parsed.path.length !== 2) throw new Error(`not a service ARN: ${serviceArn}`);
  const scope = { account: parsed.account, region: parsed.region, partition: parsed.partition };
  const clusterArn = `arn:${parsed.partition}:ecs:${parsed.region}:${parsed.account}:cluster/${parsed.path[0]}`;
  return { scope, clusterArn, serviceName: parsed.path[1] };
}

/**
 * Tasks an attempt committed starting or stopping: an attempt overtaken before its final write hands
 * them to the next attempt, so the service events still say what happened ("has started 2 tasks").
 */
interface Committed {
  readonly started: string[];
  readonly stopped: string[];
}

export async function runServicePass(ctx: BerthContext, serviceArn: string): Promise<PassResult> {
  const address = serviceAddress(serviceArn);
  const committed: Committed = { started: [], stopped: [] };
  return withOptimisticRetry(() => pass({ ...ctx, scope: address.scope }, address, committed));
}

async function pass(ctx: RequestContext, { clusterArn, serviceName }: ServiceAddress, committed: Committed): Promise<PassResult> {
  const stored = await ctx.services.get(clusterArn, serviceName);
  if (!stored || stored.record.status === 'INACTIVE') return { outcome: 'gone' };
  const held = await ctx.services.claim(clusterArn, serviceName, stored.version);
  const guard = ctx.services.guard(clusterArn, serviceName, held);
  const tasks = await ctx.tasks.inGroup(clusterArn, serviceGroup(serviceName));
  const now = ctx.clock();
  const daemon = stored.record.schedulingStrategy === 'DAEMON' ? await daemonInputs(ctx, stored) : undefined;
  const placeableZones = daemon ? undefined : await rebalancingZones(ctx, stored);
  const plan = stored.record.deploymentController.type === 'EXTERNAL'
    ? reconcileTaskSets(stored.record, stored.taskSets ?? [], tasks.map((t) => t.record), now)
    : daemon
      ? reconcileDaemon(stored.record, stored.deployments, tasks.map((t) => t.record), daemon, now, { throttle: ctx.throttle })
      : reconcile(stored.record, stored.deployments, tasks.map((t) => t.record), now, randomUnit(ctx), { throttle: ctx.throttle, placeableZones });

  await applyStops(ctx, plan, tasks, guard, committed.stopped);
  await applyStarts(ctx, stored.record, [...stored.deployments, ...(stored.taskSets ?? [])], plan.start, guard, now, committed.started, daemon?.instances);
  const started = [...committed.started];

  // The plan's "has stopped" message names the stops it planned; say which ones were made.
  const planned = plan.stop.length ? serviceMessages.stopped(serviceName, plan.stop.map((s) => s.taskArn)) : undefined;
  // A task that gave up waiting for a host (no capacity of its kind) is said once in the service's events.
  const unplaced = placementFailureMessage(serviceName, tasks.map((t) => t.record), stored.events);
  const messages = [
    ...(unplaced ? [unplaced] : []),
    ...plan.events.filter((m) => m !== planned),
    ...(committed.stopped.length ? [serviceMessages.stopped(serviceName, committed.stopped)] : []),
    ...(committed.started.length ? [serviceMessages.started(serviceName, committed.started)] : []),
  ];
  const record: ServiceRecord = { ...stored.record, ...plan.service, version: held + 1 };
  const deployments = mergeDeployments(stored.deployments, plan.deployments);
  // The service deployment follows its records (PENDING -> IN_PROGRESS -> SUCCESSFUL, rollbacks, ...),
  // written with the service item so its history never disagrees with the deployments it shows.
  const release = stored.serviceDeployment && progressServiceDeployment(stored.serviceDeployment, record, deployments, now);
  const releaseChanged = release !== stored.serviceDeployment;
  const next: StoredService = {
    ...stored,
    record,
    deployments: keepDeployments(deployments),
    events: appendServiceEvents(stored.events, messages, now, () => uuidFrom(ctx.randomBytes(16))),
    version: held + 1,
    serviceDeployment: release,
    ...(plan.taskSets ? { taskSets: plan.taskSets } : {}),
  };
  // A steady service's repeated "steady state" is left out of its events: then there is nothing to write.
  const eventsChanged = next.events[0]?.id !== stored.events[0]?.id;
  const changed = plan.deployments.length > 0 || plan.service !== undefined || plan.taskSets !== undefined || eventsChanged || releaseChanged;
  if (changed) {
    const inactive = record.status === 'INACTIVE';
    await ctx.services.update(next, held, 'scheduler', {
      ...(inactive ? { expiresAtMs: now + ctx.retention.inactiveClusterMs } : {}),
      // Its own item only when more than the live counts changed (the service item's copy has those).
      ...(release && stored.serviceDeployment && changesHistory(stored.serviceDeployment, release) ? { history: { serviceDeployments: [release] } } : {}),
    });
  }
  committed.started.length = 0;
  committed.stopped.length = 0;
  const nextWakeAt = plan.nextWakeSeconds === undefined ? undefined : now + plan.nextWakeSeconds * 1000;
  return { outcome: record.status === 'INACTIVE' ? 'gone' : 'reconciled', nextWakeAt, plan, started };
}

/**
 * What the DAEMON decision reads beyond the service: the cluster's container instances as placement
 * sees them (with the groups of the tasks on each), the service's constraints plus its primary task
 * definition's memberOf, and what one task of that definition reserves.
 */
async function daemonInputs(ctx: RequestContext, stored: StoredService) {
  const { record } = stored;
  const primary = stored.deployments.find((d) => d.status === 'PRIMARY');
  const td = primary && (await findTaskDefinition(ctx, primary.taskDefinition));
  const [hosts, groups] = await Promise.all([ctx.containerInstances.all(record.clusterArn), ctx.tasks.groupsPerInstance(record.clusterArn)]);
  const placement = td ? placementOf(td.record, { placementConstraints: record.placementConstraints?.map((c) => ({ ...c })) }) : {};
  return {
    instances: hosts.map(placementCandidate(ctx.scope.region, groups)),
    constraints: (placement.placementConstraints ?? []).map((c) => parsePlacementConstraint(c, 'service')),
    needs: td ? taskRequirements(td.record, td.record.containerDefinitions) : { cpu: 0, memory: 0 },
  };
}

async function applyStops(ctx: RequestContext, plan: Plan, tasks: readonly StoredTask[], guard: ServiceGuard, stopped: string[]) {
  const byArn = new Map(tasks.map((t) => [t.record.taskArn, t]));
  for (const stop of plan.stop) {
    const stored = byArn.get(stop.taskArn);
    if (!stored) continue;
    const request = requestStop(stored.record, stop.stopCode, stop.reason);
    if (!request.changed) continue;
    const { changed: _changed, ...fields } = request;
    await ctx.tasks.applyChange({
      task: stampTask(stored.record, { ...stored.record, ...fields, version: stored.version + 1 }, ctx.clock()),
      expectedVersion: stored.version,
      guard,
    });
    stopped.push(stop.taskArn);
  }
}

async function applyStarts(
  ctx: RequestContext,
  service: ServiceRecord,
  deployments: readonly (LaunchConfiguration & { readonly id: string })[],
  starts: readonly TaskStart[],
  guard: ServiceGuard,
  now: number,
  started: string[],
  instances: readonly PlacementCandidate[] = [],
) {
  if (starts.length === 0) return;
  const hosts = new Map(instances.map((h) => [h.containerInstanceArn, h]));
  const cluster = await ctx.clusters.get(service.clusterArn);
  if (!cluster || cluster.record.status !== 'ACTIVE') return;
  const placed: { tasks: StampedTask[]; reservation: InstanceChange }[] = [];
  const replicas: StampedTask[] = [];
  for (const start of starts) {
    const td = await findTaskDefinition(ctx, start.taskDefinition);
    if (!td) continue; // a deleted revision: nothing can launch it (ECS keeps revisions a service uses)
    // A rollback may start tasks of a deployment other than the service's latest configuration; a task
    // set's tasks take the set's.
    const deployment = deployments.find((d) => d.id === start.deploymentId) ?? service;
    const target: LaunchTarget = start.capacityProvider
      ? { launchType: capacityProviderKind(start.capacityProvider) === 'FARGATE' ? 'FARGATE' : 'EC2', capacityProviderName: start.capacityProvider }
      : { launchType: start.launchType ?? 'EC2' };
    const records = buildTasks(ctx, cluster.record, td.record, Array.from({ length: start.count }, () => target), {
      group: start.group,
      startedBy: start.startedBy,
      subnets: deployment.networkConfiguration?.awsvpcConfiguration?.subnets,
      platformVersion: deployment.platformVersion,
      enableExecuteCommand: service.enableExecuteCommand,
      tags: taskTags(service, td.tags, cluster.record.clusterName),
      // The service's placement as it is now (UpdateService may change it), plus the definition's memberOf.
      placement: placementOf(td.record, {
        placementConstraints: [...(service.placementConstraints ?? []).map((c) => ({ ...c })), ...zonePin(start, target)],
        placementStrategy: service.placementStrategy?.map((s) => ({ ...s })),
      }),
    }, now).map((task) => withPinnedDigests(task, start.imageDigests ?? {}));
    if (start.containerInstanceArn) {
      placed.push(...placeOn(records, hosts.get(start.containerInstanceArn)));
      continue;
    }
    replicas.push(...records);
  }
  // A REPLICA pass's starts (all its starts: several capacity providers, rollouts) are placed as one
  // group at creation, each seeing the ones before it (src/app/group-placement.ts); a lost race on a
  // host's room fails the creating transaction and the pass decides again on fresh reads. Tasks no
  // instance can take now, and Fargate tasks, are created unplaced: the engine places them (or they wait).
  const group = await placeGroup(ctx, service.clusterArn, replicas);
  const atOnce = replicas.flatMap((task) => (group.placed.has(task) ? [group.placed.get(task)!] : []));
  for (let i = 0; i < atOnce.length; i += PLACED_CREATE_BATCH) {
    const batch = atOnce.slice(i, i + PLACED_CREATE_BATCH);
    const outcome = await ctx.tasks.create(service.clusterArn, batch, countDeltasOf(batch), undefined, reservationsOf(batch), guard);
    if (outcome === 'capacity-changed' || outcome === 'cluster-changed') throw new VersionConflictError(service.serviceArn);
    if (outcome !== 'created') throw new Error(`service ${service.serviceArn}: task creation ${outcome}`);
    started.push(...batch.map((t) => t.taskArn));
  }
  const waiting = replicas.filter((task) => !group.placed.has(task));
  for (let i = 0; i < waiting.length; i += CREATE_BATCH) {
    const batch = waiting.slice(i, i + CREATE_BATCH);
    const outcome = await ctx.tasks.create(service.clusterArn, batch, countDeltasOf(batch), undefined, [], guard);
    if (outcome !== 'created') throw new Error(`service ${service.serviceArn}: task creation ${outcome}`);
    started.push(...batch.map((t) => t.taskArn));
  }
  // Tasks placed at creation (DAEMON), as StartTask places them: each with its host's share reserved
  // by a conditional ADD in the same transaction, so a host whose room went meanwhile fails the
  // write and the pass decides again on fresh reads.
  for (let i = 0; i < placed.length; i += PLACED_CREATE_BATCH) {
    const batch = placed.slice(i, i + PLACED_CREATE_BATCH);
    const tasks = batch.flatMap((p) => p.tasks);
    const outcome = await ctx.tasks.create(service.clusterArn, tasks, countDeltasOf(tasks), undefined, batch.map((p) => p.reservation), guard);
    if (outcome === 'capacity-changed' || outcome === 'cluster-changed') throw new VersionConflictError(service.serviceArn);
    if (outcome !== 'created') throw new Error(`service ${service.serviceArn}: task creation ${outcome}`);
    started.push(...tasks.map((t) => t.taskArn));
  }
}

/**
 * A start's tasks on its named instance, through the one placement function (status, agent, room),
 * with the instance's summed share to reserve; nothing when none fits (the next pass looks again).
 */
function placeOn(records: readonly StampedTask[], host: PlacementCandidate | undefined) {
  if (!host) return [];
  const { outcomes } = placeTasks(records.map((task) => ({ needs: requirementsOf(task), kind: 'EC2' })), [host]);
  const { placed, reservations } = reserveAtOnce(records, outcomes);
  const tasks = records.flatMap((task) => (placed.has(task) ? [placed.get(task)!] : []));
  return tasks.length ? [{ tasks, reservation: reservations[0]! }] : [];
}

/**
 * AZ rebalancing's start goes to its zone: a memberOf constraint on the zone, as a user would write
 * it. Fargate takes no constraints (as on ECS); the pool's placement spreads a service's tasks
 * across zones by count, which sends the task to a zone with the fewest.
 */
function zonePin(start: TaskStart, target: LaunchTarget) {
  if (!start.availabilityZone || target.launchType === 'FARGATE') return [];
  return [{ type: 'memberOf' as const, expression: `attribute:${AVAILABILITY_ZONE_ATTRIBUTE} == ${start.availabilityZone}` }];
}

/** propagateTags and enableECSManagedTags, as ECS applies them to a service's tasks. */
function taskTags(service: ServiceRecord, tdTags: readonly Tag[], clusterName: string): Tag[] {
  const tags: Tag[] =
    service.propagateTags === 'SERVICE' ? [...service.tags] : service.propagateTags === 'TASK_DEFINITION' ? [...tdTags] : [];
  if (service.enableECSManagedTags) {
    tags.push({ key: 'aws:ecs:clusterName', value: clusterName }, { key: 'aws:ecs:serviceName', value: service.serviceName });
  }
  return tags;
}

/** The live deployments and the newest few INACTIVE ones (rollback targets); older ones are dropped. */
function keepDeployments(deployments: readonly DeploymentRecord[]): DeploymentRecord[] {
  const inactive = deployments.filter((d) => d.status === 'INACTIVE').sort((a, b) => b.updatedAt - a.updatedAt);
  const kept = new Set(inactive.slice(0, KEPT_INACTIVE_DEPLOYMENTS));
  return deployments.filter((d) => d.status !== 'INACTIVE' || kept.has(d));
}
