import { inScope, parseArn, taskDefinitionArn } from '../domain/arns';
import { parsePlacementConstraints, type PlacementConstraintInput } from '../domain/placement-constraints';
import { ClientException, InvalidParameterException } from '../domain/errors';
import type { Tag, TaskDefinitionRecord, TaskDefinitionStatus } from '../domain/records';
import {
  FAMILY_NAME,
  compatibilitiesOf,
  normalizedSizes,
  validateTaskDefinition,
  withContainerDefaults,
  type TaskDefinitionRequest,
} from '../domain/task-definition-rules';
import { validateTags } from '../domain/tags';
import type { StoredTaskDefinition } from '../adapters/dynamodb/task-definition-repository';
import { pageSize } from './clusters';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';

export interface TaskDefinitionReference {
  family: string;
  /** Undefined: the latest ACTIVE revision. */
  revision?: number;
}

/** `family`, `family:revision` or a task definition ARN in the caller's account and region. */
export function parseTaskDefinitionReference(ctx: Pick<RequestContext, 'scope'>, reference: string): TaskDefinitionReference | undefined {
  let body = reference;
  if (reference.startsWith('arn:')) {
    const parsed = parseArn(reference);
    if (!parsed || parsed.resourceType !== 'task-definition' || parsed.path.length !== 1) return undefined;
    if (!inScope(ctx.scope, parsed)) return undefined;
    body = parsed.path[0];
    if (!body.includes(':')) return undefined;
  }
  const [family, revision, ...rest] = body.split(':');
  if (rest.length > 0 || !FAMILY_NAME.test(family)) return undefined;
  if (revision === undefined) return { family };
  if (!/^[1-9]\d{0,9}$/.test(revision)) return undefined;
  return { family, revision: Number(revision) };
}

export async function findTaskDefinition(
  ctx: RequestContext,
  reference: string,
): Promise<StoredTaskDefinition | undefined> {
  const parsed = parseTaskDefinitionReference(ctx, reference);
  if (!parsed) return undefined;
  return parsed.revision === undefined
    ? ctx.taskDefinitions.latestActive(ctx.scope, parsed.family)
    : ctx.taskDefinitions.getRevision(ctx.scope, parsed.family, parsed.revision);
}

const NOT_FOUND = 'Unable to describe task definition.';

export async function registerTaskDefinition(ctx: RequestContext, input: TaskDefinitionRequest & { tags?: Tag[] }) {
  const { tags = [], ...request } = input;
  validateTaskDefinition(request);
  // memberOf expressions are parsed now: an unsupported one is refused here, not at placement.
  parsePlacementConstraints(request.placementConstraints as PlacementConstraintInput[] | undefined, 'taskDefinition');
  validateTags(tags);
  return withOptimisticRetry(async () => {
    const family = await ctx.taskDefinitions.getFamily(ctx.scope, request.family);
    const revision = (family?.latestRevision ?? 0) + 1;
    const record: TaskDefinitionRecord = {
      ...request,
      ...normalizedSizes(request),
      taskDefinitionArn: taskDefinitionArn(ctx.scope, request.family, revision),
      family: request.family,
      revision,
      status: 'ACTIVE',
      containerDefinitions: request.containerDefinitions.map(withContainerDefaults),
      volumes: (request.volumes as unknown[] | undefined) ?? [],
      placementConstraints: (request.placementConstraints as unknown[] | undefined) ?? [],
      requiresAttributes: [],
      compatibilities: compatibilitiesOf(request),
      registeredAt: ctx.clock(),
      registeredBy: `arn:aws:iam::${ctx.scope.account}:root`,
    };
    await ctx.taskDefinitions.register(ctx.scope, record, tags, family);
    return { taskDefinition: record, ...(tags.length ? { tags } : {}) };
  });
}

export async function describeTaskDefinition(ctx: RequestContext, input: { taskDefinition: string; include?: string[] }) {
  const stored = await findTaskDefinition(ctx, input.taskDefinition);
  if (!stored) throw new ClientException(NOT_FOUND);
  return {
    taskDefinition: stored.record,
    ...(input.include?.includes('TAGS') && stored.tags.length ? { tags: stored.tags } : {}),
  };
}

export async function deregisterTaskDefinition(ctx: RequestContext, input: { taskDefinition: string }) {
  const parsed = parseTaskDefinitionReference(ctx, input.taskDefinition);
  if (!parsed) throw new ClientException(NOT_FOUND);
  // ECS's words for a family without ":revision" (a ClientException, not InvalidParameterException),
  // as issue 11 quotes ECS; the API reference says "You must specify a revision." for this call.
  if (parsed.revision === undefined) throw new ClientException('Revision is missing.');
  return withOptimisticRetry(async () => {
    const stored = await ctx.taskDefinitions.getRevision(ctx.scope, parsed.family, parsed.revision!);
    if (!stored) throw new ClientException(NOT_FOUND);
    if (stored.record.status !== 'ACTIVE') return { taskDefinition: stored.record };
    return { taskDefinition: await ctx.taskDefinitions.deregister(ctx.scope, stored, ctx.clock()) };
  });
}

/** ECS's limit per DeleteTaskDefinitions request. */
export const MAX_DELETE_TASK_DEFINITIONS = 10;

// Failure reasons in ECS's style (no verbatim ECS string was found for these).
const DELETE_FAILURES = {
  active: 'The specified task definition is still in ACTIVE status. Please deregister the target and try again.',
  missing: 'The specified task definition does not exist. Specify a valid account, family, revision and try again.',
  invalid: 'The specified task definition identifier is invalid. Specify a family and revision (family:revision) or a full ARN.',
} as const;

/**
 * DeleteTaskDefinitions: each INACTIVE revision named (`family:revision` or ARN) answers with status
 * DELETE_IN_PROGRESS and deleteRequestedAt, and is then removed by the table's TTL after the retention
 * of deleted things (an hour, as a deleted cluster); until then it stays describable, as on ECS, and
 * ListTaskDefinitions with status DELETE_IN_PROGRESS lists it. An ACTIVE, unknown or malformed one is
 * a failure (arn, reason) and the others still go. One already DELETE_IN_PROGRESS is answered as it is.
 */
export async function deleteTaskDefinitions(ctx: RequestContext, input: { taskDefinitions: string[] }) {
  const references = input.taskDefinitions;
  if (references.length === 0) throw new InvalidParameterException('taskDefinitions must name at least one task definition revision.');
  if (references.length > MAX_DELETE_TASK_DEFINITIONS) {
    throw new InvalidParameterException(`You can delete up to ${MAX_DELETE_TASK_DEFINITIONS} task definitions at a time.`);
  }
  const taskDefinitions: TaskDefinitionRecord[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const reference of references) {
    const parsed = parseTaskDefinitionReference(ctx, reference);
    if (!parsed || parsed.revision === undefined) {
      failures.push({ arn: reference, reason: DELETE_FAILURES.invalid });
      continue;
    }
    const arn = taskDefinitionArn(ctx.scope, parsed.family, parsed.revision);
    const outcome = await withOptimisticRetry(async () => {
      const stored = await ctx.taskDefinitions.getRevision(ctx.scope, parsed.family, parsed.revision!);
      if (!stored) return { failure: DELETE_FAILURES.missing };
      if (stored.record.status === 'ACTIVE') return { failure: DELETE_FAILURES.active };
      if (stored.record.status === 'DELETE_IN_PROGRESS') return { deleted: stored.record };
      return { deleted: await ctx.taskDefinitions.requestDeletion(ctx.scope, stored, ctx.clock(), ctx.clock() + ctx.retention.inactiveClusterMs) };
    });
    if ('failure' in outcome) failures.push({ arn, reason: outcome.failure! });
    else taskDefinitions.push(outcome.deleted!);
  }
  return { taskDefinitions, failures };
}

/** A family (prefix) longer than any family can be would only make an oversized key. */
function checkFamilyPrefix(prefix: string | undefined) {
  if (prefix !== undefined && prefix.length > 255) {
    throw new InvalidParameterException('familyPrefix can have up to 255 characters.');
  }
}

export async function listTaskDefinitions(
  ctx: RequestContext,
  input: { familyPrefix?: string; status?: TaskDefinitionStatus; sort?: 'ASC' | 'DESC'; maxResults?: number; nextToken?: string },
) {
  checkFamilyPrefix(input.familyPrefix);
  const page = await ctx.taskDefinitions.listRevisions(
    ctx.scope,
    { family: input.familyPrefix, status: input.status ?? 'ACTIVE', descending: input.sort === 'DESC' },
    { maxResults: pageSize(input.maxResults), nextToken: input.nextToken },
  );
  return { taskDefinitionArns: page.items, nextToken: page.nextToken };
}

export async function listTaskDefinitionFamilies(
  ctx: RequestContext,
  input: { familyPrefix?: string; status?: 'ACTIVE' | 'INACTIVE' | 'ALL'; maxResults?: number; nextToken?: string },
) {
  checkFamilyPrefix(input.familyPrefix);
  const page = await ctx.taskDefinitions.listFamilies(
    ctx.scope,
    { prefix: input.familyPrefix, status: input.status ?? 'ALL' },
    { maxResults: pageSize(input.maxResults), nextToken: input.nextToken },
  );
  return { families: page.items, nextToken: page.nextToken };
}
