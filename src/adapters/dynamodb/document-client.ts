import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    // The marshaller tells a plain object by `value.constructor.name === 'Object'`, which an own
    // member named `constructor` (a docker label key, say) defeats; converting any object as a map keeps
    // such clients' data storable. (Every value Berth stores is plain data: no class instances.)
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

/** DynamoDB Local keeps one database per access key + region unless -sharedDb; Berth always uses these. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'berth', secretAccessKey: 'berth' } as const;
export const LOCAL_DYNAMODB_REGION = 'us-east-1';

export function createLocalDocumentClient(endpoint: string): DynamoDBDocumentClient {
  return createDocumentClient({ endpoint, region: LOCAL_DYNAMODB_REGION, credentials: LOCAL_CREDENTIALS });
}
