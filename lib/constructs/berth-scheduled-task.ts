import { Duration, Stack, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { isEcsClusterTarget, validateEcsTarget, type EcsParameters } from '../../src/domain/ecs-parameters';
import { scheduledRunInput } from '../../src/domain/scheduled-run';
import type { BerthScheduledRunTarget } from './scheduled-runs';

/** A tag of the tasks a schedule starts (as aws-scheduler-targets' Tag). */
export interface BerthScheduledTaskTag {
  readonly key: string;
  readonly value: string;
}

/**
 * Mirrors `aws-cdk-lib/aws-scheduler-targets`' EcsRunFargateTask / EcsRunEc2Task props and
 * `aws-scheduler`'s ScheduleProps where Berth can. Departures: `cluster` and `taskDefinition` may be
 * names or ARNs (Berth's clusters and task definitions are made through its API, not CloudFormation);
 * `subnets` are IDs (a Berth cluster has no VPC to select from); `launchType` picks FARGATE, EC2 or
 * EXTERNAL in one construct; the role, the dead-letter queue and the schedule group are Berth's.
 */
export interface BerthScheduledTaskProps {
  /** Berth's scheduled-run target: the control plane's `scheduledRuns`, or its outputs. */
  readonly berth: BerthScheduledRunTarget;
  /** When it runs: `ScheduleExpression.rate(...)`, `.cron({...})` or `.at(...)`, with a time zone. */
  readonly schedule: scheduler.ScheduleExpression;
  /** A Berth cluster: its name or ARN (an ecs.ICluster gives its ARN). */
  readonly cluster: string | ecs.ICluster;
  /** A Berth task definition: `family:revision`, a family, or an ARN (an ecs.ITaskDefinition gives its ARN). */
  readonly taskDefinition: string | ecs.ITaskDefinition;
  /** @default 1 (at most 10) */
  readonly taskCount?: number;
  /** @default ecs.LaunchType.FARGATE, unless capacityProviderStrategies is set */
  readonly launchType?: ecs.LaunchType;
  /** At most 6 items; excludes launchType. @default - none */
  readonly capacityProviderStrategies?: ecs.CapacityProviderStrategy[];
  /** awsvpc subnet IDs. @default - no network configuration */
  readonly subnets?: string[];
  /** @default - none */
  readonly securityGroups?: Array<ec2.ISecurityGroup | string>;
  /** Only with FARGATE. @default - not set */
  readonly assignPublicIp?: boolean;
  /** @default - LATEST */
  readonly platformVersion?: ecs.FargatePlatformVersion | string;
  /** @default - none */
  readonly placementConstraints?: ecs.PlacementConstraint[];
  /** @default - none */
  readonly placementStrategies?: ecs.PlacementStrategy[];
  /** @default false */
  readonly enableEcsManagedTags?: boolean;
  /** @default false */
  readonly enableExecuteCommand?: boolean;
  /** The tasks' group. @default - `family:<family>`, as RunTask's */
  readonly group?: string;
  /** Copy the task definition's tags to the tasks. @default false */
  readonly propagateTags?: boolean;
  /** @default - none */
  readonly referenceId?: string;
  /** @default - none */
  readonly tags?: BerthScheduledTaskTag[];
  /** Up to 64 letters, digits, `-`, `_`, `.`; the tasks' `startedBy`. @default - generated */
  readonly scheduleName?: string;
  /** @default - none */
  readonly description?: string;
  /** @default true */
  readonly enabled?: boolean;
  /** @default scheduler.TimeWindow.off() */
  readonly timeWindow?: scheduler.TimeWindow;
  /** @default - none */
  readonly start?: Date;
  /** @default - none */
  readonly end?: Date;
  /** @default - an AWS-owned key */
  readonly key?: kms.IKey;
  /** Scheduler's retries of a failed delivery to Berth's function (0-185). @default 185 */
  readonly retryAttempts?: number;
  /** How long Scheduler keeps retrying (60 s to 24 h). @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
}

/**
 * A schedule that runs Berth tasks: an AWS::Scheduler::Schedule in Berth's schedule group whose
 * target is Berth's scheduled-run function, with Scheduler's ECS target shape (EcsParameters), the
 * cluster ARN and the context attributes `<aws.scheduler.schedule-arn>` and
 * `<aws.scheduler.scheduled-time>` as its input, Scheduler's retry policy and Berth's dead-letter queue.
 * Each run is RunTask with `startedBy` the schedule's name and a clientToken from the schedule ARN and
 * the scheduled time, so a retried or duplicated delivery starts nothing new.
 */
export class BerthScheduledTask extends Construct {
  readonly schedule: scheduler.Schedule;
  /** The input every invocation gets (before Scheduler fills in the context attributes). */
  readonly ecsParameters: EcsParameters;

  constructor(scope: Construct, id: string, props: BerthScheduledTaskProps) {
    super(scope, id);
    const clusterArn = this.arnOf(props.cluster, 'cluster');
    const taskDefinitionArn = this.arnOf(props.taskDefinition, 'task-definition');
    this.ecsParameters = this.parametersOf(props, taskDefinitionArn);
    this.check(clusterArn, props);

    const retryAttempts = props.retryAttempts ?? 185;
    const maxEventAge = (props.maxEventAge ?? Duration.hours(24)).toSeconds();
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      throw new Error(`BerthScheduledTask: retryAttempts must be an integer in 0..185, got ${retryAttempts}`);
    }
    if (maxEventAge < 60 || maxEventAge > 86_400) {
      throw new Error(`BerthScheduledTask: maxEventAge must be 60 seconds to 24 hours, got ${maxEventAge} s`);
    }

    const { berth } = props;
    const role = iam.Role.fromRoleArn(this, 'BerthSchedulerRole', berth.schedulerRoleArn, { mutable: false });
    const input = scheduler.ScheduleTargetInput.fromObject(scheduledRunInput(clusterArn, this.ecsParameters));
    const target: scheduler.IScheduleTarget = {
      bind: () => ({
        arn: berth.functionArn,
        role,
        input,
        retryPolicy: { maximumRetryAttempts: retryAttempts, maximumEventAgeInSeconds: maxEventAge },
        deadLetterConfig: { arn: berth.deadLetterQueueArn },
      }),
    };
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      schedule: props.schedule,
      target,
      // Berth's role may be assumed only for schedules in Berth's group.
      scheduleGroup: scheduler.ScheduleGroup.fromScheduleGroupName(this, 'BerthGroup', berth.scheduleGroupName),
      scheduleName: props.scheduleName,
      description: props.description,
      enabled: props.enabled,
      timeWindow: props.timeWindow,
      start: props.start,
      end: props.end,
      key: props.key,
    });
  }

  private arnOf(reference: string | ecs.ICluster | ecs.ITaskDefinition, resource: 'cluster' | 'task-definition'): string {
    if (typeof reference !== 'string') return 'clusterArn' in reference ? reference.clusterArn : reference.taskDefinitionArn;
    if (Token.isUnresolved(reference) || reference.startsWith('arn:')) return reference;
    return Stack.of(this).formatArn({ service: 'ecs', resource, resourceName: reference });
  }

  private parametersOf(props: BerthScheduledTaskProps, taskDefinitionArn: string): EcsParameters {
    const strategy = props.capacityProviderStrategies?.map((item) => ({
      capacityProvider: item.capacityProvider,
      ...(item.base !== undefined ? { base: item.base } : {}),
      ...(item.weight !== undefined ? { weight: item.weight } : {}),
    }));
    const securityGroups = props.securityGroups?.map((group) => (typeof group === 'string' ? group : group.securityGroupId));
    const parameters: EcsParameters = {
      TaskDefinitionArn: taskDefinitionArn,
      TaskCount: props.taskCount ?? 1,
      LaunchType: strategy?.length ? props.launchType : (props.launchType ?? 'FARGATE'),
      CapacityProviderStrategy: strategy?.length ? strategy : undefined,
      NetworkConfiguration: props.subnets
        ? {
            awsvpcConfiguration: {
              Subnets: props.subnets,
              SecurityGroups: securityGroups,
              AssignPublicIp: props.assignPublicIp === undefined ? undefined : props.assignPublicIp ? 'ENABLED' : 'DISABLED',
            },
          }
        : undefined,
      Group: props.group,
      PlacementConstraints: props.placementConstraints?.flatMap((c) => c.toJson()),
      PlacementStrategy: props.placementStrategies?.flatMap((s) => s.toJson()),
      PlatformVersion: props.platformVersion,
      PropagateTags: props.propagateTags ? 'TASK_DEFINITION' : undefined,
      ReferenceId: props.referenceId,
      Tags: props.tags?.map((tag) => ({ key: tag.key, value: tag.value })),
      EnableECSManagedTags: props.enableEcsManagedTags,
      EnableExecuteCommand: props.enableExecuteCommand,
    };
    return Object.fromEntries(Object.entries(parameters).filter(([, value]) => value !== undefined)) as EcsParameters;
  }

  /** Scheduler's own rules for an ECS target, at synth (ARNs still tokens are checked by Scheduler). */
  private check(clusterArn: string, props: BerthScheduledTaskProps): void {
    if (props.subnets === undefined && (props.securityGroups !== undefined || props.assignPublicIp !== undefined)) {
      throw new Error('BerthScheduledTask: securityGroups and assignPublicIp need subnets');
    }
    const known = (arn: string, stand: string) => (Token.isUnresolved(arn) ? stand : arn);
    if (!isEcsClusterTarget(known(clusterArn, 'arn:aws:ecs:us-east-1:000000000000:cluster/token'))) {
      throw new Error(`BerthScheduledTask: cluster must be a cluster name or a cluster ARN, got ${clusterArn}`);
    }
    try {
      validateEcsTarget(known(clusterArn, 'arn:aws:ecs:us-east-1:000000000000:cluster/token'), {
        ...this.ecsParameters,
        TaskDefinitionArn: known(this.ecsParameters.TaskDefinitionArn, 'arn:aws:ecs:us-east-1:000000000000:task-definition/token:1'),
      });
    } catch (error) {
      throw new Error(`BerthScheduledTask: ${(error as Error).message}`);
    }
  }
}
