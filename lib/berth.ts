import { Duration, Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { BerthTableCapacity } from './constructs/berth-table';
import type { BerthConsumer } from './constructs/event-consumers';
import { BerthControlPlaneStack } from './stacks/control-plane-stack';
import { BerthStatefulStack } from './stacks/stateful-stack';

export interface BerthAppOptions {
  readonly env?: Environment;
  /** @default - generated */
  readonly tableName?: string;
  /** @default 'berth' */
  readonly eventBusName?: string;
  /** @default 'berth.ecs' */
  readonly eventSource?: string;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** Consumers of Berth's events (rules on the bus). @default - none */
  readonly consumers?: readonly BerthConsumer[];
  /** SNS topic ARN the alarms notify. @default - alarms without actions */
  readonly alarmTopicArn?: string;
  /** The API Gateway API in front of the ECS API: 'rest' or 'http' (docs/api-gateway.md). @default 'rest' */
  readonly apiKind?: 'rest' | 'http';
  /** The agent channel (WebSocket API); off only where WebSocket APIs are missing (LocalStack free). @default true */
  readonly agentChannel?: boolean;
  /** Days the bus archive keeps Berth's events (0: forever). @default 30 */
  readonly archiveRetentionDays?: number;
  /**
   * The table's capacity: on demand, or provisioned with auto scaling on the table and gsi1
   * (`parseTableCapacity` reads the context value; docs/cost.md, "Steady volume"). @default { mode: 'on-demand' }
   */
  readonly tableCapacity?: BerthTableCapacity;
  /**
   * Seconds the stream processor's event source mapping gathers records before invoking (0..300):
   * fewer invocations when tasks trickle in, up to this much latency on each stream step. @default 0
   */
  readonly streamBatchingWindowSeconds?: number;
  /**
   * Run cdk-nag's AwsSolutions checks at synth (cdk-nag 3 is a CDK policy-validation plugin, not an
   * Aspect: an unacknowledged finding fails `cdk synth`). @default true
   */
  readonly nag?: boolean;
}

export interface BerthStacks {
  readonly stateful: BerthStatefulStack;
  readonly controlPlane: BerthControlPlaneStack;
}

/**
 * Adds Berth's stacks to an app: `Berth-Stateful` (table, bus) feeding `Berth-ControlPlane` (the
 * BerthControlPlane construct, given that table and bus).
 * bin/berth.ts and the infra tests both build the app through this, so tests check what deploys.
 */
export function addBerthStacks(app: App, options: BerthAppOptions = {}): BerthStacks {
  const stateful = new BerthStatefulStack(app, 'Berth-Stateful', {
    env: options.env,
    description: 'Berth: state (DynamoDB table and stream, EventBridge bus)',
    tableName: options.tableName,
    eventBusName: options.eventBusName,
    deletionProtection: options.deletionProtection,
    tableCapacity: options.tableCapacity,
  });
  const controlPlane = new BerthControlPlaneStack(app, 'Berth-ControlPlane', {
    env: options.env,
    description: 'Berth: ECS-compatible control plane (API, task stream processor, sweep, rules)',
    table: stateful.table,
    eventBus: stateful.eventBus,
    eventSource: options.eventSource,
    consumers: options.consumers,
    alarmTopicArn: options.alarmTopicArn,
    archiveRetention: options.archiveRetentionDays === undefined ? undefined : Duration.days(options.archiveRetentionDays),
    ...(options.apiKind ? { api: { kind: options.apiKind } } : {}),
    agentChannel: options.agentChannel,
    streamBatchingWindow: options.streamBatchingWindowSeconds === undefined ? undefined : Duration.seconds(options.streamBatchingWindowSeconds),
  });
  controlPlane.addStackDependency(stateful, 'the control plane uses the table and the bus');

  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  }
  return { stateful, controlPlane };
}

// For users' own CDK apps: Berth as one construct (docs/embedding.md).
export {
  BerthControlPlane,
  DEFAULT_EVENT_BUS_NAME,
  type BerthApiOptions,
  type BerthControlPlaneProps,
  type BerthDomainOptions,
} from './constructs/berth-control-plane';
export {
  BerthTable,
  DEFAULT_PROVISIONED_CAPACITY,
  parseTableCapacity,
  type BerthTableCapacity,
  type BerthTableProps,
  type CapacityRange,
  type OnDemandCapacity,
  type ProvisionedCapacity,
} from './constructs/berth-table';
export { BerthOperations } from './constructs/berth-operations';
export { EventConsumers, type BerthConsumer, type BerthConsumerRule, type BerthConsumerTarget } from './constructs/event-consumers';
export { BerthEventPatterns, type ConsumerTarget, type PatternOptions } from '../src/domain/event-consumers';

// For users' own CDK apps: schedules that run Berth tasks (docs/scheduler.md).
export { BerthScheduledTask, type BerthScheduledTaskProps, type BerthScheduledTaskTag } from './constructs/berth-scheduled-task';
export type { BerthScheduledRunTarget } from './constructs/scheduled-runs';
