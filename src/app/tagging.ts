import { clusterArn, clusterNameOf, inScope, parseArn } from '../domain/arns';
import {
  ClientException,
  ClusterNotFoundException,
  InvalidParameterException,
  ResourceNotFoundException,
} from '../domain/errors';
import type { Tag } from '../domain/records';
import { mergeTags, removeTags, validateTags } from '../domain/tags';
import { stampTask } from '../domain/update-time';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { serviceNameIn } from './service-view';
import { parseTaskDefinitionReference } from './task-definitions';
import { taskIdIn } from './tasks';

/**
 * Reads a resource's tags and, when `change` is given, writes the changed list conditionally.
 * TagResource/UntagResource may answer ResourceNotFoundException; ListTagsForResource may not (its
 * model lists no such error), so a missing resource there is the error its describe call would give.
 */
async function withTags(ctx: RequestContext, resourceArn: string, change?: (tags: Tag[]) => Tag[]): Promise<Tag[]> {
  const arn = parseArn(resourceArn);
  if (!arn) throw new InvalidParameterException('The ARN provided is invalid.');
  const notFound = (what: string, listing: () => Error) =>
    change ? new ResourceNotFoundException(`The specified ${what} could not be found.`) : listing();
  if (!inScope(ctx.scope, arn)) {
    if (arn.resourceType === 'cluster') throw new ClusterNotFoundException('Cluster not found.');
    throw notFound('resource', () => new InvalidParameterException('The specified resource could not be found.'));
  }
  return withOptimisticRetry(async () => {
    switch (arn.resourceType) {
      case 'cluster': {
        const name = clusterNameOf(resourceArn);
        const stored = name === undefined ? undefined : await ctx.clusters.get(clusterArn(ctx.scope, name));
        if (!stored || stored.record.status === 'INACTIVE') throw new ClusterNotFoundException('Cluster not found.');
        if (!change) return stored.record.tags;
        const tags = change(stored.record.tags);
        await ctx.clusters.update(ctx.scope, { ...stored.record, tags }, stored.version);
        return tags;
      }
      case 'task': {
        const cluster = arn.path.length === 2 ? clusterNameOf(arn.path[0]) : undefined;
        if (cluster === undefined) throw new InvalidParameterException('The ARN provided is invalid.');
        const owner = await ctx.clusters.get(clusterArn(ctx.scope, cluster));
        if (!owner || owner.record.status === 'INACTIVE') throw new ClusterNotFoundException('Cluster not found.');
        const taskId = taskIdIn(ctx, owner.record.clusterArn, resourceArn);
        const stored = taskId === undefined ? undefined : await ctx.tasks.get(owner.record.clusterArn, taskId);
        if (!stored) throw notFound('task', () => new InvalidParameterException('The specified task could not be found.'));
        if (!change) return stored.record.tags;
        const tags = change(stored.record.tags);
        const task = stampTask(stored.record, { ...stored.record, tags, version: stored.version + 1 }, ctx.clock());
        await ctx.tasks.applyChange({ task, expectedVersion: stored.version });
        return tags;
      }
      case 'service': {
        // Long ARN format only (service/<cluster>/<name>): the cluster is in it.
        const cluster = arn.path.length === 2 ? clusterNameOf(arn.path[0]) : undefined;
        if (cluster === undefined) throw new InvalidParameterException('The ARN provided is invalid.');
        const owner = await ctx.clusters.get(clusterArn(ctx.scope, cluster));
        if (!owner || owner.record.status === 'INACTIVE') throw new ClusterNotFoundException('Cluster not found.');
        const name = serviceNameIn(ctx, owner.record.clusterArn, resourceArn);
        const stored = name === undefined ? undefined : await ctx.services.get(owner.record.clusterArn, name);
        if (!stored || stored.record.status === 'INACTIVE') {
          throw notFound('service', () => new InvalidParameterException('The specified service could not be found.'));
        }
        if (!change) return [...stored.record.tags];
        const tags = change([...stored.record.tags]);
        const version = stored.version + 1;
        await ctx.services.update({ ...stored, record: { ...stored.record, tags, version }, version }, stored.version, 'api');
        return tags;
      }
      case 'task-definition': {
        const reference = parseTaskDefinitionReference(ctx, resourceArn);
        const stored =
          reference?.revision !== undefined
            ? await ctx.taskDefinitions.getRevision(ctx.scope, reference.family, reference.revision)
            : undefined;
        if (!stored) throw notFound('task definition', () => new ClientException('Unable to describe task definition.'));
        if (!change) return stored.tags;
        const tags = change(stored.tags);
        await ctx.taskDefinitions.putTags(ctx.scope, stored, tags);
        return tags;
      }
      case 'capacity-provider':
        if (change) throw new InvalidParameterException('The FARGATE and FARGATE_SPOT capacity providers cannot be tagged.');
        if (['FARGATE', 'FARGATE_SPOT'].includes(arn.path[0])) return [];
        throw notFound('capacity provider', () => new InvalidParameterException('The specified capacity provider could not be found.'));
      default:
        throw new InvalidParameterException(`Tagging ${arn.resourceType} resources is not supported.`);
    }
  });
}

export async function tagResource(ctx: RequestContext, input: { resourceArn: string; tags: Tag[] }) {
  validateTags(input.tags);
  await withTags(ctx, input.resourceArn, (existing) => mergeTags(existing, input.tags));
  return {};
}

export async function untagResource(ctx: RequestContext, input: { resourceArn: string; tagKeys: string[] }) {
  await withTags(ctx, input.resourceArn, (existing) => removeTags(existing, input.tagKeys));
  return {};
}

export async function listTagsForResource(ctx: RequestContext, input: { resourceArn: string }) {
  return { tags: await withTags(ctx, input.resourceArn) };
}
