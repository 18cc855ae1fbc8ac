// The ECS API behind API Gateway (REST API proxy events or HTTP API payload 2.0): wiring only. The
// same router serves `npm start` locally.
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createObservability, observedHandler } from '../src/adapters/observability';
import { createLambdaApiHandler, type ApiGatewayEvent } from '../src/api/lambda-adapter';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';

const observability = createObservability('berth-api');
const handleRequest = createLambdaApiHandler(berthContextFromEnvironment(process.env));

export const handler = observedHandler<ApiGatewayEvent, APIGatewayProxyResult>(observability, handleRequest, (event) => ({
  operation: event.headers?.['X-Amz-Target'] ?? event.headers?.['x-amz-target'],
  // REST API: requestContext.identity; HTTP API: requestContext.authorizer.iam.
  caller:
    'identity' in event.requestContext
      ? (event.requestContext.identity?.userArn ?? undefined)
      : (event.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer?.iam?.userArn,
}));
