/** An in-process Berth (API server + context) on the run's shared DynamoDB Local, one table per suite. */
import { randomUUID } from 'node:crypto';
import { ECSClient } from '@aws-sdk/client-ecs';
import { inject } from 'vitest';
import { createLocalDocumentClient } from '../../src/adapters/dynamodb/document-client';
import { ensureTable } from '../../src/adapters/dynamodb/create-table';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BerthContext } from '../../src/app/context';
import { createBerthContext, type ContextOptions } from '../../src/app/create-context';
import { startEcsHttpServer, type RunningServer } from '../../src/local/http-server';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export interface Harness {
  readonly context: BerthContext;
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly server: RunningServer;
  ecs(region?: string): ECSClient;
  /** Sends a raw request, for what SDKs never send (bad JSON, wrong types, unknown targets). */
  raw(target: string | undefined, body: string, headers?: Record<string, string>): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<ContextOptions> = {}): Promise<Harness> {
  const doc = createLocalDocumentClient(inject('dynamoDbEndpoint'));
  const tableName = `berth-test-${randomUUID()}`;
  await ensureTable(doc, tableName);
  const context = createBerthContext({ doc, tableName, account: ACCOUNT, region: REGION, ...options });
  const server = await startEcsHttpServer(context, '127.0.0.1', 0);
  const clients: ECSClient[] = [];
  return {
    context,
    doc,
    tableName,
    server,
    ecs(region = REGION) {
      const client = new ECSClient({
        endpoint: server.url,
        region,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
      clients.push(client);
      return client;
    },
    async raw(target, body, headers = {}) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          ...(target ? { 'x-amz-target': `AmazonEC2ContainerServiceV20141113.${target}` } : {}),
          ...headers,
        },
        body,
      });
      return { status: response.status, json: await response.json() };
    },
    async close() {
      clients.forEach((client) => client.destroy());
      await server.close();
      doc.destroy();
    },
  };
}
