/**
 * What AZ rebalancing reads beyond the service (src/domain/az-rebalancing.ts): the zones where one
 * more task of the service's PRIMARY deployment could be placed now. A cluster's container instances
 * for EC2 and Auto Scaling group providers (with the service's and its task definition's
 * constraints), the region's Fargate pool for FARGATE and FARGATE_SPOT (no constraints, as on ECS).
 * Read only for a steady service of two or more tasks that may be rebalanced, so a rollout's passes
 * cost nothing more; a steady pass of such a service reads the cluster's (or the pool's) instances.
 */
import { fargatePoolPartition } from '../adapters/dynamodb/keys';
import type { StoredService } from '../adapters/dynamodb/service-repository';
import { rebalancingExcluded, zonesWithRoom } from '../domain/az-rebalancing';
import { isFargateKind, taskRequirements } from '../domain/placement';
import { parsePlacementConstraint } from '../domain/placement-constraints';
import type { RequestContext } from './context';
import { findTaskDefinition } from './task-definitions';
import { placementOf } from './tasks';
import { placementCandidate } from './task-engine';

export async function rebalancingZones(ctx: RequestContext, stored: StoredService): Promise<string[] | undefined> {
  const { record } = stored;
  const primary = stored.deployments.find((d) => d.status === 'PRIMARY');
  // One task (or none) is always even: nothing to read.
  if (rebalancingExcluded(record) || primary?.rolloutState !== 'COMPLETED' || record.desiredCount < 2) return undefined;
  const td = await findTaskDefinition(ctx, primary.taskDefinition);
  if (!td) return undefined;
  const strategy = primary.capacityProviderStrategy ?? [];
  const kinds = strategy.length
    ? strategy.filter((s) => (s.weight ?? 0) > 0 || (s.base ?? 0) > 0).map((s) => s.capacityProvider)
    : [primary.launchType === 'FARGATE' ? 'FARGATE' : 'EC2'];
  const needs = taskRequirements(td.record, td.record.containerDefinitions);
  const zones = new Set<string>();
  if (kinds.some(isFargateKind)) {
    const hosts = await ctx.containerInstances.all(fargatePoolPartition(ctx.scope));
    for (const z of zonesWithRoom(hosts.map(placementCandidate(ctx.scope.region)), needs, kinds.filter(isFargateKind))) zones.add(z);
  }
  const ec2Kinds = kinds.filter((k) => !isFargateKind(k));
  if (ec2Kinds.length) {
    const placement = placementOf(td.record, { placementConstraints: record.placementConstraints?.map((c) => ({ ...c })) });
    // The tasks on each host matter only to constraints (distinctInstance, task:group).
    const [hosts, groups] = await Promise.all([
      ctx.containerInstances.all(record.clusterArn),
      placement.placementConstraints ? ctx.tasks.groupsPerInstance(record.clusterArn) : undefined,
    ]);
    const options = {
      group: `service:${record.serviceName}`,
      constraints: (placement.placementConstraints ?? []).map((c) => parsePlacementConstraint(c, 'service')),
    };
    for (const z of zonesWithRoom(hosts.map(placementCandidate(ctx.scope.region, groups)), needs, ec2Kinds, options)) zones.add(z);
  }
  return [...zones].sort();
}
