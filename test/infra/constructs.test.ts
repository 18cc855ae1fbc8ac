// The reusable constructs' props: defaults, options and validation. A stand-in handler
// (fixtures/echo-handler.ts) keeps them independent of src/, and these apps skip bundling and the
// CDK's built-in CloudFormation validation (the stacks suite and the cdklocal synth run both).
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { afterEach, describe, expect, it } from 'vitest';
import { BerthFunction } from '../../lib/constructs/berth-function';
import { BerthTable } from '../../lib/constructs/berth-table';
import { CapacitySweep } from '../../lib/constructs/capacity-sweep';
import { EcsApi, type EcsApiProps } from '../../lib/constructs/ecs-api';
import { SpotInterruptionHandler } from '../../lib/constructs/spot-interruption-handler';
import { StoppedTaskFailureLog, type StoppedTaskFailureLogProps } from '../../lib/constructs/stopped-task-failure-log';
import { TaskStreamProcessor, type TaskStreamProcessorProps } from '../../lib/constructs/task-stream-processor';
import { BerthStatefulStack } from '../../lib/stacks/stateful-stack';
import { acknowledgedRules, describeViolations, nagViolations, tempApp } from './app-fixture';

const ECHO = 'test/infra/fixtures/echo-handler.ts';
const disposers: Array<() => void> = [];
afterEach(() => disposers.splice(0).forEach((dispose) => dispose()));

const env = { account: '111122223333', region: 'us-east-1' };

function newApp(): App {
  const { app, dispose } = tempApp({ bundle: false, cfnValidate: false });
  disposers.push(dispose);
  return app;
}

function newStack(): Stack {
  return new Stack(newApp(), 'Test', { env });
}

function ecsApi(overrides: Partial<EcsApiProps> = {}): { stack: Stack; api: EcsApi } {
  const app = newApp();
  const state = new BerthStatefulStack(app, 'State', { env });
  const stack = new Stack(app, 'Api', { env });
  const api = new EcsApi(stack, 'EcsApi', {
    table: state.table,
    eventBus: state.eventBus,
    entry: ECHO,
    ...overrides,
  });
  return { stack, api };
}

/** A stateful stack (table with stream, bus) and a stack for the construct under test. */
function stateAndStack(): { state: BerthStatefulStack; stack: Stack } {
  const app = newApp();
  return { state: new BerthStatefulStack(app, 'State', { env }), stack: new Stack(app, 'Cp', { env }) };
}

function taskStream(overrides: Partial<TaskStreamProcessorProps> = {}): { stack: Stack; processor: TaskStreamProcessor } {
  const { state, stack } = stateAndStack();
  const processor = new TaskStreamProcessor(stack, 'TaskStream', {
    table: state.table,
    eventBus: state.eventBus,
    entry: ECHO,
    ...overrides,
  });
  return { stack, processor };
}

function stoppedTaskFailures(overrides: Partial<StoppedTaskFailureLogProps> = {}): Stack {
  const { state, stack } = stateAndStack();
  new StoppedTaskFailureLog(stack, 'Failures', { eventBus: state.eventBus, ...overrides });
  return stack;
}

describe('BerthTable', () => {
  it('uses the customer-managed key it is given, and a given name', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new BerthTable(stack, 'T', { tableName: 'berth-test', encryptionKey: key, deletionProtection: false });
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'berth-test',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      DeletionProtectionEnabled: false,
    });
  });

  it.each(['ab', 'has space', 'x'.repeat(256)])('rejects the table name %j', (tableName) => {
    expect(() => new BerthTable(newStack(), 'T', { tableName })).toThrow(/tableName/);
  });
});

describe('BerthFunction', () => {
  it.each([64, 10241, 512.5])('rejects memorySize %d', (memorySize) => {
    expect(() => new BerthFunction(newStack(), 'F', { entry: ECHO, memorySize })).toThrow(/memorySize/);
  });

  it('rejects an absolute entry (entries are repository-relative)', () => {
    expect(() => new BerthFunction(newStack(), 'F', { entry: '/tmp/handler.ts' })).toThrow(/relative/);
  });

  it('defaults to 512 MB and 30 s, is traced, and may write only to its own log group (and send traces)', () => {
    const stack = newStack();
    new BerthFunction(stack, 'F', { entry: ECHO });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 30, TracingConfig: { Mode: 'Active' } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('FLogGroup'), 'Arn'] },
          },
          // X-Ray has no resource-level permissions for these (acknowledged for cdk-nag with the reason).
          { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
        ],
      },
    });
  });
});

describe('EcsApi', () => {
  it('grants PutEvents on the bus only when asked', () => {
    const { stack } = ecsApi({ grantPutEvents: true });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'events:PutEvents' })]),
      },
    });
  });

  it('passes a custom event source and stage name through', () => {
    const { stack, api } = ecsApi({ eventSource: 'acme.ecs', stageName: 'v1' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BERTH_EVENT_SOURCE: 'acme.ecs' }) },
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'v1' });
    expect(api.stageName).toBe('v1');
  });

  it.each([
    [{ stageName: 'no-dashes' }, /stageName/],
    [{ stageName: '' }, /stageName/],
    [{ eventSource: 'aws.ecs' }, /eventSource/],
    [{ eventSource: '' }, /eventSource/],
  ] as const)('rejects %j', (props, message) => {
    expect(() => ecsApi(props)).toThrow(message);
  });

  it('passes cdk-nag AwsSolutions with its own acknowledgements', () => {
    const { stack } = ecsApi();
    expect(describeViolations(nagViolations(stack.node.root))).toEqual([]);
  });
});

describe('TaskStreamProcessor', () => {
  it('passes the stream tuning through, and always keeps one batch per shard and bisection', () => {
    const { stack } = taskStream({ batchSize: 10, retryAttempts: 2, maxRecordAge: Duration.hours(1) });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 3600,
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('passes a custom event source to the handler', () => {
    const { stack } = taskStream({ eventSource: 'acme.ecs' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BERTH_EVENT_SOURCE: 'acme.ecs' }) },
    });
  });

  it('refuses a table without a stream', () => {
    const { state, stack } = stateAndStack();
    const table = dynamodb.Table.fromTableName(stack, 'NoStream', 'berth-no-stream');
    expect(
      () => new TaskStreamProcessor(stack, 'TaskStream', { table, eventBus: state.eventBus, entry: ECHO }),
    ).toThrow(/stream/);
  });

  it('rejects an aws.* event source', () => {
    expect(() => taskStream({ eventSource: 'aws.ecs' })).toThrow(/eventSource/);
  });
});

describe('CapacitySweep', () => {
  it('runs at the rate it is given', () => {
    const { state, stack } = stateAndStack();
    new CapacitySweep(stack, 'Sweep', { table: state.table, entry: ECHO, every: Duration.minutes(5) });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
  });

  it('tells its function how long a task may wait for capacity', () => {
    const { state, stack } = stateAndStack();
    new CapacitySweep(stack, 'Sweep', { table: state.table, entry: ECHO, capacityWait: Duration.minutes(30) });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BERTH_CAPACITY_WAIT_SECONDS: '1800' }) },
    });
  });

  it('rejects a rate under a minute', () => {
    const { state, stack } = stateAndStack();
    expect(() => new CapacitySweep(stack, 'Sweep', { table: state.table, entry: ECHO, every: Duration.seconds(30) })).toThrow(
      /at least one minute/,
    );
  });
});

describe('StoppedTaskFailureLog', () => {
  it('matches the configured event source and writes to the named log group', () => {
    const template = Template.fromStack(stoppedTaskFailures({ eventSource: 'acme.ecs', logGroupName: '/acme/failures' }));
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['acme.ecs'] }),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/acme/failures' });
  });

  it.each([
    [{ logGroupName: 'has space' }, /logGroupName/],
    [{ logGroupName: '' }, /logGroupName/],
    [{ eventSource: 'aws.ecs' }, /eventSource/],
  ] as const)('rejects %j', (props, message) => {
    expect(() => stoppedTaskFailures(props)).toThrow(message);
  });
});

describe('the event-driven constructs together', () => {
  it('pass cdk-nag AwsSolutions, acknowledging only a DLQ without a DLQ, ListStreams on "*" and the pinned runtime', () => {
    const { state, stack } = stateAndStack();
    new TaskStreamProcessor(stack, 'TaskStream', { table: state.table, eventBus: state.eventBus, entry: ECHO });
    new CapacitySweep(stack, 'Sweep', { table: state.table, entry: ECHO });
    new SpotInterruptionHandler(stack, 'Spot', { table: state.table, entry: ECHO });
    new StoppedTaskFailureLog(stack, 'Failures', { eventBus: state.eventBus });
    expect(describeViolations(nagViolations(stack.node.root))).toEqual([]);
    expect([...acknowledgedRules(stack).keys()].sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-L1',
      'AwsSolutions-SQS3',
    ]);
  });
});
