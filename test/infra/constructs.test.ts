// The reusable constructs' props: defaults, options and validation. A stand-in handler
// (fixtures/echo-handler.ts) keeps bundling to milliseconds and independent of src/.
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { afterEach, describe, expect, it } from 'vitest';
import { BerthFunction } from '../../lib/constructs/berth-function';
import { BerthTable } from '../../lib/constructs/berth-table';
import { EcsApi, type EcsApiProps } from '../../lib/constructs/ecs-api';
import { BerthStatefulStack } from '../../lib/stacks/stateful-stack';
import { describeViolations, nagViolations, tempApp } from './app-fixture';

const ECHO = 'test/infra/fixtures/echo-handler.ts';
const disposers: Array<() => void> = [];
afterEach(() => disposers.splice(0).forEach((dispose) => dispose()));

const env = { account: '111122223333', region: 'us-east-1' };

function newApp(): App {
  const { app, dispose } = tempApp();
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

  it('defaults to 512 MB and 30 s, and may write only to its own log group', () => {
    const stack = newStack();
    new BerthFunction(stack, 'F', { entry: ECHO });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 30 });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('FLogGroup'), 'Arn'] },
          },
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
