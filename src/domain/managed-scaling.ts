/**
 * ECS's managed scaling metric for an Auto Scaling group capacity provider, CapacityProviderReservation
 * (AWS's "Deep dive on Amazon ECS cluster auto scaling"): with N the instances the provider has in the
 * cluster and M the instances needed to run every task of it, running or waiting,
 *
 *   CapacityProviderReservation = M / N x 100
 *
 * above 100: tasks wait and the group should grow; 100: every instance is needed and none is missing;
 * below 100: some instances run nothing. ECS's special cases: no instance and no demand is 100 (steady),
 * no instance but demand is 200 (grow, whatever the size). A target tracking policy on this metric with
 * the provider's targetCapacity as the target is what ECS's managed scaling is.
 *
 * Berth's M: the instances that hold at least one task, plus as many instances as the waiting tasks
 * need, sized like the provider's largest instance (at least one while any task waits): the count bin
 * packing would need at best. A task waits only when no instance can take it (the sweep places first),
 * so with the instances all busy a waiting task shows above 100. Pure: the capacity sweep
 * (src/app/managed-scaling.ts) reads the inputs and publishes the value.
 */
import type { ResourceAmounts } from './container-instance';

export interface ProviderInstance {
  /** What the instance registered (its size). */
  readonly registered: ResourceAmounts;
  /** Tasks it holds (pending or running). */
  readonly tasks: number;
}

export interface ReservationInputs {
  /** The provider's instances in the cluster that are not deregistered (ACTIVE or DRAINING). */
  readonly instances: readonly ProviderInstance[];
  /** What each task of the provider that waits for capacity needs. */
  readonly waiting: readonly ResourceAmounts[];
}

/** How many instances (M) the provider needs in the cluster. */
export function instancesNeeded({ instances, waiting }: ReservationInputs): number {
  const busy = instances.filter((i) => i.tasks > 0).length;
  if (!waiting.length) return busy;
  const largest = instances.reduce<ResourceAmounts>(
    (max, i) => ({ cpu: Math.max(max.cpu, i.registered.cpu), memory: Math.max(max.memory, i.registered.memory) }),
    { cpu: 0, memory: 0 },
  );
  const cpu = waiting.reduce((sum, w) => sum + w.cpu, 0);
  const memory = waiting.reduce((sum, w) => sum + w.memory, 0);
  const per = (need: number, size: number) => (size > 0 ? Math.ceil(need / size) : 1);
  return busy + Math.max(1, per(cpu, largest.cpu), per(memory, largest.memory));
}

/** CapacityProviderReservation, a percentage (ECS publishes it unrounded). */
export function capacityProviderReservation(inputs: ReservationInputs): number {
  const needed = instancesNeeded(inputs);
  const present = inputs.instances.length;
  if (present === 0) return needed > 0 ? 200 : 100;
  return (needed / present) * 100;
}

/** The CloudWatch namespace Berth publishes in (AWS/ECS/ManagedScaling is ECS's own, reserved to AWS). */
export const MANAGED_SCALING_NAMESPACE = 'Berth/ManagedScaling';
export const RESERVATION_METRIC = 'CapacityProviderReservation';

/**
 * One CloudWatch embedded metric format record (a JSON log line CloudWatch Logs turns into the metric
 * in Berth's namespace, dimensions ClusterName and CapacityProviderName, as ECS's own metric has): no
 * CloudWatch API call, no permission beyond writing logs.
 */
export function reservationEmfRecord(at: number, clusterName: string, capacityProviderName: string, value: number) {
  return {
    _aws: {
      Timestamp: at,
      CloudWatchMetrics: [
        {
          Namespace: MANAGED_SCALING_NAMESPACE,
          Dimensions: [['ClusterName', 'CapacityProviderName']],
          Metrics: [{ Name: RESERVATION_METRIC, Unit: 'Percent' }],
        },
      ],
    },
    ClusterName: clusterName,
    CapacityProviderName: capacityProviderName,
    [RESERVATION_METRIC]: value,
  };
}
