/** The agent-facing ECS operations about hosts: register, deregister, describe, list, drain. */
import { containerInstanceArn, ID_PATTERN, inScope, NAME_PATTERN, parseArn, taskIdFrom } from '../domain/arns';
import {
  FARGATE_POOL_NAME,
  fargateProvidersOf,
  mergeRegisteredAttributes,
  resourceList,
  type ContainerInstanceRecord,
  type ContainerInstanceStatus,
} from '../domain/container-instance';
import {
  ClientException,
  ClusterNotFoundException,
  InvalidParameterException,
  MissingVersionException,
  NoUpdateAvailableException,
} from '../domain/errors';
import { matchesQuery, mentionsTaskGroup, parseClusterQuery } from '../domain/cluster-query';
import { queryTarget } from '../domain/placement';
import { capacityProviderOf } from '../domain/capacity-provider';
import { placementCandidate } from './task-engine';
import type { KeyValuePair, Tag } from '../domain/records';
import { validateTags } from '../domain/tags';
import { fargatePoolPartition } from '../adapters/dynamodb/keys';
import type { StoredContainerInstance } from '../adapters/dynamodb/container-instance-repository';
import { pageSize } from './clusters';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { activeCluster } from './resolve';

interface ResourceInput {
  name?: string;
  integerValue?: number;
  longValue?: number;
  doubleValue?: number;
}

/** The ECS ContainerInstance shape. */
export function containerInstanceView(stored: StoredContainerInstance, withTags: boolean) {
  const { record } = stored;
  return {
    containerInstanceArn: record.containerInstanceArn,
    ...(record.ec2InstanceId ? { ec2InstanceId: record.ec2InstanceId } : {}),
    ...(record.fargateProviders.length ? { capacityProviderName: record.fargateProviders[0] } : {}),
    ...(capacityProviderOf(record.attributes) ? { capacityProviderName: capacityProviderOf(record.attributes) } : {}),
    version: stored.version,
    versionInfo: record.versionInfo,
    remainingResources: resourceList(stored.remaining),
    registeredResources: resourceList(record.registeredResources),
    status: record.status,
    agentConnected: record.agentConnected,
    runningTasksCount: stored.runningTasksCount,
    pendingTasksCount: stored.pendingTasksCount,
    attributes: record.attributes,
    registeredAt: record.registeredAt,
    attachments: [],
    ...(withTags && record.tags.length ? { tags: record.tags } : {}),
  };
}

/** More than any host has (2^31 - 1 CPU units or MiB), and what DynamoDB numbers hold exactly. */
const MAX_RESOURCE = 2 ** 31 - 1;

function amount(resources: readonly ResourceInput[], name: string): number {
  const resource = resources.find((r) => r.name === name);
  const value = Math.floor(resource?.integerValue ?? resource?.longValue ?? resource?.doubleValue ?? NaN);
  if (!Number.isFinite(value) || value <= 0 || value > MAX_RESOURCE) {
    throw new InvalidParameterException(`totalResources must include a ${name} value between 1 and ${MAX_RESOURCE}.`);
  }
  return value;
}

/** The EC2 instance id and AZ from an instance identity document, when the agent sends one. */
function identity(document: string | undefined): { ec2InstanceId?: string; availabilityZone?: string } {
  if (!document) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    parsed = undefined;
  }
  // Any JSON parses ("null", "5", {"instanceId": 7}): only an object of strings is an identity document.
  const { instanceId, availabilityZone } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (
    typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) ||
    (instanceId !== undefined && typeof instanceId !== 'string') ||
    (availabilityZone !== undefined && typeof availabilityZone !== 'string')
  ) {
    throw new InvalidParameterException('instanceIdentityDocument is not a valid identity document.');
  }
  return { ec2InstanceId: instanceId as string | undefined, availabilityZone: availabilityZone as string | undefined };
}

export async function registerContainerInstance(
  ctx: RequestContext,
  input: {
    cluster?: string;
    totalResources?: ResourceInput[];
    attributes?: KeyValuePair[];
    versionInfo?: ContainerInstanceRecord['versionInfo'];
    instanceIdentityDocument?: string;
    containerInstanceArn?: string;
    tags?: Tag[];
  },
) {
  // An agent that restarts comes back as the same instance, keeping its tasks and reservations.
  if (input.containerInstanceArn) {
    const again = await reRegister(ctx, input.containerInstanceArn, input);
    if (again) return { containerInstance: containerInstanceView(again, true) };
  }
  const attributes = [...(input.attributes ?? [])];
  const tags = input.tags ?? [];
  validateTags(tags);
  const resources = input.totalResources ?? [];
  const registeredResources = { cpu: amount(resources, 'CPU'), memory: amount(resources, 'MEMORY') };
  const fargateProviders = fargateProvidersOf(attributes);
  const { ec2InstanceId, availabilityZone } = identity(input.instanceIdentityDocument);
  if (availabilityZone && !attributes.some((a) => a.name === 'ecs.availability-zone')) {
    attributes.push({ name: 'ecs.availability-zone', value: availabilityZone });
  }
  // Fargate capacity is not a cluster's: it serves every cluster of the account and region.
  const cluster = fargateProviders.length ? undefined : await activeCluster(ctx, input.cluster);
  await checkProviderMembership(ctx, attributes, fargateProviders);
  const id = taskIdFrom(ctx.randomBytes(16));
  const now = ctx.clock();
  const record: ContainerInstanceRecord = {
    containerInstanceArn: containerInstanceArn(ctx.scope, cluster?.record.clusterName ?? FARGATE_POOL_NAME, id),
    ...(cluster ? { clusterArn: cluster.record.clusterArn } : {}),
    ...(ec2InstanceId ? { ec2InstanceId } : {}),
    status: 'ACTIVE',
    agentConnected: true,
    registeredResources,
    attributes,
    versionInfo: input.versionInfo ?? {},
    fargateProviders,
    tags,
    registeredAt: now,
    updatedAt: now,
  };
  const outcome = await ctx.containerInstances.create(record);
  if (outcome === 'cluster-inactive') throw new ClusterNotFoundException('Cluster not found.');
  const created = { record, version: 1, remaining: registeredResources, runningTasksCount: 0, pendingTasksCount: 0 };
  return { containerInstance: containerInstanceView(created, true) };
}

/**
 * An instance that joins with an Auto Scaling group capacity provider (the `berth.capacity-provider`
 * attribute) names an ACTIVE provider of the account and region, and is a cluster's instance: a
 * Fargate host belongs to FARGATE/FARGATE_SPOT only.
 */
async function checkProviderMembership(ctx: RequestContext, attributes: readonly KeyValuePair[], fargateProviders: readonly string[]) {
  const name = capacityProviderOf(attributes);
  if (name === undefined) return;
  if (fargateProviders.length) {
    throw new InvalidParameterException('A Fargate capacity host cannot also belong to an Auto Scaling group capacity provider.');
  }
  const stored = await ctx.capacityProviders.get(ctx.scope, name);
  if (!stored || stored.record.status !== 'ACTIVE') {
    throw new InvalidParameterException(
      `The specified capacity provider '${name}' does not exist. Create it with CreateCapacityProvider, or register without it.`,
    );
  }
}

/**
 * RegisterContainerInstance with the ARN of an earlier registration (ECS's agent does this when it
 * restarts): the same instance, ACTIVE or DRAINING as it was, connected again, with the agent's
 * current version info and attributes; its registered resources, tasks and reservations stay. A
 * deregistered or unknown instance is not brought back (undefined: the caller registers a new one).
 * An instance of another cluster, or a Fargate host asked to join a cluster (or the reverse), is
 * refused: the agent's saved identity is for somewhere else.
 */
async function reRegister(
  ctx: RequestContext,
  arn: string,
  input: { cluster?: string; attributes?: KeyValuePair[]; versionInfo?: ContainerInstanceRecord['versionInfo'] },
): Promise<StoredContainerInstance | undefined> {
  if (!ownInstanceArn(ctx, arn)) {
    throw new InvalidParameterException('containerInstanceArn is not a container instance ARN of this account and region.');
  }
  const attributes = input.attributes ?? [];
  const fargateProviders = fargateProvidersOf(attributes);
  const wanted = fargateProviders.length ? undefined : (await activeCluster(ctx, input.cluster)).record.clusterArn;
  await checkProviderMembership(ctx, attributes, fargateProviders);
  return withOptimisticRetry(async () => {
    const stored = await ctx.containerInstances.get(arn);
    if (!stored || stored.record.status === 'INACTIVE') return undefined;
    if (stored.record.clusterArn !== wanted) {
      const where = (clusterArn: string | undefined) => (clusterArn ? `cluster ${clusterArn}` : 'the Fargate capacity pool');
      throw new InvalidParameterException(
        `containerInstanceArn ${arn} is registered in ${where(stored.record.clusterArn)}, not in ${where(wanted)}.`,
      );
    }
    const now = ctx.clock();
    const record: ContainerInstanceRecord = {
      ...stored.record,
      agentConnected: true,
      attributes: attributes.length ? mergeRegisteredAttributes(stored.record.attributes, attributes) : stored.record.attributes,
      fargateProviders: attributes.length ? fargateProviders : stored.record.fargateProviders,
      versionInfo: input.versionInfo ?? stored.record.versionInfo,
      updatedAt: now,
    };
    await ctx.containerInstances.setAgentConnected(record, stored.version, { now });
    return { ...stored, record, version: stored.version + 1, lastPolledAt: now };
  });
}

/**
 * A container instance reference (id, or ARN `container-instance/<cluster>/<id>`) of the named
 * cluster (or the Fargate pool); undefined when malformed or another cluster's, account's or region's.
 */
export function instanceArnFor(ctx: RequestContext, clusterName: string | undefined, reference: string): string | undefined {
  if (!clusterName) return undefined;
  if (!reference.startsWith('arn:')) {
    return ID_PATTERN.test(reference) ? containerInstanceArn(ctx.scope, clusterName, reference) : undefined;
  }
  return ownInstanceArn(ctx, reference) && parseArn(reference)!.path[0] === clusterName ? reference : undefined;
}

/** True for a well-formed container instance ARN of the caller's account and region. */
function ownInstanceArn(ctx: RequestContext, value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const parsed = parseArn(value);
  return (
    parsed?.resourceType === 'container-instance' &&
    parsed.path.length === 2 &&
    NAME_PATTERN.test(parsed.path[0]) &&
    ID_PATTERN.test(parsed.path[1]) &&
    inScope(ctx.scope, parsed)
  );
}

/** For the extension operations, which no model validates: the ARN, or InvalidParameterException. */
export function requireOwnInstanceArn(ctx: RequestContext, value: unknown): string {
  if (!ownInstanceArn(ctx, value)) {
    throw new InvalidParameterException('containerInstanceArn must be a container instance ARN of this account and region.');
  }
  return value;
}

/** The partition a request's `cluster` names: the Fargate pool by its pseudo name, else the cluster. */
async function partitionFor(ctx: RequestContext, cluster: string | undefined): Promise<{ partition: string; name: string }> {
  if (cluster === FARGATE_POOL_NAME) return { partition: fargatePoolPartition(ctx.scope), name: FARGATE_POOL_NAME };
  const stored = await activeCluster(ctx, cluster);
  return { partition: stored.record.clusterArn, name: stored.record.clusterName };
}

export async function describeContainerInstances(
  ctx: RequestContext,
  input: { cluster?: string; containerInstances: string[]; include?: string[] },
) {
  if (input.containerInstances.length > 100) {
    throw new InvalidParameterException('containerInstances cannot have more than 100 elements.');
  }
  const { name } = await partitionFor(ctx, input.cluster);
  const containerInstances = [];
  const failures = [];
  for (const reference of input.containerInstances) {
    const arn = instanceArnFor(ctx, name, reference);
    const stored = arn ? await ctx.containerInstances.get(arn) : undefined;
    if (stored) containerInstances.push(containerInstanceView(stored, input.include?.includes('TAGS') ?? false));
    else failures.push({ arn: arn ?? reference, reason: 'MISSING' });
  }
  return { containerInstances, failures };
}

export async function listContainerInstances(
  ctx: RequestContext,
  input: { cluster?: string; filter?: string; status?: ContainerInstanceStatus; maxResults?: number; nextToken?: string },
) {
  // The filter is the cluster query language of memberOf constraints, evaluated the same way.
  const query = input.filter === undefined ? undefined : parseClusterQuery(input.filter);
  const size = pageSize(input.maxResults);
  const { partition } = await partitionFor(ctx, input.cluster);
  const groups = query && mentionsTaskGroup(query) ? await ctx.tasks.groupsPerInstance(partition) : undefined;
  const matches = (instance: StoredContainerInstance) =>
    !query || matchesQuery(query, queryTarget(placementCandidate(ctx.scope.region, groups ?? new Map())(instance)));
  const page = await ctx.containerInstances.list(partition, { maxResults: size, nextToken: input.nextToken }, (instance) =>
    (input.status ? instance.record.status === input.status : instance.record.status !== 'INACTIVE') && matches(instance),
  );
  return { containerInstanceArns: page.items.map((i) => i.record.containerInstanceArn), nextToken: page.nextToken };
}

export async function updateContainerInstancesState(
  ctx: RequestContext,
  input: { cluster?: string; containerInstances: string[]; status: ContainerInstanceStatus },
) {
  if (input.status !== 'ACTIVE' && input.status !== 'DRAINING') {
    throw new InvalidParameterException('Container instances can only be set to ACTIVE or DRAINING.');
  }
  const { name } = await partitionFor(ctx, input.cluster);
  const containerInstances = [];
  const failures = [];
  for (const reference of input.containerInstances) {
    const arn = instanceArnFor(ctx, name, reference);
    const updated = arn
      ? await withOptimisticRetry(async () => {
          const stored = await ctx.containerInstances.get(arn);
          if (!stored || stored.record.status === 'INACTIVE') return undefined;
          if (stored.record.status === input.status) return stored;
          const record = { ...stored.record, status: input.status, updatedAt: ctx.clock() };
          await ctx.containerInstances.update(record, stored.version);
          return { ...stored, record, version: stored.version + 1 };
        })
      : undefined;
    if (updated) containerInstances.push(containerInstanceView(updated, false));
    else failures.push({ arn: arn ?? reference, reason: 'MISSING' });
  }
  return { containerInstances, failures };
}

export async function deregisterContainerInstance(
  ctx: RequestContext,
  input: { cluster?: string; containerInstance: string; force?: boolean },
) {
  const { name } = await partitionFor(ctx, input.cluster);
  const arn = instanceArnFor(ctx, name, input.containerInstance);
  return withOptimisticRetry(async () => {
    const stored = arn ? await ctx.containerInstances.get(arn) : undefined;
    if (!stored || stored.record.status === 'INACTIVE') {
      throw new InvalidParameterException('The referenced container instance was not found.');
    }
    if (!input.force && stored.runningTasksCount + stored.pendingTasksCount > 0) {
      throw new InvalidParameterException(
        'Found running tasks on the instance. Stop them first or deregister with force.',
      );
    }
    const record: ContainerInstanceRecord = { ...stored.record, status: 'INACTIVE', agentConnected: false, updatedAt: ctx.clock() };
    await ctx.containerInstances.deregister(record, stored.version);
    return { containerInstance: containerInstanceView({ ...stored, record, version: stored.version + 1 }, false) };
  });
}

/** ECS's agent discovery: Berth's agents poll the API endpoint itself (see docs/agent.md). */
export async function discoverPollEndpoint(ctx: RequestContext, input: { cluster?: string }) {
  if (input.cluster !== undefined && input.cluster !== FARGATE_POOL_NAME) {
    // The model gives DiscoverPollEndpoint no ClusterNotFoundException: a missing cluster is a ClientException.
    await activeCluster(ctx, input.cluster).catch((error: unknown) => {
      throw error instanceof ClusterNotFoundException ? new ClientException(error.message) : error;
    });
  }
  return { endpoint: ctx.endpoint ?? '', telemetryEndpoint: ctx.endpoint ?? '' };
}


/**
 * UpdateContainerAgent. ECS updates its agent on ECS-optimized AMIs from its own release channel;
 * Berth's agent is updated with its npm package on the host, so the control plane never has a
 * newer agent to send and answers what ECS answers when there is none: NoUpdateAvailableException
 * (MissingVersionException for an instance that never reported its agent version). The instance is
 * not changed.
 */
export async function updateContainerAgent(ctx: RequestContext, input: { cluster?: string; containerInstance: string }) {
  const { name } = await partitionFor(ctx, input.cluster);
  const arn = instanceArnFor(ctx, name, input.containerInstance);
  const stored = arn ? await ctx.containerInstances.get(arn) : undefined;
  if (!stored || stored.record.status === 'INACTIVE') {
    throw new InvalidParameterException('The referenced container instance was not found.');
  }
  if (!stored.record.versionInfo.agentVersion) {
    throw new MissingVersionException(`The container instance ${stored.record.containerInstanceArn} has not reported its agent version.`);
  }
  throw new NoUpdateAvailableException(
    `There is no update available for your container agent: ${stored.record.containerInstanceArn} runs berth-agent ${stored.record.versionInfo.agentVersion}; Berth's agents are updated with their package on the host.`,
  );
}
