// EcsHttpApi: the ECS API behind an API Gateway HTTP API (docs/api-gateway.md says why).
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterEach, describe, expect, it } from 'vitest';
import { addBerthStacks } from '../../lib/berth';
import { EcsHttpApi, type EcsHttpApiProps } from '../../lib/constructs/ecs-http-api';
import { BerthStatefulStack } from '../../lib/stacks/stateful-stack';
import { describeViolations, nagViolations, tempApp } from './app-fixture';

const ECHO = 'test/infra/fixtures/echo-handler.ts';
const env = { account: '111122223333', region: 'us-east-1' };
const disposers: Array<() => void> = [];
afterEach(() => disposers.splice(0).forEach((dispose) => dispose()));

function httpApi(overrides: Partial<EcsHttpApiProps> = {}): { stack: Stack; api: EcsHttpApi } {
  const { app, dispose } = tempApp({ bundle: false, cfnValidate: false });
  disposers.push(dispose);
  const state = new BerthStatefulStack(app, 'State', { env });
  const stack = new Stack(app, 'Api', { env });
  const api = new EcsHttpApi(stack, 'EcsApi', { table: state.table, eventBus: state.eventBus, entry: ECHO, ...overrides });
  return { stack, api };
}

describe('EcsHttpApi', () => {
  it('routes POST / and ANY /{proxy+} to the handler with IAM authorization and payload format 2.0', () => {
    const template = Template.fromStack(httpApi().stack);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    for (const routeKey of ['POST /', 'ANY /{proxy+}']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationType: 'AWS_IAM' });
    }
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 2);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
  });

  it('serves the $default stage, auto-deployed, throttled, with JSON access logs', () => {
    const template = Template.fromStack(httpApi({ throttlingRateLimit: 50, throttlingBurstLimit: 80 }).stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"callerArn":"\\$context.identity.userArn"') },
    });
  });

  it('gives the handler the event source and bus, and no PutEvents unless asked', () => {
    const template = Template.fromStack(httpApi({ eventSource: 'acme.ecs' }).stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ BERTH_EVENT_SOURCE: 'acme.ecs', BERTH_EVENT_BUS_NAME: Match.anyValue() }) },
    });
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).not.toContain('events:PutEvents');
  });

  it('passes cdk-nag AwsSolutions with its own acknowledgements', () => {
    const { stack } = httpApi();
    expect(describeViolations(nagViolations(stack.node.root))).toEqual([]);
  });
});

describe('addBerthStacks with apiKind http (cdk deploy -c berth:apiKind=http)', () => {
  it('outputs the HTTP API id beside the endpoint, and no REST API id or stage', () => {
    const { app, dispose } = tempApp({ bundle: false, cfnValidate: false });
    disposers.push(dispose);
    const { controlPlane } = addBerthStacks(app, { env, apiKind: 'http' });
    const template = Template.fromStack(controlPlane);
    template.hasOutput('EcsHttpApiId', {});
    template.hasOutput('EcsEndpoint', {});
    expect(Object.keys(template.findOutputs('*'))).not.toContain('EcsRestApiId');
    expect(Object.keys(template.findOutputs('*'))).not.toContain('EcsStageName');
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
  });
});
