/**
 * What agents tell the control plane (SubmitTaskStateChange, SubmitContainerStateChange) and what
 * they ask of it (their assignments), plus the Spot interruption that reclaims FARGATE_SPOT capacity.
 * The agent moves a task PENDING -> ACTIVATING -> RUNNING and reports when its containers have
 * stopped; everything else is the engine's (src/domain/task-engine.ts).
 */
import { AccessDeniedException, BerthError, InvalidParameterException, VersionConflictError } from '../domain/errors';
import { isImageDigest } from '../domain/image-digests';
import type { ContainerRecord, TaskRecord } from '../domain/records';
import { isLegalTransition, requestStop, type TaskStatus } from '../domain/task-lifecycle';
import { stampTask } from '../domain/update-time';
import { fargatePoolPartition } from '../adapters/dynamodb/keys';
import type { RequestContext } from './context';
import type { StoredTask } from '../adapters/dynamodb/task-repository';
import { withOptimisticRetry } from './optimistic';
import { activeCluster, clusterArnFor } from './resolve';
import { requireOwnInstanceArn } from './container-instances';
import { changeFor } from './task-engine';
import { taskIdIn } from './tasks';

export const SPOT_INTERRUPTION_REASON = 'Your Spot Task was interrupted.';
export const ESSENTIAL_CONTAINER_EXITED = 'Essential container in task exited';
/**
 * The stop codes an agent may give (Berth's extension member `stopCode` of SubmitTaskStateChange)
 * when it stopped a task itself rather than seeing an essential container exit: it could not finish
 * the start, it shut down, or the task's processes were lost (docs/agent.md).
 */
const AGENT_STOP_CODES = ['TaskFailedToStart', 'TerminationNotice', 'InfrastructureHealth'] as const;
type AgentStopCode = (typeof AGENT_STOP_CODES)[number];

interface ContainerReport {
  containerName?: string;
  runtimeId?: string;
  imageDigest?: string;
  status?: string;
  exitCode?: number;
  reason?: string;
  /** Berth's agent extension: the container's health check result. */
  healthStatus?: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
}

/** The last instant a JavaScript Date (and an ISO string in an event) can hold. */
const MAX_DATE_MS = 8.64e15;

/**
 * Agents send epoch seconds on the wire (the SDK's timestamp encoding); records keep milliseconds.
 * A time no Date can hold would break every event of the task later, so it is refused here.
 */
function toMs(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? Math.round(value * 1000) : Date.parse(value);
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) {
    throw new InvalidParameterException(`Invalid timestamp: ${String(value)}.`);
  }
  return ms;
}

/**
 * Only the host that holds a task may report on it. The reporter names itself with Berth's extension
 * member `containerInstance` (its container instance ARN, which Berth's agent always sends); the task
 * is held by the host its capacity is reserved on, from placement until it is STOPPED. A report
 * without a reporter, from another host, or for a task no host holds (waiting for capacity, or
 * stopped) is refused before anything is written: a confused agent (one that registered anew, or
 * whose task was stopped before it started) cannot move another host's task. It names, it does not
 * prove: who may call the agent operations at all is IAM's business in AWS (docs/agent.md).
 */
function requireHolder(task: TaskRecord, reporter: string | undefined): void {
  if (holds(task, reporter)) return;
  if (reporter === undefined) {
    throw new AccessDeniedException('A task state report must name the reporting container instance (containerInstance).');
  }
  throw new AccessDeniedException(`The container instance ${reporter} does not hold the task ${task.taskArn}.`);
}

/** Whether the reporter named itself and holds the task (its capacity is reserved there). */
function holds(task: TaskRecord, reporter: string | undefined): boolean {
  return reporter !== undefined && task.reservation?.containerInstanceArn === reporter;
}

/** `now`: the time the report is taken as, the same for every timestamp the change sets. */
async function updateTask(
  ctx: RequestContext,
  report: { cluster?: string; task: string; containerInstance?: string },
  now: number,
  change: (task: TaskRecord) => TaskRecord | undefined,
) {
  // The task's key follows from the cluster reference alone (every start and stop waits on these reports).
  const arn = clusterArnFor(ctx, report.cluster);
  const taskId = arn === undefined ? undefined : taskIdIn(ctx, arn, report.task);
  const write = async (stored: StoredTask) => {
    const next = change(stored.record);
    if (!next) return stored.record;
    const updated = stampTask(stored.record, { ...next, version: stored.version + 1 }, now);
    await ctx.tasks.applyChange(changeFor(stored.record, updated, stored.version, false));
    ctx.tasks.remember({ record: updated, version: updated.version });
    return updated;
  };
  // First from the version last seen committed (the stream image the agent was notified of, or this
  // process's own last write), without a read: only its conditional write makes it count. A stale
  // copy (lost condition), a refusal or a no-op decided on it, are all decided again on a fresh read.
  const recent = taskId === undefined ? undefined : ctx.tasks.recentlyCommittedCopy(arn!, taskId);
  if (recent && holds(recent.record, report.containerInstance)) {
    const written = await write(recent).then(
      (updated) => (updated === recent.record ? undefined : updated),
      (error: unknown) => {
        if (error instanceof BerthError || error instanceof VersionConflictError) return undefined;
        throw error;
      },
    );
    if (written) return written;
    ctx.tasks.forget(arn!, taskId!);
  }
  return withOptimisticRetry(async () => {
    // A task its reporter holds is pending or running, so its cluster is ACTIVE (DeleteCluster refuses
    // while tasks are active, by a conditional write): the cluster is read only for a report refused
    // anyway, so that a missing or deleted cluster is the error it gets, as before.
    const stored = taskId === undefined ? undefined : await ctx.tasks.get(arn!, taskId);
    if (!stored || !holds(stored.record, report.containerInstance)) {
      await activeCluster(ctx, report.cluster);
      if (!stored) throw new InvalidParameterException('The referenced task was not found.');
      requireHolder(stored.record, report.containerInstance);
    }
    return write(stored);
  });
}

/** A report's image digests are checked before anything is read: a malformed one is refused, never pinned. */
function checkContainerReports(reports: readonly ContainerReport[]): void {
  for (const report of reports) {
    if (report.imageDigest !== undefined && (typeof report.imageDigest !== 'string' || !isImageDigest(report.imageDigest))) {
      throw new InvalidParameterException(`imageDigest must be a digest such as sha256:<64 hex digits> (container ${report.containerName}).`);
    }
  }
}

function mergeContainers(containers: ContainerRecord[], reports: readonly ContainerReport[]): ContainerRecord[] {
  return containers.map((container) => {
    const report = reports.find((r) => r.containerName === container.name);
    if (!report) return container;
    return {
      ...container,
      ...(report.runtimeId ? { runtimeId: report.runtimeId } : {}),
      ...(report.imageDigest ? { imageDigest: report.imageDigest } : {}),
      ...(report.status ? { lastStatus: report.status } : {}),
      ...(report.exitCode !== undefined && report.exitCode !== null ? { exitCode: report.exitCode } : {}),
      ...(report.reason ? { reason: report.reason } : {}),
      ...(report.healthStatus ? { healthStatus: report.healthStatus } : {}),
    };
  });
}

/** ECS: the task is HEALTHY when every essential container with a health check is; UNHEALTHY if one is not. */
function taskHealth(containers: readonly ContainerRecord[]): TaskRecord['healthStatus'] {
  const checked = containers.filter((c) => c.essential !== false && c.healthStatus && c.healthStatus !== 'UNKNOWN');
  if (checked.some((c) => c.healthStatus === 'UNHEALTHY')) return 'UNHEALTHY';
  return checked.length > 0 && checked.every((c) => c.healthStatus === 'HEALTHY') ? 'HEALTHY' : 'UNKNOWN';
}

export async function submitTaskStateChange(
  ctx: RequestContext,
  input: {
    cluster?: string;
    task?: string;
    status?: string;
    reason?: string;
    containers?: ContainerReport[];
    pullStartedAt?: number;
    pullStoppedAt?: number;
    executionStoppedAt?: number;
    /** Berth's extension member: the agent stopped the task itself, for this reason. */
    stopCode?: unknown;
    /** Berth's extension member: the reporting container instance (see requireHolder). */
    containerInstance?: string;
  },
) {
  if (!input.task) throw new InvalidParameterException('task is required.');
  const agentStopCode = input.stopCode as AgentStopCode | undefined;
  if (agentStopCode !== undefined && !AGENT_STOP_CODES.includes(agentStopCode)) {
    throw new InvalidParameterException(`stopCode must be one of ${AGENT_STOP_CODES.join(', ')}.`);
  }
  checkContainerReports(input.containers ?? []);
  const now = ctx.clock();
  await updateTask(ctx, { ...input, task: input.task }, now, (task) => {
    const reports = input.containers ?? [];
    let next: TaskRecord = { ...task, containers: mergeContainers(task.containers, reports) };
    const move = (to: TaskStatus, changes: Partial<TaskRecord>) => {
      if (isLegalTransition(task.lastStatus, to)) next = { ...next, ...changes, lastStatus: to };
    };
    switch (input.status) {
      case 'ACTIVATING':
        if (task.desiredStatus === 'RUNNING') move('ACTIVATING', { pullStartedAt: toMs(input.pullStartedAt) ?? now });
        break;
      case 'RUNNING':
        if (task.desiredStatus === 'RUNNING') {
          move('RUNNING', {
            pullStoppedAt: toMs(input.pullStoppedAt) ?? now,
            startedAt: now,
            connectivity: 'CONNECTED',
            connectivityAt: now,
          });
        }
        break;
      case 'STOPPED': {
        // The containers are gone; the engine walks the task on to STOPPED from here.
        next = { ...next, executionStoppedAt: toMs(input.executionStoppedAt) ?? now };
        if (task.desiredStatus === 'RUNNING') {
          // An essential container exit only when the agent says nothing else: a task whose processes
          // were lost, or that the agent stopped, must not read as if its container had exited.
          const neverRan = task.lastStatus !== 'RUNNING';
          const [stopCode, reason] = agentStopCode
            ? [agentStopCode, input.reason ?? 'Task stopped by the agent']
            : neverRan
              ? (['TaskFailedToStart', input.reason ?? 'Task failed to start'] as const)
              : (['EssentialContainerExited', ESSENTIAL_CONTAINER_EXITED] as const);
          const stop = requestStop(task, stopCode, reason);
          next = { ...next, desiredStatus: stop.desiredStatus, stopCode: stop.stopCode, stoppedReason: stop.stoppedReason };
        }
        break;
      }
      case undefined:
        break;
      default:
        throw new InvalidParameterException(`Unsupported task status: ${input.status}.`);
    }
    next = { ...next, healthStatus: taskHealth(next.containers) };
    return JSON.stringify(next) === JSON.stringify(task) ? undefined : next;
  });
  return { acknowledgment: 'ACK' };
}

export async function submitContainerStateChange(
  ctx: RequestContext,
  input: ContainerReport & { cluster?: string; task?: string; containerInstance?: string },
) {
  if (!input.task || !input.containerName) throw new InvalidParameterException('task and containerName are required.');
  await updateTask(ctx, { ...input, task: input.task }, ctx.clock(), (task) => {
    if (!task.containers.some((c) => c.name === input.containerName)) {
      throw new InvalidParameterException(`The task has no container named ${input.containerName}.`);
    }
    const containers = mergeContainers(task.containers, [input]);
    const next = { ...task, containers, healthStatus: taskHealth(containers) };
    return JSON.stringify(next) === JSON.stringify(task) ? undefined : next;
  });
  return { acknowledgment: 'ACK' };
}

/**
 * FARGATE_SPOT capacity is reclaimed: every running task on it gets ECS's two-minute warning, a task
 * event with desiredStatus STOPPED, lastStatus RUNNING and stopCode SpotInterruption; the engine
 * and the agent then stop it (SIGTERM, SIGKILL after the container's stopTimeout).
 * `containerInstanceArn` limits it to one host; without it all FARGATE_SPOT hosts of the region.
 */
export async function interruptSpotCapacity(ctx: RequestContext, input: { containerInstanceArn?: string }) {
  const hosts = input.containerInstanceArn !== undefined
    ? [requireOwnInstanceArn(ctx, input.containerInstanceArn)]
    : (await ctx.containerInstances.all(fargatePoolPartition(ctx.scope)))
        .filter((host) => host.record.fargateProviders.includes('FARGATE_SPOT'))
        .map((host) => host.record.containerInstanceArn);
  const interrupted: string[] = [];
  for (const host of hosts) {
    for (const pointer of await ctx.tasks.assignedTo(host)) {
      const changed = await withOptimisticRetry(async () => {
        const stored = await ctx.tasks.get(pointer.clusterArn, pointer.taskId);
        if (!stored || stored.record.capacityProviderName !== 'FARGATE_SPOT') return undefined;
        const stop = requestStop(stored.record, 'SpotInterruption', SPOT_INTERRUPTION_REASON);
        if (!stop.changed) return undefined;
        const { changed: _changed, ...fields } = stop;
        const task = stampTask(stored.record, { ...stored.record, ...fields, version: stored.version + 1 }, ctx.clock());
        await ctx.tasks.applyChange({ task, expectedVersion: stored.version });
        return task.taskArn;
      });
      if (changed) interrupted.push(changed);
    }
  }
  return { interruptedTaskArns: interrupted };
}

/**
 * In AWS, EC2's "Spot Instance Interruption Warning" for an instance that hosts a Berth agent
 * offering FARGATE_SPOT capacity reclaims that capacity (lambdas/spot-interruption.ts).
 */
export async function interruptSpotCapacityOfEc2Instance(ctx: RequestContext, ec2InstanceId: string) {
  const hosts = (await ctx.containerInstances.all(fargatePoolPartition(ctx.scope))).filter(
    (host) => host.record.ec2InstanceId === ec2InstanceId && host.record.fargateProviders.includes('FARGATE_SPOT'),
  );
  const interrupted: string[] = [];
  for (const host of hosts) {
    const result = await interruptSpotCapacity(ctx, { containerInstanceArn: host.record.containerInstanceArn });
    interrupted.push(...result.interruptedTaskArns);
  }
  return { interruptedTaskArns: interrupted };
}
