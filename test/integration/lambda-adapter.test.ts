// The API function behind either kind of API Gateway API: a REST API's proxy event (payload 1.0)
// and an HTTP API's (payload 2.0) carry the same ECS request and get the same answer.
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLambdaApiHandler } from '../../src/api/lambda-adapter';
import { startHarness, type Harness } from '../support/berth-harness';

let berth: Harness;
beforeAll(async () => {
  berth = await startHarness();
});
afterAll(async () => {
  await berth?.close();
});

const target = (operation: string) => ({ 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AmazonEC2ContainerServiceV20141113.${operation}` });

function restEvent(operation: string, body: unknown, base64 = false): APIGatewayProxyEvent {
  const text = JSON.stringify(body);
  return {
    httpMethod: 'POST',
    path: '/',
    headers: target(operation),
    body: base64 ? Buffer.from(text).toString('base64') : text,
    isBase64Encoded: base64,
    requestContext: { requestId: 'rest-request' },
  } as unknown as APIGatewayProxyEvent;
}

function httpApiEvent(operation: string, body: unknown, base64 = false): APIGatewayProxyEventV2 {
  const text = JSON.stringify(body);
  return {
    version: '2.0',
    routeKey: 'POST /',
    rawPath: '/',
    rawQueryString: '',
    // HTTP APIs lower-case header names.
    headers: Object.fromEntries(Object.entries(target(operation)).map(([name, value]) => [name.toLowerCase(), value])),
    body: base64 ? Buffer.from(text).toString('base64') : text,
    isBase64Encoded: base64,
    requestContext: { requestId: 'http-request', http: { method: 'POST', path: '/' } },
  } as unknown as APIGatewayProxyEventV2;
}

describe('createLambdaApiHandler', () => {
  it.each([
    ['a REST API proxy event', restEvent, 'rest-cluster'],
    ['an HTTP API event (payload 2.0)', httpApiEvent, 'http-cluster'],
  ])('serves %s', async (_name, event, clusterName) => {
    const handler = createLambdaApiHandler(berth.context);
    const created = await handler(event('CreateCluster', { clusterName }, true));
    expect(created.statusCode).toBe(200);
    expect(JSON.parse(created.body).cluster.clusterName).toBe(clusterName);
    const bad = await handler(event('CreateCluster', { clusterName: 'bad name!' }));
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).__type).toContain('InvalidParameterException');
  });

  it('answers the same to both kinds of event', async () => {
    const handler = createLambdaApiHandler(berth.context);
    const rest = await handler(restEvent('ListClusters', {}));
    const http = await handler(httpApiEvent('ListClusters', {}));
    expect(http.statusCode).toBe(rest.statusCode);
    expect(JSON.parse(http.body)).toEqual(JSON.parse(rest.body));
  });
});
