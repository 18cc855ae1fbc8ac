import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BerthFunction } from './berth-function';
import { grantTableReadWrite } from './berth-table';
import { berthEnvironment, validEventSource } from './environment';

export { DEFAULT_EVENT_SOURCE } from './environment';

export interface EcsApiProps {
  /** The Berth table (keys from TABLE_SCHEMA); the handler gets item read/write on it and Query on its index. */
  readonly table: dynamodb.ITable;
  /** The bus Berth's events go to; its name reaches the handler as BERTH_EVENT_BUS_NAME. */
  readonly eventBus: events.IEventBus;
  /** Handler file relative to the repository root; it exports `handler`. @default 'lambdas/api.ts' */
  readonly entry?: string;
  /** `source` of the events Berth emits. @default 'berth.ecs' */
  readonly eventSource?: string;
  /**
   * Let the API handler call events:PutEvents on the bus. Off by default: events are derived from
   * the table stream (the stream is the outbox), so the API only writes to the table.
   * @default false
   */
  readonly grantPutEvents?: boolean;
  /** API Gateway stage, the first path segment of the endpoint. @default 'prod' */
  readonly stageName?: string;
  /** Memory of the API function. @default 1024 (MB; more memory is also more CPU for cold starts) */
  readonly memorySize?: number;
  /** Retention of the handler's and the access logs' log groups. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Stage-wide steady-state request rate limit (requests/s). @default 100 */
  readonly throttlingRateLimit?: number;
  /** Stage-wide burst limit. @default 200 */
  readonly throttlingBurstLimit?: number;
}

/**
 * The ECS API on the wire: a REST API whose `POST /` (the ECS JSON 1.1 protocol:
 * `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`) and `ANY /{proxy+}` go to one
 * Lambda proxy integration (lambdas/api.ts).
 *
 * Every method requires AWS_IAM (SigV4) authorization, as ECS does. API Gateway checks signatures
 * for the service `execute-api`, so clients sign with that name: `new ECSClient({ endpoint,
 * signingName: 'execute-api' })`. The AWS CLI cannot change its signing name (see docs/deploy.md).
 */
export class EcsApi extends Construct {
  readonly handler: BerthFunction;
  readonly api: apigateway.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  /** The stage name, the first path segment of the endpoint. */
  readonly stageName: string;
  /** The endpoint clients use: `https://{id}.execute-api.{region}.amazonaws.com/{stage}/`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: EcsApiProps) {
    super(scope, id);
    const stageName = props.stageName ?? 'prod';
    if (!/^[a-zA-Z0-9_]{1,128}$/.test(stageName)) {
      throw new Error(`EcsApi: stageName must be 1-128 characters of [a-zA-Z0-9_], got '${stageName}'`);
    }
    this.stageName = stageName;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.handler = ecsApiHandler(this, props, 'Berth: the ECS API (JSON 1.1 protocol behind API Gateway)');

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention });

    this.api = new apigateway.RestApi(this, 'RestApi', {
      description: 'Berth: an ECS-compatible control plane (sign requests for execute-api)',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // Access and execution logging need the account-level API Gateway CloudWatch role. It is an
      // account singleton: retain it so deleting this stack cannot break other APIs' logging.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: {
        stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: accessLogFormat(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Request and response bodies stay out of the logs: they carry task environments and tags.
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 100,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 200,
      },
    });

    const integration = new apigateway.LambdaIntegration(this.handler.function, {
      proxy: true,
      allowTestInvoke: false,
    });
    // POST / is the whole ECS protocol. ANY /{proxy+} as a plain resource, not addProxy(), which
    // would also put ANY on / next to POST.
    this.api.root.addMethod('POST', integration);
    this.api.root.addResource('{proxy+}').addMethod('ANY', integration);
    this.url = this.api.url;

    // cdk-nag AwsSolutions findings that are deliberate (acknowledged, with the reason).
    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Requests are validated in the handler against the ECS API model, which answers with ' +
          'ECS-shaped errors ({"__type": "InvalidParameterException"}) that SDKs parse; API Gateway ' +
          'request validation would answer with shapes ECS clients cannot read.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'IAM authorization and stage throttling guard the API; a WAF web ACL is left to the ' +
          'account owner (it can be associated with the stage without changing Berth).',
      },
      {
        id: 'AwsSolutions-COG4',
        reason:
          'The ECS API is authorized with AWS_IAM (SigV4), as ECS itself is; a Cognito user pool ' +
          'authorizer would break every ECS client.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The AWS-maintained policy of the account-level API Gateway logging role, which access ' +
          'and execution logging require.',
      },
    );
  }
}

/**
 * The function behind either kind of API (EcsApi, EcsHttpApi): lambdas/api.ts with the table, the
 * bus's name and the event source, item read/write on the table, PutEvents only when asked.
 */
export function ecsApiHandler(scope: Construct, props: Omit<EcsApiProps, 'stageName'>, description: string): BerthFunction {
  const eventSource = validEventSource('EcsApi', props.eventSource);
  const handler = new BerthFunction(scope, 'Handler', {
    entry: props.entry ?? 'lambdas/api.ts',
    description,
    memorySize: props.memorySize ?? 1024,
    // API Gateway gives up on an integration after 29 s (REST) or 30 s (HTTP API); a longer Lambda
    // timeout only wastes work.
    timeout: Duration.seconds(29),
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    environment: {
      ...berthEnvironment(scope, props.table),
      BERTH_EVENT_SOURCE: eventSource,
      BERTH_EVENT_BUS_NAME: props.eventBus.eventBusName,
    },
  });
  grantTableReadWrite(handler.function, props.table);
  if (props.grantPutEvents ?? false) props.eventBus.grantPutEventsTo(handler.function);
  return handler;
}

/** JSON access log lines: who called (IAM ARN), what happened and how long the Lambda took. */
function accessLogFormat(): apigateway.AccessLogFormat {
  const F = apigateway.AccessLogField;
  return apigateway.AccessLogFormat.custom(
    JSON.stringify({
      requestId: F.contextRequestId(),
      extendedRequestId: F.contextExtendedRequestId(),
      requestTime: F.contextRequestTime(),
      httpMethod: F.contextHttpMethod(),
      resourcePath: F.contextResourcePath(),
      status: F.contextStatus(),
      responseLength: F.contextResponseLength(),
      sourceIp: F.contextIdentitySourceIp(),
      userAgent: F.contextIdentityUserAgent(),
      callerAccount: F.contextIdentityAccountId(),
      callerArn: F.contextIdentityUserArn(),
      integrationLatencyMs: F.contextIntegrationLatency(),
      integrationStatus: F.contextIntegrationStatus(),
      errorMessage: F.contextErrorMessage(),
    }),
  );
}
