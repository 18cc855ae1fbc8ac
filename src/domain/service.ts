/**
 * Services and their deployments as the domain sees them. Member names are the ECS API's (Service,
 * Deployment, DeploymentConfiguration), so a record, a DescribeServices answer and an event read alike;
 * timestamps are epoch ms. Members marked "Berth's own" never go on the wire.
 *
 *   service   ACTIVE --DeleteService--> DRAINING --(no task left)--> INACTIVE
 *   deployment PRIMARY (the newest) --a newer one--> ACTIVE (still has tasks) --(none left)--> INACTIVE
 *   rollout   IN_PROGRESS --steady--> COMPLETED;  IN_PROGRESS --circuit breaker--> FAILED
 *
 * A service's tasks carry `group: service:<name>` and `startedBy: <deployment id>`, the deployment id
 * being `ecs-svc/` and 19 digits (ECS's form, e.g. ecs-svc/1675294001379389663).
 */
import type { CapacityProviderStrategyItem } from './capacity-strategy';
import type { LaunchType, Tag } from './records';
import type { ImageResolution } from './image-digests';
import type { ThrottleState } from './throttle';

export type ServiceStatus = 'ACTIVE' | 'DRAINING' | 'INACTIVE';
export type DeploymentStatus = 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
export type RolloutState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
/** ThresholdType of the ECS model (ThresholdConfiguration.type). */
export type ThresholdType = 'COUNT' | 'BOUNDED_PERCENT' | 'UNBOUNDED_PERCENT';

export interface ThresholdConfiguration {
  readonly type: ThresholdType;
  readonly value: number;
}

export interface DeploymentCircuitBreaker {
  readonly enable: boolean;
  readonly rollback: boolean;
  /** Absent means true (the model's default). */
  readonly resetOnHealthyTask?: boolean;
  /** Absent means BOUNDED_PERCENT 50. */
  readonly thresholdConfiguration?: ThresholdConfiguration;
}

export interface DeploymentAlarms {
  readonly alarmNames: readonly string[];
  readonly enable: boolean;
  readonly rollback: boolean;
}

export interface DeploymentConfiguration {
  readonly minimumHealthyPercent: number;
  readonly maximumPercent: number;
  readonly deploymentCircuitBreaker: DeploymentCircuitBreaker;
  /** Stored and echoed; Berth has no CloudWatch alarms to watch yet. */
  readonly alarms?: DeploymentAlarms;
}

export interface NetworkConfiguration {
  readonly awsvpcConfiguration?: {
    readonly subnets: readonly string[];
    readonly securityGroups?: readonly string[];
    readonly assignPublicIp?: 'ENABLED' | 'DISABLED';
  };
}

/** What a deployment launches: the members of a service whose change starts a new deployment. */
export interface LaunchConfiguration {
  readonly taskDefinition: string;
  readonly launchType?: LaunchType;
  readonly capacityProviderStrategy?: readonly CapacityProviderStrategyItem[];
  readonly platformVersion?: string;
  readonly networkConfiguration?: NetworkConfiguration;
}

export interface ServiceRecord extends LaunchConfiguration {
  readonly serviceArn: string;
  readonly serviceName: string;
  readonly clusterArn: string;
  readonly status: ServiceStatus;
  readonly desiredCount: number;
  readonly schedulingStrategy: 'REPLICA' | 'DAEMON';
  /** EXTERNAL: task sets (src/domain/task-set.ts) carry the launch members; the service shows its primary's. */
  readonly deploymentController: { readonly type: 'ECS' | 'EXTERNAL' };
  readonly deploymentConfiguration: DeploymentConfiguration;
  readonly healthCheckGracePeriodSeconds: number;
  readonly propagateTags: 'NONE' | 'SERVICE' | 'TASK_DEFINITION';
  readonly enableECSManagedTags: boolean;
  readonly enableExecuteCommand: boolean;
  readonly tags: readonly Tag[];
  readonly createdAt: number;
  readonly clientToken?: string;
  /** The service's placement (ECS members); its tasks are placed by them. Absent: none given. */
  readonly placementConstraints?: readonly { readonly type?: string; readonly expression?: string }[];
  readonly placementStrategy?: readonly { readonly type?: string; readonly field?: string }[];
  /** ENABLED / DISABLED (az-rebalancing.ts); absent on services created before Berth had it: DISABLED. */
  readonly availabilityZoneRebalancing?: 'ENABLED' | 'DISABLED';
  /** Berth's own: the service throttle (throttle.ts), folded and written by the scheduler pass. */
  readonly throttle?: ThrottleState;
  /** Grows with every change; writes are conditional on it. */
  readonly version: number;
}

/** Berth's own: the circuit breaker's running count, kept on the deployment it watches. */
export interface CircuitBreakerState {
  /** Failures counted since the last reset (ECS's Deployment.failedTasks). */
  readonly failedTasks: number;
  /**
   * The newest task event already folded in: (time, task ARNs at exactly that time). Events at or
   * before it are never counted twice, so reconciling the same tasks again changes nothing.
   */
  readonly countedThrough: { readonly at: number; readonly taskArns: readonly string[] };
}

export interface DeploymentRecord extends LaunchConfiguration {
  readonly id: string;
  readonly status: DeploymentStatus;
  readonly desiredCount: number;
  readonly pendingCount: number;
  readonly runningCount: number;
  readonly failedTasks: number;
  readonly rolloutState: RolloutState;
  readonly rolloutStateReason: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Berth's own: whether the task definition has a container health check (tasks must be HEALTHY). */
  readonly hasHealthCheck: boolean;
  /** Berth's own, see CircuitBreakerState. */
  readonly circuitBreaker: CircuitBreakerState;
  /** Berth's own: when the rollout last reached COMPLETED (the rollback target is the latest). */
  readonly completedAt?: number;
  /**
   * Berth's own: the PRIMARY has been replacing unhealthy tasks outside a rollout; while set, healthy
   * tasks above desiredCount stop at random (seed 001) rather than by scale-in order. See
   * unhealthy-replacement.ts.
   */
  readonly replacingUnhealthy?: boolean;
  /** Berth's own: the PRIMARY is being rebalanced across Availability Zones (az-rebalancing.ts). */
  readonly rebalancingZones?: boolean;
  /**
   * Berth's own: the container image digests this deployment runs (seed 002, image-digests.ts).
   * Absent on records written before Berth resolved digests: their tasks run by tag.
   */
  readonly imageResolution?: ImageResolution;
}

export const serviceGroup = (serviceName: string) => `service:${serviceName}`;

export const DEPLOYMENT_ID_PATTERN = /^ecs-svc\/[1-9][0-9]{18}$/;

/**
 * A deployment id from the injected random source (values in [0, 1), like Math.random): 19 digits,
 * the first never 0, so ids keep ECS's length and sort as numbers.
 *
 *   deploymentIdFrom(() => 0) === 'ecs-svc/1000000000000000000'
 */
export function deploymentIdFrom(random: () => number): string {
  let digits = String(1 + Math.floor(random() * 9));
  for (let i = 0; i < 18; i++) digits += String(Math.floor(random() * 10));
  return `ecs-svc/${digits}`;
}

export const INITIAL_CIRCUIT_BREAKER: CircuitBreakerState = Object.freeze({
  failedTasks: 0,
  countedThrough: Object.freeze({ at: 0, taskArns: Object.freeze([]) as readonly string[] }),
});

/** The launch members of a service or deployment, nothing else (for comparisons and new deployments). */
export function launchConfigurationOf(source: LaunchConfiguration): LaunchConfiguration {
  const { taskDefinition, launchType, capacityProviderStrategy, platformVersion, networkConfiguration } = source;
  return { taskDefinition, launchType, capacityProviderStrategy, platformVersion, networkConfiguration };
}

/**
 * A new PRIMARY deployment, IN_PROGRESS, for a service's launch configuration.
 *
 *   newDeployment(svc, 'ecs-svc/1234567890123456789', now, false).rolloutStateReason
 *     === 'ECS deployment ecs-svc/1234567890123456789 in progress.'
 */
export function newDeployment(
  service: Pick<ServiceRecord, 'desiredCount'> & LaunchConfiguration,
  id: string,
  now: number,
  hasHealthCheck: boolean,
): DeploymentRecord {
  return {
    ...launchConfigurationOf(service),
    id,
    status: 'PRIMARY',
    desiredCount: service.desiredCount,
    pendingCount: 0,
    runningCount: 0,
    failedTasks: 0,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: `ECS deployment ${id} in progress.`,
    createdAt: now,
    updatedAt: now,
    hasHealthCheck,
    circuitBreaker: INITIAL_CIRCUIT_BREAKER,
  };
}
