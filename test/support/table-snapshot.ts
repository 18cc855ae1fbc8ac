/** Every item of a suite's table, in key order: compared before and after a request that must write nothing. */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createLocalDocumentClient } from '../../src/adapters/dynamodb/document-client';

export type TableSnapshot = Record<string, unknown>[];

export async function snapshotTable(tableName: string, endpoint = inject('dynamoDbEndpoint')): Promise<TableSnapshot> {
  const doc = createLocalDocumentClient(endpoint);
  try {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const key = (item: Record<string, unknown>) => `${String(item.pk)}\u0000${String(item.sk)}`;
    return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  } finally {
    doc.destroy();
  }
}
