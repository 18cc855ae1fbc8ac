import { CfnOutput, CrossStackReferences, ReferenceStrength, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { CapacitySweep } from '../constructs/capacity-sweep';
import { EcsApi } from '../constructs/ecs-api';
import { ServiceScheduler } from '../constructs/service-scheduler';
import { ScheduledRuns } from '../constructs/scheduled-runs';
import { SpotInterruptionHandler } from '../constructs/spot-interruption-handler';
import { StoppedTaskFailureLog } from '../constructs/stopped-task-failure-log';
import { TaskStreamProcessor } from '../constructs/task-stream-processor';

export interface BerthControlPlaneStackProps extends StackProps {
  /** The table from the stateful stack (with its stream). */
  readonly table: dynamodb.ITable;
  /** The event bus from the stateful stack. */
  readonly eventBus: events.IEventBus;
  /** `source` of Berth's events. @default 'berth.ecs' */
  readonly eventSource?: string;
  /** API Gateway stage name. @default 'prod' */
  readonly stageName?: string;
  /** Log group of the example rule that logs failed stopped tasks. @default '/berth/stopped-task-failures' */
  readonly stoppedTaskFailuresLogGroupName?: string;
}

/**
 * Everything stateless: the ECS API (API Gateway + Lambda), the task stream processor (the table's
 * stream -> events and lifecycle steps) with its dead-letter queues, the scheduled capacity sweep,
 * the Spot interruption rule, an example consumer rule on the Berth bus, and scheduled runs
 * (EventBridge Scheduler's group, role and target for BerthScheduledTask schedules).
 */
export class BerthControlPlaneStack extends Stack {
  readonly ecsApi: EcsApi;
  readonly taskStream: TaskStreamProcessor;
  readonly capacitySweep: CapacitySweep;
  readonly spotInterruption: SpotInterruptionHandler;
  readonly stoppedTaskFailures: StoppedTaskFailureLog;
  readonly serviceScheduler: ServiceScheduler;
  /** EventBridge Scheduler -> RunTask: the schedule group, its execution role, the function, the DLQ. */
  readonly scheduledRuns: ScheduledRuns;

  constructor(scope: Construct, id: string, props: BerthControlPlaneStackProps) {
    super(scope, id, props);
    // Exports/Fn::ImportValue: CloudFormation refuses to delete or change the table and bus while
    // the control plane uses them (and LocalStack supports it; it lacks Fn::GetStackOutput).
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);

    this.ecsApi = new EcsApi(this, 'EcsApi', {
      table: props.table,
      eventBus: props.eventBus,
      eventSource: props.eventSource,
      stageName: props.stageName,
    });
    this.taskStream = new TaskStreamProcessor(this, 'TaskStream', {
      table: props.table,
      eventBus: props.eventBus,
      eventSource: props.eventSource,
    });
    // One execution per service; the stream processor starts it (the service's first write) and wakes it.
    this.serviceScheduler = new ServiceScheduler(this, 'ServiceScheduler', { table: props.table });
    this.serviceScheduler.grantWake(this.taskStream.handler.function);
    this.capacitySweep = new CapacitySweep(this, 'CapacitySweep', { table: props.table });
    this.spotInterruption = new SpotInterruptionHandler(this, 'SpotInterruption', { table: props.table });
    this.stoppedTaskFailures = new StoppedTaskFailureLog(this, 'StoppedTaskFailures', {
      eventBus: props.eventBus,
      eventSource: props.eventSource,
      logGroupName: props.stoppedTaskFailuresLogGroupName,
    });

    this.scheduledRuns = new ScheduledRuns(this, 'ScheduledRuns', { table: props.table });

    new CfnOutput(this, 'EcsEndpoint', {
      description: 'ECS API endpoint; sign requests for the service execute-api',
      value: this.ecsApi.url,
    });
    // On LocalStack the endpoint above is unreachable as printed; the smoke test builds the local
    // URL from these two.
    new CfnOutput(this, 'EcsRestApiId', { value: this.ecsApi.api.restApiId });
    new CfnOutput(this, 'EcsStageName', { value: this.ecsApi.stageName });

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
