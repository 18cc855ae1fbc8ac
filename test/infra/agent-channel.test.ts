// The agent channel's AWS resources (lib/constructs/agent-channel.ts): a WebSocket API whose $connect
// is IAM-authorized, routes to one wiring-only function, a connections table with TTL, and a notify
// grant that gives the stream processor PostToConnection on this stage only.
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentChannel, type AgentChannelProps } from '../../lib/constructs/agent-channel';
import { TaskStreamProcessor } from '../../lib/constructs/task-stream-processor';
import { BerthStatefulStack } from '../../lib/stacks/stateful-stack';
import { acknowledgedRules, describeViolations, nagViolations, resourceAt, resourcesAt, statementsAt, tempApp } from './app-fixture';

const ECHO = 'test/infra/fixtures/echo-handler.ts';
const env = { account: '111122223333', region: 'us-east-1' };
const disposers: Array<() => void> = [];
afterEach(() => disposers.splice(0).forEach((dispose) => dispose()));

function channel(overrides: Partial<AgentChannelProps> = {}) {
  const { app, dispose } = tempApp({ bundle: false, cfnValidate: false });
  disposers.push(dispose);
  const state = new BerthStatefulStack(app, 'State', { env });
  const stack = new Stack(app, 'Cp', { env });
  const agentChannel = new AgentChannel(stack, 'AgentChannel', { table: state.table, entry: ECHO, ...overrides });
  const stream = new TaskStreamProcessor(stack, 'TaskStream', { table: state.table, eventBus: state.eventBus, entry: ECHO });
  agentChannel.grantNotify(stream.handler.function);
  return { stack, agentChannel, template: Template.fromStack(stack) };
}

const ref = (logicalId: string) => ({ Ref: logicalId });

describe('AgentChannel', () => {
  it('is a WebSocket API routing on the body action, with IAM on $connect and three routes to one function', () => {
    const { template } = channel();
    const [apiId] = resourceAt(template, 'AWS::ApiGatewayV2::Api', 'AgentChannel');
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' });
    const routes = resourcesAt(template, 'AWS::ApiGatewayV2::Route', 'AgentChannel').map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(['$connect', '$disconnect', 'heartbeat']);
    expect(routes.find((r) => r.RouteKey === '$connect')).toMatchObject({ AuthorizationType: 'AWS_IAM', ApiId: ref(apiId) });
    // No $default route: anything but a heartbeat is refused by API Gateway itself, invoking nothing.
    expect(routes.every((r) => r.RouteKey !== '$default')).toBe(true);
    const integrations = resourcesAt(template, 'AWS::ApiGatewayV2::Integration', 'AgentChannel');
    expect(integrations).toHaveLength(1);
    expect(integrations[0][1].Properties).toMatchObject({ IntegrationType: 'AWS_PROXY' });
  });

  it('keeps connections on a table of its own, keyed by pk, expiring by TTL, on demand', () => {
    const { template } = channel();
    const [, table] = resourceAt(template, 'AWS::DynamoDB::Table', 'AgentChannel/Connections');
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('deploys a stage with access logs and throttling, and gives the liveness bound from the heartbeat', () => {
    const { template, agentChannel } = channel({ stageName: 'fleet', heartbeat: Duration.minutes(4), throttlingRateLimit: 10, throttlingBurstLimit: 20 });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'fleet',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('connectionId') },
    });
    expect(agentChannel.agentTimeout.toSeconds()).toBe(2 * 240 + 120);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('agent channel'),
      Environment: { Variables: Match.objectLike({ BERTH_AGENT_TIMEOUT_SECONDS: '600', BERTH_AGENT_CONNECTIONS_TABLE_NAME: Match.anyValue() }) },
    });
  });

  it.each([
    [{ stageName: 'no-dashes' }, /stageName/],
    [{ heartbeat: Duration.minutes(10) }, /idle timeout/],
    [{ heartbeat: Duration.seconds(5) }, /at least 10 s/],
  ] as const)('rejects %j', (props, message) => {
    expect(() => channel(props)).toThrow(message);
  });

  it('lets the stream processor post to connections of this stage only, and read and remove connection items', () => {
    const { template } = channel();
    const statements = statementsAt(template, 'TaskStream/Handler');
    const manage = statements.find((s) => s.Action === 'execute-api:ManageConnections');
    expect(JSON.stringify(manage?.Resource)).toMatch(/agents\/POST\/@connections\/\*/);
    const connections = statements.find((s) => JSON.stringify(s.Action).includes('dynamodb:DeleteItem') && JSON.stringify(s.Resource).includes('Connections'));
    expect(connections?.Action).toEqual(['dynamodb:GetItem', 'dynamodb:DeleteItem']);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('table stream'),
      Environment: { Variables: Match.objectLike({ BERTH_AGENT_CHANNEL_CALLBACK_URL: Match.anyValue(), BERTH_AGENT_CONNECTIONS_TABLE_NAME: Match.anyValue() }) },
    });
  });

  it('passes cdk-nag AwsSolutions, with each acknowledgement explained', () => {
    const { stack } = channel();
    expect(describeViolations(nagViolations(stack.node.root))).toEqual([]);
    const acknowledged = acknowledgedRules(stack);
    for (const rule of ['AwsSolutions-DDB3', 'AwsSolutions-APIG4', 'AwsSolutions-COG4']) expect(acknowledged.get(rule)?.length).toBeGreaterThan(60);
    // The one wildcard it adds: connection ids are made at each connect.
    expect([...acknowledged.keys()].filter((rule) => rule.includes('execute-api'))).toEqual([expect.stringContaining('/agents/POST/@connections/*')]);
  });
});
