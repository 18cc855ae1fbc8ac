import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { SCHEDULED_RUN_FUNCTION_RETRY } from '../../src/domain/schedule-retry';
import { SCHEDULED_RUN_FUNCTION_NAME } from '../../src/domain/scheduled-run';
import { BerthFunction } from './berth-function';
import { grantTableReadWrite } from './berth-table';
import { DeadLetterQueue } from './dead-letter-queue';
import { berthEnvironment } from './environment';

/**
 * What a schedule needs to run Berth tasks (BerthScheduledTask takes it): in the same app, the
 * control plane's `scheduledRuns`; elsewhere, these four values from the control plane's outputs.
 */
export interface BerthScheduledRunTarget {
  /** The scheduled-run function, the schedules' target (output ScheduledRunFunctionArn). */
  readonly functionArn: string;
  /** The role Scheduler assumes to invoke it (output SchedulerRoleArn). */
  readonly schedulerRoleArn: string;
  /** Where failed invocations land (output ScheduledRunDeadLetterQueueArn). */
  readonly deadLetterQueueArn: string;
  /** The schedule group the role serves; schedules must be in it (output ScheduleGroupName). */
  readonly scheduleGroupName: string;
}

export interface ScheduledRunsProps {
  /** The Berth table (item read/write, Query on the listing index). */
  readonly table: dynamodb.ITable;
  /** Handler file relative to the repository root. @default 'lambdas/scheduled-run.ts' */
  readonly entry?: string;
  /**
   * The function's name, fixed so a schedule's target ARN is known before deploying, and equal to
   * the one `npm start` recognizes. @default 'berth-scheduled-run'
   */
  readonly functionName?: string;
  /** @default 'berth' */
  readonly scheduleGroupName?: string;
  /**
   * Scheduler invokes Lambda asynchronously, so a run that fails inside the function (RunTask refused,
   * or no task placed) is retried by Lambda, this many times, before it goes to the dead-letter queue.
   * @default 2
   */
  readonly retryAttempts?: number;
  /** How long Lambda keeps retrying a failed run. @default Duration.hours(1) */
  readonly maxEventAge?: Duration;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * EventBridge Scheduler -> Berth tasks: the schedule group, the scheduled-run function
 * (lambdas/scheduled-run.ts: the schedule's Input, Scheduler's EcsParameters plus the cluster ARN,
 * schedule ARN and scheduled time, becomes RunTask with a deterministic clientToken), the execution
 * role Scheduler assumes for the group's schedules (it may invoke that function and write to the
 * dead-letter queue, nothing else), and the dead-letter queue. Failed deliveries (Scheduler's retry
 * policy, set per schedule by BerthScheduledTask) and failed runs (Lambda's async retries here) both
 * end in that queue.
 */
export class ScheduledRuns extends Construct implements BerthScheduledRunTarget {
  readonly handler: BerthFunction;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly schedulerRole: iam.Role;
  readonly deadLetter: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: ScheduledRunsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const groupName = props.scheduleGroupName ?? 'berth';
    // The defaults are what `npm start` emulates for this target (src/domain/schedule-retry.ts).
    const retryAttempts = props.retryAttempts ?? SCHEDULED_RUN_FUNCTION_RETRY.maxRetries;
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 2) {
      throw new Error(`ScheduledRuns: retryAttempts must be 0, 1 or 2 (Lambda's asynchronous retries), got ${retryAttempts}`);
    }

    this.deadLetter = new DeadLetterQueue(this, 'DeadLetter', {
      purpose: 'scheduled runs Scheduler could not deliver or the function could not start',
    });
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'Group', { scheduleGroupName: groupName });

    this.handler = new BerthFunction(this, 'Handler', {
      entry: props.entry ?? 'lambdas/scheduled-run.ts',
      functionName: props.functionName ?? SCHEDULED_RUN_FUNCTION_NAME,
      description: 'Berth: an EventBridge Scheduler invocation (EcsParameters) -> RunTask',
      logRetention: props.logRetention,
      environment: berthEnvironment(this, props.table),
    });
    grantTableReadWrite(this.handler.function, props.table);
    this.handler.function.configureAsyncInvoke({
      retryAttempts,
      maxEventAge: props.maxEventAge ?? Duration.millis(SCHEDULED_RUN_FUNCTION_RETRY.maxEventAgeMs),
      onFailure: new destinations.SqsDestination(this.deadLetter.queue),
    });

    // Confused-deputy guard: only Scheduler, for schedules of this account in this group.
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `EventBridge Scheduler: schedules in group ${groupName} invoke Berth's scheduled-run function`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${groupName}/*` }) },
        },
      }),
    });
    this.schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.handler.function.functionArn] }),
    );
    this.schedulerRole.addToPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetter.queue.queueArn] }));
  }

  get functionArn(): string {
    return this.handler.function.functionArn;
  }
  get schedulerRoleArn(): string {
    return this.schedulerRole.roleArn;
  }
  get deadLetterQueueArn(): string {
    return this.deadLetter.queue.queueArn;
  }
  /** The group's Ref (its name), so a schedule that uses it is created after the group. */
  get scheduleGroupName(): string {
    return (this.scheduleGroup.node.defaultChild as scheduler.CfnScheduleGroup).ref;
  }
}
