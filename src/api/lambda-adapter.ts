import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { BerthContext } from '../app/context';
import { handleEcsRequest } from './ecs-protocol';

/** API Gateway (REST, proxy integration) -> the ECS protocol handler. */
export function createLambdaApiHandler(context: BerthContext) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const headers = Object.fromEntries(
      Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value ?? undefined]),
    );
    const body = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
    return handleEcsRequest(context, {
      method: event.httpMethod,
      headers,
      body,
      requestId: event.requestContext?.requestId ?? 'unknown',
    });
  };
}
