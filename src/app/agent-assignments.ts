/**
 * How a Berth agent learns its work: `PollAssignments` (a Berth extension operation, documented in
 * docs/agent.md) answers with every task placed on the agent's host, each with what the agent needs to
 * run it (container definitions with the task's overrides applied). It long-polls: it returns as soon
 * as the set of tasks or one of their versions differs from what the agent says it knows.
 */
import type { Assignment } from '../domain/agent-channel';
import { InvalidParameterException } from '../domain/errors';
import { parseArn } from '../domain/arns';
import type { ContainerDefinition, TaskRecord } from '../domain/records';
import { recordPoll } from './agent-liveness';
import { requireOwnInstanceArn } from './container-instances';
import type { BerthContext, RequestContext } from './context';
import { parseTaskDefinitionReference } from './task-definitions';

export const MAX_POLL_WAIT_SECONDS = 20;
const POLL_INTERVAL_MS = 200;

export type { Assignment } from '../domain/agent-channel';

interface ContainerOverride {
  name?: string;
  command?: string[];
  environment?: { name: string; value: string }[];
  cpu?: number;
  memory?: number;
}

/** A container definition as the task runs it: RunTask overrides win over the task definition. */
export function withOverrides(definition: ContainerDefinition, overrides: readonly ContainerOverride[]): ContainerDefinition {
  const override = overrides.find((o) => o.name === definition.name);
  if (!override) return definition;
  const environment = new Map(
    ((definition.environment as { name: string; value: string }[] | undefined) ?? []).map((e) => [e.name, e]),
  );
  for (const variable of override.environment ?? []) environment.set(variable.name, variable);
  return {
    ...definition,
    ...(override.command ? { command: override.command } : {}),
    ...(override.cpu !== undefined ? { cpu: override.cpu } : {}),
    ...(override.memory !== undefined ? { memory: override.memory } : {}),
    environment: [...environment.values()],
  };
}

export async function pollAssignments(
  ctx: RequestContext,
  input: { containerInstanceArn?: string; known?: Record<string, number>; waitSeconds?: number },
) {
  const containerInstanceArn = requireOwnInstanceArn(ctx, input.containerInstanceArn);
  const host = await ctx.containerInstances.get(containerInstanceArn);
  if (!host || host.record.status === 'INACTIVE') {
    throw new InvalidParameterException('The referenced container instance was not found.');
  }
  const waitSeconds = input.waitSeconds ?? 0;
  if (typeof waitSeconds !== 'number' || !Number.isFinite(waitSeconds)) {
    throw new InvalidParameterException('waitSeconds must be a number.');
  }
  const known = input.known ?? {};
  if (typeof known !== 'object' || known === null || Array.isArray(known)) {
    throw new InvalidParameterException('known must map task ARNs to versions.');
  }
  // Polling is how an agent shows it is there (src/app/agent-liveness.ts).
  await recordPoll(ctx, host);
  // Counted in checks, not read off the clock, so the wait is bounded whatever the clock does.
  const checks = Math.ceil((Math.min(Math.max(waitSeconds, 0), MAX_POLL_WAIT_SECONDS) * 1000) / POLL_INTERVAL_MS);
  for (let check = 0; ; check++) {
    const tasks = await assignedTasks(ctx, containerInstanceArn);
    const changed =
      // Own keys only: `known` is the client's object, and a lookup must never find Object.prototype's.
      tasks.length !== Object.keys(known).length ||
      tasks.some((task) => !Object.hasOwn(known, task.taskArn) || known[task.taskArn] !== task.version);
    if (changed || check >= checks || ctx.signal?.aborted) {
      // The host may have been drained or deregistered during the wait; without one (a fetch after
      // a notification) the first read is as fresh, and one read fewer is on every task's start.
      const now = check === 0 ? host : ((await ctx.containerInstances.get(containerInstanceArn)) ?? host);
      return { containerInstanceStatus: now.record.status, assignments: await withDefinitions(ctx, tasks) };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

async function assignedTasks(ctx: RequestContext, containerInstanceArn: string): Promise<TaskRecord[]> {
  const pointers = await ctx.tasks.assignedTo(containerInstanceArn);
  const byCluster = new Map<string, string[]>();
  for (const p of pointers) byCluster.set(p.clusterArn, [...(byCluster.get(p.clusterArn) ?? []), p.taskId]);
  const tasks: TaskRecord[] = [];
  for (const [clusterArn, ids] of byCluster) {
    for (let i = 0; i < ids.length; i += 100) {
      const found = await ctx.tasks.getMany(clusterArn, ids.slice(i, i + 100));
      tasks.push(...[...found.values()].map((stored) => stored.record));
    }
  }
  return tasks.sort((a, b) => (a.taskArn < b.taskArn ? -1 : 1));
}

async function withDefinitions(ctx: RequestContext, tasks: readonly TaskRecord[]): Promise<Assignment[]> {
  const assignments: Assignment[] = [];
  for (const task of tasks) {
    assignments.push(assignmentOf(task, (await containerDefinitionsOf(ctx, task.taskDefinitionArn)) ?? []));
  }
  return assignments;
}

/** What the agent needs to run a task: its container definitions with the task's overrides applied. */
export function assignmentOf(task: TaskRecord, definitions: readonly ContainerDefinition[]): Assignment {
  const overrides = (task.overrides.containerOverrides ?? []) as ContainerOverride[];
  return { task, containers: definitions.map((c) => withOverrides(c, overrides)) };
}

/**
 * A revision's container definitions never change (RegisterTaskDefinition makes a new revision), so
 * they are read once per repository and kept: every task's start needs them (a fetch, a
 * notification), and the read is the one a notification would otherwise add. Keyed by repository,
 * not globally: two tables (two tests, two local runtimes in one process) may hold the same ARN.
 */
const definitionCaches = new WeakMap<BerthContext['taskDefinitions'], Map<string, ContainerDefinition[]>>();
const MAX_CACHED_DEFINITIONS = 1000;

export async function containerDefinitionsOf(
  ctx: Pick<BerthContext, 'taskDefinitions'>,
  taskDefinitionArn: string,
): Promise<ContainerDefinition[] | undefined> {
  let cache = definitionCaches.get(ctx.taskDefinitions);
  if (!cache) definitionCaches.set(ctx.taskDefinitions, (cache = new Map()));
  const cached = cache.get(taskDefinitionArn);
  if (cached) return cached;
  const arn = parseArn(taskDefinitionArn);
  const scope = arn && { account: arn.account, region: arn.region, partition: arn.partition };
  const reference = scope && parseTaskDefinitionReference({ scope }, taskDefinitionArn);
  if (!scope || reference?.revision === undefined) return undefined;
  const stored = await ctx.taskDefinitions.getRevision(scope, reference.family, reference.revision);
  if (!stored) return undefined; // Not cached: a definition being deleted is read as gone, not remembered.
  // The oldest entry goes first when full (a Map iterates in insertion order).
  if (cache.size >= MAX_CACHED_DEFINITIONS) cache.delete(cache.keys().next().value!);
  cache.set(taskDefinitionArn, stored.record.containerDefinitions);
  return stored.record.containerDefinitions;
}
