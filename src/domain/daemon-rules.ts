/**
 * What CreateService and UpdateService refuse for a DAEMON service, as values (service-rules.ts maps
 * them like its own). ECS's texts, as its API answers them (quoted in public reports):
 *
 *   desiredCount given            "The daemon scheduling strategy does not support a desired count for
 *                                 services. Remove the desired count value and try again"
 *   a placement strategy          "The daemon scheduling strategy does not support placement strategies.
 *                                 Remove the placement strategy and try again"
 *   maximumPercent above 100      "The daemon scheduling strategy does not support values above 100 for
 *                                 maximumPercent on a deployment configuration. Change the maximumPercent
 *                                 value to 100, and try again"
 *   a capacity provider strategy  "Specifying a capacity provider strategy is not supported when you create
 *   (its own, or the cluster's    a service using the DAEMON scheduling strategy." (so a cluster with a
 *   default without launchType)   default strategy needs `--launch-type EC2`, as on ECS)
 *   launchType FARGATE            "The daemon scheduling strategy does not support the FARGATE launch type.
 *                                 Change the launch type and try again" (the pattern of the others; this
 *                                 one is quoted by another ECS emulator, not seen from ECS itself)
 */
import type { CapacityProviderStrategyItem } from './capacity-strategy';
import type { LaunchType } from './records';

export const DAEMON_REFUSALS = {
  desiredCount: 'The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again',
  placementStrategy: 'The daemon scheduling strategy does not support placement strategies. Remove the placement strategy and try again',
  maximumPercent: 'The daemon scheduling strategy does not support values above 100 for maximumPercent on a deployment configuration. Change the maximumPercent value to 100, and try again',
  capacityProviderStrategy: 'Specifying a capacity provider strategy is not supported when you create a service using the DAEMON scheduling strategy.',
  fargate: 'The daemon scheduling strategy does not support the FARGATE launch type. Change the launch type and try again',
} as const;

export interface DaemonRequest {
  readonly desiredCount?: number;
  readonly launchType?: LaunchType;
  readonly capacityProviderStrategy?: readonly CapacityProviderStrategyItem[];
  readonly placementStrategy?: readonly unknown[];
  readonly maximumPercent?: number;
}

/**
 * The first ECS refusal of a DAEMON CreateService or UpdateService, or undefined. `clusterDefault` is
 * the cluster's default strategy (CreateService without launchType takes it, and DAEMON cannot).
 */
export function daemonRefusal(input: DaemonRequest, clusterDefault: readonly CapacityProviderStrategyItem[] = []): string | undefined {
  if (input.desiredCount !== undefined) return DAEMON_REFUSALS.desiredCount;
  if (input.launchType === 'FARGATE') return DAEMON_REFUSALS.fargate;
  const strategy = input.capacityProviderStrategy?.length ? input.capacityProviderStrategy : input.launchType ? [] : clusterDefault;
  if (strategy.length > 0) return DAEMON_REFUSALS.capacityProviderStrategy;
  if (input.placementStrategy?.length) return DAEMON_REFUSALS.placementStrategy;
  if (input.maximumPercent !== undefined && input.maximumPercent > 100) return DAEMON_REFUSALS.maximumPercent;
  return undefined;
}
