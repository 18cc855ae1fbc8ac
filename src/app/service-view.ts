/**
 * The ECS Service shape of a stored service, and how requests name services. Deployments are shown
 * PRIMARY first, then newest first, INACTIVE ones left out (ECS drops them; the services-stable waiter
 * counts deployments); runningCount and pendingCount are the sums over the deployments shown, as the
 * last scheduler pass counted them. Berth's own members (circuit breaker watermark, hasHealthCheck,
 * completedAt) never reach the wire: toWire keeps only the model's members.
 */
import { NAME_PATTERN, parseArn } from '../domain/arns';
import type { DeploymentRecord } from '../domain/service';
import type { StoredService } from '../adapters/dynamodb/service-repository';
import type { RequestContext } from './context';
import { taskSetView } from './task-sets';

const rank = (d: DeploymentRecord) => (d.status === 'PRIMARY' ? 0 : 1);

export function visibleDeployments(deployments: readonly DeploymentRecord[]): DeploymentRecord[] {
  return deployments
    .filter((d) => d.status !== 'INACTIVE')
    .sort((a, b) => rank(a) - rank(b) || b.createdAt - a.createdAt);
}

/** ECS reports a Fargate service's platform version as LATEST when none was asked for. */
const withPlatform = <T extends { launchType?: string; platformVersion?: string }>(x: T): T =>
  x.launchType === 'FARGATE' && x.platformVersion === undefined ? { ...x, platformVersion: 'LATEST', platformFamily: 'Linux' } : x;

export function serviceView(stored: StoredService, withTags: boolean) {
  const { tags, clientToken: _token, version: _version, ...record } = stored.record;
  const deployments = visibleDeployments(stored.deployments).map(withPlatform);
  // An EXTERNAL service counts its task sets' tasks and shows them; until a set is primary it has no
  // task definition (ECS shows the task set fields null then).
  const counted = stored.taskSets ?? deployments;
  return {
    ...withPlatform(record),
    ...(record.taskDefinition === '' ? { taskDefinition: undefined } : {}),
    runningCount: counted.reduce((n, d) => n + d.runningCount, 0),
    pendingCount: counted.reduce((n, d) => n + d.pendingCount, 0),
    ...(stored.taskSets ? { taskSets: stored.taskSets.map((t) => taskSetView(t, false)) } : {}),
    deployments,
    events: stored.events,
    loadBalancers: [],
    serviceRegistries: [],
    placementConstraints: record.placementConstraints ?? [],
    placementStrategy: record.placementStrategy ?? [],
    // A service that never had a value is DISABLED (ECS's words).
    availabilityZoneRebalancing: record.availabilityZoneRebalancing ?? 'DISABLED',
    // As for clusters: a service without tags has no `tags` member, asked for or not (issue 11).
    ...(withTags && tags.length > 0 ? { tags } : {}),
  };
}

/**
 * The service name a reference names in the given cluster: a name, or an ARN in the long format
 * (`service/<cluster>/<name>`) or the old one (`service/<name>`). Undefined when malformed or when it
 * names another cluster, account or region (the caller answers "not found").
 */
export function serviceNameIn(ctx: RequestContext, clusterArn: string, reference: string): string | undefined {
  if (!reference.startsWith('arn:')) return NAME_PATTERN.test(reference) ? reference : undefined;
  const parsed = parseArn(reference);
  if (!parsed || parsed.resourceType !== 'service') return undefined;
  if (parsed.account !== ctx.scope.account || parsed.region !== ctx.scope.region) return undefined;
  const name = parsed.path[parsed.path.length - 1];
  if (parsed.path.length === 2 && !clusterArn.endsWith(`:cluster/${parsed.path[0]}`)) return undefined;
  return parsed.path.length <= 2 && NAME_PATTERN.test(name) ? name : undefined;
}
