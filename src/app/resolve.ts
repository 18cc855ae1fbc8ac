/** Turning the names and ARNs a request carries into stored resources, with ECS's errors. */
import { clusterArn, clusterNameOf, inScope, parseArn } from '../domain/arns';
import { ClusterNotFoundException, InvalidParameterException } from '../domain/errors';
import type { StoredCluster } from '../adapters/dynamodb/cluster-repository';
import type { RequestContext } from './context';

export const DEFAULT_CLUSTER = 'default';

/** The ARN a cluster reference names in the caller's account and region (undefined if malformed). */
export function clusterArnFor(ctx: RequestContext, reference: string | undefined): string | undefined {
  const ref = reference ?? DEFAULT_CLUSTER;
  const name = clusterNameOf(ref);
  if (name === undefined) return undefined;
  if (ref.startsWith('arn:')) {
    const parsed = parseArn(ref)!;
    if (!inScope(ctx.scope, parsed)) return undefined;
  }
  return clusterArn(ctx.scope, name);
}

/** An ACTIVE cluster, or ClusterNotFoundException as ECS answers for missing and deleted clusters. */
export async function activeCluster(ctx: RequestContext, reference: string | undefined): Promise<StoredCluster> {
  const arn = clusterArnFor(ctx, reference);
  if (reference !== undefined && reference.trim() === '') {
    throw new InvalidParameterException('Cluster name can not be blank.');
  }
  const stored = arn ? await ctx.clusters.get(arn) : undefined;
  if (!stored || stored.record.status === 'INACTIVE') throw new ClusterNotFoundException('Cluster not found.');
  return stored;
}
