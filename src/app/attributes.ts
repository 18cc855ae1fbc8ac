/**
 * PutAttributes, DeleteAttributes, ListAttributes: custom attributes on a cluster's container
 * instances (ECS's only target type), next to the built-in ones the agent registers (`ecs.*`), which
 * memberOf constraints, spread strategies and ListContainerInstances filters read alike.
 */
import { containerInstanceArn, ID_PATTERN, inScope, parseArn } from '../domain/arns';
import { ATTRIBUTE_NAME_PATTERN } from '../domain/cluster-query';
import {
  checkAttributeValue,
  customAttributeCount,
  isReservedAttribute,
  MAX_CUSTOM_ATTRIBUTES,
  withAttribute,
  withoutAttribute,
} from '../domain/container-instance';
import { AttributeLimitExceededException, InvalidParameterException, TargetNotFoundException } from '../domain/errors';
import type { KeyValuePair } from '../domain/records';
import { pageSize } from './clusters';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { activeCluster } from './resolve';

const TARGET_TYPE = 'container-instance';
const MAX_ATTRIBUTES_PER_CALL = 10;

export interface AttributeInput {
  name: string;
  value?: string;
  targetType?: string;
  targetId?: string;
}

/** The container instance ARN an attribute's target names in the cluster (ECS's rules for short ids). */
function targetArn(ctx: RequestContext, clusterName: string, attribute: AttributeInput): string {
  if (attribute.targetType !== undefined && attribute.targetType !== TARGET_TYPE) {
    throw new InvalidParameterException(`targetType must be ${TARGET_TYPE}.`);
  }
  const id = attribute.targetId;
  if (id === undefined || id === '') throw new InvalidParameterException('targetId must be specified for each attribute.');
  if (!id.startsWith('arn:')) {
    if (attribute.targetType === undefined) {
      throw new InvalidParameterException('targetType must be specified when targetId is not a full ARN.');
    }
    if (!ID_PATTERN.test(id)) throw new TargetNotFoundException(`Could not find ${id}.`);
    return containerInstanceArn(ctx.scope, clusterName, id);
  }
  const parsed = parseArn(id);
  if (!parsed || parsed.resourceType !== 'container-instance' || parsed.path.length !== 2 || !inScope(ctx.scope, parsed)) {
    throw new TargetNotFoundException(`Could not find ${id}.`);
  }
  if (parsed.path[0] !== clusterName) throw new TargetNotFoundException(`Could not find ${id} in cluster ${clusterName}.`);
  return id;
}

function checkBatch(attributes: readonly AttributeInput[]) {
  if (attributes.length === 0) throw new InvalidParameterException('attributes must not be empty.');
  if (attributes.length > MAX_ATTRIBUTES_PER_CALL) {
    throw new InvalidParameterException(`You can specify up to ${MAX_ATTRIBUTES_PER_CALL} attributes in a single call.`);
  }
  for (const attribute of attributes) {
    if (!ATTRIBUTE_NAME_PATTERN.test(attribute.name)) {
      throw new InvalidParameterException(
        `Attribute name '${attribute.name}' is invalid: 1 to 128 letters, numbers, hyphens, underscores, slashes, back slashes or periods.`,
      );
    }
    if (isReservedAttribute(attribute.name)) {
      throw new InvalidParameterException(`Attribute '${attribute.name}' is reserved: names starting with ecs. or berth. are set by the agent.`);
    }
  }
}

/** Applies one change per target instance, each a conditional write retried on a lost race. */
async function changeEach(
  ctx: RequestContext,
  input: { cluster?: string; attributes: AttributeInput[] },
  change: (attributes: KeyValuePair[], mine: readonly AttributeInput[], arn: string) => KeyValuePair[],
) {
  checkBatch(input.attributes);
  const cluster = await activeCluster(ctx, input.cluster);
  const byTarget = new Map<string, AttributeInput[]>();
  for (const attribute of input.attributes) {
    const arn = targetArn(ctx, cluster.record.clusterName, attribute);
    byTarget.set(arn, [...(byTarget.get(arn) ?? []), attribute]);
  }
  // Every target is checked before anything is written: an unknown one changes nothing.
  for (const arn of byTarget.keys()) {
    const stored = await ctx.containerInstances.get(arn);
    if (!stored || stored.record.status === 'INACTIVE' || stored.record.clusterArn !== cluster.record.clusterArn) {
      throw new TargetNotFoundException(`Could not find ${arn}.`);
    }
  }
  for (const [arn, mine] of byTarget) {
    await withOptimisticRetry(async () => {
      const stored = await ctx.containerInstances.get(arn);
      if (!stored || stored.record.status === 'INACTIVE') throw new TargetNotFoundException(`Could not find ${arn}.`);
      const attributes = change(stored.record.attributes, mine, arn);
      if (JSON.stringify(attributes) === JSON.stringify(stored.record.attributes)) return;
      await ctx.containerInstances.update({ ...stored.record, attributes, updatedAt: ctx.clock() }, stored.version);
    });
  }
  const echo = (a: AttributeInput) => ({ ...a, targetId: targetArn(ctx, cluster.record.clusterName, a), targetType: TARGET_TYPE });
  return { attributes: input.attributes.map(echo) };
}

export async function putAttributes(ctx: RequestContext, input: { cluster?: string; attributes: AttributeInput[] }) {
  for (const attribute of input.attributes) if (attribute.value !== undefined) checkAttributeValue(attribute.value);
  return changeEach(ctx, input, (attributes, mine, arn) => {
    const next = mine.reduce<KeyValuePair[]>((list, a) => withAttribute(list, a.name, a.value), attributes);
    if (customAttributeCount(next) > MAX_CUSTOM_ATTRIBUTES) {
      throw new AttributeLimitExceededException(
        `You can apply up to ${MAX_CUSTOM_ATTRIBUTES} custom attributes to a resource; ${arn} would have ${customAttributeCount(next)}.`,
      );
    }
    return next;
  });
}

export async function deleteAttributes(ctx: RequestContext, input: { cluster?: string; attributes: AttributeInput[] }) {
  return changeEach(ctx, input, (attributes, mine) => mine.reduce<KeyValuePair[]>((list, a) => withoutAttribute(list, a.name), attributes));
}

/**
 * Every attribute of every (not deregistered) container instance of the cluster, built-in ones
 * included, optionally one name (and value); paged by position in a stable order (instance ARN, then
 * the instance's own order).
 */
export async function listAttributes(
  ctx: RequestContext,
  input: { cluster?: string; targetType: string; attributeName?: string; attributeValue?: string; maxResults?: number; nextToken?: string },
) {
  if (input.targetType !== TARGET_TYPE) throw new InvalidParameterException(`targetType must be ${TARGET_TYPE}.`);
  if (input.attributeValue !== undefined && input.attributeName === undefined) {
    throw new InvalidParameterException('attributeName must be specified with attributeValue.');
  }
  const size = pageSize(input.maxResults);
  const start = input.nextToken === undefined ? 0 : positionOf(input.nextToken);
  const cluster = await activeCluster(ctx, input.cluster);
  const instances = (await ctx.containerInstances.all(cluster.record.clusterArn))
    .filter((i) => i.record.status !== 'INACTIVE')
    .sort((a, b) => (a.record.containerInstanceArn < b.record.containerInstanceArn ? -1 : 1));
  const all = instances.flatMap((i) =>
    i.record.attributes
      .filter((a) => (input.attributeName === undefined || a.name === input.attributeName) && (input.attributeValue === undefined || a.value === input.attributeValue))
      .map((a) => ({ name: a.name, ...(a.value !== undefined ? { value: a.value } : {}), targetType: TARGET_TYPE, targetId: i.record.containerInstanceArn })),
  );
  const page = all.slice(start, start + size);
  return { attributes: page, ...(start + size < all.length ? { nextToken: tokenOf(start + size) } : {}) };
}

const tokenOf = (position: number) => Buffer.from(`attributes:${position}`).toString('base64url');

function positionOf(token: string): number {
  const match = /^attributes:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) throw new InvalidParameterException('Invalid nextToken.');
  return Number(match[1]);
}
