// The ECS API behind API Gateway: wiring only. The same router serves `npm start` locally.
import middy from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createLambdaApiHandler, type ApiGatewayEvent } from '../src/api/lambda-adapter';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';

const handleRequest = createLambdaApiHandler(berthContextFromEnvironment(process.env));

export const handler = middy<ApiGatewayEvent, APIGatewayProxyResult>().handler(handleRequest);
