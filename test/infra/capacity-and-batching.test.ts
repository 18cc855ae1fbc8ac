// The two steady-volume options of docs/cost.md: the table's capacity (on demand, or provisioned with
// target tracking on the table and gsi1) and the stream processor's batching window. Defaults leave
// the template as it was (on demand, no window); overrides reach the table, the index, the scaling
// targets and policies, and the event source mapping; nonsense fails at synth. Bundling and the CDK's
// built-in CloudFormation validation are off (the stacks suite and the cdklocal synth run both).
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addBerthStacks,
  BerthControlPlane,
  BerthTable,
  DEFAULT_PROVISIONED_CAPACITY,
  parseTableCapacity,
  type BerthTableCapacity,
  type ProvisionedCapacity,
} from '../../lib/berth';
import { TaskStreamProcessor } from '../../lib/constructs/task-stream-processor';
import { BerthStatefulStack } from '../../lib/stacks/stateful-stack';
import { TABLE_SCHEMA } from '../../src/adapters/dynamodb/table-schema';
import { describeViolations, nagViolations, resourceAt, tempApp } from './app-fixture';

const ECHO = 'test/infra/fixtures/echo-handler.ts';
const env = { account: '111122223333', region: 'us-east-1' };
const disposers: Array<() => void> = [];
afterEach(() => disposers.splice(0).forEach((dispose) => dispose()));

function newStack(id = 'Test'): Stack {
  const { app, dispose } = tempApp({ bundle: false, cfnValidate: false });
  disposers.push(dispose);
  return new Stack(app, id, { env });
}

function tableTemplate(capacity?: BerthTableCapacity): Template {
  const stack = newStack();
  new BerthTable(stack, 'State', { capacity });
  return Template.fromStack(stack);
}

/** Each scaled dimension of the template: its range and its target tracking policy's target. */
function scaling(template: Template): Record<string, { min: number; max: number; target: number; metric: string; onIndex: boolean }> {
  const policies = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'));
  const result: Record<string, { min: number; max: number; target: number; metric: string; onIndex: boolean }> = {};
  for (const [id, target] of Object.entries(template.findResources('AWS::ApplicationAutoScaling::ScalableTarget'))) {
    const props = target.Properties;
    const policy = policies.filter((p) => p.Properties.ScalingTargetId?.Ref === id);
    expect(policy, `one policy for ${id}`).toHaveLength(1);
    const config = policy[0].Properties.TargetTrackingScalingPolicyConfiguration;
    expect(policy[0].Properties.PolicyType).toBe('TargetTrackingScaling');
    result[props.ScalableDimension] = {
      min: props.MinCapacity,
      max: props.MaxCapacity,
      target: config.TargetValue,
      metric: config.PredefinedMetricSpecification.PredefinedMetricType,
      onIndex: JSON.stringify(props.ResourceId).includes(`/index/${TABLE_SCHEMA.listIndex.name}`),
    };
  }
  return result;
}

const provisioned = (overrides: Partial<ProvisionedCapacity> = {}): ProvisionedCapacity => ({
  mode: 'provisioned',
  writeUnits: { min: 10, max: 500 },
  readUnits: { min: 4, max: 200 },
  ...overrides,
});

describe('BerthTable capacity', () => {
  it('is on demand by default, with no provisioned throughput and nothing to scale', () => {
    for (const template of [tableTemplate(), tableTemplate({ mode: 'on-demand' })]) {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        ProvisionedThroughput: Match.absent(),
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'gsi1', ProvisionedThroughput: Match.absent() })],
      });
      template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
      template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 0);
    }
  });

  it('provisioned: starts the table and gsi1 at their minima, the index taking the table ranges unless given its own', () => {
    const template = tableTemplate(provisioned());
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: Match.absent(), // PROVISIONED is CloudFormation's default, and the CDK leaves it out
      ProvisionedThroughput: { ReadCapacityUnits: 4, WriteCapacityUnits: 10 },
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'gsi1', ProvisionedThroughput: { ReadCapacityUnits: 4, WriteCapacityUnits: 10 } })],
    });
    expect(scaling(template)).toEqual({
      'dynamodb:table:WriteCapacityUnits': { min: 10, max: 500, target: 70, metric: 'DynamoDBWriteCapacityUtilization', onIndex: false },
      'dynamodb:table:ReadCapacityUnits': { min: 4, max: 200, target: 70, metric: 'DynamoDBReadCapacityUtilization', onIndex: false },
      'dynamodb:index:WriteCapacityUnits': { min: 10, max: 500, target: 70, metric: 'DynamoDBWriteCapacityUtilization', onIndex: true },
      'dynamodb:index:ReadCapacityUnits': { min: 4, max: 200, target: 70, metric: 'DynamoDBReadCapacityUtilization', onIndex: true },
    });
  });

  it("provisioned: scales gsi1 within its own ranges, and tracks the utilization it is given on all four", () => {
    const template = tableTemplate(
      provisioned({ indexWriteUnits: { min: 1, max: 50 }, indexReadUnits: { min: 2, max: 60 }, targetUtilizationPercent: 45 }),
    );
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      ProvisionedThroughput: { ReadCapacityUnits: 4, WriteCapacityUnits: 10 },
      GlobalSecondaryIndexes: [Match.objectLike({ ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 1 } })],
    });
    const dims = scaling(template);
    expect(dims['dynamodb:index:WriteCapacityUnits']).toMatchObject({ min: 1, max: 50, target: 45 });
    expect(dims['dynamodb:index:ReadCapacityUnits']).toMatchObject({ min: 2, max: 60, target: 45 });
    expect(dims['dynamodb:table:WriteCapacityUnits']).toMatchObject({ min: 10, max: 500, target: 45 });
    expect(dims['dynamodb:table:ReadCapacityUnits']).toMatchObject({ min: 4, max: 200, target: 45 });
  });

  it("scales through DynamoDB's service-linked role: Berth creates no role for it", () => {
    const template = tableTemplate(provisioned());
    template.resourceCountIs('AWS::IAM::Role', 0);
    for (const target of Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalableTarget'))) {
      expect(JSON.stringify(target.Properties.RoleARN)).toContain('AWSServiceRoleForApplicationAutoScaling_DynamoDBTable');
    }
  });

  it.each<[string, BerthTableCapacity, RegExp]>([
    ['min above max', provisioned({ writeUnits: { min: 20, max: 10 } }), /writeUnits\.min \(20\) must not exceed its max \(10\)/],
    ['min under 1', provisioned({ readUnits: { min: 0, max: 10 } }), /readUnits\.min must be at least 1/],
    ["the index's min above its max", provisioned({ indexWriteUnits: { min: 5, max: 4 } }), /indexWriteUnits\.min \(5\) must not exceed/],
    ["the index's min under 1", provisioned({ indexReadUnits: { min: -1, max: 4 } }), /indexReadUnits\.min must be at least 1/],
    ['a fraction of a unit', provisioned({ writeUnits: { min: 1.5, max: 10 } }), /writeUnits\.min must be a whole number/],
    ['a missing range', { mode: 'provisioned', writeUnits: { min: 1, max: 2 } } as ProvisionedCapacity, /readUnits must be \{ min, max \}/],
    ['utilization under 20', provisioned({ targetUtilizationPercent: 19 }), /targetUtilizationPercent must be between 20 and 90, got 19/],
    ['utilization over 90', provisioned({ targetUtilizationPercent: 95 }), /targetUtilizationPercent must be between 20 and 90, got 95/],
    ['an unknown mode', { mode: 'reserved' } as unknown as BerthTableCapacity, /capacity\.mode must be 'on-demand' or 'provisioned'/],
  ])('refuses %s at synth', (_name, capacity, message) => {
    expect(() => new BerthTable(newStack(), 'State', { capacity })).toThrow(message);
  });

  it('accepts the bounds of the utilization range and a fixed capacity (min = max)', () => {
    for (const targetUtilizationPercent of [20, 90]) {
      expect(scaling(tableTemplate(provisioned({ targetUtilizationPercent })))['dynamodb:table:WriteCapacityUnits'].target).toBe(targetUtilizationPercent);
    }
    expect(scaling(tableTemplate(provisioned({ writeUnits: { min: 7, max: 7 } })))['dynamodb:table:WriteCapacityUnits']).toMatchObject({ min: 7, max: 7 });
  });

  it('passes cdk-nag AwsSolutions provisioned as on demand', () => {
    for (const capacity of [undefined, DEFAULT_PROVISIONED_CAPACITY]) {
      const stack = newStack();
      new BerthTable(stack, 'State', { capacity });
      expect(describeViolations(nagViolations(stack))).toEqual([]);
    }
  });
});

describe('-c berth:tableCapacity (parseTableCapacity)', () => {
  it.each<[string, BerthTableCapacity]>([
    ['on-demand', { mode: 'on-demand' }],
    ['{"mode":"on-demand"}', { mode: 'on-demand' }],
    ['provisioned', DEFAULT_PROVISIONED_CAPACITY],
    [' provisioned ', DEFAULT_PROVISIONED_CAPACITY],
    [
      '{"mode":"provisioned","writeUnits":{"min":50,"max":8000},"targetUtilizationPercent":60}',
      { ...DEFAULT_PROVISIONED_CAPACITY, writeUnits: { min: 50, max: 8000 }, targetUtilizationPercent: 60 },
    ],
  ])('reads %s', (value, expected) => {
    expect(parseTableCapacity(value)).toEqual(expected);
  });

  it.each([
    ['provisionned', /on-demand, provisioned or a JSON object/],
    ['[1,2]', /on-demand, provisioned or a JSON object/],
    ['{"mode":"fast"}', /mode must be on-demand or provisioned, got "fast"/],
    ['{"writeUnits":{"min":1,"max":2}}', /mode must be on-demand or provisioned, got undefined/],
    ['{"mode":"provisioned","writeUnit":{"min":1,"max":2}}', /unknown fields writeUnit/],
    ['{"mode":"on-demand","writeUnits":{"min":1,"max":2}}', /on-demand takes no other fields/],
  ])('refuses %s', (value, message) => {
    expect(() => parseTableCapacity(value)).toThrow(message);
  });

  it('defaults to floors of 5 units on the table and 1 on the index, tracking 70%, and a BerthTable accepts them', () => {
    expect(DEFAULT_PROVISIONED_CAPACITY).toEqual({
      mode: 'provisioned',
      writeUnits: { min: 5, max: 4000 },
      readUnits: { min: 5, max: 4000 },
      indexWriteUnits: { min: 1, max: 1000 },
      indexReadUnits: { min: 1, max: 1000 },
      targetUtilizationPercent: 70,
    });
    expect(Object.keys(scaling(tableTemplate(parseTableCapacity('provisioned'))))).toHaveLength(4);
  });

  it('hands a JSON range to the table, which refuses min > max at synth', () => {
    expect(() => new BerthTable(newStack(), 'State', { capacity: parseTableCapacity('{"mode":"provisioned","readUnits":{"min":9,"max":3}}') })).toThrow(
      /readUnits\.min \(9\) must not exceed its max \(3\)/,
    );
  });
});

describe('TaskStreamProcessor maxBatchingWindow', () => {
  function mapping(maxBatchingWindow?: Duration): Record<string, unknown> {
    const { app, dispose } = tempApp({ bundle: false, cfnValidate: false });
    disposers.push(dispose);
    const state = new BerthStatefulStack(app, 'State', { env });
    const stack = new Stack(app, 'Cp', { env });
    new TaskStreamProcessor(stack, 'TaskStream', { table: state.table, eventBus: state.eventBus, entry: ECHO, maxBatchingWindow });
    return resourceAt(Template.fromStack(stack), 'AWS::Lambda::EventSourceMapping', 'Cp/TaskStream/')[1].Properties;
  }

  it('leaves the window out by default and at 0 (the event source mapping invokes on each poll)', () => {
    expect(mapping()).not.toHaveProperty('MaximumBatchingWindowInSeconds');
    expect(mapping(Duration.seconds(0))).not.toHaveProperty('MaximumBatchingWindowInSeconds');
  });

  it('sets the window it is given, in seconds, beside the batch size', () => {
    expect(mapping(Duration.seconds(2))).toMatchObject({ MaximumBatchingWindowInSeconds: 2, BatchSize: 100 });
    expect(mapping(Duration.minutes(5))).toMatchObject({ MaximumBatchingWindowInSeconds: 300 });
  });

  it.each([Duration.millis(1500), Duration.seconds(301), Duration.minutes(6)])('refuses %s', (window) => {
    expect(() => mapping(window)).toThrow(/maxBatchingWindow must be whole seconds from 0 to 300/);
  });
});

describe('BerthControlPlane: tableCapacity and streamBatchingWindow', () => {
  function embed(props: ConstructorParameters<typeof BerthControlPlane>[2] = {}): Template {
    const stack = newStack('Platform');
    new BerthControlPlane(stack, 'Berth', props);
    return Template.fromStack(stack);
  }

  it('defaults to an on-demand table and no window', () => {
    const template = embed();
    template.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST', StreamSpecification: Match.anyValue() });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    expect(resourceAt(template, 'AWS::Lambda::EventSourceMapping', 'Berth/TaskStream/')[1].Properties).not.toHaveProperty('MaximumBatchingWindowInSeconds');
  });

  it("provisions Berth's table (not the agent channel's connections table) and sets the window", () => {
    const template = embed({ tableCapacity: provisioned(), streamBatchingWindow: Duration.seconds(3) });
    const [, table] = resourceAt(template, 'AWS::DynamoDB::Table', 'Berth/State/Table');
    expect(table.Properties.BillingMode).toBeUndefined();
    expect(table.Properties.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 4, WriteCapacityUnits: 10 });
    const [, connections] = resourceAt(template, 'AWS::DynamoDB::Table', 'Berth/AgentChannel/');
    expect(connections.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Object.keys(scaling(template)).sort()).toEqual([
      'dynamodb:index:ReadCapacityUnits',
      'dynamodb:index:WriteCapacityUnits',
      'dynamodb:table:ReadCapacityUnits',
      'dynamodb:table:WriteCapacityUnits',
    ]);
    expect(resourceAt(template, 'AWS::Lambda::EventSourceMapping', 'Berth/TaskStream/')[1].Properties).toMatchObject({ MaximumBatchingWindowInSeconds: 3 });
  });

  it('refuses tableCapacity with an existing table (it would be ignored)', () => {
    const stack = newStack('Platform');
    const table = dynamodb.Table.fromTableAttributes(stack, 'Existing', {
      tableName: 'existing-berth',
      tableStreamArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/existing-berth/stream/2026-01-01T00:00:00.000',
    });
    expect(() => new BerthControlPlane(stack, 'Berth', { table, tableCapacity: provisioned() })).toThrow(/tableCapacity shapes a new table/);
  });

  it('passes cdk-nag AwsSolutions with both options set', () => {
    const stack = newStack('Platform');
    new BerthControlPlane(stack, 'Berth', { tableCapacity: DEFAULT_PROVISIONED_CAPACITY, streamBatchingWindow: Duration.seconds(1) });
    expect(describeViolations(nagViolations(stack))).toEqual([]);
  });
});

describe('addBerthStacks (cdk deploy -c berth:tableCapacity=... -c berth:streamBatchingWindowSeconds=...)', () => {
  it('provisions the stateful stack table and sets the control plane stream window, and passes cdk-nag', () => {
    const { app, dispose } = tempApp({ bundle: false, cfnValidate: false });
    disposers.push(dispose);
    const stacks = addBerthStacks(app, { env, tableCapacity: parseTableCapacity('provisioned'), streamBatchingWindowSeconds: 2 });
    const stateful = Template.fromStack(stacks.stateful);
    stateful.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: Match.absent(), ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } });
    expect(scaling(stateful)['dynamodb:index:WriteCapacityUnits']).toMatchObject({ min: 1, max: 1000, target: 70 });
    const controlPlane = Template.fromStack(stacks.controlPlane);
    controlPlane.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    controlPlane.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumBatchingWindowInSeconds: 2 });
    expect(describeViolations(nagViolations(app))).toEqual([]);
  });

  it('leaves both at their defaults when not given', () => {
    const { app, dispose } = tempApp({ bundle: false, cfnValidate: false });
    disposers.push(dispose);
    const stacks = addBerthStacks(app, { env, nag: false });
    Template.fromStack(stacks.stateful).hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST' });
    Template.fromStack(stacks.stateful).resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    expect(resourceAt(Template.fromStack(stacks.controlPlane), 'AWS::Lambda::EventSourceMapping', 'TaskStream/')[1].Properties).not.toHaveProperty(
      'MaximumBatchingWindowInSeconds',
    );
  });
});
