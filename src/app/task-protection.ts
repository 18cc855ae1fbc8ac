/**
 * UpdateTaskProtection and GetTaskProtection (ECS task scale-in protection). The request is checked
 * whole before anything is written (a bad count or expiresInMinutes is InvalidParameterException, no
 * write); then each task is answered on its own, as ECS does: `protectedTasks` for those it protected
 * (or read), `failures` for the others (MISSING: no such task; TASK_NOT_VALID: not a live service task).
 * Each protection is one conditional write on the task's version, retried on a lost race.
 */
import { InvalidParameterException } from '../domain/errors';
import {
  MAX_GET_PROTECTION_TASKS,
  MAX_UPDATE_PROTECTION_TASKS,
  isServiceTask,
  protectedTaskView,
  protectionExpiry,
  protectionRefusal,
} from '../domain/task-protection';
import { stampTask } from '../domain/update-time';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { activeCluster } from './resolve';
import { taskIdIn } from './tasks';

interface Failure {
  readonly arn: string;
  readonly reason: string;
  readonly detail?: string;
}

const missing = (clusterArn: string, reference: string): Failure => ({
  arn: reference.startsWith('arn:') ? reference : `${clusterArn.replace(':cluster/', ':task/')}/${reference}`,
  reason: 'MISSING',
});

export async function updateTaskProtection(
  ctx: RequestContext,
  input: { cluster: string; tasks: string[]; protectionEnabled: boolean; expiresInMinutes?: number },
) {
  if (input.tasks.length === 0) throw new InvalidParameterException('Tasks cannot be empty.');
  if (input.tasks.length > MAX_UPDATE_PROTECTION_TASKS) {
    throw new InvalidParameterException(`Tasks cannot have more than ${MAX_UPDATE_PROTECTION_TASKS} elements.`);
  }
  protectionExpiry(input.protectionEnabled, input.expiresInMinutes, 0); // refuses bad minutes before any write
  const cluster = await activeCluster(ctx, input.cluster);
  const clusterArn = cluster.record.clusterArn;
  const protectedTasks = [];
  const failures: Failure[] = [];
  const done = new Set<string>();
  for (const reference of input.tasks) {
    const id = taskIdIn(ctx, clusterArn, reference);
    if (id !== undefined && done.has(id)) continue;
    const outcome = id === undefined ? undefined : await withOptimisticRetry(async () => {
      const stored = await ctx.tasks.get(clusterArn, id);
      if (!stored) return undefined;
      const refusal = protectionRefusal(stored.record);
      if (refusal) return { failure: { arn: stored.record.taskArn, ...refusal } };
      const now = ctx.clock();
      const protectionExpiresAt = protectionExpiry(input.protectionEnabled, input.expiresInMinutes, now);
      const { protectionExpiresAt: _old, ...unprotected } = stored.record;
      const next = { ...unprotected, ...(protectionExpiresAt === undefined ? {} : { protectionExpiresAt }), version: stored.version + 1 };
      const task = stampTask(stored.record, next, now);
      await ctx.tasks.applyChange({ task, expectedVersion: stored.version });
      return { view: protectedTaskView(task, now) };
    });
    if (id !== undefined) done.add(id);
    if (!outcome) failures.push(missing(clusterArn, reference));
    else if ('failure' in outcome) failures.push(outcome.failure!);
    else protectedTasks.push(outcome.view);
  }
  return { protectedTasks, failures };
}

export async function getTaskProtection(ctx: RequestContext, input: { cluster: string; tasks?: string[] }) {
  const references = input.tasks ?? [];
  if (references.length > MAX_GET_PROTECTION_TASKS) {
    throw new InvalidParameterException(`Tasks cannot have more than ${MAX_GET_PROTECTION_TASKS} elements.`);
  }
  const cluster = await activeCluster(ctx, input.cluster);
  const clusterArn = cluster.record.clusterArn;
  const ids = references.map((reference) => taskIdIn(ctx, clusterArn, reference));
  const found = await ctx.tasks.getMany(clusterArn, ids.filter((id): id is string => id !== undefined));
  const now = ctx.clock();
  const protectedTasks = [];
  const failures: Failure[] = [];
  const seen = new Set<string>();
  for (const [index, id] of ids.entries()) {
    const task = id === undefined ? undefined : found.get(id)?.record;
    if (!task) {
      failures.push(missing(clusterArn, references[index]!));
      continue;
    }
    if (seen.has(id!)) continue;
    seen.add(id!);
    // A stopped service task reads as unprotected; a standalone task is TASK_NOT_VALID, as for Update.
    const refusal = isServiceTask(task) ? undefined : protectionRefusal(task);
    if (refusal) failures.push({ arn: task.taskArn, ...refusal });
    else protectedTasks.push(protectedTaskView(task, now));
  }
  return { protectedTasks, failures };
}
