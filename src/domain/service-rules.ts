/**
 * What CreateService and UpdateService may do, as pure decisions returning values (never throwing):
 * defaults, validation, and which changes start a new deployment. The API maps a refusal's `error`
 * (an ECS error name) to its exception; the use case writes the records a success returns.
 *
 *   UpdateService { desiredCount: 6 }                      -> same deployment, desiredCount 6
 *   UpdateService { taskDefinition: 'web:2' }              -> new PRIMARY deployment, old one ACTIVE
 *   UpdateService { forceNewDeployment: true }             -> new deployment, same task definition
 *   UpdateService { capacityProviderStrategy | networkConfiguration | platformVersion changed }
 *                                                          -> new deployment
 *   UpdateService { deploymentConfiguration | healthCheckGracePeriodSeconds | tags... } -> none
 */
import { validateCapacityProviderStrategy, type CapacityProviderStrategyItem, type StrategyUse } from './capacity-strategy';
import { daemonRefusal } from './daemon-rules';
import { defaultDeploymentConfiguration, type SchedulingStrategy } from './deployment-math';
import { BerthError } from './errors';
import type { LaunchType } from './records';
import {
  launchConfigurationOf, newDeployment,
  type DeploymentCircuitBreaker, type DeploymentConfiguration, type DeploymentRecord,
  type LaunchConfiguration, type NetworkConfiguration, type ServiceRecord,
} from './service';

export type RuleError = 'InvalidParameterException' | 'ServiceNotActiveException' | 'UnsupportedFeatureException';
export interface Refusal {
  readonly refused: RuleError;
  readonly message: string;
}
const refuse = (refused: RuleError, message: string): Refusal => ({ refused, message });

export const MAX_DESIRED_COUNT = 5000; // ECS's quota of tasks per service
export const DEFAULT_CIRCUIT_BREAKER: DeploymentCircuitBreaker = { enable: false, rollback: false };

export type DeploymentConfigurationInput = Partial<Omit<DeploymentConfiguration, 'deploymentCircuitBreaker'>> & {
  readonly deploymentCircuitBreaker?: DeploymentCircuitBreaker;
};

/** Fills what the request left out from the previous configuration, else from ECS's defaults (REPLICA 100 / 200, DAEMON 0 / 100). */
export function resolveDeploymentConfiguration(
  input: DeploymentConfigurationInput | undefined,
  previous?: DeploymentConfiguration,
  strategy: SchedulingStrategy = 'REPLICA',
): DeploymentConfiguration {
  const defaults = defaultDeploymentConfiguration(strategy);
  return {
    minimumHealthyPercent: input?.minimumHealthyPercent ?? previous?.minimumHealthyPercent ?? defaults.minimumHealthyPercent,
    maximumPercent: input?.maximumPercent ?? previous?.maximumPercent ?? defaults.maximumPercent,
    deploymentCircuitBreaker: input?.deploymentCircuitBreaker ?? previous?.deploymentCircuitBreaker ?? DEFAULT_CIRCUIT_BREAKER,
    ...((input?.alarms ?? previous?.alarms) ? { alarms: input?.alarms ?? previous?.alarms } : {}),
  };
}

const isInt = (v: unknown, min: number, max = 2_147_483_647) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

// Messages are Berth's, in ECS's style: no real ECS text was found for these checks.
export function checkDeploymentConfiguration(c: DeploymentConfiguration): Refusal | undefined {
  if (!isInt(c.minimumHealthyPercent, 0, 100)) return refuse('InvalidParameterException', 'minimumHealthyPercent must be an integer between 0 and 100.');
  if (!isInt(c.maximumPercent, 100)) return refuse('InvalidParameterException', 'maximumPercent must be an integer of at least 100 for the REPLICA scheduling strategy.');
  const t = c.deploymentCircuitBreaker.thresholdConfiguration;
  if (t && (!['COUNT', 'BOUNDED_PERCENT', 'UNBOUNDED_PERCENT'].includes(t.type) || !isInt(t.value, 1))) {
    return refuse('InvalidParameterException', 'thresholdConfiguration needs a type of COUNT, BOUNDED_PERCENT or UNBOUNDED_PERCENT and a value of at least 1.');
  }
  return undefined;
}

function checkNumbers(input: { desiredCount?: number; healthCheckGracePeriodSeconds?: number }): Refusal | undefined {
  if (input.desiredCount !== undefined && !isInt(input.desiredCount, 0, MAX_DESIRED_COUNT)) {
    return refuse('InvalidParameterException', `desiredCount must be an integer between 0 and ${MAX_DESIRED_COUNT}.`);
  }
  if (input.healthCheckGracePeriodSeconds !== undefined && !isInt(input.healthCheckGracePeriodSeconds, 0)) {
    return refuse('InvalidParameterException', 'healthCheckGracePeriodSeconds must be an integer between 0 and 2147483647.');
  }
  return undefined;
}

export interface CreateServiceInput extends Partial<LaunchConfiguration> {
  readonly serviceName: string;
  readonly taskDefinition: string; // resolved ARN
  readonly desiredCount?: number;
  readonly schedulingStrategy?: 'REPLICA' | 'DAEMON';
  readonly deploymentController?: { readonly type: string };
  readonly deploymentConfiguration?: DeploymentConfigurationInput;
  readonly healthCheckGracePeriodSeconds?: number;
  /** Only looked at for DAEMON, which takes none. */
  readonly placementStrategy?: readonly unknown[];
}

export interface CreateContext {
  readonly serviceArn: string;
  readonly clusterArn: string;
  readonly clusterCapacityProviders: readonly string[];
  readonly clusterDefaultStrategy: readonly CapacityProviderStrategyItem[];
  readonly deploymentId: string;
  readonly hasHealthCheck: boolean;
  readonly now: number;
}

/** The launch target: the request's launchType or strategy, else the cluster's default strategy, else EC2. */
function launchTarget(input: CreateServiceInput, ctx: CreateContext): Refusal | { launchType?: LaunchType; capacityProviderStrategy?: CapacityProviderStrategyItem[] } {
  const own = input.capacityProviderStrategy ?? [];
  if (input.launchType && own.length > 0) {
    return refuse('InvalidParameterException', 'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.');
  }
  if (input.launchType) return { launchType: input.launchType };
  const strategy = own.length > 0 ? own : ctx.clusterDefaultStrategy;
  if (strategy.length === 0) return { launchType: 'EC2' };
  return strategyRefusal(strategy, ctx.clusterCapacityProviders, own.length > 0 ? 'placement' : 'defaultPlacement') ?? { capacityProviderStrategy: [...strategy] };
}

/** The existing strategy validation (it throws InvalidParameterException), as a value. */
function strategyRefusal(strategy: readonly CapacityProviderStrategyItem[], associated: readonly string[], use: StrategyUse): Refusal | undefined {
  try {
    validateCapacityProviderStrategy(strategy, associated, use);
    return undefined;
  } catch (e) {
    if (e instanceof BerthError) return refuse('InvalidParameterException', e.message);
    throw e;
  }
}

/** CreateService: the service (ACTIVE) and its first deployment (PRIMARY, IN_PROGRESS), or a refusal. */
export function decideCreateService(
  input: CreateServiceInput,
  ctx: CreateContext,
): Refusal | { readonly service: Omit<ServiceRecord, 'tags' | 'propagateTags' | 'enableECSManagedTags' | 'enableExecuteCommand' | 'createdAt' | 'version'>; readonly deployment: DeploymentRecord } {
  const controller = input.deploymentController?.type ?? 'ECS';
  if (controller !== 'ECS') return refuse('UnsupportedFeatureException', `The ${controller} deployment controller is not supported by Berth yet. Use the ECS deployment controller.`);
  const strategy = input.schedulingStrategy ?? 'REPLICA';
  // DAEMON: one task per eligible instance (daemon-reconciler.ts); its desiredCount is computed.
  const daemon = strategy === 'DAEMON' &&
    daemonRefusal({ ...input, maximumPercent: input.deploymentConfiguration?.maximumPercent }, ctx.clusterDefaultStrategy);
  if (daemon) return refuse('InvalidParameterException', daemon);
  if (strategy !== 'DAEMON' && input.desiredCount === undefined) return refuse('InvalidParameterException', 'desiredCount is required for the REPLICA scheduling strategy.');
  const deploymentConfiguration = resolveDeploymentConfiguration(input.deploymentConfiguration, undefined, strategy);
  const bad = checkNumbers(input) ?? checkDeploymentConfiguration(deploymentConfiguration);
  if (bad) return bad;
  const target = launchTarget(input, ctx);
  if ('refused' in target) return target;
  const service = {
    ...launchConfigurationOf({ ...input, ...target }), serviceArn: ctx.serviceArn, serviceName: input.serviceName,
    clusterArn: ctx.clusterArn, status: 'ACTIVE' as const, desiredCount: input.desiredCount ?? 0, schedulingStrategy: strategy,
    deploymentController: { type: 'ECS' as const }, deploymentConfiguration, healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds ?? 0,
  };
  return { service, deployment: newDeployment(service, ctx.deploymentId, ctx.now, ctx.hasHealthCheck) };
}

export interface UpdateServiceInput {
  readonly desiredCount?: number;
  readonly taskDefinition?: string; // resolved ARN
  readonly capacityProviderStrategy?: readonly CapacityProviderStrategyItem[];
  readonly networkConfiguration?: NetworkConfiguration;
  readonly platformVersion?: string;
  readonly forceNewDeployment?: boolean;
  readonly deploymentConfiguration?: DeploymentConfigurationInput;
  readonly healthCheckGracePeriodSeconds?: number;
  /** Only looked at for DAEMON, which takes none. */
  readonly placementStrategy?: readonly unknown[];
}

const normStrategy = (s: readonly CapacityProviderStrategyItem[] = []) =>
  JSON.stringify(s.map((i) => [i.capacityProvider, i.weight ?? 0, i.base ?? 0]));
const normNetwork = (n?: NetworkConfiguration) => {
  const a = n?.awsvpcConfiguration;
  return JSON.stringify(a ? [[...a.subnets].sort(), [...(a.securityGroups ?? [])].sort(), a.assignPublicIp ?? 'DISABLED'] : null);
};

/**
 * Why an update starts a deployment, or undefined when it does not (desiredCount, deployment
 * configuration and the like never do).
 */
export function deploymentTrigger(service: LaunchConfiguration, input: UpdateServiceInput): string | undefined {
  if (input.forceNewDeployment) return 'forceNewDeployment';
  if (input.taskDefinition !== undefined && input.taskDefinition !== service.taskDefinition) return 'taskDefinition';
  if (input.capacityProviderStrategy !== undefined && normStrategy(input.capacityProviderStrategy) !== normStrategy(service.capacityProviderStrategy)) return 'capacityProviderStrategy';
  if (input.networkConfiguration !== undefined && normNetwork(input.networkConfiguration) !== normNetwork(service.networkConfiguration)) return 'networkConfiguration';
  if (input.platformVersion !== undefined && input.platformVersion !== service.platformVersion) return 'platformVersion';
  return undefined;
}

export interface UpdateOutcome {
  readonly service: ServiceRecord;
  /** Changed deployment records: the new PRIMARY (if any) and the old PRIMARY, now ACTIVE. */
  readonly deployments: DeploymentRecord[];
  readonly trigger?: string;
}

/** UpdateService: the updated service and deployments, or a refusal. `newDeploymentId` is used only if one starts. */
export function decideUpdateService(
  service: ServiceRecord,
  deployments: readonly DeploymentRecord[],
  input: UpdateServiceInput,
  ctx: { readonly now: number; readonly newDeploymentId: string; readonly hasHealthCheck: boolean; readonly clusterCapacityProviders?: readonly string[] },
): Refusal | UpdateOutcome {
  if (service.status !== 'ACTIVE') return refuse('ServiceNotActiveException', 'Service was not ACTIVE.');
  const daemon = service.schedulingStrategy === 'DAEMON' &&
    daemonRefusal({ ...input, maximumPercent: input.deploymentConfiguration?.maximumPercent });
  if (daemon) return refuse('InvalidParameterException', daemon);
  const deploymentConfiguration = resolveDeploymentConfiguration(input.deploymentConfiguration, service.deploymentConfiguration);
  const bad = checkNumbers(input) ?? checkDeploymentConfiguration(deploymentConfiguration);
  if (bad) return bad;
  if (input.capacityProviderStrategy !== undefined && input.capacityProviderStrategy.length > 0) {
    const checked = strategyRefusal(input.capacityProviderStrategy, ctx.clusterCapacityProviders ?? [], 'placement');
    if (checked) return checked;
  }
  const trigger = deploymentTrigger(service, input);
  const next: ServiceRecord = {
    ...service,
    ...(input.taskDefinition !== undefined ? { taskDefinition: input.taskDefinition } : {}),
    ...(input.capacityProviderStrategy !== undefined ? { capacityProviderStrategy: input.capacityProviderStrategy, launchType: undefined } : {}),
    ...(input.networkConfiguration !== undefined ? { networkConfiguration: input.networkConfiguration } : {}),
    ...(input.platformVersion !== undefined ? { platformVersion: input.platformVersion } : {}),
    desiredCount: input.desiredCount ?? service.desiredCount,
    healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds ?? service.healthCheckGracePeriodSeconds,
    deploymentConfiguration,
    version: service.version + 1,
  };
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (!trigger) {
    const changed = primary && primary.desiredCount !== next.desiredCount ? [{ ...primary, desiredCount: next.desiredCount, updatedAt: ctx.now }] : [];
    return { service: next, deployments: changed };
  }
  const fresh = newDeployment(next, ctx.newDeploymentId, ctx.now, ctx.hasHealthCheck);
  const demoted = primary ? [{ ...primary, status: 'ACTIVE' as const, updatedAt: ctx.now }] : [];
  return { service: next, deployments: [fresh, ...demoted], trigger };
}
