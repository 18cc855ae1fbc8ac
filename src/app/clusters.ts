import { clusterArn, NAME_PATTERN } from '../domain/arns';
import { validateCapacityProviderStrategy, type CapacityProviderStrategyItem } from '../domain/capacity-strategy';
import { providerAssociationGuards } from './capacity-providers';
import {
  ClusterContainsContainerInstancesException,
  ClusterContainsServicesException,
  ClusterContainsTasksException,
  InvalidParameterException,
  ResourceInUseException,
} from '../domain/errors';
import { EMPTY_COUNTS, type ClusterRecord, type KeyValuePair, type Tag } from '../domain/records';
import { isActive } from '../domain/task-lifecycle';
import { validateTags } from '../domain/tags';
import type { StoredCluster } from '../adapters/dynamodb/cluster-repository';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { activeCluster, clusterArnFor, DEFAULT_CLUSTER } from './resolve';
import { containerInsightsDefault } from './account-settings';

const DEFAULT_SETTINGS: KeyValuePair[] = [{ name: 'containerInsights', value: 'disabled' }];

export interface CreateClusterInput {
  clusterName?: string;
  tags?: Tag[];
  settings?: KeyValuePair[];
  configuration?: Record<string, unknown>;
  capacityProviders?: string[];
  defaultCapacityProviderStrategy?: CapacityProviderStrategyItem[];
  serviceConnectDefaults?: { namespace?: string };
}

export type ClusterField = 'ATTACHMENTS' | 'CONFIGURATIONS' | 'SETTINGS' | 'STATISTICS' | 'TAGS';

/** The ECS Cluster shape of a stored cluster; optional parts only when `include` asks for them. */
export function clusterView(stored: StoredCluster, include: readonly ClusterField[] | 'all') {
  const wants = (field: ClusterField) => include === 'all' || include.includes(field);
  const { record, counts } = stored;
  return {
    clusterArn: record.clusterArn,
    clusterName: record.clusterName,
    status: record.status,
    registeredContainerInstancesCount: counts.registeredContainerInstancesCount,
    runningTasksCount: counts.runningTasksCount,
    pendingTasksCount: counts.pendingTasksCount,
    activeServicesCount: counts.activeServicesCount,
    capacityProviders: record.capacityProviders,
    defaultCapacityProviderStrategy: record.defaultCapacityProviderStrategy,
    ...(record.serviceConnectDefaults ? { serviceConnectDefaults: record.serviceConnectDefaults } : {}),
    ...(wants('SETTINGS') ? { settings: record.settings } : {}),
    // Lists with nothing in them are absent, as ECS sends them (clients test for the member).
    ...(wants('TAGS') && record.tags.length ? { tags: record.tags } : {}),
    ...(wants('CONFIGURATIONS') && record.configuration ? { configuration: record.configuration } : {}),
    ...(wants('STATISTICS')
      ? {
          statistics: (
            [
              'runningEC2TasksCount',
              'runningFargateTasksCount',
              'pendingEC2TasksCount',
              'pendingFargateTasksCount',
              'runningExternalTasksCount',
              'pendingExternalTasksCount',
            ] as const
          ).map((name) => ({ name, value: String(counts[name]) })),
        }
      : {}),
  };
}

/** Duplicates are refused before anything is read; which providers exist is checked with the write. */
function validateProviders(providers: readonly string[]): void {
  if (new Set(providers).size !== providers.length) {
    throw new InvalidParameterException('The specified capacity providers contain duplicates.');
  }
}

const withDefaults = (strategy: readonly CapacityProviderStrategyItem[]) =>
  strategy.map((item) => ({ capacityProvider: item.capacityProvider, weight: item.weight ?? 0, base: item.base ?? 0 }));

export async function createCluster(ctx: RequestContext, input: CreateClusterInput) {
  const name = input.clusterName ?? DEFAULT_CLUSTER;
  if (!NAME_PATTERN.test(name)) {
    throw new InvalidParameterException(
      'Cluster name can have up to 255 characters: letters (uppercase and lowercase), numbers, hyphens, and underscores.',
    );
  }
  const tags = input.tags ?? [];
  validateTags(tags);
  const providers = input.capacityProviders ?? [];
  validateProviders(providers);
  // Unknown providers first, as ECS names them before judging the strategy (the write checks again).
  await providerAssociationGuards(ctx, providers);
  const strategy = input.defaultCapacityProviderStrategy ?? [];
  validateCapacityProviderStrategy(strategy, providers, 'storeDefault');
  mergeSettings(DEFAULT_SETTINGS, input.settings ?? []);
  if (input.configuration) validateConfiguration(input.configuration);
  validateServiceConnectDefaults(input.serviceConnectDefaults);

  const arn = clusterArn(ctx.scope, name);
  // Container Insights not set: the account setting decides (PutAccountSettingDefault), as in ECS.
  const settings = mergeSettings([{ name: 'containerInsights', value: await containerInsightsDefault(ctx) }], input.settings ?? []);
  return withOptimisticRetry(async () => {
    const existing = await ctx.clusters.get(arn);
    // CreateCluster on an ACTIVE cluster returns it unchanged, as ECS does.
    if (existing && existing.record.status !== 'INACTIVE') return { cluster: clusterView(existing, ['SETTINGS', 'TAGS', 'CONFIGURATIONS']) };
    const guards = await providerAssociationGuards(ctx, providers);
    const record: ClusterRecord = {
      clusterArn: arn,
      clusterName: name,
      status: 'ACTIVE',
      settings,
      ...(input.configuration ? { configuration: input.configuration } : {}),
      ...(input.serviceConnectDefaults?.namespace ? { serviceConnectDefaults: input.serviceConnectDefaults } : {}),
      capacityProviders: providers,
      defaultCapacityProviderStrategy: withDefaults(strategy),
      tags,
      createdAt: ctx.clock(),
    };
    await ctx.clusters.create(ctx.scope, record, existing?.version, guards);
    const created = { record, version: (existing?.version ?? 0) + 1, counts: EMPTY_COUNTS };
    return { cluster: clusterView(created, ['SETTINGS', 'TAGS', 'CONFIGURATIONS']) };
  });
}

function mergeSettings(defaults: readonly KeyValuePair[], given: readonly KeyValuePair[]): KeyValuePair[] {
  const byName = new Map(defaults.map((s) => [s.name, s]));
  for (const setting of given) {
    if (setting.name !== 'containerInsights' || !['enabled', 'disabled', 'enhanced'].includes(setting.value ?? '')) {
      throw new InvalidParameterException(
        `Invalid cluster setting: ${setting.name}=${setting.value}. Valid: containerInsights = enabled | disabled | enhanced.`,
      );
    }
    byName.set(setting.name, setting);
  }
  return [...byName.values()];
}

export async function describeClusters(ctx: RequestContext, input: { clusters?: string[]; include?: ClusterField[] }) {
  const references = input.clusters?.length ? input.clusters : [DEFAULT_CLUSTER];
  if (references.length > 100) throw new InvalidParameterException('You can describe up to 100 clusters at a time.');
  const clusters = [];
  const failures = [];
  for (const reference of references) {
    const arn = clusterArnFor(ctx, reference);
    const stored = arn ? await ctx.clusters.get(arn) : undefined;
    if (stored) clusters.push(clusterView(stored, input.include ?? []));
    else failures.push({ arn: arn ?? reference, reason: 'MISSING' });
  }
  return { clusters, failures };
}

export async function listClusters(ctx: RequestContext, input: { maxResults?: number; nextToken?: string }) {
  const page = await ctx.clusters.list(ctx.scope, { maxResults: pageSize(input.maxResults), nextToken: input.nextToken });
  return { clusterArns: page.items, nextToken: page.nextToken };
}

export function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined) return 100;
  if (maxResults < 1 || maxResults > 100) {
    throw new InvalidParameterException('maxResults must be between 1 and 100.');
  }
  return maxResults;
}

export async function deleteCluster(ctx: RequestContext, input: { cluster: string }) {
  return withOptimisticRetry(async () => {
    const stored = await activeCluster(ctx, input.cluster);
    const { counts } = stored;
    if (counts.registeredContainerInstancesCount > 0) {
      throw new ClusterContainsContainerInstancesException(
        'The Cluster cannot be deleted while Container Instances are active or draining.',
      );
    }
    if (counts.activeServicesCount > 0) {
      throw new ClusterContainsServicesException('The Cluster cannot be deleted while Services are active.');
    }
    if (counts.pendingTasksCount + counts.runningTasksCount > 0) {
      throw new ClusterContainsTasksException('The Cluster cannot be deleted while Tasks are active.');
    }
    await ctx.clusters.deactivate(ctx.scope, stored.record, stored.version, ctx.clock() + ctx.retention.inactiveClusterMs);
    return {
      cluster: clusterView(
        { ...stored, record: { ...stored.record, status: 'INACTIVE' }, version: stored.version + 1 },
        ['SETTINGS', 'TAGS', 'CONFIGURATIONS'],
      ),
    };
  });
}

export async function putClusterCapacityProviders(
  ctx: RequestContext,
  input: { cluster: string; capacityProviders: string[]; defaultCapacityProviderStrategy: CapacityProviderStrategyItem[] },
) {
  validateProviders(input.capacityProviders);
  await providerAssociationGuards(ctx, input.capacityProviders);
  validateCapacityProviderStrategy(input.defaultCapacityProviderStrategy, input.capacityProviders, 'storeDefault');
  return withOptimisticRetry(async () => {
    const stored = await activeCluster(ctx, input.cluster);
    const removed = stored.record.capacityProviders.filter((name) => !input.capacityProviders.includes(name));
    if (removed.length > 0) {
      const inUse =
        (await ctx.tasks.any(stored.record.clusterArn, (task) => isActive(task.lastStatus) && removed.includes(task.capacityProviderName ?? ''))) ||
        (await serviceUsing(ctx, stored.record.clusterArn, removed));
      if (inUse) {
        throw new ResourceInUseException(
          `The specified capacity provider is in use and cannot be removed: ${removed.join(', ')}.`,
        );
      }
    }
    // Only the providers being added need the guard: those already listed cannot be deleted meanwhile.
    const added = input.capacityProviders.filter((name) => !stored.record.capacityProviders.includes(name));
    const guards = await providerAssociationGuards(ctx, added);
    const record: ClusterRecord = {
      ...stored.record,
      capacityProviders: input.capacityProviders,
      defaultCapacityProviderStrategy: withDefaults(input.defaultCapacityProviderStrategy),
    };
    await ctx.clusters.update(ctx.scope, record, stored.version, guards);
    return { cluster: clusterView({ ...stored, record, version: stored.version + 1 }, ['SETTINGS', 'TAGS', 'CONFIGURATIONS']) };
  });
}

/**
 * Whether an ACTIVE service of the cluster has one of the providers in its strategy (ECS refuses to
 * remove a provider a service uses: "The specified capacity provider is in use and cannot be removed").
 */
async function serviceUsing(ctx: RequestContext, clusterArn: string, providers: readonly string[]): Promise<boolean> {
  let nextToken: string | undefined;
  do {
    const page = await ctx.services.list(clusterArn, { maxResults: 100, nextToken }, (service) =>
      service.status === 'ACTIVE' && (service.capacityProviderStrategy ?? []).some((item) => providers.includes(item.capacityProvider)),
    );
    if (page.items.length) return true;
    nextToken = page.nextToken;
  } while (nextToken);
  return false;
}

interface ClusterConfiguration {
  executeCommandConfiguration?: { logging?: string; logConfiguration?: Record<string, unknown>; kmsKeyId?: string };
  managedStorageConfiguration?: Record<string, unknown>;
}

/**
 * ECS's rule for the execute command configuration: a log configuration goes with logging OVERRIDE
 * and only with it. Berth stores and returns the configuration; it runs no ExecuteCommand sessions
 * (docs/compatibility.md).
 */
function validateConfiguration(configuration: ClusterConfiguration): void {
  const execute = configuration.executeCommandConfiguration;
  if (!execute) return;
  const override = execute.logging === 'OVERRIDE';
  if (override && !execute.logConfiguration) {
    throw new InvalidParameterException('logConfiguration must be specified when logging is set to OVERRIDE.');
  }
  if (!override && execute.logConfiguration) {
    throw new InvalidParameterException('logConfiguration can only be specified when logging is set to OVERRIDE.');
  }
}

/** A Cloud Map namespace name or ARN (Berth records it; it reproduces no Cloud Map). */
function validateServiceConnectDefaults(defaults: { namespace?: string } | undefined): void {
  if (defaults?.namespace !== undefined && defaults.namespace.length > 1024) {
    throw new InvalidParameterException('serviceConnectDefaults.namespace can have up to 1024 characters.');
  }
}

/**
 * UpdateCluster: the settings given replace those of the same name, each configuration given
 * replaces its part, and serviceConnectDefaults sets the default namespace ("" removes it, as in
 * ECS). Conditional on the version read; a lost race decides again on a fresh read.
 */
export async function updateCluster(
  ctx: RequestContext,
  input: { cluster: string; settings?: KeyValuePair[]; configuration?: ClusterConfiguration; serviceConnectDefaults?: { namespace?: string } },
) {
  if (input.configuration) validateConfiguration(input.configuration);
  validateServiceConnectDefaults(input.serviceConnectDefaults);
  return withOptimisticRetry(async () => {
    const stored = await activeCluster(ctx, input.cluster);
    const settings = mergeSettings(stored.record.settings, input.settings ?? []);
    const configuration = input.configuration
      ? { ...(stored.record.configuration ?? {}), ...input.configuration }
      : stored.record.configuration;
    const { serviceConnectDefaults: _previous, configuration: _configuration, ...rest } = stored.record;
    const namespace = input.serviceConnectDefaults === undefined ? stored.record.serviceConnectDefaults?.namespace : input.serviceConnectDefaults.namespace;
    const record: ClusterRecord = {
      ...rest,
      settings,
      ...(configuration ? { configuration } : {}),
      ...(namespace ? { serviceConnectDefaults: { namespace } } : {}),
    };
    await ctx.clusters.update(ctx.scope, record, stored.version);
    return { cluster: clusterView({ ...stored, record, version: stored.version + 1 }, ['SETTINGS', 'TAGS', 'CONFIGURATIONS']) };
  });
}

/** UpdateClusterSettings: UpdateCluster with settings only. */
export async function updateClusterSettings(ctx: RequestContext, input: { cluster: string; settings: KeyValuePair[] }) {
  return updateCluster(ctx, { cluster: input.cluster, settings: input.settings });
}
