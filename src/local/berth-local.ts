import { join } from 'node:path';
import { createLocalDocumentClient } from '../adapters/dynamodb/document-client';
import { ensureTable } from '../adapters/dynamodb/create-table';
import { DEFAULT_TABLE_NAME } from '../adapters/dynamodb/table-schema';
import { createBerthContext } from '../app/create-context';
import type { BerthContext } from '../app/context';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local';
import { startEcsHttpServer, type RunningServer } from './http-server';

export interface BerthLocalOptions {
  /** Where durable state lives (DynamoDB Local's files, later the event log). Default `.berth`. */
  readonly dataDirectory?: string;
  /** Keep nothing: DynamoDB Local runs in memory. */
  readonly inMemory?: boolean;
  readonly host?: string;
  readonly port?: number;
  readonly account?: string;
  readonly region?: string;
  readonly tableName?: string;
}

export interface BerthLocal {
  readonly url: string;
  readonly dataDirectory: string;
  readonly dynamoDb: DynamoDbLocal;
  readonly context: BerthContext;
  stop(): Promise<void>;
}

export const DEFAULT_PORT = 4600;
export const DEFAULT_ACCOUNT = '000000000000';
export const DEFAULT_REGION = 'us-east-1';

/** Assembles the local control plane: DynamoDB Local, the table, the ECS API on HTTP. */
export async function startBerthLocal(options: BerthLocalOptions = {}): Promise<BerthLocal> {
  const dataDirectory = options.dataDirectory ?? '.berth';
  const dynamoDb = await startDynamoDbLocal({
    dataDirectory: options.inMemory ? undefined : join(dataDirectory, 'dynamodb'),
  });
  let server: RunningServer | undefined;
  try {
    const doc = createLocalDocumentClient(dynamoDb.endpoint);
    const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
    await ensureTable(doc, tableName);
    const context = createBerthContext({
      doc,
      tableName,
      account: options.account ?? DEFAULT_ACCOUNT,
      region: options.region ?? DEFAULT_REGION,
    });
    server = await startEcsHttpServer(context, options.host ?? '127.0.0.1', options.port ?? DEFAULT_PORT);
    const running = server;
    return {
      url: running.url,
      dataDirectory,
      dynamoDb,
      context,
      async stop() {
        await running.close();
        doc.destroy();
        await dynamoDb.stop();
      },
    };
  } catch (error) {
    await server?.close();
    await dynamoDb.stop();
    throw error;
  }
}
