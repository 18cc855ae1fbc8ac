/**
 * PutAttributes, DeleteAttributes, ListAttributes: custom attributes on a cluster's container
 * instances (the only target type ECS has). Every target is read and every change checked before
 * anything is written, so a bad attribute or a missing target writes nothing; each instance's change
 * is then one write conditional on the version read (retried on a lost race).
 */
import { checkAttribute, withAttributes, withoutAttributes } from '../domain/attributes';
import { InvalidParameterException, TargetNotFoundException } from '../domain/errors';
import type { KeyValuePair } from '../domain/records';
import type { StoredContainerInstance } from '../adapters/dynamodb/container-instance-repository';
import { pageSize } from './clusters';
import { instanceArnFor } from './container-instances';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { activeCluster } from './resolve';

interface AttributeInput {
  name: string;
  value?: string;
  targetType?: 'container-instance';
  targetId?: string;
}

const MAX_ATTRIBUTES_PER_CALL = 10;

/** The attributes grouped by the container instance they name, each instance read once. */
async function targetsOf(ctx: RequestContext, cluster: string | undefined, attributes: readonly AttributeInput[]) {
  if (attributes.length === 0) throw new InvalidParameterException('Attributes cannot be empty.');
  if (attributes.length > MAX_ATTRIBUTES_PER_CALL) {
    throw new InvalidParameterException(`You can specify up to ${MAX_ATTRIBUTES_PER_CALL} attributes in a single call.`);
  }
  const { clusterName, clusterArn } = (await activeCluster(ctx, cluster)).record;
  const targets = new Map<string, { stored: StoredContainerInstance; attributes: AttributeInput[] }>();
  for (const attribute of attributes) {
    if (attribute.targetId === undefined) throw new InvalidParameterException('targetId must be specified for each attribute.');
    const arn = instanceArnFor(ctx, clusterName, attribute.targetId);
    const target = arn === undefined ? undefined : (targets.get(arn)?.stored ?? (await ctx.containerInstances.get(arn)));
    if (!target || target.record.status === 'INACTIVE' || target.record.clusterArn !== clusterArn) {
      throw new TargetNotFoundException(`Could not find ${attribute.targetId}.`);
    }
    const entry = targets.get(target.record.containerInstanceArn) ?? { stored: target, attributes: [] };
    entry.attributes.push(attribute);
    targets.set(target.record.containerInstanceArn, entry);
  }
  return targets;
}

/** Applies `change` to each target, checked for all first; answers the attributes as ECS echoes them. */
async function applyToTargets(
  ctx: RequestContext,
  targets: Awaited<ReturnType<typeof targetsOf>>,
  change: (current: readonly KeyValuePair[], attributes: readonly AttributeInput[]) => KeyValuePair[],
) {
  for (const { stored, attributes } of targets.values()) change(stored.record.attributes, attributes);
  const echoed = [];
  for (const [arn, { attributes }] of targets) {
    await withOptimisticRetry(async () => {
      const stored = await ctx.containerInstances.get(arn);
      if (!stored || stored.record.status === 'INACTIVE') throw new TargetNotFoundException(`Could not find ${arn}.`);
      const record = { ...stored.record, attributes: change(stored.record.attributes, attributes), updatedAt: ctx.clock() };
      await ctx.containerInstances.update(record, stored.version);
    });
    echoed.push(
      ...attributes.map((a) => ({ name: a.name, ...(a.value !== undefined ? { value: a.value } : {}), targetType: 'container-instance', targetId: arn })),
    );
  }
  return { attributes: echoed };
}

export async function putAttributes(ctx: RequestContext, input: { cluster?: string; attributes: AttributeInput[] }) {
  for (const attribute of input.attributes) checkAttribute(attribute, true);
  const targets = await targetsOf(ctx, input.cluster, input.attributes);
  return applyToTargets(ctx, targets, (current, attributes) =>
    withAttributes(current, attributes.map((a) => ({ name: a.name, ...(a.value !== undefined ? { value: a.value } : {}) }))),
  );
}

export async function deleteAttributes(ctx: RequestContext, input: { cluster?: string; attributes: AttributeInput[] }) {
  for (const attribute of input.attributes) checkAttribute(attribute, false);
  const targets = await targetsOf(ctx, input.cluster, input.attributes);
  return applyToTargets(ctx, targets, (current, attributes) => withoutAttributes(current, attributes.map((a) => a.name)));
}

/** Every attribute (the agent's built-in ones too, as ECS lists them) of the cluster's instances. */
export async function listAttributes(
  ctx: RequestContext,
  input: { cluster?: string; targetType: 'container-instance'; attributeName?: string; attributeValue?: string; maxResults?: number; nextToken?: string },
) {
  if (input.attributeValue !== undefined && input.attributeName === undefined) {
    throw new InvalidParameterException('attributeValue can only be used together with attributeName.');
  }
  const size = pageSize(input.maxResults);
  const { clusterArn } = (await activeCluster(ctx, input.cluster)).record;
  const instances = (await ctx.containerInstances.all(clusterArn))
    .filter((i) => i.record.status !== 'INACTIVE')
    .sort((a, b) => (a.record.containerInstanceArn < b.record.containerInstanceArn ? -1 : 1));
  const all = instances.flatMap((instance) =>
    instance.record.attributes
      .filter((a) => input.attributeName === undefined || a.name === input.attributeName)
      .filter((a) => input.attributeValue === undefined || a.value === input.attributeValue)
      .map((a) => ({ ...a, targetType: 'container-instance', targetId: instance.record.containerInstanceArn })),
  );
  const start = input.nextToken === undefined ? 0 : offsetOf(input.nextToken, all.length);
  const next = start + size < all.length ? Buffer.from(`attributes:${start + size}`).toString('base64url') : undefined;
  return { attributes: all.slice(start, start + size), nextToken: next };
}

function offsetOf(token: string, length: number): number {
  const match = /^attributes:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  const offset = match ? Number(match[1]) : NaN;
  if (!(offset > 0 && offset < length)) throw new InvalidParameterException('Invalid nextToken.');
  return offset;
}
