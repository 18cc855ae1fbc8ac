import { randomBytes } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ClusterRepository } from '../adapters/dynamodb/cluster-repository';
import { ContainerInstanceRepository } from '../adapters/dynamodb/container-instance-repository';
import { ServiceRepository } from '../adapters/dynamodb/service-repository';
import { TaskDefinitionRepository } from '../adapters/dynamodb/task-definition-repository';
import { TaskRepository } from '../adapters/dynamodb/task-repository';
import { ScheduleRepository } from '../adapters/dynamodb/schedule-repository';
import { AccountSettingRepository } from '../adapters/dynamodb/account-setting-repository';
import { CapacityProviderRepository } from '../adapters/dynamodb/capacity-provider-repository';
import { DEFAULT_AGENT_TIMEOUT_MS } from '../domain/agent-liveness';
import type { ThrottleSettings } from '../domain/throttle';
import { DEFAULT_RETENTION, type BerthContext, type RetentionSettings } from './context';

export interface ContextOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly account: string;
  readonly region: string;
  readonly retention?: Partial<RetentionSettings>;
  /** Default DEFAULT_AGENT_TIMEOUT_MS (src/domain/agent-liveness.ts). */
  readonly agentTimeoutMs?: number;
  readonly throttle?: ThrottleSettings;
  readonly clock?: () => number;
  readonly randomBytes?: (size: number) => Uint8Array;
}

export function createBerthContext(options: ContextOptions): BerthContext {
  return {
    clusters: new ClusterRepository(options.doc, options.tableName),
    tasks: new TaskRepository(options.doc, options.tableName),
    taskDefinitions: new TaskDefinitionRepository(options.doc, options.tableName),
    containerInstances: new ContainerInstanceRepository(options.doc, options.tableName),
    schedules: new ScheduleRepository(options.doc, options.tableName),
    services: new ServiceRepository(options.doc, options.tableName),
    accountSettings: new AccountSettingRepository(options.doc, options.tableName),
    capacityProviders: new CapacityProviderRepository(options.doc, options.tableName),
    clock: options.clock ?? Date.now,
    randomBytes: options.randomBytes ?? ((size) => randomBytes(size)),
    account: options.account,
    defaultRegion: options.region,
    retention: { ...DEFAULT_RETENTION, ...options.retention },
    agentTimeoutMs: options.agentTimeoutMs ?? DEFAULT_AGENT_TIMEOUT_MS,
    ...(options.throttle ? { throttle: options.throttle } : {}),
  };
}
