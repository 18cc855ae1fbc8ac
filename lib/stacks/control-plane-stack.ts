import { CfnOutput, CrossStackReferences, ReferenceStrength, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { AgentChannel } from '../constructs/agent-channel';
import { BerthControlPlane, type BerthControlPlaneProps } from '../constructs/berth-control-plane';
import type { CapacitySweep } from '../constructs/capacity-sweep';
import { EcsApi } from '../constructs/ecs-api';
import type { EcsHttpApi } from '../constructs/ecs-http-api';
import type { ScheduledRuns } from '../constructs/scheduled-runs';
import type { ServiceScheduler } from '../constructs/service-scheduler';
import type { SpotInterruptionHandler } from '../constructs/spot-interruption-handler';
import type { StoppedTaskFailureLog } from '../constructs/stopped-task-failure-log';
import type { TaskStreamProcessor } from '../constructs/task-stream-processor';

/** The construct's props but the table and the bus, which come from the stateful stack. */
type ControlPlaneOptions = Omit<
  BerthControlPlaneProps,
  'table' | 'tableName' | 'tableEncryptionKey' | 'deletionProtection' | 'removalPolicy' | 'tableCapacity' | 'eventBus' | 'eventBusName'
>;

export interface BerthControlPlaneStackProps extends StackProps, ControlPlaneOptions {
  /** The table from the stateful stack (with its stream). */
  readonly table: dynamodb.ITable;
  /** The event bus from the stateful stack. */
  readonly eventBus: events.IEventBus;
  /** API Gateway stage name. @default 'prod' */
  readonly stageName?: string;
  /** Log group of the example rule that logs failed stopped tasks. @default '/berth/stopped-task-failures' */
  readonly stoppedTaskFailuresLogGroupName?: string;
  /** An SNS topic for the alarms, by ARN (or `alarmTopic`). @default - alarms without actions */
  readonly alarmTopicArn?: string;
}

/**
 * A thin stack around the BerthControlPlane construct, given the stateful stack's table and bus:
 * everything stateless (the ECS API, the task stream processor, the service loop, scheduled runs,
 * the capacity sweep, the Spot rule, consumers' rules, alarms, the dashboard), plus the outputs
 * operators read. The construct's id is 'Default', which CDK leaves out of logical ids: the
 * resources keep the logical ids they had before the construct existed, so `cdk deploy` updates an
 * existing Berth-ControlPlane in place.
 */
export class BerthControlPlaneStack extends Stack {
  readonly berth: BerthControlPlane;
  readonly ecsApi: EcsApi | EcsHttpApi;
  readonly taskStream: TaskStreamProcessor;
  readonly capacitySweep: CapacitySweep;
  readonly spotInterruption: SpotInterruptionHandler;
  readonly stoppedTaskFailures: StoppedTaskFailureLog;
  readonly serviceScheduler: ServiceScheduler;
  /** EventBridge Scheduler -> RunTask: the schedule group, its execution role, the function, the DLQ. */
  readonly scheduledRuns: ScheduledRuns;
  /** The agents' WebSocket: notified by the stream processor when their assignments change. */
  readonly agentChannel?: AgentChannel;

  constructor(scope: Construct, id: string, props: BerthControlPlaneStackProps) {
    super(scope, id, props);
    // Exports/Fn::ImportValue: CloudFormation refuses to delete or change the table and bus while
    // the control plane uses them (and LocalStack supports it; it lacks Fn::GetStackOutput).
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);

    const { table, eventBus, stageName, stoppedTaskFailuresLogGroupName, alarmTopicArn, ...options } = props;
    this.berth = new BerthControlPlane(this, 'Default', {
      ...options,
      alarmTopic: options.alarmTopic ?? (alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', alarmTopicArn) : undefined),
      table,
      eventBus,
      api: { stageName, ...options.api },
      stoppedTaskFailureLog: { logGroupName: stoppedTaskFailuresLogGroupName },
    });
    this.ecsApi = this.berth.ecsApi;
    this.taskStream = this.berth.taskStream;
    this.serviceScheduler = this.berth.serviceScheduler;
    this.capacitySweep = this.berth.capacitySweep;
    this.spotInterruption = this.berth.spotInterruption;
    this.stoppedTaskFailures = this.berth.stoppedTaskFailures!;
    this.scheduledRuns = this.berth.scheduledRuns;

    new CfnOutput(this, 'DashboardName', { description: 'CloudWatch dashboard of Berth (docs/deploy.md, "Operations")', value: this.berth.operations.dashboard.dashboardName });

    this.agentChannel = this.berth.agentChannel;
    if (this.agentChannel) {
      new CfnOutput(this, 'AgentChannelUrl', { description: 'berth-agent --channel (sign for execute-api)', value: this.agentChannel.url });
    }

    new CfnOutput(this, 'EcsEndpoint', {
      description: 'ECS API endpoint; sign requests for the service execute-api',
      value: this.berth.endpoint,
    });
    // On LocalStack the endpoint above is unreachable as printed; the smoke test builds the local
    // URL from these two.
    const ecsApi = this.ecsApi;
    if (ecsApi instanceof EcsApi) {
      new CfnOutput(this, 'EcsRestApiId', { value: ecsApi.api.restApiId });
      new CfnOutput(this, 'EcsStageName', { value: ecsApi.stageName });
    } else {
      new CfnOutput(this, 'EcsHttpApiId', { value: ecsApi.api.apiId });
    }

    new CfnOutput(this, 'StreamFailuresQueueUrl', {
      description: 'Stream positions the task stream processor gave up on (inspect and redrive: docs/deploy.md)',
      value: this.taskStream.streamFailures.queueUrl,
    });
    new CfnOutput(this, 'EventsDeadLetterQueueUrl', {
      description: 'ECS events EventBridge did not accept (inspect and redrive: docs/deploy.md)',
      value: this.taskStream.eventsDeadLetter.queueUrl,
    });
    new CfnOutput(this, 'TaskStreamFunctionName', { value: this.taskStream.handler.function.functionName });
    new CfnOutput(this, 'TaskStreamLogGroupName', { value: this.taskStream.handler.logGroup.logGroupName });
    new CfnOutput(this, 'ServiceLoopStateMachineArn', { value: this.serviceScheduler.stateMachine.stateMachineArn });
    new CfnOutput(this, 'StoppedTaskFailuresLogGroupName', { value: this.stoppedTaskFailures.logGroup.logGroupName });
    // What a BerthScheduledTask (or `aws scheduler create-schedule`) in another app needs: docs/scheduler.md.
    new CfnOutput(this, 'ScheduledRunFunctionArn', { description: 'Target of schedules that run Berth tasks', value: this.scheduledRuns.functionArn });
    new CfnOutput(this, 'SchedulerRoleArn', { description: 'RoleArn of those schedules', value: this.scheduledRuns.schedulerRoleArn });
    new CfnOutput(this, 'ScheduleGroupName', { description: 'GroupName of those schedules (the role serves only it)', value: this.scheduledRuns.scheduleGroupName });
    new CfnOutput(this, 'ScheduledRunDeadLetterQueueArn', { description: 'DeadLetterConfig of those schedules', value: this.scheduledRuns.deadLetterQueueArn });
    new CfnOutput(this, 'ScheduledRunDeadLetterQueueUrl', { description: 'Failed scheduled runs (inspect: docs/scheduler.md)', value: this.scheduledRuns.deadLetter.queue.queueUrl });
  }
}
