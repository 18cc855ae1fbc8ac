/**
 * Whether an assignment the control plane handed over is this host's to run. The agent does not take
 * a poll answer on trust: a task it runs gets the host's processes, so a task held by another host,
 * of another cluster, of a capacity kind this host does not offer, or of another account, region or
 * partition is refused (never started, never reported on) whatever the answer says. A buggy or
 * hostile control plane, or an answer meant for another agent, then starts nothing here.
 */
import { parseArn } from '../domain/arns';
import { capacityKindOf, isFargateKind } from '../domain/placement';
import type { TaskRecord } from '../domain/records';

export interface HostIdentity {
  /** This host's container instance ARN. */
  readonly containerInstanceArn: string;
  /** The Fargate capacity it offers; empty for a cluster's container instance. */
  readonly fargateProviders: readonly string[];
  /** The Auto Scaling group capacity provider a container instance joined with, if any. */
  readonly capacityProvider?: string;
}

type AssignedTask = Pick<TaskRecord, 'taskArn' | 'clusterArn' | 'launchType' | 'capacityProviderName' | 'reservation'>;

/** Why the task is not this host's, or undefined when it is. */
export function refusalOf(task: AssignedTask, host: HostIdentity): string | undefined {
  const self = parseArn(host.containerInstanceArn);
  const cluster = typeof task.clusterArn === 'string' ? parseArn(task.clusterArn) : undefined;
  const taskArn = typeof task.taskArn === 'string' ? parseArn(task.taskArn) : undefined;
  if (!self || self.resourceType !== 'container-instance') return 'this host has no container instance ARN';
  if (!cluster || cluster.resourceType !== 'cluster' || cluster.path.length !== 1) return 'its cluster ARN is not one';
  if (!taskArn || taskArn.resourceType !== 'task' || taskArn.path[0] !== cluster.path[0]) return 'its task ARN is not one of its cluster';
  for (const arn of [cluster, taskArn]) {
    if (arn.partition !== self.partition || arn.account !== self.account || arn.region !== self.region) {
      return 'it belongs to another partition, account or region';
    }
  }
  if (task.reservation?.containerInstanceArn !== host.containerInstanceArn) return 'it is held by another host';
  const kind = capacityKindOf(task);
  if (host.fargateProviders.length > 0) {
    return host.fargateProviders.includes(kind) ? undefined : `this host offers no ${kind} capacity`;
  }
  // A container instance's ARN names its cluster: container-instance/<cluster>/<id>.
  if (cluster.path[0] !== self.path[0]) return 'it belongs to another cluster';
  if (kind === 'EC2' || kind === host.capacityProvider) return undefined;
  return isFargateKind(kind) ? `a container instance does not run ${kind} tasks` : `this host offers no ${kind} capacity`;
}
