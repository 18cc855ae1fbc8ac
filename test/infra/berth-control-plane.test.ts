// The BerthControlPlane construct embedded in one stack: its props' defaults and overrides, and the
// example app of docs/embedding.md, synthesized exactly as the page shows it. Bundling and the CDK's
// built-in CloudFormation validation are off (the stacks suite and the cdklocal synth run both).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { afterEach, describe, expect, it } from 'vitest';
import { PlatformStack } from '../../docs/examples/embedding';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { BerthControlPlane, BerthEventPatterns, type BerthConsumer, type BerthControlPlaneProps } from '../../lib/berth';
import { parseRules } from '../../src/local/event-rules';
import { PROJECT_ROOT } from '../../lib/constructs/paths';
import { describeViolations, nagViolations, resourceAt, tempApp } from './app-fixture';

const env = { account: '111122223333', region: 'eu-west-1' };
const disposers: Array<() => void> = [];
afterEach(() => disposers.splice(0).forEach((dispose) => dispose()));

function newStack(): Stack {
  const { app, dispose } = tempApp({ bundle: false, cfnValidate: false });
  disposers.push(dispose);
  return new Stack(app, 'Platform', { env });
}

function embed(props: BerthControlPlaneProps = {}): { stack: Stack; berth: BerthControlPlane; template: Template } {
  const stack = newStack();
  const berth = new BerthControlPlane(stack, 'Berth', props);
  return { stack, berth, template: Template.fromStack(stack) };
}

const certificateArn = 'arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-0000-0000-000000000000';

describe('BerthControlPlane: defaults', () => {
  const { berth, template } = embed();

  it('creates the table (TABLE_SCHEMA keys, stream, deletion protection, RETAIN) and the bus berth', () => {
    // Berth's table and the agent channel's connections table (docs/agent-channel.md).
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: Match.absent(),
        DeletionProtectionEnabled: true,
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    });
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'berth' });
    expect(berth.table).toBeInstanceOf(dynamodb.Table);
    expect(berth.eventBus).toBeInstanceOf(events.EventBus);
  });

  it("archives the berth.ecs events on the bus for 30 days", () => {
    const [, archive] = resourceAt(template, 'AWS::Events::Archive', 'Berth/Archive');
    const [busId] = resourceAt(template, 'AWS::Events::EventBus', 'Berth/EventBus');
    expect(archive.Properties).toMatchObject({
      SourceArn: { 'Fn::GetAtt': [busId, 'Arn'] },
      EventPattern: { source: ['berth.ecs'] },
      RetentionDays: 30,
    });
  });

  it('has every part, each reachable from the construct', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.resourceCountIs('AWS::Lambda::Function', 8);
    template.resourceCountIs('AWS::ApiGateway::DomainName', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET' });
    expect(berth.agentChannel?.url).toBeDefined();
    expect(berth.api).toBe(berth.ecsApi.api);
    expect(berth.serviceScheduler.stateMachine).toBeDefined();
    expect(berth.scheduledRuns.scheduleGroupName).toBeDefined();
    expect(berth.capacitySweep.rule).toBeDefined();
    expect(berth.spotInterruption.rule).toBeDefined();
    expect(berth.stoppedTaskFailures?.rule).toBeDefined();
    expect(berth.eventSource).toBe('berth.ecs');
    // The endpoint is the stage URL.
    expect(Stack.of(berth).resolve(berth.endpoint)).toEqual(Stack.of(berth).resolve(berth.ecsApi.url));
  });

  it('uses stage prod, 1024 MB for the API and throttles at 100/s (burst 200)', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 })],
    });
    const [, fn] = resourceAt(template, 'AWS::Lambda::Function', 'Berth/EcsApi/Handler/');
    expect(fn.Properties.MemorySize).toBe(1024);
  });

  it('runs the sweep every minute, names the scheduled-run function and group berth, and logs failed tasks', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'berth-scheduled-run' });
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'berth' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/berth/stopped-task-failures' });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    expect(describeViolations(nagViolations(Stack.of(berth)))).toEqual([]);
  });
});

describe('BerthControlPlane: overrides', () => {
  it('uses an existing table and bus: creates neither, archives on the given bus, and publishes there', () => {
    const stack = newStack();
    const table = dynamodb.Table.fromTableAttributes(stack, 'Existing', {
      tableName: 'existing-berth',
      tableStreamArn: 'arn:aws:dynamodb:eu-west-1:111122223333:table/existing-berth/stream/2026-01-01T00:00:00.000',
    });
    const bus = events.EventBus.fromEventBusName(stack, 'Bus', 'platform-events');
    const berth = new BerthControlPlane(stack, 'Berth', { table, eventBus: bus, eventSource: 'platform.berth' });
    const template = Template.fromStack(stack);
    // Only the agent channel's own connections table.
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::Events::EventBus', 0);
    expect(berth.table).toBe(table);
    expect(berth.eventBus).toBe(bus);
    const [, archive] = resourceAt(template, 'AWS::Events::Archive', 'Berth/Archive');
    expect(archive.Properties.EventPattern).toEqual({ source: ['platform.berth'] });
    expect(JSON.stringify(archive.Properties.SourceArn)).toMatch(/:event-bus\/platform-events"/);
    const [, stream] = resourceAt(template, 'AWS::Lambda::Function', 'Berth/TaskStream/Handler/');
    expect(stream.Properties.Environment.Variables).toMatchObject({
      BERTH_TABLE_NAME: 'existing-berth',
      BERTH_EVENT_BUS_NAME: 'platform-events',
      BERTH_EVENT_SOURCE: 'platform.berth',
    });
  });

  it('shapes a new table and bus: name, deletion protection, removal policy, bus name', () => {
    const { template } = embed({
      tableName: 'berth-test',
      deletionProtection: false,
      removalPolicy: RemovalPolicy.DESTROY,
      eventBusName: 'berth-test',
    });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ TableName: 'berth-test', DeletionProtectionEnabled: false }),
    });
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'berth-test' });
  });

  it('sets the archive retention, keeps forever with 0 days, and leaves the archive out with archive: false', () => {
    embed({ archiveRetention: Duration.days(7) }).template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 7 });
    embed({ archiveRetention: Duration.days(0) }).template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 0 });
    embed({ archive: false }).template.resourceCountIs('AWS::Events::Archive', 0);
  });

  it('passes the API options to the stage and the function', () => {
    const { template } = embed({ api: { stageName: 'v1', memorySize: 2048, throttlingRateLimit: 5, throttlingBurstLimit: 10 } });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 2048, Timeout: 29 });
  });

  it('puts the API on a custom domain (regional, TLS 1.2) with an alias record, and makes it the endpoint', () => {
    const stack = newStack();
    const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', certificateArn);
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });
    const berth = new BerthControlPlane(stack, 'Berth', {
      domain: { domainName: 'ecs.example.com', certificate, hostedZone, basePath: 'berth', disableExecuteApiEndpoint: true },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'ecs.example.com',
      RegionalCertificateArn: certificateArn,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
    const [apiId] = resourceAt(template, 'AWS::ApiGateway::RestApi', 'Berth/EcsApi/RestApi/');
    template.hasResourceProperties('AWS::ApiGateway::BasePathMapping', { BasePath: 'berth', RestApiId: { Ref: apiId } });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'ecs.example.com.',
      Type: 'A',
      HostedZoneId: 'Z1',
      AliasTarget: Match.objectLike({ DNSName: { 'Fn::GetAtt': [Match.stringLikeRegexp('Domain'), 'RegionalDomainName'] } }),
    });
    expect(berth.endpoint).toBe('https://ecs.example.com/berth/');
    expect(berth.domainName).toBeDefined();
  });

  it('passes the sweep period, the capacity wait, the schedule group, the function name and the log retention', () => {
    const { template } = embed({
      capacitySweepEvery: Duration.minutes(5),
      capacityWait: Duration.minutes(10),
      scheduleGroupName: 'ops',
      scheduledRunFunctionName: 'ops-scheduled-run',
      logRetention: logs.RetentionDays.ONE_WEEK,
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BERTH_CAPACITY_WAIT_SECONDS: '600' }) },
    });
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'ops' });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'ops-scheduled-run' });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('names the example log group, or leaves the example rule out', () => {
    embed({ stoppedTaskFailureLog: { logGroupName: '/ops/failed-tasks' } }).template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/ops/failed-tasks',
    });
    const { berth, template } = embed({ stoppedTaskFailureLog: false });
    expect(berth.stoppedTaskFailures).toBeUndefined();
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { LogGroupName: '/berth/stopped-task-failures' }, 0);
  });

  it.each<[string, BerthControlPlaneProps, RegExp]>([
    ['a reserved event source', { eventSource: 'aws.ecs' }, /eventSource must .* not start with 'aws\.'/],
    ['a bus name with an existing bus', { eventBus: events.EventBus.fromEventBusName(new Stack(), 'B', 'x'), eventBusName: 'y' }, /eventBusName names a new bus/],
    ['a retention in hours', { archiveRetention: Duration.hours(36) }, /archiveRetention must be whole days/],
    ['a base path with a slash at the start', { domain: { domainName: 'e.example.com', certificate: acm.Certificate.fromCertificateArn(new Stack(), 'C', certificateArn), basePath: '/ecs' } }, /basePath must be a path/],
    ['a sweep every 30 s', { capacitySweepEvery: Duration.seconds(30) }, /every must be at least one minute/],
    ['an HTTP API with a stage name', { api: { kind: 'http', stageName: 'v1' } }, /stageName applies to api.kind 'rest' only/],
    ['an HTTP API on a custom domain', { api: { kind: 'http' }, domain: { domainName: 'e.example.com', certificate: acm.Certificate.fromCertificateArn(new Stack(), 'C', certificateArn) } }, /custom domain needs api.kind 'rest'/],
    ['an unknown API kind', { api: { kind: 'graphql' as 'rest' } }, /api.kind must be 'rest' or 'http'/],
  ])('refuses %s at synth', (_, props, message) => {
    expect(() => new BerthControlPlane(newStack(), 'Berth', props)).toThrow(message);
  });
});

describe('BerthControlPlane: api.kind', () => {
  it("'http' puts the ECS API behind an HTTP API (IAM on every route) and no REST API; the dashboard graphs it", () => {
    const { berth, template } = embed({ api: { kind: 'http' } });
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' }, 1);
    for (const routeKey of ['POST /', 'ANY /{proxy+}']) template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationType: 'AWS_IAM' });
    expect(berth.ecsApi.constructor.name).toBe('EcsHttpApi');
    const [, dashboard] = Object.entries(template.findResources('AWS::CloudWatch::Dashboard'))[0]!;
    expect(JSON.stringify(dashboard)).toContain('AWS/ApiGateway');
  });

  it('agentChannel false leaves out the WebSocket API and its function (LocalStack free edition)', () => {
    const { berth, template } = embed({ agentChannel: false });
    expect(berth.agentChannel).toBeUndefined();
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    template.resourceCountIs('AWS::Lambda::Function', 7);
  });

  it("defaults to 'rest' (existing deployments keep their endpoint)", () => {
    const { template } = embed();
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' }, 0);
  });
});

describe('BerthControlPlane: consumers', () => {
  const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:111122223333:failed-tasks';
  const DESTINATION_ARN = 'arn:aws:events:eu-west-1:111122223333:api-destination/pager/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6';

  function withConsumers() {
    const stack = newStack();
    const queue = new sqs.Queue(stack, 'Mine', { enforceSSL: true });
    // The user's queue is not Berth's to nag about (the consumer's dead-letter queue is Berth's).
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: "the embedding app's own queue, outside Berth's construct" });
    const fn = lambda.Function.fromFunctionArn(stack, 'OnFailure', 'arn:aws:lambda:eu-west-1:111122223333:function:on-failure');
    const machine = sfn.StateMachine.fromStateMachineArn(stack, 'Runbook', 'arn:aws:states:eu-west-1:111122223333:stateMachine:runbook');
    // The same text `npm start` reads from .berth/rules.json: an AWS target and its local stand-in.
    const fromRulesJson = parseRules(
      JSON.stringify({
        rules: [
          {
            name: 'failed-tasks',
            eventPattern: BerthEventPatterns.stoppedTasks(['EssentialContainerExited', 'TaskFailedToStart']),
            targets: [{ type: 'sqs', arn: QUEUE_ARN }, { type: 'command', command: ['sh', '-c', 'cat >> failed.jsonl'] }],
          },
        ],
      }),
    );
    const berth = new BerthControlPlane(stack, 'Berth', {
      consumers: [
        ...fromRulesJson,
        { name: 'spot', eventPattern: BerthEventPatterns.spotInterruptions(), target: queue },
        { name: 'deployments', eventPattern: BerthEventPatterns.deploymentFailures(), targets: [fn, machine], retryAttempts: 3, maxEventAge: Duration.hours(1) },
        { name: 'placement', eventPattern: BerthEventPatterns.servicePlacementFailures({ clusterArns: ['arn:aws:ecs:eu-west-1:111122223333:cluster/prod'] }), target: { type: 'apiDestination', arn: DESTINATION_ARN } },
        { name: 'forward', eventPattern: { source: ['berth.ecs'] }, target: { type: 'eventBus', arn: 'arn:aws:events:eu-west-1:444455556666:event-bus/central' } },
      ],
    });
    return { stack, berth, template: Template.fromStack(stack) };
  }
  const { stack, berth, template } = withConsumers();
  const ruleOf = (name: string) => resourceAt(template, 'AWS::Events::Rule', `Berth/Consumers/${name}/Rule/`);
  const dlqOf = (name: string, index = 0) => resourceAt(template, 'AWS::SQS::Queue', `Berth/Consumers/${name}/DeadLetter${index}/`);

  it('makes one rule per consumer on the Berth bus, with the pattern as given', () => {
    const [busId] = resourceAt(template, 'AWS::Events::EventBus', 'Berth/EventBus');
    expect([...berth.consumers.rules.keys()]).toEqual(['failed-tasks', 'spot', 'deployments', 'placement', 'forward']);
    for (const name of berth.consumers.rules.keys()) expect(ruleOf(name)[1].Properties.EventBusName).toEqual({ Ref: busId });
    expect(ruleOf('failed-tasks')[1].Properties.EventPattern).toEqual({
      source: ['berth.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: { lastStatus: ['STOPPED'], stopCode: ['EssentialContainerExited', 'TaskFailedToStart'] },
    });
    expect(ruleOf('spot')[1].Properties.EventPattern).toEqual({ source: ['berth.ecs'], 'detail-type': ['ECS Task State Change'], detail: { stopCode: ['SpotInterruption'] } });
    expect(ruleOf('deployments')[1].Properties.EventPattern).toEqual({
      source: ['berth.ecs'],
      'detail-type': ['ECS Deployment State Change'],
      detail: { eventName: ['SERVICE_DEPLOYMENT_FAILED'] },
    });
    expect(ruleOf('placement')[1].Properties.EventPattern).toEqual({
      source: ['berth.ecs'],
      'detail-type': ['ECS Service Action'],
      detail: { clusterArn: ['arn:aws:ecs:eu-west-1:111122223333:cluster/prod'], eventName: ['SERVICE_TASK_PLACEMENT_FAILURE'] },
    });
  });

  it("gives every target the retry policy (EventBridge's 185 tries in 24 h unless set) and its own dead-letter queue; local targets stay local", () => {
    const targetsOf = (name: string) => ruleOf(name)[1].Properties.Targets as Array<Record<string, any>>;
    expect(targetsOf('failed-tasks')).toEqual([
      expect.objectContaining({
        Arn: QUEUE_ARN,
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqOf('failed-tasks')[0], 'Arn'] } },
      }),
    ]);
    const deployments = targetsOf('deployments');
    expect(deployments).toHaveLength(2);
    deployments.forEach((target, index) =>
      expect(target).toMatchObject({
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqOf('deployments', index)[0], 'Arn'] } },
      }),
    );
    expect(targetsOf('placement')[0]).toMatchObject({ Arn: DESTINATION_ARN, RoleArn: expect.anything(), RetryPolicy: { MaximumRetryAttempts: 185 } });
    // A bus target has no retry policy in EventBridge; it keeps its dead-letter queue.
    expect(targetsOf('forward')[0]).toMatchObject({ Arn: 'arn:aws:events:eu-west-1:444455556666:event-bus/central', DeadLetterConfig: expect.anything() });
    expect(targetsOf('forward')[0].RetryPolicy).toBeUndefined();
    expect(berth.consumers.rules.get('deployments')!.deadLetterQueues).toHaveLength(2);
  });

  it('keeps each dead-letter queue SSE-SQS, TLS only, 14 days, and lets EventBridge send to it from that rule only', () => {
    for (const name of ['failed-tasks', 'spot', 'placement']) {
      const [queueId, queue] = dlqOf(name);
      expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
      const [, policy] = resourceAt(template, 'AWS::SQS::QueuePolicy', `Berth/Consumers/${name}/DeadLetter0/`);
      expect(policy.Properties.Queues).toEqual([{ Ref: queueId }]);
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleOf(name)[0], 'Arn'] } } },
        }),
      );
    }
  });

  it('lets EventBridge reach each target: the queue policy, the Lambda permission, roles for the state machine, the bus and the API destination', () => {
    const [mineId] = resourceAt(template, 'AWS::SQS::Queue', 'Platform/Mine/');
    const [, minePolicy] = resourceAt(template, 'AWS::SQS::QueuePolicy', 'Platform/Mine/');
    expect(minePolicy.Properties.Queues).toEqual([{ Ref: mineId }]);
    expect(JSON.stringify(minePolicy.Properties.PolicyDocument)).toContain('events.amazonaws.com');
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: 'arn:aws:lambda:eu-west-1:111122223333:function:on-failure',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleOf('deployments')[0], 'Arn'] },
    });
    const actions = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(actions).toContain('"states:StartExecution"');
    expect(actions).toContain('"events:InvokeApiDestination"');
    expect(actions).toContain('"events:PutEvents"');
  });

  it('passes cdk-nag with the consumers', () => {
    expect(describeViolations(nagViolations(stack))).toEqual([]);
  });

  it.each<[string, BerthConsumer, RegExp]>([
    ['only local targets', { name: 'a', eventPattern: { source: ['berth.ecs'] }, target: { type: 'http', url: 'http://127.0.0.1:9/' } }, /consumer 'a': needs at least one AWS target/],
    ['an invalid pattern', { name: 'a', eventPattern: { detail: { lastStatus: 'STOPPED' } }, target: { type: 'sqs', arn: QUEUE_ARN } }, /consumer 'a': Event pattern is not valid/],
    ['a wrong ARN', { name: 'a', eventPattern: { source: ['berth.ecs'] }, target: { type: 'lambda', arn: QUEUE_ARN } }, /is not the ARN of a lambda target/],
    ['a bad name', { name: 'has space', eventPattern: { source: ['berth.ecs'] }, target: { type: 'sqs', arn: QUEUE_ARN } }, /consumer name must be/],
    ['186 retries', { name: 'a', eventPattern: { source: ['berth.ecs'] }, target: { type: 'sqs', arn: QUEUE_ARN }, retryAttempts: 186 }, /retryAttempts must be 0-185/],
  ])('refuses a consumer with %s', (_, consumer, message) => {
    expect(() => new BerthControlPlane(newStack(), 'Berth', { consumers: [consumer] })).toThrow(message);
  });

  it('refuses two consumers of one name', () => {
    const consumer: BerthConsumer = { name: 'a', eventPattern: { source: ['berth.ecs'] }, target: { type: 'sqs', arn: QUEUE_ARN } };
    expect(() => new BerthControlPlane(newStack(), 'Berth', { consumers: [consumer, consumer] })).toThrow(/two consumers are named 'a'/);
  });
});

describe('BerthControlPlane: operations', () => {
  const stack = newStack();
  const topic = new sns.Topic(stack, 'OnCall', { enforceSSL: true });
  const berth = new BerthControlPlane(stack, 'Berth', {
    alarmTopic: topic,
    dashboardName: 'berth-ops',
    consumers: [{ name: 'failed', eventPattern: BerthEventPatterns.stoppedTasks(), target: { type: 'sqs', arn: 'arn:aws:sqs:eu-west-1:111122223333:failed' } }],
  });
  const template = Template.fromStack(stack);
  const alarms = () => Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties as Record<string, any>);
  const alarmOn = (metricName: string, dimension: unknown) =>
    alarms().filter((a) => a.MetricName === metricName && JSON.stringify(a.Dimensions).includes(JSON.stringify(dimension)));

  it('traces every function with X-Ray (Powertools tracer)', () => {
    template.allResourcesProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
  });

  it('alarms on errors and throttles of every function, at the first one in 5 minutes', () => {
    const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(8);
    for (const id of functions) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarmOn(metric, { Name: 'FunctionName', Value: { Ref: id } }), `${metric} of ${id}`).toEqual([
          expect.objectContaining({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Period: 300, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' }),
        ]);
      }
    }
  });

  it("alarms on any message in every dead-letter queue, the consumers' included", () => {
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(4);
    for (const id of queues) {
      expect(alarmOn('ApproximateNumberOfMessagesVisible', { Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }), id).toEqual([
        expect.objectContaining({ Namespace: 'AWS/SQS', Statistic: 'Maximum', Threshold: 1 }),
      ]);
    }
  });

  it("alarms on the stream processor's iterator age over a minute (3 of 5 minutes)", () => {
    const [streamId] = resourceAt(template, 'AWS::Lambda::Function', 'Berth/TaskStream/Handler/');
    expect(alarmOn('IteratorAge', { Name: 'FunctionName', Value: { Ref: streamId } })).toEqual([
      expect.objectContaining({ Statistic: 'Maximum', Period: 60, Threshold: 60_000, EvaluationPeriods: 5, DatapointsToAlarm: 3 }),
    ]);
  });

  it('alarms on service loop executions that failed, timed out or were aborted', () => {
    const [machineId] = resourceAt(template, 'AWS::StepFunctions::StateMachine', 'Berth/ServiceScheduler/');
    const loop = alarms().find((a) => a.Metrics?.some((m: any) => m.Expression === 'failed + timedOut + aborted'));
    expect(loop).toBeDefined();
    const names = loop!.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.MetricName).sort();
    expect(names).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
    expect(JSON.stringify(loop!.Metrics)).toContain(JSON.stringify({ Ref: machineId }));
  });

  it('notifies the alarm topic on alarm and on OK', () => {
    const [topicId] = resourceAt(template, 'AWS::SNS::Topic', 'Platform/OnCall/');
    expect(alarms()).toHaveLength(8 * 2 + 4 + 2);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
    }
    expect(berth.operations.alarms).toHaveLength(22);
  });

  it("has a dashboard with Berth's own metrics, the API, the loops, the queues and every alarm", () => {
    const [, dashboard] = resourceAt(template, 'AWS::CloudWatch::Dashboard', 'Berth/Operations/');
    expect(dashboard.Properties.DashboardName).toBe('berth-ops');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of ['TasksLaunched', 'PlacementFailures', 'EventsPublished', 'EventsFailed', 'StreamLag', 'IteratorAge', 'ExecutionsFailed', 'ApproximateNumberOfMessagesVisible', '5XXError']) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('alarm');
    expect(body.match(/Berth\\"/g)?.length ?? 0).toBeGreaterThan(0);
  });

  it('has no alarm actions without a topic', () => {
    const { template: plain } = embed();
    for (const alarm of Object.values(plain.findResources('AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toBeUndefined();
  });

  it('grants no wildcard IAM action anywhere, and passes cdk-nag', () => {
    const actions = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).flatMap((st) => [st.Action].flat()),
    );
    expect(actions.length).toBeGreaterThan(20);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(describeViolations(nagViolations(stack))).toEqual([]);
  });
});

describe('docs/embedding.md: the example app', () => {
  const page = readFileSync(join(PROJECT_ROOT, 'docs', 'embedding.md'), 'utf8');
  const example = readFileSync(join(PROJECT_ROOT, 'docs', 'examples', 'embedding.ts'), 'utf8');

  it('shows docs/examples/embedding.ts exactly, importing Berth by its package name', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(page)?.[1];
    expect(block).toBe(example.replace("from '../../lib/berth'", "from 'berth/lib/berth'"));
  });

  it('synthesizes: Berth on the existing bus (no new bus), its API on ecs.example.com with an alias record', () => {
    const { app, dispose } = tempApp({ bundle: false, cfnValidate: false });
    disposers.push(dispose);
    // The account and region of the example's ARNs.
    const stack = new PlatformStack(app, 'Platform', { env: { account: '123456789012', region: 'eu-west-1' } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::EventBus', 0);
    const [, archive] = resourceAt(template, 'AWS::Events::Archive', 'Berth/Archive');
    expect(archive.Properties.RetentionDays).toBe(14);
    expect(JSON.stringify(archive.Properties.SourceArn)).toMatch(/:event-bus\/platform-events"/);
    template.hasResourceProperties('AWS::ApiGateway::DomainName', { DomainName: 'ecs.example.com' });
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'ecs.example.com.', Type: 'A' });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ 'detail-type': ['ECS Deployment State Change'] }),
      Targets: [Match.objectLike({ Arn: 'arn:aws:sqs:eu-west-1:123456789012:oncall-deployments' })],
    });
    expect(stack.berth.endpoint).toBe('https://ecs.example.com/');
    expect(describeViolations(nagViolations(stack))).toEqual([]);
  });
});
