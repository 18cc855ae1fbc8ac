/**
 * The service API: CreateService, UpdateService, DeleteService, DescribeServices, ListServices. The
 * domain (service-rules.ts) decides; these load, map refusals to ECS errors and write conditionally.
 * The scheduler (service-scheduler.ts) does the rest: a write here wakes the service's loop through
 * the table's stream.
 */
import { createHash } from 'node:crypto';
import { defaultRebalancing, type AvailabilityZoneRebalancing } from '../domain/az-rebalancing';
import { NAME_PATTERN, serviceArn } from '../domain/arns';
import { capacityProviderKind, validateCapacityProviderStrategy, type CapacityProviderStrategyItem } from '../domain/capacity-strategy';
import {
  BerthError,
  ClientException,
  InvalidParameterException,
  ServiceNotActiveException,
  ServiceNotFoundException,
  UnsupportedFeatureException,
  VersionConflictError,
} from '../domain/errors';
import type { LaunchTarget } from '../domain/new-task';
import { initialImageResolution } from '../domain/image-digests';
import type { LaunchType, Tag, TaskDefinitionRecord } from '../domain/records';
import { deploymentIdFrom, type DeploymentRecord, type LaunchConfiguration, type ServiceRecord } from '../domain/service';
import {
  decideCreateService,
  decideUpdateService,
  type CreateServiceInput,
  type Refusal,
  type UpdateServiceInput,
} from '../domain/service-rules';
import {
  requestStopForDelete,
  serviceDeploymentIdFrom,
  serviceRevisionOf,
  startServiceDeployment,
  type ServiceDeploymentRecord,
} from '../domain/service-deployment';
import { validateTags } from '../domain/tags';
import { parsePlacementConstraints, type PlacementConstraintInput } from '../domain/placement-constraints';
import { parsePlacementStrategies, type PlacementStrategyInput } from '../domain/placement-strategies';
import type { StoredService } from '../adapters/dynamodb/service-repository';
import type { StoredTaskDefinition } from '../adapters/dynamodb/task-definition-repository';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { activeCluster } from './resolve';
import { serviceNameIn, serviceView } from './service-view';
import { checkExternalUpdate, createExternalService } from './task-sets';
import { findTaskDefinition } from './task-definitions';
import { canonicalJson, checkCompatibility, checkConstraintTotal } from './tasks';

const MAX_DESCRIBE_SERVICES = 10;
const MAX_CLIENT_TOKEN = 36;

/** Values in [0, 1) from the context's random bytes (the domain takes randomness as a function). */
export const randomUnit = (ctx: Pick<RequestContext, 'randomBytes'>) => () =>
  Buffer.from(ctx.randomBytes(4)).readUInt32BE(0) / 2 ** 32;

function refusal(r: Refusal): BerthError {
  switch (r.refused) {
    case 'ServiceNotActiveException':
      return new ServiceNotActiveException(r.message);
    case 'UnsupportedFeatureException':
      return new UnsupportedFeatureException(r.message);
    default:
      return new InvalidParameterException(r.message);
  }
}

const hasHealthCheck = (td: TaskDefinitionRecord) => td.containerDefinitions.some((c) => c.healthCheck !== undefined);

export async function activeTaskDefinition(ctx: RequestContext, reference: string): Promise<StoredTaskDefinition> {
  const stored = await findTaskDefinition(ctx, reference);
  if (!stored) throw new ClientException('TaskDefinition not found.');
  if (stored.record.status !== 'ACTIVE') throw new ClientException('TaskDefinition is inactive.');
  return stored;
}

/** Where a launch configuration's tasks run, for the task definition compatibility check. */
function targetsOf(launch: LaunchConfiguration): LaunchTarget[] {
  if (!launch.capacityProviderStrategy?.length) return [{ launchType: launch.launchType ?? 'EC2' }];
  return launch.capacityProviderStrategy.map((item) => ({
    launchType: capacityProviderKind(item.capacityProvider) === 'FARGATE' ? 'FARGATE' : 'EC2',
    capacityProviderName: item.capacityProvider,
  }));
}

function checkLaunch(td: TaskDefinitionRecord, launch: LaunchConfiguration, placement: ServicePlacement = {}) {
  checkConstraintTotal(td, placement.placementConstraints);
  checkCompatibility(td, targetsOf(launch), {
    networkConfiguration: launch.networkConfiguration as { awsvpcConfiguration?: { subnets?: string[] } } | undefined,
    placementConstraints: placement.placementConstraints,
  });
}

interface ServicePlacement {
  placementConstraints?: PlacementConstraintInput[];
  placementStrategy?: PlacementStrategyInput[];
}

/**
 * A service's placement members, validated as ECS does (expressions parsed) and kept as given; an
 * empty list clears them (UpdateService), an absent one keeps what was there.
 */
function servicePlacement(input: ServicePlacement, previous: Pick<ServiceRecord, 'placementConstraints' | 'placementStrategy'> = {}) {
  parsePlacementConstraints(input.placementConstraints, 'service');
  parsePlacementStrategies(input.placementStrategy, 'A service');
  const constraints = input.placementConstraints ?? previous.placementConstraints ?? [];
  const strategies = input.placementStrategy ?? previous.placementStrategy ?? [];
  return {
    placementConstraints: constraints.map(({ type, expression }) => ({ type, ...(expression ? { expression } : {}) })),
    placementStrategy: strategies.map(({ type, field }) => ({ type, ...(field ? { field } : {}) })),
  };
}

export interface CreateServiceRequest extends Omit<CreateServiceInput, 'taskDefinition' | 'capacityProviderStrategy'> {
  cluster?: string;
  taskDefinition?: string;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  clientToken?: string;
  tags?: Tag[];
  propagateTags?: ServiceRecord['propagateTags'];
  enableECSManagedTags?: boolean;
  enableExecuteCommand?: boolean;
  availabilityZoneRebalancing?: AvailabilityZoneRebalancing;
  [member: string]: unknown;
}

export async function createService(ctx: RequestContext, input: CreateServiceRequest) {
  if (!NAME_PATTERN.test(input.serviceName)) {
    throw new InvalidParameterException(
      'Service name can have up to 255 characters: letters (uppercase and lowercase), numbers, hyphens, and underscores.',
    );
  }
  if (input.clientToken !== undefined && (input.clientToken.length < 1 || input.clientToken.length > MAX_CLIENT_TOKEN)) {
    throw new InvalidParameterException(`clientToken must have between 1 and ${MAX_CLIENT_TOKEN} characters.`);
  }
  const tags = input.tags ?? [];
  validateTags(tags);
  const placement = servicePlacement(input as ServicePlacement);
  const digest = createHash('sha256').update(canonicalJson({ ...input, cluster: undefined })).digest('hex');
  if ((input.deploymentController as { type?: string } | undefined)?.type === 'EXTERNAL') {
    return createExternalService(ctx, input, {
      tags, placement, digest, clientToken: input.clientToken, propagateTags: input.propagateTags ?? 'NONE',
      enableECSManagedTags: input.enableECSManagedTags ?? false, enableExecuteCommand: input.enableExecuteCommand ?? false,
    });
  }
  return withOptimisticRetry(async () => {
    const cluster = await activeCluster(ctx, input.cluster);
    const clusterArn = cluster.record.clusterArn;
    const td = input.taskDefinition === undefined ? undefined : await activeTaskDefinition(ctx, input.taskDefinition);
    const now = ctx.clock();
    const decided = decideCreateService(
      { ...input, taskDefinition: td?.record.taskDefinitionArn ?? '' },
      {
        serviceArn: serviceArn(ctx.scope, cluster.record.clusterName, input.serviceName),
        clusterArn,
        clusterCapacityProviders: cluster.record.capacityProviders,
        clusterDefaultStrategy: cluster.record.defaultCapacityProviderStrategy,
        deploymentId: deploymentIdFrom(randomUnit(ctx)),
        hasHealthCheck: td ? hasHealthCheck(td.record) : false,
        now,
      },
    );
    if ('refused' in decided) throw refusal(decided);
    if (!td) throw new InvalidParameterException('A task definition must be specified for the ECS deployment controller.');
    checkLaunch(td.record, decided.service, placement);
    // Seed 002 (image-digests.ts): DAEMON services do not resolve; their desiredCount is 0 here anyway.
    const deployment = { ...decided.deployment, imageResolution: initialImageResolution(td.record.containerDefinitions, decided.service.schedulingStrategy === 'DAEMON' ? 0 : decided.deployment.desiredCount) };

    const existing = await ctx.services.get(clusterArn, input.serviceName);
    if (existing && existing.record.status === 'DRAINING') {
      throw new InvalidParameterException('Unable to Start a service that is still Draining.');
    }
    if (existing && existing.record.status === 'ACTIVE') {
      // ECS answers a repeated identical CreateService with the service it created.
      if (existing.requestDigest === digest) return { service: serviceView(existing, true) };
      throw new InvalidParameterException('Creation of service was not idempotent.');
    }
    const version = (existing?.version ?? 0) + 1;
    const record: ServiceRecord = {
      ...decided.service,
      ...placement,
      tags,
      propagateTags: input.propagateTags ?? 'NONE',
      enableECSManagedTags: input.enableECSManagedTags ?? false,
      enableExecuteCommand: input.enableExecuteCommand ?? false,
      // ECS: ENABLED by default for a service that can be rebalanced (REPLICA, no binpack).
      availabilityZoneRebalancing: input.availabilityZoneRebalancing ?? defaultRebalancing({ ...decided.service, ...placement }),
      createdAt: now,
      ...(input.clientToken ? { clientToken: input.clientToken } : {}),
      version,
    };
    // The first service deployment and its revision, written with the service.
    const release = startServiceDeployment(record, [deployment], deployment.id, undefined, serviceDeploymentIdFrom(now, randomUnit(ctx)), now);
    const stored: StoredService = {
      record,
      deployments: [deployment],
      events: [],
      version,
      requestDigest: digest,
      serviceDeployment: release.created,
    };
    const outcome = await ctx.services.create(stored, existing?.version, {
      serviceDeployments: [release.created],
      revisions: [serviceRevisionOf(record, deployment, td.record.containerDefinitions)],
    });
    // The cluster went away, or another CreateService of this name won: decide again on fresh reads.
    if (outcome !== 'created') throw new VersionConflictError(record.serviceArn);
    return { service: serviceView(stored, true) };
  });
}

/** The service a request names, in an ACTIVE cluster, or ServiceNotFoundException. */
export async function namedService(ctx: RequestContext, cluster: string | undefined, reference: string) {
  const owner = await activeCluster(ctx, cluster);
  const name = serviceNameIn(ctx, owner.record.clusterArn, reference);
  const stored = name === undefined ? undefined : await ctx.services.get(owner.record.clusterArn, name);
  if (!stored) throw new ServiceNotFoundException('Service not found.');
  return { cluster: owner, stored };
}

export interface UpdateServiceRequest extends Omit<UpdateServiceInput, 'capacityProviderStrategy'> {
  cluster?: string;
  service: string;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  deploymentController?: { type?: string };
  propagateTags?: ServiceRecord['propagateTags'];
  enableECSManagedTags?: boolean;
  enableExecuteCommand?: boolean;
  availabilityZoneRebalancing?: AvailabilityZoneRebalancing;
  [member: string]: unknown;
}

export async function updateService(ctx: RequestContext, input: UpdateServiceRequest) {
  if (input.deploymentController?.type !== undefined && input.deploymentController.type !== 'ECS') {
    throw new UnsupportedFeatureException('Updating the deployment controller is not supported by Berth yet.');
  }
  return withOptimisticRetry(async () => {
    const { cluster, stored } = await namedService(ctx, input.cluster, input.service);
    if (stored.record.status !== 'ACTIVE') throw new ServiceNotActiveException('Service was not ACTIVE.');
    checkExternalUpdate(stored.record, input);
    // A new task definition must be ACTIVE; the current one may have been deregistered since (ECS
    // keeps running and scaling a service on a deregistered revision).
    const td =
      input.taskDefinition !== undefined
        ? await activeTaskDefinition(ctx, input.taskDefinition)
        : await findTaskDefinition(ctx, stored.record.taskDefinition);
    const strategy = input.capacityProviderStrategy?.length ? input.capacityProviderStrategy : undefined;
    if (strategy) validateCapacityProviderStrategy(strategy, cluster.record.capacityProviders, 'placement');
    const outcome = decideUpdateService(
      stored.record,
      stored.deployments,
      {
        desiredCount: input.desiredCount,
        taskDefinition: input.taskDefinition === undefined ? undefined : td!.record.taskDefinitionArn,
        capacityProviderStrategy: strategy,
        networkConfiguration: input.networkConfiguration,
        platformVersion: input.platformVersion,
        forceNewDeployment: input.forceNewDeployment,
        deploymentConfiguration: input.deploymentConfiguration,
        healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds,
        placementStrategy: (input as ServicePlacement).placementStrategy,
      },
      { now: ctx.clock(), newDeploymentId: deploymentIdFrom(randomUnit(ctx)), hasHealthCheck: td ? hasHealthCheck(td.record) : false },
    );
    if ('refused' in outcome) throw refusal(outcome);
    const placement = servicePlacement(input as ServicePlacement, stored.record);
    if ((outcome.trigger || input.placementConstraints) && td) checkLaunch(td.record, outcome.service, placement);
    const record: ServiceRecord = {
      ...outcome.service,
      ...placement,
      ...(input.propagateTags !== undefined ? { propagateTags: input.propagateTags } : {}),
      ...(input.enableECSManagedTags !== undefined ? { enableECSManagedTags: input.enableECSManagedTags } : {}),
      ...(input.enableExecuteCommand !== undefined ? { enableExecuteCommand: input.enableExecuteCommand } : {}),
      // Absent keeps the service's value; it starts no deployment (ECS).
      ...(input.availabilityZoneRebalancing !== undefined ? { availabilityZoneRebalancing: input.availabilityZoneRebalancing } : {}),
    };
    // A new deployment resolves its container images afresh (seed 002, image-digests.ts); DAEMON
    // services do not resolve (their reconciler places one task per instance, none waits for a first).
    const resolvedCount = (d: DeploymentRecord) => (stored.record.schedulingStrategy === 'DAEMON' ? 0 : d.desiredCount);
    const changed = outcome.deployments.map((d) =>
      stored.deployments.some((s) => s.id === d.id) ? d : { ...d, imageResolution: initialImageResolution(td?.record.containerDefinitions ?? [], resolvedCount(d)) });
    const deployments = mergeDeployments(stored.deployments, changed);
    const fresh = outcome.trigger ? changed.find((d) => !stored.deployments.some((s) => s.id === d.id)) : undefined;
    // A new deployment record is a new service deployment and revision, in the same transaction.
    let serviceDeployment = stored.serviceDeployment;
    const history: { serviceDeployments: ServiceDeploymentRecord[]; revisions: ReturnType<typeof serviceRevisionOf>[] } = { serviceDeployments: [], revisions: [] };
    if (fresh) {
      const now = fresh.createdAt;
      const release = startServiceDeployment(record, deployments, fresh.id, stored.serviceDeployment, serviceDeploymentIdFrom(now, randomUnit(ctx)), now);
      if (release.previous && release.previous !== stored.serviceDeployment) history.serviceDeployments.push(release.previous);
      history.serviceDeployments.push(release.created);
      history.revisions.push(serviceRevisionOf(record, fresh, td?.record.containerDefinitions ?? []));
      serviceDeployment = release.created;
    }
    const next: StoredService = { ...stored, record, deployments, version: record.version, serviceDeployment };
    await ctx.services.update(next, stored.version, 'api', { history });
    return { service: serviceView(next, true) };
  });
}

/** The stored deployments with `changed` ones replaced by id (new ones first). */
export function mergeDeployments(stored: readonly DeploymentRecord[], changed: readonly DeploymentRecord[]): DeploymentRecord[] {
  const byId = new Map(changed.map((d) => [d.id, d]));
  const fresh = changed.filter((d) => !stored.some((s) => s.id === d.id));
  return [...fresh, ...stored.map((d) => byId.get(d.id) ?? d)];
}

export async function deleteService(ctx: RequestContext, input: { cluster?: string; service: string; force?: boolean }) {
  return withOptimisticRetry(async () => {
    const { stored } = await namedService(ctx, input.cluster, input.service);
    const { record } = stored;
    if (record.status === 'INACTIVE') throw new ServiceNotFoundException('Service not found.');
    if (record.status === 'DRAINING') return { service: serviceView(stored, true) };
    // ECS: force "is only necessary ... if the service uses the REPLICA scheduling strategy".
    if (record.schedulingStrategy === 'REPLICA' && record.desiredCount > 0 && !input.force) {
      throw new InvalidParameterException('The service cannot be stopped while it is scaled above 0.');
    }
    const now = ctx.clock();
    const sd = stored.serviceDeployment && requestStopForDelete(stored.serviceDeployment, now);
    const next: StoredService = {
      ...stored,
      record: { ...record, status: 'DRAINING', desiredCount: 0, version: stored.version + 1 },
      deployments: stored.deployments.map((d) => (d.status === 'PRIMARY' ? { ...d, desiredCount: 0, updatedAt: now } : d)),
      version: stored.version + 1,
      serviceDeployment: sd,
    };
    // ECS counts ACTIVE services in activeServicesCount: a DRAINING one no longer counts.
    await ctx.services.update(next, stored.version, 'api', {
      activeServicesDelta: -1,
      history: { serviceDeployments: sd && sd !== stored.serviceDeployment ? [sd] : [] },
    });
    return { service: serviceView(next, true) };
  });
}

export async function describeServices(ctx: RequestContext, input: { cluster?: string; services: string[]; include?: string[] }) {
  if (input.services.length === 0) throw new InvalidParameterException('Services cannot be empty.');
  if (input.services.length > MAX_DESCRIBE_SERVICES) {
    throw new InvalidParameterException(`Services cannot have more than ${MAX_DESCRIBE_SERVICES} elements.`);
  }
  const cluster = await activeCluster(ctx, input.cluster);
  const clusterArn = cluster.record.clusterArn;
  const withTags = input.include?.includes('TAGS') ?? false;
  const services = [];
  const failures = [];
  for (const reference of input.services) {
    const name = serviceNameIn(ctx, clusterArn, reference);
    const stored = name === undefined ? undefined : await ctx.services.get(clusterArn, name);
    if (stored) services.push(serviceView(stored, withTags));
    else {
      const arn = reference.startsWith('arn:') ? reference : serviceArn(ctx.scope, cluster.record.clusterName, reference);
      failures.push({ arn, reason: 'MISSING' });
    }
  }
  return { services, failures };
}

export async function listServices(
  ctx: RequestContext,
  input: { cluster?: string; launchType?: LaunchType; schedulingStrategy?: string; maxResults?: number; nextToken?: string },
) {
  // ListServices pages by 10 unless asked otherwise (ECS's default), up to 100.
  const maxResults = input.maxResults ?? 10;
  if (maxResults < 1 || maxResults > 100) throw new InvalidParameterException('maxResults must be between 1 and 100.');
  const cluster = await activeCluster(ctx, input.cluster);
  const page = await ctx.services.list(cluster.record.clusterArn, { maxResults, nextToken: input.nextToken }, (service) =>
    service.status !== 'INACTIVE' &&
    (input.launchType === undefined || service.launchType === input.launchType) &&
    (input.schedulingStrategy === undefined || service.schedulingStrategy === input.schedulingStrategy),
  );
  return { serviceArns: page.items.map((service) => service.serviceArn), nextToken: page.nextToken };
}
