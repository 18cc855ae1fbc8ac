import { CfnResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BerthFunction } from './berth-function';
import { grantTableReadWrite } from './berth-table';
import { berthEnvironment } from './environment';

export interface AgentChannelProps {
  /** The Berth table: $connect and heartbeats record the agent's liveness on its container instance. */
  readonly table: dynamodb.ITable;
  /** Handler file relative to the repository root. @default 'lambdas/agent-channel.ts' */
  readonly entry?: string;
  /** Stage name, the URL's path. @default 'agents' */
  readonly stageName?: string;
  /**
   * How often agents send a heartbeat (`berth-agent --heartbeat-seconds`); sets the liveness bound
   * (agentTimeout) the stack gives its functions. Under API Gateway's 10-minute idle timeout.
   * @default Duration.minutes(8)
   */
  readonly heartbeat?: Duration;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Stage-wide message and connect rate limit (per second). @default 100 */
  readonly throttlingRateLimit?: number;
  /** @default 200 */
  readonly throttlingBurstLimit?: number;
}

/**
 * The agent channel in AWS (docs/agent-channel.md): an API Gateway WebSocket API agents stay connected
 * to, so they learn of new work without polling. Connections cost by the minute and message, and no
 * Lambda waits on them.
 *
 * - `$connect` (IAM authorization: the agent signs the upgrade for `execute-api`) names the container
 *   instance in its query string; the function records the connection on a small table of its own
 *   (`connections`, with TTL) and the agent as there. `$disconnect` forgets it. `heartbeat` (every
 *   few minutes from the agent) records the agent as there again.
 * - The task stream processor, given `grantNotify`, posts "assignments changed" to an instance's
 *   connection (PostToConnection on the stage's callback URL) and forgets connections that are gone.
 */
export class AgentChannel extends Construct {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly handler: BerthFunction;
  /** connection id <-> container instance (src/adapters/dynamodb/agent-connection-store.ts). */
  readonly connections: dynamodb.Table;
  readonly accessLogGroup: logs.LogGroup;
  /** What agents connect to: `wss://{id}.execute-api.{region}.amazonaws.com/{stage}` (`berth-agent --channel`). */
  readonly url: string;
  /**
   * How long an agent may stay silent before its instance shows agentConnected false: two heartbeats
   * and two minutes. Give it to every function that reads or marks liveness (BERTH_AGENT_TIMEOUT_SECONDS).
   */
  readonly agentTimeout: Duration;

  constructor(scope: Construct, id: string, props: AgentChannelProps) {
    super(scope, id);
    const stageName = props.stageName ?? 'agents';
    if (!/^[a-zA-Z0-9_]{1,128}$/.test(stageName)) {
      throw new Error(`AgentChannel: stageName must be 1-128 characters of [a-zA-Z0-9_], got '${stageName}'`);
    }
    const heartbeat = props.heartbeat ?? Duration.minutes(8);
    if (heartbeat.toSeconds() < 10 || heartbeat.toSeconds() >= 600) {
      throw new Error(`AgentChannel: heartbeat must be at least 10 s and under API Gateway's 10-minute idle timeout, got ${heartbeat.toSeconds()} s`);
    }
    this.agentTimeout = Duration.seconds(2 * heartbeat.toSeconds() + 120);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.connections = new dynamodb.Table(this, 'Connections', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      // Only live connections are here, each expiring within hours: nothing to keep or restore.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.handler = new BerthFunction(this, 'Handler', {
      entry: props.entry ?? 'lambdas/agent-channel.ts',
      description: 'Berth: the agent channel ($connect, $disconnect, heartbeat)',
      memorySize: 256,
      timeout: Duration.seconds(10),
      logRetention,
      environment: {
        ...berthEnvironment(this, props.table),
        BERTH_AGENT_CONNECTIONS_TABLE_NAME: this.connections.tableName,
        BERTH_AGENT_TIMEOUT_SECONDS: String(this.agentTimeout.toSeconds()),
      },
    });
    grantTableReadWrite(this.handler.function, props.table);
    this.connections.grant(this.handler.function, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem');

    const integration = new WebSocketLambdaIntegration('Routes', this.handler.function);
    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      description: 'Berth: the agent channel (sign the upgrade for execute-api)',
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: { integration, authorizer: new WebSocketIamAuthorizer() },
      disconnectRouteOptions: { integration },
    });
    this.api.addRoute('heartbeat', { integration });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName,
      autoDeploy: true,
      throttle: { rateLimit: props.throttlingRateLimit ?? 100, burstLimit: props.throttlingBurstLimit ?? 200 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            connectionId: '$context.connectionId',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            status: '$context.status',
            caller: '$context.identity.userArn',
            integrationLatency: '$context.integrationLatency',
          }),
        ),
      },
    });
    this.url = this.stage.url;

    Validations.of(this.connections).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason: 'Connection ids of live WebSocket connections, each expiring within hours (TTL): there is nothing a point-in-time restore could bring back that is still valid.',
    });
    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG4',
        reason: 'API Gateway authorizes WebSocket APIs on $connect only (IAM here); $disconnect and heartbeat run on a connection that $connect authorized, and a heartbeat counts only on the connection its instance holds.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason: 'Agents authenticate with AWS_IAM (SigV4), as they do for the ECS API; a Cognito user pool would not fit machine agents.',
      },
    );
  }

  /**
   * Lets a function (the task stream processor) notify agents: PostToConnection on this stage, reads
   * and removals on the connections table, and the two environment variables it reads.
   */
  grantNotify(fn: lambda.Function): void {
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['execute-api:ManageConnections'],
      resourceArns: [
        stack.formatArn({ service: 'execute-api', resource: this.api.apiId, resourceName: `${this.stage.stageName}/POST/@connections/*` }),
      ],
    });
    this.connections.grant(fn, 'dynamodb:GetItem', 'dynamodb:DeleteItem');
    fn.addEnvironment('BERTH_AGENT_CHANNEL_CALLBACK_URL', this.stage.callbackUrl);
    fn.addEnvironment('BERTH_AGENT_CONNECTIONS_TABLE_NAME', this.connections.tableName);
    // cdk-nag names the finding by the rendered ARN: tokens as <AWS::Region>, the API as <LogicalId>.
    const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    const apiLogicalId = stack.resolve((this.api.node.defaultChild as CfnResource).logicalId) as string;
    Validations.of(fn.role ?? fn).acknowledge({
      id:
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:${shown(stack.region, 'Region')}:` +
        `${shown(stack.account, 'AccountId')}:<${apiLogicalId}>/${this.stage.stageName}/POST/@connections/*]`,
      reason: 'Connection ids are API Gateway\'s, made at each connect: the grant names this API, this stage and the one action that posts to a connection, and no more.',
    });
  }
}
