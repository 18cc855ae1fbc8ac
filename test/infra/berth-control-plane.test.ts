// The BerthControlPlane construct embedded in one stack: its props' defaults and overrides, and the
// example app of docs/embedding.md, synthesized exactly as the page shows it. Bundling and the CDK's
// built-in CloudFormation validation are off (the stacks suite and the cdklocal synth run both).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { afterEach, describe, expect, it } from 'vitest';
import { PlatformStack } from '../../docs/examples/embedding';
import { BerthControlPlane, type BerthControlPlaneProps } from '../../lib/berth';
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
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
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
    template.resourceCountIs('AWS::Lambda::Function', 7);
    template.resourceCountIs('AWS::ApiGateway::DomainName', 0);
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
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
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
  ])('refuses %s at synth', (_, props, message) => {
    expect(() => new BerthControlPlane(newStack(), 'Berth', props)).toThrow(message);
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
    const stack = new PlatformStack(app, 'Platform', { env });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::EventBus', 0);
    const [, archive] = resourceAt(template, 'AWS::Events::Archive', 'Berth/Archive');
    expect(archive.Properties.RetentionDays).toBe(14);
    expect(JSON.stringify(archive.Properties.SourceArn)).toMatch(/:event-bus\/platform-events"/);
    template.hasResourceProperties('AWS::ApiGateway::DomainName', { DomainName: 'ecs.example.com' });
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'ecs.example.com.', Type: 'A' });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    expect(stack.berth.endpoint).toBe('https://ecs.example.com/');
    expect(describeViolations(nagViolations(stack))).toEqual([]);
  });
});
