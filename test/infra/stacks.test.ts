// What Berth deploys, asserted by intent on the two stacks bin/berth.ts builds (through the same
// addBerthStacks). The app is synthesized once (bundling lambdas/api.ts once) and shared.
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBerthStacks, type BerthStacks } from '../../lib/berth';
import { TABLE_SCHEMA } from '../../src/adapters/dynamodb/table-schema';
import { acknowledgedRules, describeViolations, nagViolations, tempApp } from './app-fixture';

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
}, 120_000);

afterAll(() => fixture?.dispose());

/** The import of a stateful-stack export, whatever CDK names it. */
const anImport = { 'Fn::ImportValue': Match.stringLikeRegexp('^Berth-Stateful:') };

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

  it('has the listing index gsi1 (gsi1pk/gsi1sk, ALL projection)', () => {
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
          Projection: { ProjectionType: 'ALL' },
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
});

describe('Berth-ControlPlane: the API function', () => {
  it('is one Node.js 22 arm64 function with the ESM bundle handler', () => {
    controlPlane.resourceCountIs('AWS::Lambda::Function', 1);
    controlPlane.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 29,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    });
  });

  it('gets the table, account, region, event source and bus through the environment', () => {
    controlPlane.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          BERTH_TABLE_NAME: anImport,
          BERTH_ACCOUNT_ID: ACCOUNT,
          BERTH_REGION: REGION,
          BERTH_EVENT_SOURCE: 'berth.ecs',
          BERTH_EVENT_BUS_NAME: anImport,
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it('logs to its own log group with a retention, not to an implicit never-expiring one', () => {
    controlPlane.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('HandlerLogGroup') } },
    });
    controlPlane.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
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

  it('has no wildcard resources, no Scan, no PutEvents (events come from the stream) and no managed policy', () => {
    const statements = Object.values(controlPlane.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
    );
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions.filter((a) => a.startsWith('events:'))).toEqual([]);
    expect(JSON.stringify(statements.map((s) => s.Resource))).not.toMatch(/"\*"|\/\*"/);

    const roles = controlPlane.findResources('AWS::IAM::Role');
    const lambdaRoles = Object.values(roles).filter((role) =>
      JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
    );
    expect(lambdaRoles).toHaveLength(1);
    expect(lambdaRoles[0].Properties.ManagedPolicyArns).toBeUndefined();
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
    controlPlane.resourceCountIs('AWS::Lambda::Permission', 2);
    controlPlane.allResourcesProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      SourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: Match.stringLikeRegexp('DeploymentStageprod') }])] },
    });
    expect(JSON.stringify(controlPlane.findResources('AWS::Lambda::Permission'))).not.toContain('test-invoke-stage');
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

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding, error or warning', () => {
    expect(describeViolations(nagViolations(fixture.app))).toEqual([]);
  });

  it('acknowledges exactly the deliberate findings, each with a reason', () => {
    const acknowledged = acknowledgedRules(fixture.app);
    expect([...acknowledged.keys()].sort()).toEqual([
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG3',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'AwsSolutions-L1',
    ]);
    for (const reason of acknowledged.values()) expect(reason.length).toBeGreaterThan(40);
  });

  it('leaves no CDK error annotations on either stack', () => {
    expect(Annotations.fromStack(stacks.stateful).findError('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stacks.controlPlane).findError('*', Match.anyValue())).toEqual([]);
  });
});
