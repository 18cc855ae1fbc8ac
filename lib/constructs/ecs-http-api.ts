import { Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { BerthFunction } from './berth-function';
import { ecsApiHandler, type EcsApiProps } from './ecs-api';

/** The HTTP API takes EcsApi's props except the stage name: it serves the `$default` stage at its root. */
export type EcsHttpApiProps = Omit<EcsApiProps, 'stageName'>;

/**
 * The ECS API on the wire through an API Gateway **HTTP API**: `POST /` (the ECS JSON 1.1 protocol)
 * and `ANY /{proxy+}` to one Lambda integration (lambdas/api.ts, payload format 2.0), every route
 * with IAM (SigV4 for `execute-api`) authorization, as EcsApi's REST API does.
 *
 * Why it exists beside EcsApi (docs/api-gateway.md has the numbers): an HTTP API request costs
 * $1.00 per million against a REST API's $3.50 (us-east-1), and a task lifecycle makes several
 * (RunTask, the agent's fetch and state reports), so the front door is a visible share of the cost
 * per task. What an HTTP API lacks (AWS WAF, resource policies, API keys, request validation, edge
 * and private endpoints) Berth does not use; LocalStack's free edition lacks HTTP APIs, so
 * deployments there keep the REST API.
 */
export class EcsHttpApi extends Construct {
  readonly handler: BerthFunction;
  readonly api: apigwv2.HttpApi;
  readonly accessLogGroup: logs.LogGroup;
  /** The endpoint clients use: `https://{id}.execute-api.{region}.amazonaws.com/`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: EcsHttpApiProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.handler = ecsApiHandler(this, props, 'Berth: the ECS API (JSON 1.1 protocol behind an API Gateway HTTP API)');

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention });
    this.api = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Berth: an ECS-compatible control plane (sign requests for execute-api)',
      createDefaultStage: false,
      defaultAuthorizer: new HttpIamAuthorizer(),
    });
    const stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttlingRateLimit ?? 100, burstLimit: props.throttlingBurstLimit ?? 200 },
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup), format: accessLogFormat() },
    });
    const integration = new HttpLambdaIntegration('Handler', this.handler.function, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    });
    this.api.addRoutes({ path: '/', methods: [apigwv2.HttpMethod.POST], integration });
    this.api.addRoutes({ path: '/{proxy+}', methods: [apigwv2.HttpMethod.ANY], integration });
    this.url = stage.url;

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'IAM authorization and stage throttling guard the API; HTTP APIs cannot carry a WAF web ACL ' +
        '(deploy with the REST API, apiKind rest, where one is required).',
    });
  }
}

/** JSON access log lines: who called (IAM ARN), what happened and how long the Lambda took. */
function accessLogFormat(): AccessLogFormat {
  // The format type is shared with REST APIs; the $context variables are the HTTP API's.
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: '$context.requestId',
      requestTime: '$context.requestTime',
      httpMethod: '$context.httpMethod',
      routeKey: '$context.routeKey',
      status: '$context.status',
      responseLength: '$context.responseLength',
      sourceIp: '$context.identity.sourceIp',
      userAgent: '$context.identity.userAgent',
      callerAccount: '$context.identity.accountId',
      callerArn: '$context.identity.userArn',
      integrationLatencyMs: '$context.integrationLatency',
      integrationStatus: '$context.integrationStatus',
      errorMessage: '$context.error.message',
    }),
  );
}
