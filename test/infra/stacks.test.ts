// What Berth deploys, asserted by intent on the two stacks bin/berth.ts builds (through the same
// addBerthStacks). The app is synthesized once (bundling the seven lambdas/*.ts handlers once) and
// shared by every test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBerthStacks, type BerthStacks } from '../../lib/berth';
import { PROJECT_ROOT } from '../../lib/constructs/paths';
import { TABLE_SCHEMA } from '../../src/adapters/dynamodb/table-schema';
import {
  acknowledgedRules,
  describeViolations,
  nagViolations,
  resourceAt,
  resourcesAt,
  statementsAt,
  tempApp,
  type Statement,
} from './app-fixture';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

let fixture: ReturnType<typeof tempApp>;
let stacks: BerthStacks;
let stateful: Template;
let controlPlane: Template;

beforeAll(() => {
  fixture = tempApp();
  stacks = addBerthStacks(fixture.app, { env: { account: ACCOUNT, region: REGION } });
  // Synthesizes the app, running the cdk-nag validation plugin: an unacknowledged finding throws here.
  stateful = Template.fromStack(stacks.stateful);
  controlPlane = Template.fromStack(stacks.controlPlane);
}, 300_000);

afterAll(() => fixture?.dispose());

/** The import of a stateful-stack export, whatever CDK names it. */
const anImport = { 'Fn::ImportValue': Match.stringLikeRegexp('^Berth-Stateful:') };

/** The construct paths of the seven functions in Berth-ControlPlane. */
const FUNCTIONS = {
  api: 'Berth-ControlPlane/Default/EcsApi/Handler/',
  taskStream: 'Berth-ControlPlane/Default/TaskStream/Handler/',
  capacitySweep: 'Berth-ControlPlane/Default/CapacitySweep/Handler/',
  spotInterruption: 'Berth-ControlPlane/Default/SpotInterruption/Handler/',
  serviceReconcile: 'Berth-ControlPlane/Default/ServiceScheduler/ReconcileFunction/',
  servicePark: 'Berth-ControlPlane/Default/ServiceScheduler/ParkFunction/',
  scheduledRun: 'Berth-ControlPlane/Default/ScheduledRuns/Handler/',
  agentChannel: 'Berth-ControlPlane/Default/AgentChannel/Handler/',
} as const;
/** The liveness bound the agent channel's heartbeat (8 minutes) sets: two heartbeats and two minutes. */
const AGENT_TIMEOUT_SECONDS = '1080';

const X_RAY_STATEMENT = { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' };

const functionAt = (path: string) => resourceAt(controlPlane, 'AWS::Lambda::Function', path);
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());
const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
];

/** Every function may read and write the table's items and query gsi1, on the table by ARN. */
function expectTableGrants(statements: Statement[]): void {
  expect(statements).toContainEqual(
    expect.objectContaining({ Effect: 'Allow', Action: expect.arrayContaining(TABLE_ACTIONS) }),
  );
  const items = statements.find((s) => [s.Action].flat().includes('dynamodb:PutItem'))!;
  expect(JSON.stringify(items.Resource)).toMatch(/StateTable.*Arn/);
  const index = statements.find((s) => s.Action === 'dynamodb:Query')!;
  expect(JSON.stringify(index.Resource)).toMatch(/\/index\/gsi1/);
  expect(actionsOf(statements)).not.toContain('dynamodb:Scan');
}

/** The Lambda permission that lets EventBridge invoke `functionPath` from the rule `rulePath`. */
function expectInvokedByRule(functionPath: string, rulePath: string): void {
  const [functionId] = functionAt(functionPath);
  const [ruleId] = resourceAt(controlPlane, 'AWS::Events::Rule', rulePath);
  const permissions = resourcesAt(controlPlane, 'AWS::Lambda::Permission', rulePath);
  expect(permissions.map(([, p]) => p.Properties)).toEqual([
    {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    },
  ]);
}

describe('Berth-Stateful', () => {
  it('names the stacks as the CLI addresses them', () => {
    expect(stacks.stateful.stackName).toBe('Berth-Stateful');
    expect(stacks.controlPlane.stackName).toBe('Berth-ControlPlane');
    expect(stacks.controlPlane.dependencies).toContain(stacks.stateful);
  });

  it('has one table keyed by the shared TABLE_SCHEMA (pk/sk strings), on demand, name left to CloudFormation', () => {
    stateful.resourceCountIs('AWS::DynamoDB::Table', 1);
    stateful.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    stateful.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
      TableName: Match.absent(),
    });
  });

  it('has the listing index gsi1 (gsi1pk/gsi1sk, projecting only what its readers use: no counters, no versions)', () => {
    stateful.hasResourceProperties('AWS::DynamoDB::Table', {
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['kind', 'doc', 'status', 'family', 'activeRevisionCount'] },
        },
      ],
    });
  });

  it('expires items by expiresAt and streams NEW_AND_OLD_IMAGES (the outbox)', () => {
    stateful.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('protects the data: PITR, encryption at rest with the AWS-managed key, deletion protection, RETAIN', () => {
    stateful.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() },
        DeletionProtectionEnabled: true,
      }),
    });
  });

  it('has the event bus berth', () => {
    stateful.resourceCountIs('AWS::Events::EventBus', 1);
    stateful.hasResourceProperties('AWS::Events::EventBus', { Name: 'berth' });
  });

  it('outputs the table name, its stream ARN and the bus name for operators', () => {
    stateful.hasOutput('TableName', { Value: { Ref: Match.stringLikeRegexp('StateTable') } });
    stateful.hasOutput('TableStreamArn', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('StateTable'), 'StreamArn'] } });
    stateful.hasOutput('EventBusName', { Value: { Ref: Match.stringLikeRegexp('EventBus') } });
  });

  it('outputs the bus ARN for consumers who create rules on it', () => {
    stateful.hasOutput('EventBusArn', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventBus'), 'Arn'] } });
  });
});

describe('Berth-ControlPlane: the BerthControlPlane construct inside', () => {
  it('is the construct, at the id CDK leaves out of logical ids', () => {
    expect(stacks.controlPlane.berth.node.path).toBe('Berth-ControlPlane/Default');
    expect(stacks.controlPlane.berth.table).toBe(stacks.stateful.table);
    expect(stacks.controlPlane.berth.eventBus).toBe(stacks.stateful.eventBus);
  });

  it('keeps the logical id of every resource both stacks had before the construct, so `cdk deploy` updates in place', () => {
    const before = JSON.parse(readFileSync(join(PROJECT_ROOT, 'test', 'infra', 'fixtures', 'control-plane-logical-ids.json'), 'utf8')) as {
      controlPlane: string[];
      stateful: string[];
    };
    expect(Object.keys(controlPlane.toJSON().Resources)).toEqual(expect.arrayContaining(before.controlPlane));
    expect(Object.keys(stateful.toJSON().Resources)).toEqual(expect.arrayContaining(before.stateful));
  });

  it("archives the Berth bus's berth.ecs events for 30 days (replay: docs/events.md)", () => {
    const [, archive] = resourceAt(controlPlane, 'AWS::Events::Archive', 'Berth-ControlPlane/Default/Archive/');
    expect(archive.Properties).toMatchObject({
      SourceArn: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/EventBus.*Arn/) }),
      EventPattern: { source: ['berth.ecs'] },
      RetentionDays: 30,
    });
  });
});

describe('Berth-ControlPlane: every function', () => {
  it("has eight functions: the API, the task stream processor, the capacity sweep, the Spot handler, the scheduled run, the service loop's two steps and the agent channel", () => {
    controlPlane.resourceCountIs('AWS::Lambda::Function', 8);
    for (const path of Object.values(FUNCTIONS)) expect(() => functionAt(path)).not.toThrow();
  });

  it('runs Node.js 22 on arm64 from an ESM bundle, logging JSON to its own log group', () => {
    for (const path of Object.values(FUNCTIONS)) {
      const [, fn] = functionAt(path);
      const [logGroupId] = resourceAt(controlPlane, 'AWS::Logs::LogGroup', `${path}LogGroup`);
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: logGroupId } },
      });
    }
  });

  it('keeps every log group for 30 days, not forever', () => {
    controlPlane.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('has its own role, with no managed policy, that may write only to its own log group among logs', () => {
    const lambdaRoles = Object.values(controlPlane.findResources('AWS::IAM::Role')).filter((role) =>
      JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
    );
    expect(lambdaRoles).toHaveLength(8);
    for (const role of lambdaRoles) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    for (const path of Object.values(FUNCTIONS)) {
      const [logGroupId] = resourceAt(controlPlane, 'AWS::Logs::LogGroup', `${path}LogGroup`);
      const logs = statementsAt(controlPlane, path).filter((s) => actionsOf([s]).some((a) => a.startsWith('logs:')));
      expect(logs).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        },
      ]);
    }
  });

  it('is traced by X-Ray (Powertools tracer), which has no resource-level permissions', () => {
    for (const path of Object.values(FUNCTIONS)) {
      expect(functionAt(path)[1].Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(statementsAt(controlPlane, path)).toContainEqual(X_RAY_STATEMENT);
    }
  });

  it('grants no wildcard IAM action anywhere', () => {
    const actions = Object.values(controlPlane.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).flatMap((st) => [st.Action].flat()),
    );
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
  });

  it('may read and write items of the table and query gsi1, and never Scan (but Park, which only updates the loop item)', () => {
    for (const path of Object.values(FUNCTIONS)) if (path !== FUNCTIONS.servicePark) expectTableGrants(statementsAt(controlPlane, path));
  });

  it('creates no custom resources (and so no helper Lambda functions)', () => {
    expect(JSON.stringify(controlPlane.toJSON().Resources)).not.toMatch(/"Type":"(Custom::|AWS::CloudFormation::CustomResource)/);
  });
});

describe('Berth-ControlPlane: the API function', () => {
  it('gives up after 29 s, when API Gateway does', () => {
    expect(functionAt(FUNCTIONS.api)[1].Properties.Timeout).toBe(29);
  });

  it('gets the table, account, region, event source and bus through the environment', () => {
    expect(functionAt(FUNCTIONS.api)[1].Properties.Environment).toEqual({
      Variables: {
        BERTH_TABLE_NAME: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/^Berth-Stateful:/) }),
        BERTH_ACCOUNT_ID: ACCOUNT,
        BERTH_REGION: REGION,
        BERTH_EVENT_SOURCE: 'berth.ecs',
        BERTH_EVENT_BUS_NAME: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/^Berth-Stateful:/) }),
        BERTH_AGENT_TIMEOUT_SECONDS: AGENT_TIMEOUT_SECONDS,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
  });

  it('may read and write items of the table and query gsi1, nothing wider', () => {
    controlPlane.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: Match.arrayWith([
              'dynamodb:GetItem',
              'dynamodb:Query',
              'dynamodb:PutItem',
              'dynamodb:UpdateItem',
              'dynamodb:DeleteItem',
              'dynamodb:ConditionCheckItem',
            ]),
            Resource: anImport,
          }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'dynamodb:Query',
            Resource: { 'Fn::Join': ['', [anImport, '/index/gsi1']] },
          }),
        ]),
      },
    });
  });

  it('has no wildcard resources but X-Ray\'s, no Scan and no PutEvents (events come from the stream)', () => {
    const statements = statementsAt(controlPlane, FUNCTIONS.api);
    const actions = actionsOf(statements);
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions.filter((a) => a.startsWith('events:'))).toEqual([]);
    const notXRay = statements.filter((s) => !actionsOf([s]).every((a) => a.startsWith('xray:')));
    expect(JSON.stringify(notXRay.map((s) => s.Resource))).not.toMatch(/"\*"|\/\*"/);
  });
});

describe('Berth-ControlPlane: the REST API', () => {
  it('is a regional REST API with exactly POST / and ANY /{proxy+}', () => {
    controlPlane.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    controlPlane.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    controlPlane.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    controlPlane.resourceCountIs('AWS::ApiGateway::Method', 2);
    controlPlane.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      ResourceId: { 'Fn::GetAtt': [Match.stringLikeRegexp('RestApi'), 'RootResourceId'] },
      Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
    });
    controlPlane.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY',
      ResourceId: { Ref: Match.stringLikeRegexp('proxy') },
      Integration: { Type: 'AWS_PROXY' },
    });
  });

  it('requires AWS_IAM (SigV4 for execute-api) on every method', () => {
    controlPlane.allResourcesProperties('AWS::ApiGateway::Method', { AuthorizationType: 'AWS_IAM' });
  });

  it('lets only API Gateway invoke the function, per method on the deployed stage, with no test-invoke permissions', () => {
    const [apiFunctionId] = functionAt(FUNCTIONS.api);
    const permissions = Object.values(controlPlane.findResources('AWS::Lambda::Permission')).filter(
      (p) => JSON.stringify(p.Properties.FunctionName).includes(apiFunctionId),
    );
    expect(permissions).toHaveLength(2);
    for (const permission of permissions) {
      expect(permission.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        SourceArn: { 'Fn::Join': ['', expect.arrayContaining([{ Ref: expect.stringMatching(/DeploymentStageprod/) }])] },
      });
    }
    expect(JSON.stringify(permissions)).not.toContain('test-invoke-stage');
  });

  it('writes JSON access logs with the caller identity, and error-level execution logs without bodies', () => {
    controlPlane.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AccessLogs'), 'Arn'] },
        Format: Match.serializedJson(
          Match.objectLike({ requestId: '$context.requestId', callerArn: '$context.identity.userArn' }),
        ),
      },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          ThrottlingRateLimit: 100,
          ThrottlingBurstLimit: 200,
        }),
      ],
    });
  });

  it('retains the account-level API Gateway CloudWatch role', () => {
    controlPlane.resourceCountIs('AWS::ApiGateway::Account', 1);
    controlPlane.hasResource('AWS::IAM::Role', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })],
        }),
      }),
    });
  });

  it('outputs the endpoint URL, the API id and the stage', () => {
    controlPlane.hasOutput('EcsEndpoint', {
      Value: {
        'Fn::Join': [
          '',
          [
            'https://',
            { Ref: Match.stringLikeRegexp('RestApi') },
            `.execute-api.${REGION}.`,
            { Ref: 'AWS::URLSuffix' },
            '/',
            { Ref: Match.stringLikeRegexp('DeploymentStageprod') },
            '/',
          ],
        ],
      },
    });
    controlPlane.hasOutput('EcsRestApiId', { Value: { Ref: Match.stringLikeRegexp('RestApi') } });
    controlPlane.hasOutput('EcsStageName', { Value: 'prod' });
  });
});

describe('Berth-ControlPlane: the task stream processor', () => {
  it('consumes the table stream from the oldest record, 100 at a time, one batch per shard, resuming at the failed record', () => {
    controlPlane.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    const [functionId] = functionAt(FUNCTIONS.taskStream);
    const [failuresId] = resourceAt(controlPlane, 'AWS::SQS::Queue', 'TaskStream/StreamFailures/');
    const [, mapping] = resourceAt(controlPlane, 'AWS::Lambda::EventSourceMapping', 'TaskStream/');
    expect(mapping.Properties).toEqual({
      EventSourceArn: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/StateTable.*StreamArn/) }),
      FunctionName: { Ref: functionId },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86_400,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failuresId, 'Arn'] } } },
    });
  });

  it('gets the table, account, region, bus, event source, the events dead-letter queue and the service loop through the environment', () => {
    const [eventsDlqId] = resourceAt(controlPlane, 'AWS::SQS::Queue', 'TaskStream/EventsDeadLetter/');
    const [machineId] = resourceAt(controlPlane, 'AWS::StepFunctions::StateMachine', 'ServiceScheduler/');
    const [, fn] = functionAt(FUNCTIONS.taskStream);
    expect(fn.Properties.Environment.Variables).toEqual({
      BERTH_TABLE_NAME: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/RefStateTable/) }),
      BERTH_ACCOUNT_ID: ACCOUNT,
      BERTH_REGION: REGION,
      BERTH_EVENT_BUS_NAME: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/RefEventBus/) }),
      BERTH_EVENT_SOURCE: 'berth.ecs',
      BERTH_EVENTS_DLQ_URL: { Ref: eventsDlqId },
      BERTH_SERVICE_LOOP_STATE_MACHINE_ARN: { Ref: machineId },
      BERTH_AGENT_TIMEOUT_SECONDS: AGENT_TIMEOUT_SECONDS,
      // The agent channel: where to post notifications, and which connection an instance is on.
      BERTH_AGENT_CHANNEL_CALLBACK_URL: expect.objectContaining({ 'Fn::Join': expect.anything() }),
      BERTH_AGENT_CONNECTIONS_TABLE_NAME: { Ref: resourceAt(controlPlane, 'AWS::DynamoDB::Table', 'AgentChannel/Connections')[0] },
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(fn.Properties.Timeout).toBe(60);
  });

  it('may put events on the Berth bus only, and send to its two queues only', () => {
    const statements = statementsAt(controlPlane, FUNCTIONS.taskStream);
    const [eventsDlqId] = resourceAt(controlPlane, 'AWS::SQS::Queue', 'TaskStream/EventsDeadLetter/');
    const [failuresId] = resourceAt(controlPlane, 'AWS::SQS::Queue', 'TaskStream/StreamFailures/');
    const putEvents = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('events:')));
    expect(putEvents).toEqual([
      {
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/EventBus.*Arn/) }),
      },
    ]);
    const sqs = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('sqs:')));
    expect(sqs).toEqual([
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [eventsDlqId, 'Arn'] } },
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Resource: { 'Fn::GetAtt': [failuresId, 'Arn'] },
      },
    ]);
    // No other function may publish events.
    for (const path of [FUNCTIONS.api, FUNCTIONS.capacitySweep, FUNCTIONS.spotInterruption, FUNCTIONS.serviceReconcile, FUNCTIONS.servicePark]) {
      expect(actionsOf(statementsAt(controlPlane, path)).filter((a) => /^(events|sqs):/.test(a))).toEqual([]);
    }
  });

  it('reads this table\'s stream only; ListStreams (granted by the event source) and X-Ray are its "*" resources', () => {
    const statements = statementsAt(controlPlane, FUNCTIONS.taskStream);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
      Resource: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/StateTable.*StreamArn/) }),
    });
    expect(statements.filter((s) => JSON.stringify(s.Resource).match(/"\*"|\/\*"/))).toEqual([
      X_RAY_STATEMENT,
      { Effect: 'Allow', Action: 'dynamodb:ListStreams', Resource: '*' },
      // The agent channel's connections of this API and stage (ids are made at each connect).
      { Effect: 'Allow', Action: 'execute-api:ManageConnections', Resource: expect.objectContaining({ 'Fn::Join': expect.anything() }) },
    ]);
  });

  it('has three dead-letter queues (two here, one for scheduled runs), SSE-SQS encrypted, TLS only, keeping messages 14 days', () => {
    controlPlane.resourceCountIs('AWS::SQS::Queue', 3);
    controlPlane.allResourcesProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    for (const path of ['TaskStream/StreamFailures/', 'TaskStream/EventsDeadLetter/', 'ScheduledRuns/DeadLetter/']) {
      const [queueId] = resourceAt(controlPlane, 'AWS::SQS::Queue', path);
      const [, policy] = resourceAt(controlPlane, 'AWS::SQS::QueuePolicy', path);
      expect(policy.Properties.Queues).toEqual([{ Ref: queueId }]);
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  it('outputs both queue URLs, the function name and its log group for operators', () => {
    const [failuresId] = resourceAt(controlPlane, 'AWS::SQS::Queue', 'TaskStream/StreamFailures/');
    const [eventsDlqId] = resourceAt(controlPlane, 'AWS::SQS::Queue', 'TaskStream/EventsDeadLetter/');
    controlPlane.hasOutput('StreamFailuresQueueUrl', { Value: { Ref: failuresId } });
    controlPlane.hasOutput('EventsDeadLetterQueueUrl', { Value: { Ref: eventsDlqId } });
    controlPlane.hasOutput('TaskStreamFunctionName', { Value: { Ref: functionAt(FUNCTIONS.taskStream)[0] } });
    const [logGroupId] = resourceAt(controlPlane, 'AWS::Logs::LogGroup', `${FUNCTIONS.taskStream}LogGroup`);
    controlPlane.hasOutput('TaskStreamLogGroupName', { Value: { Ref: logGroupId } });
  });
});

describe('Berth-ControlPlane: the capacity sweep', () => {
  it('runs every minute from an EventBridge schedule, without retries (the next run retries)', () => {
    const [functionId, fn] = functionAt(FUNCTIONS.capacitySweep);
    const [, rule] = resourceAt(controlPlane, 'AWS::Events::Rule', 'CapacitySweep/Schedule/');
    expect(rule.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        },
      ],
    });
    expect(rule.Properties.EventBusName).toBeUndefined();
    expectInvokedByRule(FUNCTIONS.capacitySweep, 'CapacitySweep/Schedule/');
    const [, asyncConfig] = resourceAt(controlPlane, 'AWS::Lambda::EventInvokeConfig', 'CapacitySweep/');
    expect(asyncConfig.Properties).toMatchObject({ FunctionName: { Ref: functionId }, MaximumRetryAttempts: 0 });
    // Shorter than the period, so runs rarely overlap.
    expect(fn.Properties.Timeout).toBeLessThan(60);
  });

  it('gets the table, account, region and how long tasks may wait for capacity through the environment', () => {
    expect(functionAt(FUNCTIONS.capacitySweep)[1].Properties.Environment.Variables).toEqual({
      BERTH_TABLE_NAME: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/RefStateTable/) }),
      BERTH_ACCOUNT_ID: ACCOUNT,
      BERTH_REGION: REGION,
      // Five minutes by default: then the sweep stops a waiting task with TaskFailedToStart.
      BERTH_CAPACITY_WAIT_SECONDS: '300',
      BERTH_AGENT_TIMEOUT_SECONDS: AGENT_TIMEOUT_SECONDS,
      NODE_OPTIONS: '--enable-source-maps',
    });
  });
});

describe('Berth-ControlPlane: scheduled runs (EventBridge Scheduler -> RunTask)', () => {
  const scheduledRunsDlq = () => resourceAt(controlPlane, 'AWS::SQS::Queue', 'ScheduledRuns/DeadLetter/');
  const schedulerRole = () => resourceAt(controlPlane, 'AWS::IAM::Role', 'ScheduledRuns/SchedulerRole/');

  it('has the schedule group berth', () => {
    controlPlane.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    controlPlane.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'berth' });
    // Schedules are the users' (BerthScheduledTask), not the control plane's.
    controlPlane.resourceCountIs('AWS::Scheduler::Schedule', 0);
  });

  it('names the function berth-scheduled-run (the ARN local mode recognizes) and gives it the table, account and region', () => {
    const [, fn] = functionAt(FUNCTIONS.scheduledRun);
    expect(fn.Properties.FunctionName).toBe('berth-scheduled-run');
    expect(fn.Properties.Environment.Variables).toEqual({
      BERTH_TABLE_NAME: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/RefStateTable/) }),
      BERTH_ACCOUNT_ID: ACCOUNT,
      BERTH_REGION: REGION,
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('retries a failed run twice within an hour (Scheduler invokes Lambda asynchronously), then sends it to the dead-letter queue', () => {
    const [functionId] = functionAt(FUNCTIONS.scheduledRun);
    const [dlqId] = scheduledRunsDlq();
    const [, asyncConfig] = resourceAt(controlPlane, 'AWS::Lambda::EventInvokeConfig', 'ScheduledRuns/');
    expect(asyncConfig.Properties).toEqual({
      FunctionName: { Ref: functionId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
    const sqs = statementsAt(controlPlane, FUNCTIONS.scheduledRun).filter((s) => actionsOf([s]).some((a) => a.startsWith('sqs:')));
    expect(sqs).toEqual([
      { Effect: 'Allow', Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], Resource: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
    ]);
  });

  it('has a scheduler execution role that only Scheduler may assume, for schedules of this account in group berth', () => {
    const [, role] = schedulerRole();
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
          ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:scheduler:${REGION}:${ACCOUNT}:schedule/berth/*`]] } },
        },
      },
    ]);
  });

  it('lets that role invoke the scheduled-run function and write to its dead-letter queue, and nothing else', () => {
    const [functionId] = functionAt(FUNCTIONS.scheduledRun);
    const [dlqId] = scheduledRunsDlq();
    expect(statementsAt(controlPlane, 'ScheduledRuns/SchedulerRole/')).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [functionId, 'Arn'] } },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
    ]);
    // Scheduler invokes through the role: no resource policy opens the function to anyone.
    const permissions = Object.values(controlPlane.findResources('AWS::Lambda::Permission')).filter((p) =>
      JSON.stringify(p.Properties.FunctionName).includes(functionId),
    );
    expect(permissions).toEqual([]);
  });

  it('outputs what a schedule in another app needs: the function ARN, the role ARN, the group and the dead-letter queue', () => {
    const [functionId] = functionAt(FUNCTIONS.scheduledRun);
    const [dlqId] = scheduledRunsDlq();
    const [roleId] = schedulerRole();
    const [groupId] = resourceAt(controlPlane, 'AWS::Scheduler::ScheduleGroup', 'ScheduledRuns/');
    controlPlane.hasOutput('ScheduledRunFunctionArn', { Value: { 'Fn::GetAtt': [functionId, 'Arn'] } });
    controlPlane.hasOutput('SchedulerRoleArn', { Value: { 'Fn::GetAtt': [roleId, 'Arn'] } });
    controlPlane.hasOutput('ScheduleGroupName', { Value: { Ref: groupId } });
    controlPlane.hasOutput('ScheduledRunDeadLetterQueueArn', { Value: { 'Fn::GetAtt': [dlqId, 'Arn'] } });
    controlPlane.hasOutput('ScheduledRunDeadLetterQueueUrl', { Value: { Ref: dlqId } });
  });
});

describe('Berth-ControlPlane: the Spot interruption rule', () => {
  it('sends EC2 Spot Instance Interruption Warnings from the default bus to the Spot handler', () => {
    const [functionId] = functionAt(FUNCTIONS.spotInterruption);
    const [, rule] = resourceAt(controlPlane, 'AWS::Events::Rule', 'SpotInterruption/Rule/');
    expect(rule.Properties.EventBusName).toBeUndefined();
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ec2'],
      'detail-type': ['EC2 Spot Instance Interruption Warning'],
    });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 300 },
      }),
    ]);
    expectInvokedByRule(FUNCTIONS.spotInterruption, 'SpotInterruption/Rule/');
  });

  it('gets the table, account and region through the environment', () => {
    expect(functionAt(FUNCTIONS.spotInterruption)[1].Properties.Environment.Variables).toEqual({
      BERTH_TABLE_NAME: expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/RefStateTable/) }),
      BERTH_ACCOUNT_ID: ACCOUNT,
      BERTH_REGION: REGION,
      BERTH_AGENT_TIMEOUT_SECONDS: AGENT_TIMEOUT_SECONDS,
      NODE_OPTIONS: '--enable-source-maps',
    });
  });
});

describe('Berth-ControlPlane: the example consumer rule (failed stopped tasks -> a log group)', () => {
  it('matches task state changes from berth.ecs that STOPPED with EssentialContainerExited or TaskFailedToStart, on the Berth bus', () => {
    const [, rule] = resourceAt(controlPlane, 'AWS::Events::Rule', 'StoppedTaskFailures/Rule/');
    expect(rule.Properties.EventBusName).toEqual(
      expect.objectContaining({ 'Fn::ImportValue': expect.stringMatching(/RefEventBus/) }),
    );
    expect(rule.Properties.EventPattern).toEqual({
      source: ['berth.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: { lastStatus: ['STOPPED'], stopCode: ['EssentialContainerExited', 'TaskFailedToStart'] },
    });
  });

  it('writes the whole event to /berth/stopped-task-failures, whose resource policy admits EventBridge', () => {
    const [logGroupId, logGroup] = resourceAt(controlPlane, 'AWS::Logs::LogGroup', 'StoppedTaskFailures/');
    expect(logGroup.Properties).toEqual({ LogGroupName: '/berth/stopped-task-failures', RetentionInDays: 30 });

    const [policyId, policy] = resourceAt(controlPlane, 'AWS::Logs::ResourcePolicy', 'StoppedTaskFailures/');
    // The document is an Fn::Join of JSON text around the log group's ARN: put a marker in its place.
    const [, parts] = policy.Properties.PolicyDocument['Fn::Join'] as [string, unknown[]];
    const text = parts
      .map((part) => (typeof part === 'string' ? part : JSON.stringify(part) === JSON.stringify({ 'Fn::GetAtt': [logGroupId, 'Arn'] }) ? 'LOG_GROUP_ARN' : 'OTHER'))
      .join('');
    expect(JSON.parse(text).Statement).toEqual([
      {
        Sid: 'EventBridgeDelivers',
        Effect: 'Allow',
        Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] },
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: 'LOG_GROUP_ARN',
      },
    ]);

    const [, rule] = resourceAt(controlPlane, 'AWS::Events::Rule', 'StoppedTaskFailures/Rule/');
    expect(rule.Properties.Targets).toHaveLength(1);
    const target = rule.Properties.Targets[0];
    // A log group target is the group's ARN without the trailing ':*', with no input transformation.
    expect(target.Arn).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:logs:${REGION}:${ACCOUNT}:log-group:`, { Ref: logGroupId }]],
    });
    expect(target.Input ?? target.InputPath ?? target.InputTransformer).toBeUndefined();
    // Created after the resource policy, so the first deliveries are allowed.
    expect(rule.DependsOn).toContain(policyId);
    controlPlane.hasOutput('StoppedTaskFailuresLogGroupName', { Value: { Ref: logGroupId } });
  });

  it('is the only rule on the Berth bus (consumers add theirs)', () => {
    const onBus = resourcesAt(controlPlane, 'AWS::Events::Rule', '').filter(([, r]) => r.Properties.EventBusName);
    expect(onBus.map(([, r]) => r.Properties.Description)).toEqual([
      'Berth: tasks that stopped because they failed -> a log group',
    ]);
  });
});

describe('Berth-ControlPlane: operations', () => {
  it('alarms on every function, every dead-letter queue, the iterator age and the service loops, and has a dashboard', () => {
    // 7 functions x (errors, throttles) + 3 queues + iterator age + service loops.
    controlPlane.resourceCountIs('AWS::CloudWatch::Alarm', 8 * 2 + 3 + 2);
    controlPlane.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const [dashboardId] = resourceAt(controlPlane, 'AWS::CloudWatch::Dashboard', 'Berth-ControlPlane/Default/Operations/');
    controlPlane.hasOutput('DashboardName', { Value: { Ref: dashboardId } });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding, error or warning', () => {
    expect(describeViolations(nagViolations(fixture.app))).toEqual([]);
  });

  it('acknowledges exactly the deliberate findings, each with a reason', () => {
    const acknowledged = acknowledgedRules(fixture.app);
    expect([...acknowledged.keys()].sort()).toEqual([
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG3',
      'AwsSolutions-APIG4',
      'AwsSolutions-COG4',
      'AwsSolutions-DDB3',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'AwsSolutions-IAM5[Resource::*]',
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:execute-api:.*\/agents\/POST\/@connections\/\*\]$/),
      'AwsSolutions-L1',
      'AwsSolutions-SQS3',
    ]);
    for (const reason of acknowledged.values()) expect(reason.length).toBeGreaterThan(40);
  });

  it("has no findings in the synth's validation report (CloudFormation Validate, the CDK's schema and rule checks, and cdk-nag)", () => {
    const report = JSON.parse(readFileSync(join(fixture.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations?: Array<{ ruleName: string; description: string }> }>;
    };
    const findings = report.pluginReports.flatMap((plugin) =>
      (plugin.violations ?? []).map((v) => `${plugin.pluginName} ${v.ruleName}: ${v.description}`),
    );
    expect(findings).toEqual([]);
  });

  it('leaves no CDK error annotations on either stack', () => {
    expect(Annotations.fromStack(stacks.stateful).findError('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stacks.controlPlane).findError('*', Match.anyValue())).toEqual([]);
  });
});
