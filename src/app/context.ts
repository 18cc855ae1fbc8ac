import type { Scope } from '../domain/arns';
import type { ThrottleSettings } from '../domain/throttle';
import type { ClusterRepository } from '../adapters/dynamodb/cluster-repository';
import type { ContainerInstanceRepository } from '../adapters/dynamodb/container-instance-repository';
import type { ServiceRepository } from '../adapters/dynamodb/service-repository';
import type { TaskDefinitionRepository } from '../adapters/dynamodb/task-definition-repository';
import type { TaskRepository } from '../adapters/dynamodb/task-repository';
import type { ScheduleRepository } from '../adapters/dynamodb/schedule-repository';
import type { AccountSettingRepository } from '../adapters/dynamodb/account-setting-repository';
import type { CapacityProviderRepository } from '../adapters/dynamodb/capacity-provider-repository';

/** Everything a use case may touch. Time and randomness come from here so tests can fix them. */
export interface BerthContext {
  readonly clusters: ClusterRepository;
  readonly tasks: TaskRepository;
  readonly taskDefinitions: TaskDefinitionRepository;
  readonly containerInstances: ContainerInstanceRepository;
  /** EventBridge Scheduler's schedules and groups (served and fired locally). */
  readonly schedules: ScheduleRepository;
  readonly services: ServiceRepository;
  readonly accountSettings: AccountSettingRepository;
  /** Auto Scaling group capacity providers (FARGATE and FARGATE_SPOT are built in, never stored). */
  readonly capacityProviders: CapacityProviderRepository;
  readonly clock: () => number;
  readonly randomBytes: (size: number) => Uint8Array;
  readonly account: string;
  readonly defaultRegion: string;
  readonly retention: RetentionSettings;
  /** How long an agent may stay silent before its instance shows agentConnected false. */
  readonly agentTimeoutMs: number;
  /** The service throttle's curve (seed 004); absent: 10 s doubling to 15 minutes. Scaled in tests. */
  readonly throttle?: ThrottleSettings;
}

export interface RetentionSettings {
  /** How long a STOPPED task stays describable (ECS: about an hour). */
  readonly stoppedTaskMs: number;
  /** How long an INACTIVE cluster stays describable. */
  readonly inactiveClusterMs: number;
  /** How long a RunTask clientToken is remembered. */
  readonly clientTokenMs: number;
}

export const DEFAULT_RETENTION: RetentionSettings = {
  stoppedTaskMs: 60 * 60 * 1000,
  inactiveClusterMs: 60 * 60 * 1000,
  clientTokenMs: 24 * 60 * 60 * 1000,
};

/** A use case call: the context plus the account and region of the request. */
export interface RequestContext extends BerthContext {
  readonly scope: Scope;
  /** Aborted when the caller went away (long polls stop early). */
  readonly signal?: AbortSignal;
  /** The URL the request came to. */
  readonly endpoint?: string;
}
