/**
 * Capacity providers: FARGATE and FARGATE_SPOT (built in, ACTIVE in every account and region) and the
 * Auto Scaling group providers a user creates (seed 003). A cluster lists the providers it may use;
 * an ASG provider's capacity is the container instances that joined with its name.
 */
import { capacityProviderArn, parseArn } from '../domain/arns';
import {
  autoScalingGroupProviderOf,
  CAPACITY_PROVIDER_MESSAGES as MSG,
  capacityProviderView,
  updatedProvider,
  type CapacityProviderRecord,
  type CreateCapacityProviderInput,
  type UpdateCapacityProviderInput,
} from '../domain/capacity-provider';
import { FARGATE_PROVIDERS } from '../domain/capacity-strategy';
import { ClientException, InvalidParameterException } from '../domain/errors';
import type { StoredCapacityProvider } from '../adapters/dynamodb/capacity-provider-repository';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { activeCluster } from './resolve';

/** How long a deleted provider stays describable as INACTIVE (as a deleted cluster does). */
const describable = (ctx: RequestContext) => ctx.clock() + ctx.retention.inactiveClusterMs;

/** The provider's name from a name or a capacity-provider ARN of the caller's account and region. */
function providerName(ctx: RequestContext, reference: string): string | undefined {
  if (!reference.startsWith('arn:')) return reference;
  const parsed = parseArn(reference);
  const own = parsed?.resourceType === 'capacity-provider' && parsed.account === ctx.scope.account && parsed.region === ctx.scope.region;
  return own && parsed.path.length === 1 ? parsed.path[0] : undefined;
}

export async function createCapacityProvider(ctx: RequestContext, input: CreateCapacityProviderInput) {
  const provider = autoScalingGroupProviderOf(input);
  if (input.cluster !== undefined) await activeCluster(ctx, input.cluster);
  return withOptimisticRetry(async () => {
    const existing = await ctx.capacityProviders.get(ctx.scope, input.name);
    if (existing && existing.record.status === 'ACTIVE') throw new ClientException(MSG.exists);
    const record: CapacityProviderRecord = {
      capacityProviderArn: capacityProviderArn(ctx.scope, input.name),
      name: input.name,
      status: 'ACTIVE',
      autoScalingGroupProvider: provider,
      tags: input.tags ?? [],
      createdAt: ctx.clock(),
    };
    const outcome = await ctx.capacityProviders.create(ctx.scope, record, existing?.version);
    if (outcome === 'group-taken') throw new ClientException(MSG.groupInUse);
    if (outcome === 'name-taken') throw new ClientException(MSG.exists);
    return { capacityProvider: capacityProviderView(record, true) };
  });
}

/** An ACTIVE user-created provider named by `reference`, or ECS's error for a built-in or missing one. */
async function ownProvider(ctx: RequestContext, reference: string): Promise<StoredCapacityProvider> {
  const name = providerName(ctx, reference);
  if (name !== undefined && FARGATE_PROVIDERS.includes(name)) throw new ClientException(MSG.builtIn(name));
  const stored = name === undefined ? undefined : await ctx.capacityProviders.get(ctx.scope, name);
  if (!stored || stored.record.status !== 'ACTIVE') throw new ClientException(MSG.notFound);
  return stored;
}

export async function updateCapacityProvider(ctx: RequestContext, input: UpdateCapacityProviderInput) {
  return withOptimisticRetry(async () => {
    const stored = await ownProvider(ctx, input.name);
    const { updateStatusReason: _reason, ...rest } = stored.record;
    const record: CapacityProviderRecord = {
      ...rest,
      autoScalingGroupProvider: updatedProvider(stored.record.autoScalingGroupProvider, input),
      // Berth has no Auto Scaling group to reconfigure: the update is complete once stored.
      updateStatus: 'UPDATE_COMPLETE',
    };
    await ctx.capacityProviders.update(ctx.scope, record, stored.version);
    return { capacityProvider: capacityProviderView(record, true) };
  });
}

/**
 * DeleteCapacityProvider. While a cluster lists the provider, ECS does not refuse the call: it
 * answers the provider, still ACTIVE, with updateStatus DELETE_FAILED and a reason naming the cluster
 * (hashicorp/terraform-provider-aws#48156); Berth does the same and records it. A service or task can
 * only use a provider its cluster lists (PutClusterCapacityProviders refuses to remove one in use), so
 * "associated" covers them. Otherwise the provider becomes INACTIVE (DELETE_COMPLETE: Berth has no
 * group to scale in) and its Auto Scaling group is free for another provider.
 */
export async function deleteCapacityProvider(ctx: RequestContext, input: { capacityProvider: string; cluster?: string }) {
  return withOptimisticRetry(async () => {
    const stored = await ownProvider(ctx, input.capacityProvider);
    const user = await clusterListing(ctx, stored.record.name);
    if (user) {
      const record: CapacityProviderRecord = { ...stored.record, updateStatus: 'DELETE_FAILED', updateStatusReason: MSG.associated(user) };
      await ctx.capacityProviders.update(ctx.scope, record, stored.version);
      return { capacityProvider: capacityProviderView(record, true) };
    }
    const { updateStatusReason: _reason, ...rest } = stored.record;
    const record: CapacityProviderRecord = { ...rest, status: 'INACTIVE', updateStatus: 'DELETE_COMPLETE' };
    await ctx.capacityProviders.deactivate(ctx.scope, record, stored.version, describable(ctx));
    return { capacityProvider: capacityProviderView(record, true) };
  });
}

/** The name of an ACTIVE cluster that lists the provider, if any. */
async function clusterListing(ctx: RequestContext, name: string): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await ctx.clusters.list(ctx.scope, { maxResults: 100, nextToken });
    for (const arn of page.items) {
      const cluster = await ctx.clusters.get(arn);
      if (cluster?.record.status === 'ACTIVE' && cluster.record.capacityProviders.includes(name)) return cluster.record.clusterName;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/**
 * The providers a cluster is to list, checked: built-in ones, or ACTIVE Auto Scaling group providers
 * of the account and region. Answers the guards the cluster write carries (one per ASG provider), so
 * the association and a concurrent DeleteCapacityProvider cannot both win.
 */
export async function providerAssociationGuards(ctx: RequestContext, providers: readonly string[]): Promise<object[]> {
  const guards: object[] = [];
  for (const name of providers) {
    if (FARGATE_PROVIDERS.includes(name)) continue;
    const stored = await ctx.capacityProviders.get(ctx.scope, name);
    if (!stored || stored.record.status !== 'ACTIVE') {
      throw new InvalidParameterException(
        `The specified capacity provider '${name}' does not exist. Specify a valid capacity provider and try again.`,
      );
    }
    guards.push(ctx.capacityProviders.associationGuard(ctx.scope, name, stored.version));
  }
  return guards;
}

export type CapacityProviderField = 'TAGS';

/**
 * DescribeCapacityProviders: the built-in providers, then the account's own by name; with `cluster`,
 * only those the cluster lists. Each Auto Scaling group provider carries the Berth extension member
 * `managedScalingMetrics` (not in ECS's CapacityProvider shape, so SDKs drop it; docs/placement.md):
 * the CapacityProviderReservation the capacity sweep last computed for it, per cluster.
 */
export async function describeCapacityProviders(
  ctx: RequestContext,
  input: { cluster?: string; capacityProviders?: string[]; include?: CapacityProviderField[]; maxResults?: number; nextToken?: string },
) {
  const listed = input.cluster === undefined ? undefined : (await activeCluster(ctx, input.cluster)).record.capacityProviders;
  const withTags = input.include?.includes('TAGS') ?? false;
  const own = (await ctx.capacityProviders.all(ctx.scope)).sort((a, b) => (a.record.name < b.record.name ? -1 : 1));
  const builtIn = FARGATE_PROVIDERS.map((name) => ({
    capacityProviderArn: capacityProviderArn(ctx.scope, name),
    name,
    status: 'ACTIVE',
    type: name,
  }));
  const views: { name: string; capacityProviderArn: string; status: string }[] = [
    ...builtIn,
    ...own.map((stored) => ({ ...capacityProviderView(stored.record, withTags), ...metricsOf(stored) })),
  ].filter((view) => (listed ? listed.includes(view.name) : true));

  if (input.capacityProviders?.length) {
    const found = [];
    const failures = [];
    for (const reference of input.capacityProviders) {
      const name = providerName(ctx, reference);
      const view = views.find((p) => p.name === name && p.status === 'ACTIVE') ?? views.find((p) => p.name === name);
      if (view) found.push(view);
      else failures.push({ arn: reference.startsWith('arn:') ? reference : capacityProviderArn(ctx.scope, reference), reason: 'MISSING' });
    }
    return { capacityProviders: found, failures };
  }
  if (input.maxResults !== undefined && (input.maxResults < 1 || input.maxResults > 10)) {
    throw new InvalidParameterException('maxResults must be between 1 and 10.');
  }
  // Listing everything shows what exists now: deleted providers only when asked for by name.
  const active = views.filter((view) => view.status === 'ACTIVE');
  const start = input.nextToken === undefined ? 0 : decodeOffset(input.nextToken, active.length);
  const size = input.maxResults ?? 10;
  const page = active.slice(start, start + size);
  const next = start + size < active.length ? Buffer.from(`cp:${start + size}`).toString('base64url') : undefined;
  return { capacityProviders: page, failures: [], nextToken: next };
}

const metricsOf = (stored: StoredCapacityProvider) => {
  const metrics = Object.values(stored.metrics);
  return stored.record.status === 'ACTIVE' && metrics.length
    ? {
        managedScalingMetrics: metrics
          .sort((a, b) => (a.clusterArn < b.clusterArn ? -1 : 1))
          // Wire form: timestamps in epoch seconds, as every ECS timestamp on the JSON protocol.
          .map((m) => ({ clusterArn: m.clusterArn, capacityProviderReservation: m.capacityProviderReservation, computedAt: m.computedAt / 1000 })),
      }
    : {};
};

function decodeOffset(token: string, length: number): number {
  const match = /^cp:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  const offset = match ? Number(match[1]) : NaN;
  if (!(offset >= 0 && offset < length)) throw new InvalidParameterException('Invalid nextToken.');
  return offset;
}
