// EventBridge Scheduler -> Berth tasks in CDK: BerthScheduledTask (what users put in their own apps)
// and the control plane's ScheduledRuns construct, asserted on their templates. The input a schedule
// gets is checked against the scheduled-run function's own parser, so the two cannot drift apart.
import { App, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { afterEach, describe, expect, it } from 'vitest';
import { addBerthStacks, BerthScheduledTask, type BerthScheduledTaskProps } from '../../lib/berth';
import { ScheduledRuns } from '../../lib/constructs/scheduled-runs';
import { BerthStatefulStack } from '../../lib/stacks/stateful-stack';
import { parseScheduledRunEvent, substituteContextAttributes } from '../../src/domain/scheduled-run';
import { describeViolations, nagViolations, resourceAt, statementsAt, tempApp } from './app-fixture';

const ECHO = 'test/infra/fixtures/echo-handler.ts';
const env = { account: '111122223333', region: 'us-east-1' };
const disposers: Array<() => void> = [];
afterEach(() => disposers.splice(0).forEach((dispose) => dispose()));

function newApp(): App {
  const { app, dispose } = tempApp({ bundle: false, cfnValidate: false });
  disposers.push(dispose);
  return app;
}

/** The control plane's outputs, as a user's app in another repository would paste them in. */
const BERTH = {
  functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:berth-scheduled-run',
  schedulerRoleArn: 'arn:aws:iam::111122223333:role/Berth-ControlPlane-ScheduledRunsSchedulerRole-ABC',
  deadLetterQueueArn: 'arn:aws:sqs:us-east-1:111122223333:Berth-ControlPlane-ScheduledRunsDeadLetter-XYZ',
  scheduleGroupName: 'berth',
};
const CLUSTER = 'arn:aws:ecs:us-east-1:111122223333:cluster/jobs';
const TASK_DEFINITION = 'arn:aws:ecs:us-east-1:111122223333:task-definition/backup:3';

function userStack(props: Partial<BerthScheduledTaskProps> = {}): { stack: Stack; task: BerthScheduledTask } {
  const stack = new Stack(newApp(), 'Jobs', { env });
  const task = new BerthScheduledTask(stack, 'NightlyBackup', {
    berth: BERTH,
    schedule: scheduler.ScheduleExpression.cron({ minute: '0', hour: '3', timeZone: TimeZone.EUROPE_BERLIN }),
    cluster: CLUSTER,
    taskDefinition: TASK_DEFINITION,
    subnets: ['subnet-a'],
    ...props,
  });
  return { stack, task };
}

const theSchedule = (stack: Stack) => resourceAt(Template.fromStack(stack), 'AWS::Scheduler::Schedule', 'NightlyBackup/')[1].Properties;

describe('BerthScheduledTask', () => {
  it("targets Berth's scheduled-run function through Berth's role, in Berth's group, with Scheduler's retry policy and Berth's dead-letter queue", () => {
    const { stack } = userStack();
    const schedule = theSchedule(stack);
    expect(schedule).toMatchObject({
      GroupName: 'berth',
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: BERTH.functionArn,
        RoleArn: BERTH.schedulerRoleArn,
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
        DeadLetterConfig: { Arn: BERTH.deadLetterQueueArn },
      },
    });
    // A Lambda target: the ECS shape travels in the Input, not as the target's EcsParameters.
    expect(schedule.Target.EcsParameters).toBeUndefined();
    // The role and the queue are Berth's: the user's stack creates no IAM and no queue.
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Role', 0);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.resourceCountIs('AWS::SQS::Queue', 0);
  });

  it('gives the function EcsParameters, the cluster ARN and the schedule ARN and scheduled time as Scheduler fills them in', () => {
    const { stack } = userStack({ taskCount: 2, group: 'backups', tags: [{ key: 'job', value: 'backup' }], enableEcsManagedTags: true, propagateTags: true });
    const input = theSchedule(stack).Target.Input as string;
    expect(JSON.parse(input)).toEqual({
      ClusterArn: CLUSTER,
      EcsParameters: {
        TaskDefinitionArn: TASK_DEFINITION,
        TaskCount: 2,
        LaunchType: 'FARGATE',
        NetworkConfiguration: { awsvpcConfiguration: { Subnets: ['subnet-a'] } },
        Group: 'backups',
        PropagateTags: 'TASK_DEFINITION',
        Tags: [{ key: 'job', value: 'backup' }],
        EnableECSManagedTags: true,
      },
      ScheduleArn: '<aws.scheduler.schedule-arn>',
      ScheduledTime: '<aws.scheduler.scheduled-time>',
    });
    // What the function receives after Scheduler's substitution is what it accepts.
    const scheduleArn = 'arn:aws:scheduler:us-east-1:111122223333:schedule/berth/NightlyBackup';
    const delivered = JSON.parse(substituteContextAttributes(input, { scheduleArn, scheduledAt: Date.parse('2026-12-01T02:00:00Z'), executionId: 'e', attemptNumber: 1 }));
    expect(parseScheduledRunEvent(delivered)).toEqual({
      clusterArn: CLUSTER,
      parameters: expect.objectContaining({ TaskDefinitionArn: TASK_DEFINITION, TaskCount: 2 }),
      scheduleArn,
      scheduledAt: Date.parse('2026-12-01T02:00:00Z'),
    });
  });

  it('builds ARNs from a cluster name and a family:revision in its own account and region', () => {
    const { stack } = userStack({ cluster: 'jobs', taskDefinition: 'backup:3' });
    const input = JSON.stringify(Stack.of(stack).resolve(theSchedule(stack).Target.Input));
    expect(input).toContain(':ecs:us-east-1:111122223333:cluster/jobs');
    expect(input).toContain(':ecs:us-east-1:111122223333:task-definition/backup:3');
  });

  it('passes EC2 placement, capacity providers, security groups, public IPs and the schedule options through', () => {
    const ec2 = JSON.parse(
      theSchedule(
        userStack({
          launchType: ecs.LaunchType.EC2,
          subnets: undefined,
          placementConstraints: [ecs.PlacementConstraint.memberOf('attribute:ecs.instance-type =~ t3.*')],
          placementStrategies: [ecs.PlacementStrategy.spreadAcrossInstances()],
        }).stack,
      ).Target.Input,
    ).EcsParameters;
    expect(ec2).toMatchObject({
      LaunchType: 'EC2',
      PlacementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t3.*' }],
      PlacementStrategy: [{ type: 'spread', field: 'instanceId' }],
    });
    expect(ec2.NetworkConfiguration).toBeUndefined();

    const { stack } = userStack({
      capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 2 }, { capacityProvider: 'FARGATE', base: 1 }],
      securityGroups: ['sg-1'],
      assignPublicIp: false,
      scheduleName: 'nightly-backup',
      description: 'Backs up',
      enabled: false,
      timeWindow: scheduler.TimeWindow.flexible(Duration.minutes(15)),
      retryAttempts: 3,
      maxEventAge: Duration.hours(2),
    });
    const schedule = theSchedule(stack);
    expect(JSON.parse(schedule.Target.Input).EcsParameters).toMatchObject({
      CapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 2 }, { capacityProvider: 'FARGATE', base: 1 }],
      NetworkConfiguration: { awsvpcConfiguration: { Subnets: ['subnet-a'], SecurityGroups: ['sg-1'], AssignPublicIp: 'DISABLED' } },
    });
    expect(JSON.parse(schedule.Target.Input).EcsParameters.LaunchType).toBeUndefined();
    expect(schedule).toMatchObject({
      Name: 'nightly-backup',
      Description: 'Backs up',
      State: 'DISABLED',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      Target: { RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 7200 } },
    });
  });

  it.each([
    ['TaskCount 11', { taskCount: 11 }, /TaskCount must be between 1 and 10/],
    ['TaskCount 0', { taskCount: 0 }, /TaskCount must be between 1 and 10/],
    ['a launch type and capacity providers', { launchType: ecs.LaunchType.FARGATE, capacityProviderStrategies: [{ capacityProvider: 'FARGATE' }] }, /cannot both be set/],
    ['seven capacity providers', { capacityProviderStrategies: Array.from({ length: 7 }, (_, i) => ({ capacityProvider: `cp${i}` })) }, /at most 6 items/],
    ['a public IP on EC2', { launchType: ecs.LaunchType.EC2, assignPublicIp: true }, /AssignPublicIp ENABLED requires LaunchType FARGATE/],
    ['security groups without subnets', { subnets: undefined, securityGroups: ['sg-1'] }, /need subnets/],
    ['186 retries', { retryAttempts: 186 }, /retryAttempts must be an integer in 0..185/],
    ['a 30 s event age', { maxEventAge: Duration.seconds(30) }, /maxEventAge must be 60 seconds to 24 hours/],
    ['a cluster ARN that is a service', { cluster: 'arn:aws:ecs:us-east-1:111122223333:service/jobs/web' }, /cluster must be a cluster name or a cluster ARN/],
  ] as const)('refuses %s at synth', (_name, props, message) => {
    expect(() => userStack(props as Partial<BerthScheduledTaskProps>)).toThrow(message);
  });

  it('passes cdk-nag AwsSolutions with nothing to acknowledge', () => {
    const { stack } = userStack();
    expect(describeViolations(nagViolations(stack.node.root))).toEqual([]);
  });

  it("in Berth's own app, refers to the control plane's function, role, queue and group", () => {
    const app = newApp();
    const stacks = addBerthStacks(app, { env, nag: false });
    const jobs = new Stack(app, 'Jobs', { env });
    new BerthScheduledTask(jobs, 'NightlyBackup', {
      berth: stacks.controlPlane.scheduledRuns,
      schedule: scheduler.ScheduleExpression.rate(Duration.hours(1)),
      cluster: 'jobs',
      taskDefinition: 'backup',
    });
    const schedule = theSchedule(jobs);
    const anImport = (pattern: RegExp) => ({ 'Fn::ImportValue': expect.stringMatching(pattern) });
    expect(schedule).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      GroupName: anImport(/ScheduledRunsGroup/),
      Target: {
        Arn: anImport(/ScheduledRunsHandlerFunction.*Arn/),
        RoleArn: anImport(/ScheduledRunsSchedulerRole.*Arn/),
        DeadLetterConfig: { Arn: anImport(/ScheduledRunsDeadLetter.*Arn/) },
      },
    });
  });
});

describe('ScheduledRuns', () => {
  function scheduledRuns(props: Partial<ConstructorParameters<typeof ScheduledRuns>[2]> = {}): Stack {
    const app = newApp();
    const state = new BerthStatefulStack(app, 'State', { env });
    const stack = new Stack(app, 'Cp', { env });
    new ScheduledRuns(stack, 'ScheduledRuns', { table: state.table, entry: ECHO, ...props });
    return stack;
  }

  it('uses the group name it is given in the group and in the role trust', () => {
    const template = Template.fromStack(scheduledRuns({ scheduleGroupName: 'jobs', functionName: 'jobs-run', retryAttempts: 0, maxEventAge: Duration.minutes(10) }));
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'jobs' });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'jobs-run' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 600 });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: Match.objectLike({ ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', Match.arrayWith([':scheduler:us-east-1:111122223333:schedule/jobs/*'])] } } }),
          }),
        ],
      },
    });
  });

  it('gives the scheduler role exactly two statements: invoke the function, send to the queue', () => {
    const stack = scheduledRuns();
    expect(statementsAt(Template.fromStack(stack), 'ScheduledRuns/SchedulerRole/').map((s) => s.Action)).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
    expect(describeViolations(nagViolations(stack.node.root))).toEqual([]);
  });

  it.each([[3], [-1], [1.5]])('refuses retryAttempts %d (Lambda retries an async invocation at most twice)', (retryAttempts) => {
    expect(() => scheduledRuns({ retryAttempts })).toThrow(/retryAttempts must be 0, 1 or 2/);
  });
});
