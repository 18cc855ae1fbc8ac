/**
 * What Berth stores for each ECS resource. Records keep the ECS API's member names so that reading a
 * record, an API response and an event side by side needs no translation; timestamps are epoch
 * milliseconds here and become epoch seconds on the wire and ISO strings in events.
 */
import type { CapacityProviderStrategyItem } from './capacity-strategy';
import type { DesiredStatus, StopCode, TaskStatus } from './task-lifecycle';

export interface Tag {
  key: string;
  value?: string;
}
export interface KeyValuePair {
  name: string;
  value?: string;
}

export type ClusterStatus = 'ACTIVE' | 'PROVISIONING' | 'DEPROVISIONING' | 'FAILED' | 'INACTIVE';

export interface ClusterRecord {
  clusterArn: string;
  clusterName: string;
  status: ClusterStatus;
  settings: KeyValuePair[];
  configuration?: Record<string, unknown>;
  serviceConnectDefaults?: { namespace?: string };
  capacityProviders: string[];
  defaultCapacityProviderStrategy: CapacityProviderStrategyItem[];
  tags: Tag[];
  createdAt: number;
}

/** Kept beside the record (not in it) so task churn never conflicts with cluster edits. */
export interface ClusterCounts {
  pendingTasksCount: number;
  runningTasksCount: number;
  activeServicesCount: number;
  registeredContainerInstancesCount: number;
  /** Per launch type, for DescribeClusters include=STATISTICS. */
  pendingFargateTasksCount: number;
  runningFargateTasksCount: number;
  pendingEC2TasksCount: number;
  runningEC2TasksCount: number;
  pendingExternalTasksCount: number;
  runningExternalTasksCount: number;
}

export const EMPTY_COUNTS: ClusterCounts = {
  pendingTasksCount: 0,
  runningTasksCount: 0,
  activeServicesCount: 0,
  registeredContainerInstancesCount: 0,
  pendingFargateTasksCount: 0,
  runningFargateTasksCount: 0,
  pendingEC2TasksCount: 0,
  runningEC2TasksCount: 0,
  pendingExternalTasksCount: 0,
  runningExternalTasksCount: 0,
};

export type LaunchType = 'EC2' | 'FARGATE' | 'EXTERNAL' | 'MANAGED_INSTANCES';

export type TaskDefinitionStatus = 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';

/** The ECS TaskDefinition shape; containerDefinitions are kept as registered (plus ECS's defaults). */
export interface TaskDefinitionRecord {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: TaskDefinitionStatus;
  containerDefinitions: ContainerDefinition[];
  compatibilities: string[];
  requiresCompatibilities?: string[];
  networkMode?: string;
  cpu?: string;
  memory?: string;
  registeredAt: number;
  registeredBy: string;
  deregisteredAt?: number;
  [member: string]: unknown;
}

export interface ContainerDefinition {
  name: string;
  image: string;
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
  essential?: boolean;
  stopTimeout?: number;
  [member: string]: unknown;
}

export interface ContainerRecord {
  containerArn: string;
  taskArn: string;
  name: string;
  image: string;
  imageDigest?: string;
  runtimeId?: string;
  lastStatus: string;
  exitCode?: number;
  reason?: string;
  networkBindings?: unknown[];
  networkInterfaces: unknown[];
  healthStatus?: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  cpu?: string;
  memory?: string;
  memoryReservation?: string;
  /** Berth's own (not an ECS Container member): whether its exit stops the task. */
  essential?: boolean;
}

export interface TaskRecord {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  lastStatus: TaskStatus;
  desiredStatus: DesiredStatus;
  launchType: LaunchType;
  capacityProviderName?: string;
  platformVersion?: string;
  platformFamily?: string;
  group: string;
  startedBy?: string;
  cpu?: string;
  memory?: string;
  containers: ContainerRecord[];
  overrides: { containerOverrides: unknown[]; inferenceAcceleratorOverrides: unknown[]; [member: string]: unknown };
  attachments: unknown[];
  attributes?: KeyValuePair[];
  availabilityZone?: string;
  containerInstanceArn?: string;
  connectivity?: 'CONNECTED' | 'DISCONNECTED';
  connectivityAt?: number;
  enableExecuteCommand: boolean;
  ephemeralStorage?: { sizeInGiB: number };
  healthStatus?: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  stopCode?: StopCode;
  stoppedReason?: string;
  tags: Tag[];
  createdAt: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  stoppedAt?: number;
  /**
   * Berth's own (GetTaskProtection's expirationDate): task scale-in protection, epoch ms. Until then
   * the scheduler never stops the task for a scale-in or a deployment (task-protection.ts).
   */
  protectionExpiresAt?: number;
  /** Grows with every change; the item version, echoed in DescribeTasks and events. */
  version: number;
  /**
   * When this version was written (epoch ms, src/domain/update-time.ts): the events' `time` and
   * `updatedAt`. Not an ECS Task member. Absent only in records written before Berth stamped it.
   */
  updatedAt?: number;
  /**
   * Berth's own (not Task members, so never on the wire): the placement the task asked for (RunTask's,
   * its service's, its task definition's memberOf constraints), kept for a placement after it waited.
   */
  placementConstraints?: { type?: string; expression?: string }[];
  placementStrategy?: { type?: string; field?: string }[];
  /** Berth's own: the capacity held on a host (not an ECS member, so never on the wire). */
  reservation?: { containerInstanceArn: string; cpu: number; memory: number };
  /** Berth's own: when the task stops being describable (STOPPED + retention). */
  expiresAt?: number;
}
