import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import type { BerthContext } from '../app/context';
import { handleEcsRequest } from './ecs-protocol';

/** What API Gateway hands the function: a REST API's proxy event (1.0) or an HTTP API's (2.0). */
export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

const isHttpApiEvent = (event: ApiGatewayEvent): event is APIGatewayProxyEventV2 => (event as APIGatewayProxyEventV2).version === '2.0';

/**
 * API Gateway (a REST API's proxy integration, or an HTTP API's with payload format 2.0) -> the ECS
 * protocol handler. Both formats carry the same request; they differ in where the method and the
 * request id are. The result shape (statusCode, headers, body) is valid for both.
 */
export function createLambdaApiHandler(context: BerthContext) {
  return async (event: ApiGatewayEvent): Promise<APIGatewayProxyResult> => {
    const headers = Object.fromEntries(
      Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value ?? undefined]),
    );
    const body = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
    return handleEcsRequest(context, {
      method: isHttpApiEvent(event) ? event.requestContext.http.method : event.httpMethod,
      headers,
      body,
      requestId: event.requestContext?.requestId ?? 'unknown',
    });
  };
}
